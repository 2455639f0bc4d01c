import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import {
  EncryptionCodec,
  encryptedEncoding,
  generatePayloadKey,
  keyIdMetadataKey,
  PayloadCodecError,
  PayloadKeyRing,
} from '../../lib/codec';
import { ConfigError, loadConfig } from '../../lib/config';
import { conversationWorkflowId, parseConversationWorkflowId } from '../../lib/domain/messages';
import { createGuestRefs } from '../../lib/guest-refs';

const key1 = generatePayloadKey('k1');
const key2 = generatePayloadKey('k2');
const ring = (list: string, current?: string) => PayloadKeyRing.parse(list, current) as PayloadKeyRing;
const message = { text: 'Quiero hablar con una persona', from: '34600123456' };
const toPayload = (value: unknown): Payload => defaultPayloadConverter.toPayload(value);
const fromPayload = (payload: Payload): unknown => defaultPayloadConverter.fromPayload(payload);
const meta = (payload: Payload, key: string) => Buffer.from(payload.metadata![key]!).toString('utf8');

describe('EncryptionCodec', () => {
  it('encrypts the whole payload: neither the text, the number nor the inner encoding is left in clear', async () => {
    const [encoded] = await new EncryptionCodec(ring(key1)).encode([toPayload(message)]);
    expect(meta(encoded!, 'encoding')).toBe(encryptedEncoding);
    expect(meta(encoded!, keyIdMetadataKey)).toBe('k1');
    const bytes = Buffer.from(encoded!.data!).toString('latin1');
    for (const clear of [message.text, message.from, 'json/plain']) expect(bytes).not.toContain(clear);
    const [decoded] = await new EncryptionCodec(ring(key1)).decode([encoded!]);
    expect(fromPayload(decoded!)).toEqual(message);
  });

  it('uses a fresh IV each time: the same value never encrypts to the same bytes', async () => {
    const codec = new EncryptionCodec(ring(key1));
    const [a, b] = await codec.encode([toPayload(message), toPayload(message)]);
    expect(Buffer.from(a!.data!).equals(Buffer.from(b!.data!))).toBe(false);
  });

  it('passes payloads written before the codec through unchanged (the v1 histories are in clear)', async () => {
    const plain = toPayload(message);
    const [decoded] = await new EncryptionCodec(ring(key1)).decode([plain]);
    expect(decoded).toBe(plain);
  });

  describe('key rotation', () => {
    it('adding a key: the newest encrypts, the old one still decrypts what it wrote', async () => {
      const [old] = await new EncryptionCodec(ring(key1)).encode([toPayload(message)]);
      const rotated = new EncryptionCodec(ring(`${key1},${key2}`));
      expect(fromPayload((await rotated.decode([old!]))[0]!)).toEqual(message);
      const [fresh] = await rotated.encode([toPayload(message)]);
      expect(meta(fresh!, keyIdMetadataKey)).toBe('k2');
    });

    it('PAYLOAD_KEY_CURRENT keeps an added key decrypt-only until every process has it', async () => {
      const [encoded] = await new EncryptionCodec(ring(`${key1},${key2}`, 'k1')).encode([toPayload(message)]);
      expect(meta(encoded!, keyIdMetadataKey)).toBe('k1');
    });

    it('fails closed, naming the key, when a payload needs a key this process lacks', async () => {
      const [old] = await new EncryptionCodec(ring(key1)).encode([toPayload(message)]);
      await expect(new EncryptionCodec(ring(key2)).decode([old!])).rejects.toThrow(
        new PayloadCodecError(
          'An encrypted payload needs payload key "k1", which is not in PAYLOAD_KEYS here (it has k2)',
        ),
      );
    });
  });

  it('refuses an altered payload, and one relabelled with another key id (the id is authenticated)', async () => {
    const codec = new EncryptionCodec(ring(`${key1},${key2}`));
    const [encoded] = await codec.encode([toPayload(message)]);
    const flipped = Buffer.from(encoded!.data!);
    flipped[20] = flipped[20]! ^ 1;
    await expect(codec.decode([{ ...encoded!, data: flipped }])).rejects.toThrow(/failed its integrity check/);
    // The key of k2 under the label k1: still refused, as the label is part of the authenticated data.
    const sameKey = key2.replace(/^k2:/, '');
    const relabelled = new EncryptionCodec(ring(`k2:${sameKey},k1:${sameKey}`, 'k2'));
    const [underK2] = await relabelled.encode([toPayload(message)]);
    const asK1 = { ...underK2!, metadata: { ...underK2!.metadata, [keyIdMetadataKey]: Buffer.from('k1') } };
    await expect(relabelled.decode([asK1])).rejects.toThrow(/failed its integrity check under key "k1"/);
  });
});

