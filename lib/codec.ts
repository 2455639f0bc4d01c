import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';

/**
 * The payload codec: every payload Temporal stores (workflow inputs, signals, queries and updates and their results,
 * activity inputs and results, summaries and details, failure messages) is encrypted with AES-256-GCM before it
 * leaves the process, and decrypted when it comes back. Temporal's database, `temporal workflow show` and the Web UI
 * see only ciphertext; the UI reads it through the API's codec endpoint (api/codec/).
 *
 * Format of an encrypted payload (version 1):
 * - metadata `encoding` = `binary/encrypted` (the UI and the CLI show it as encrypted), `encryption-key-id` = the id
 *   of the key in `PAYLOAD_KEYS`, `encryption-format` = `hm1`;
 * - data = IV (12 random bytes) ‖ ciphertext ‖ GCM tag (16 bytes), the layout of Temporal's samples; the plaintext is
 *   the whole inner `Payload` proto, so its own metadata (`encoding: json/plain`, ...) is hidden too;
 * - additional authenticated data = `hm1` ‖ NUL ‖ key id: relabelling a payload with another key id or format fails.
 *
 * Decoding picks the key by the payload's key id and never needs the serialization context, so the UI's codec
 * requests (which carry none) decode like the worker's. Payloads that are not `binary/encrypted` pass through
 * unchanged: histories written before the codec (test/histories/*\/v1) still replay.
 */

export const encryptedEncoding = 'binary/encrypted';
export const keyIdMetadataKey = 'encryption-key-id';
export const formatMetadataKey = 'encryption-format';
/** Format version 1; a later format gets another value and its own branch in {@link EncryptionCodec.decode}. */
export const payloadFormat = 'hm1';

const ivBytes = 12;
const tagBytes = 16;
const keyBytes = 32;
const keyIdPattern = /^[A-Za-z0-9._-]{1,32}$/;

/** A payload that cannot be decrypted: an unknown key id, an unknown format, or ciphertext that fails its tag. */
export class PayloadCodecError extends Error {
  override readonly name = 'PayloadCodecError';
}

/**
 * The payload keys: every key decrypts, the current one encrypts. Key material never leaves this object in a log
 * line or JSON (`toJSON` and `inspect` show the ids only).
 */
export class PayloadKeyRing {
  private constructor(
    private readonly keys: ReadonlyMap<string, Buffer>,
    /** The id of the key new payloads are encrypted with. */
    readonly currentId: string,
  ) {}

  /**
   * Parses `PAYLOAD_KEYS` (`<id>:<base64 of 32 bytes>`, comma-separated) and the optional `PAYLOAD_KEY_CURRENT`
   * (default: the last key listed). Returns the problems instead, each starting with the variable it is about; none
   * quotes key material.
   */
  static parse(list: string, current?: string): PayloadKeyRing | { problems: string[] } {
    const problems: string[] = [];
    const keys = new Map<string, Buffer>();
    const entries = list
      .split(',')
      .map((e) => e.trim())
      .filter((e) => e !== '');
    if (entries.length === 0) problems.push('PAYLOAD_KEYS: must list at least one key as <id>:<base64 of 32 bytes>');
    entries.forEach((entry, index) => {
      const colon = entry.indexOf(':');
      const id = colon < 0 ? '' : entry.slice(0, colon);
      const material = colon < 0 ? '' : entry.slice(colon + 1);
      const where = keyIdPattern.test(id) ? `key "${id}"` : `key ${index + 1}`;
      if (!keyIdPattern.test(id)) {
        problems.push(`PAYLOAD_KEYS: ${where} must look like <id>:<base64>, the id 1-32 of A-Z a-z 0-9 . _ -`);
        return;
      }
      if (keys.has(id)) {
        problems.push(`PAYLOAD_KEYS: ${where} is listed twice`);
        return;
      }
      const key = Buffer.from(material, 'base64');
      // Round-tripping refuses stray characters, which Buffer.from would skip without a word.
      if (key.length !== keyBytes || key.toString('base64').replace(/=+$/, '') !== material.replace(/=+$/, '')) {
        problems.push(`PAYLOAD_KEYS: ${where} must be ${keyBytes} random bytes in base64 (openssl rand -base64 32)`);
        return;
      }
      keys.set(id, key);
    });
    const currentId = current ?? [...keys.keys()].at(-1);
    if (current !== undefined && !keys.has(current)) {
      problems.push(`PAYLOAD_KEY_CURRENT: "${current}" is not one of the ids in PAYLOAD_KEYS`);
    }
    if (problems.length > 0 || currentId === undefined) return { problems };
    return new PayloadKeyRing(keys, currentId);
  }

  /** The key of `id`, or undefined when this ring does not have it. */
  key(id: string): Buffer | undefined {
    return this.keys.get(id);
  }

  /** The ids of every key, in the order listed. */
  get ids(): string[] {
    return [...this.keys.keys()];
  }

