import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createHttpAgent } from '../../lib/http';
import { createTranscriber, noTranscriber, transcriptionEndpoint } from '../../clients/transcriber';
import { sniffAudioMime } from '../../clients/transcriber/audio';
import { isAllowedMediaHost, sha256Hex } from '../../clients/whatsapp-graph';
import { isAllowedMime, mediaPolicy, mediaRef, parseMediaRef, type MediaType } from '../../lib/domain/media';
import * as workflows from '../../workflows';
import { mediaCleanupWorkflowType } from '../../workers/schedules';

const fixtures = path.join(__dirname, '../fixtures/whatsapp-webhooks');

describe('media policy', () => {
  it('has Meta’s size limits per type', () => {
    const MB = 1024 * 1024;
    expect(Object.fromEntries(Object.entries(mediaPolicy).map(([t, p]) => [t, p.maxBytes]))).toEqual({
      audio: 16 * MB,
      image: 5 * MB,
      video: 16 * MB,
      document: 100 * MB,
      sticker: 500 * 1024,
    });
  });

  it.each(['audio', 'document', 'image', 'sticker', 'video'] as MediaType[])(
    'accepts the MIME type and decodes the base64 sha256 of Meta’s %s webhook example',
    (type) => {
      const payload = JSON.parse(readFileSync(path.join(fixtures, `${type}.json`), 'utf8'));
      const media = payload.entry[0].changes[0].value.messages[0][type];
      expect(isAllowedMime(type, media.mime_type)).toBe(true);
      expect(sha256Hex(media.sha256)).toMatch(/^[0-9a-f]{64}$/);
      expect(Buffer.from(sha256Hex(media.sha256)!, 'hex').toString('base64')).toBe(media.sha256);
    },
  );

  it('compares MIME types without parameters or case, and per media type', () => {
    expect(isAllowedMime('audio', 'Audio/OGG; codecs=opus')).toBe(true);
    expect(isAllowedMime('image', 'image/webp')).toBe(false);
    expect(isAllowedMime('sticker', 'image/webp')).toBe(true);
    expect(isAllowedMime('image', 'image/svg+xml')).toBe(false);
    expect(isAllowedMime('document', 'application/x-msdownload')).toBe(false);
  });

  it('reads sha256 as hex or base64, and nothing else', () => {
    const hex = 'c2fa9731eea7ee7d56d33a61bcb3e82e3facfcdb4aaa6af7cd9ed8cd33fbc452';
    expect(sha256Hex(hex.toUpperCase())).toBe(hex);
    expect(sha256Hex(Buffer.from(hex, 'hex').toString('base64'))).toBe(hex);
    expect(sha256Hex('not a hash')).toBeUndefined();
    expect(sha256Hex(Buffer.from('short').toString('base64'))).toBeUndefined();
  });

  it('sniffs audio types from the first bytes', () => {
    expect(sniffAudioMime(Buffer.from('OggS\0\x02'))).toBe('audio/ogg');
    expect(sniffAudioMime(Buffer.from('#!AMR\n'))).toBe('audio/amr');
    expect(sniffAudioMime(Buffer.from('\0\0\0\x20ftypM4A '))).toBe('audio/mp4');
    expect(sniffAudioMime(Buffer.from('ID3\x04'))).toBe('audio/mpeg');
    expect(sniffAudioMime(Buffer.from([0xff, 0xfb, 0x90]))).toBe('audio/mpeg');
    expect(sniffAudioMime(Buffer.from([0xff, 0xf1, 0x50]))).toBe('audio/aac');
    expect(sniffAudioMime(Buffer.from('hello'))).toBeUndefined();
  });
});

describe('media refs', () => {
  const hex = 'a'.repeat(64);
  it('round-trips a tenant and a hash', () => {
    expect(parseMediaRef(mediaRef('hotel-sol', hex))).toEqual({ tenantId: 'hotel-sol', sha256: hex });
  });
  it.each([
    `media/../${hex}`,
    `media/hotel-sol/../../${hex}`,
    `media/hotel-sol/${hex}/x`,
    `media/Hotel/${hex}`,
    `/etc/passwd`,
    `media/hotel-sol/${'g'.repeat(64)}`,
  ])('refuses %s', (ref) => {
    expect(parseMediaRef(ref)).toBeUndefined();
  });
  it('refuses to make a ref of a tenant id that is not a slug', () => {
    expect(() => mediaRef('../x', hex)).toThrow(RangeError);
  });
});

describe('transcription', () => {
  it('does no transcription unless configured', async () => {
    const http = createHttpAgent({ maxConnectionsPerOrigin: 1 });
    const transcriber = createTranscriber(undefined, http);
    expect(transcriber).toBe(noTranscriber);
    expect(await transcriber.transcribe({ audio: new Blob(['x']), mimeType: 'audio/ogg' })).toBeNull();
    await http.close();
  });

  it.each([
    ['https://api.openai.com', 'https://api.openai.com/v1/audio/transcriptions'],
    ['https://api.openai.com/v1', 'https://api.openai.com/v1/audio/transcriptions'],
    ['http://whisper:8000/v1/audio/transcriptions', 'http://whisper:8000/v1/audio/transcriptions'],
    ['http://gateway/openai/', 'http://gateway/openai/v1/audio/transcriptions'],
  ])('posts to the endpoint for TRANSCRIPTION_URL=%s', (url, endpoint) => {
    expect(transcriptionEndpoint(url)).toBe(endpoint);
  });
});

describe('media-cleanup workflow', () => {
  it('is exported under the name the schedule starts', () => {
    expect(typeof (workflows as Record<string, unknown>)[mediaCleanupWorkflowType]).toBe('function');
  });
});

describe('isAllowedMediaHost', () => {
  const allowed = ['lookaside.fbsbx.com', '*.whatsapp.net'];
  it.each([
    ['lookaside.fbsbx.com', true],
    ['LOOKASIDE.fbsbx.com', true],
    ['mmg.whatsapp.net', true],
    ['whatsapp.net', false],
    ['evilwhatsapp.net', false],
    ['lookaside.fbsbx.com.evil.example', false],
    ['fbsbx.com', false],
    ['169.254.169.254', false],
  ])('%s: %s', (host, expected) => {
    expect(isAllowedMediaHost(host, allowed)).toBe(expected);
  });
});