describe('PayloadKeyRing', () => {
  const material = randomBytes(32).toString('base64');
  const problems = (list: string, current?: string) =>
    (PayloadKeyRing.parse(list, current) as { problems: string[] }).problems;

  it.each([
    ['', /PAYLOAD_KEYS: must list at least one key/],
    [material, /PAYLOAD_KEYS: key 1 must look like <id>:<base64>/],
    [`k1:${randomBytes(16).toString('base64')}`, /PAYLOAD_KEYS: key "k1" must be 32 random bytes in base64/],
    [`k1:${material.slice(0, -2)}!!`, /PAYLOAD_KEYS: key "k1" must be 32 random bytes/],
    [`k1:${material},k1:${material}`, /PAYLOAD_KEYS: key "k1" is listed twice/],
    [`bad id:${material}`, /PAYLOAD_KEYS: key 1 must look like/],
  ])('refuses %j, without quoting the key material', (list, expected) => {
    const found = problems(list);
    expect(found.join('\n')).toMatch(expected);
    expect(found.join('\n')).not.toContain(material.slice(0, 12));
  });

  it('refuses a current key id that is not listed', () => {
    expect(problems(`k1:${material}`, 'k9')).toEqual([
      'PAYLOAD_KEY_CURRENT: "k9" is not one of the ids in PAYLOAD_KEYS',
    ]);
  });

  it('never shows key material in JSON or inspect (a config logged by mistake)', () => {
    const keys = ring(`k1:${material},${key2}`);
    expect(keys.currentId).toBe('k2');
    for (const shown of [JSON.stringify({ keys }), inspect({ keys })]) {
      expect(shown).toContain('k1');
      expect(shown).not.toContain(material.slice(0, 12));
    }
  });
});

describe('PAYLOAD_KEYS in the configuration', () => {
  const secrets = {
    WHATSAPP_APP_SECRET: 'app-secret-7f3a9c1e5b',
    WHATSAPP_VERIFY_TOKEN: 'verify-token-2d8e4a6c',
    WHATSAPP_ACCESS_TOKEN: 'EAAG-access-token-9b1f3d5e7a',
    GUEST_REF_KEY: 'g'.repeat(32),
  };
  const error = (env: Record<string, string>) => {
    try {
      loadConfig(env);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as ConfigError).message;
    }
    throw new Error('accepted');
  };

  it('is required in production, and the error names it', () => {
    expect(error({ ...secrets, NODE_ENV: 'production' })).toMatch(/^ {2}PAYLOAD_KEYS: is required in production/m);
  });

  it('names the variable when a key is malformed, and stops the process', () => {
    expect(error({ ...secrets, PAYLOAD_KEYS: 'k1:short' })).toMatch(/^ {2}PAYLOAD_KEYS: key "k1" must be 32/m);
    expect(error({ ...secrets, PAYLOAD_KEYS: key1, PAYLOAD_KEY_CURRENT: 'k2' })).toMatch(/^ {2}PAYLOAD_KEY_CURRENT:/m);
  });

  it('is read into the config: the last key listed encrypts', () => {
    const config = loadConfig({ ...secrets, NODE_ENV: 'production', PAYLOAD_KEYS: `${key1}, ${key2}` });
    expect(config.payloadKeys.ids).toEqual(['k1', 'k2']);
    expect(config.payloadKeys.currentId).toBe('k2');
  });

  it('takes the codec endpoint settings: UI origins, a secure cookie in production', () => {
    const config = loadConfig({
      ...secrets,
      NODE_ENV: 'production',
      PAYLOAD_KEYS: key1,
      CODEC_CORS_ORIGINS: 'https://temporal.example.com, http://localhost:8233',
    });
    expect(config.codec).toMatchObject({
      corsOrigins: ['https://temporal.example.com', 'http://localhost:8233'],
      cookieSecure: true,
    });
    expect(error({ ...secrets, CODEC_CORS_ORIGINS: 'https://ui.example.com/path' })).toMatch(/CODEC_CORS_ORIGINS/);
    expect(error({ ...secrets, CODEC_CORS_ORIGINS: '*' })).toMatch(/CODEC_CORS_ORIGINS/);
  });
});

describe('conversation workflow ids', () => {
  const refs = createGuestRefs('k'.repeat(32));

  it('carry the business number id and the guest reference, never the guest number', () => {
    const id = conversationWorkflowId('106540352242922', refs.of('34600123456'));
    expect(id).toMatch(/^wa:106540352242922:[0-9a-f]{20}$/);
    expect(id).not.toContain('34600123456');
    expect(parseConversationWorkflowId(id)).toEqual({
      phoneNumberId: '106540352242922',
      guestRef: refs.of('34600123456'),
    });
  });

  it('refuse a raw number where the reference belongs', () => {
    expect(() => conversationWorkflowId('106540352242922', '34600123456')).toThrow(RangeError);
    expect(parseConversationWorkflowId('wa:106540352242922:34600123456')).toBeUndefined();
  });
});