  toJSON(): { currentId: string; ids: string[] } {
    return { currentId: this.currentId, ids: this.ids };
  }

  [inspect.custom](): string {
    return `PayloadKeyRing { currentId: ${this.currentId}, ids: ${this.ids.join(', ')} }`;
  }
}

/** A fresh `PAYLOAD_KEYS` entry: `<id>:<32 random bytes in base64>`. */
export function generatePayloadKey(id: string): string {
  if (!keyIdPattern.test(id)) throw new RangeError(`a payload key id is 1-32 of A-Z a-z 0-9 . _ -, not ${id}`);
  return `${id}:${randomBytes(keyBytes).toString('base64')}`;
}

/**
 * The payload key outside production when PAYLOAD_KEYS is unset (a process run by hand). It is public, so payloads
 * encrypted with it are not secret; `bash scripts/start.sh` generates a real key into .data/dev.env.
 */
export const developmentPayloadKeys = 'dev-public:sxBMDtnyDG/BBxM1V7b+chsFl4mr1FGKcLDBFxpnL78=';

const utf8 = new TextEncoder();
const text = new TextDecoder();

function additionalData(format: string, keyId: string): Buffer {
  return Buffer.from(`${format}\0${keyId}`, 'utf8');
}

function metadataString(payload: Payload, key: string): string | undefined {
  const value = payload.metadata?.[key];
  return value ? text.decode(value) : undefined;
}

/**
 * AES-256-GCM payload codec over a {@link PayloadKeyRing}. Encodes with the current key; decodes with the key the
 * payload names, failing closed (a {@link PayloadCodecError}) when this process does not have it.
 */
export class EncryptionCodec implements PayloadCodec {
  constructor(private readonly keys: PayloadKeyRing) {}

  encode(payloads: Payload[]): Promise<Payload[]> {
    const keyId = this.keys.currentId;
    const key = this.keys.key(keyId)!;
    return Promise.resolve(
      payloads.map((payload) => {
        const iv = randomBytes(ivBytes);
        const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: tagBytes });
        cipher.setAAD(additionalData(payloadFormat, keyId));
        const plaintext = temporal.api.common.v1.Payload.encode(payload).finish();
        const data = Buffer.concat([iv, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
        return {
          metadata: {
            encoding: utf8.encode(encryptedEncoding),
            [keyIdMetadataKey]: utf8.encode(keyId),
            [formatMetadataKey]: utf8.encode(payloadFormat),
          },
          data,
        };
      }),
    );
  }

  decode(payloads: Payload[]): Promise<Payload[]> {
    try {
      return Promise.resolve(payloads.map((payload) => this.decodeOne(payload)));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private decodeOne(payload: Payload): Payload {
    if (metadataString(payload, 'encoding') !== encryptedEncoding) return payload;
    const keyId = metadataString(payload, keyIdMetadataKey);
    const format = metadataString(payload, formatMetadataKey);
    if (format !== payloadFormat) {
      throw new PayloadCodecError(
        `An encrypted payload has format ${format ?? '(none)'}; this code reads ${payloadFormat}`,
      );
    }
    if (keyId === undefined) throw new PayloadCodecError('An encrypted payload names no encryption key id');
    const key = this.keys.key(keyId);
    if (!key) {
      throw new PayloadCodecError(
        `An encrypted payload needs payload key "${keyId}", which is not in PAYLOAD_KEYS here (it has ${this.keys.ids.join(', ')})`,
      );
    }
    const data = payload.data ?? new Uint8Array();
    if (data.length < ivBytes + tagBytes) throw new PayloadCodecError('An encrypted payload is too short');
    const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, ivBytes), { authTagLength: tagBytes });
    decipher.setAAD(additionalData(format, keyId));
    decipher.setAuthTag(data.subarray(data.length - tagBytes));
    let plaintext: Buffer;
    try {
      plaintext = Buffer.concat([decipher.update(data.subarray(ivBytes, data.length - tagBytes)), decipher.final()]);
    } catch {
      throw new PayloadCodecError(
        `An encrypted payload failed its integrity check under key "${keyId}": altered, or the key is not the one it was written with`,
      );
    }
    return temporal.api.common.v1.Payload.decode(plaintext);
  }
}

/**
 * The failure converter module (`failureConverterPath`): failure messages and stack traces move into an encoded
 * payload, so the codec encrypts them too. It must be given by path, to the worker and to `bundleWorkflowCode`.
 */
export const failureConverterPath = require.resolve('./failure-converter');

/**
 * The data converter of every Temporal connection of the project: the API's client, the worker, the schedule client,
 * the history recorder, the replay test and `replay:cluster`. A prebuilt workflow bundle must be built with
 * {@link failureConverterPath} as well.
 */
export function payloadDataConverter(keys: PayloadKeyRing): DataConverter {
  return { payloadCodecs: [new EncryptionCodec(keys)], failureConverterPath };
}
