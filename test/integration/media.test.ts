import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import http, { type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { mismatchMarkerKey } from '../../activities/media';
import { mediaPolicy, type DownloadMediaInput, type DownloadMediaResult } from '../../lib/domain/media';
import { waitFor } from '../../dev/process';
import { startRedis, type RedisServer } from '../../dev/redis';
import { generatedBody, startWhatsAppStandin, type WhatsAppStandin } from '../../dev/whatsapp-standin';
import type { Config } from '../../lib/config';
import { ErrorType } from '../../lib/domain/errors';
import { createHttpAgent } from '../../lib/http';
import { createLogger } from '../../lib/log';
import { mediaIndexKey, mediaUsageKey } from '../../lib/media-index';
import { createFileMediaStore } from '../../lib/media-store';
import { createRedis, type Redis } from '../../lib/redis';
import { createSecretResolver } from '../../lib/secrets';
import { testConfig, testEnv, testSecrets } from '../helpers/env';
import { mediaActivities } from '../helpers/media';
import { tenantSecretVariable } from '../helpers/tenants';

const token = testSecrets.WHATSAPP_ACCESS_TOKEN;
const noop = () => undefined;
/** An activity context whose logger stays quiet: the failures here are expected. */
const mockEnv = (info?: ConstructorParameters<typeof MockActivityEnvironment>[0]) =>
  new MockActivityEnvironment(info, {
    logger: { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop },
  });
const tenantId = `media-${process.pid}`;
const log = createLogger({ level: 'silent' });
const http1 = createHttpAgent({ maxConnectionsPerOrigin: 8 });
let standin: WhatsAppStandin;
let redis: Redis;
let dir: string;
let seq = 0;

const voiceNote = Buffer.concat([Buffer.from('OggS'), randomBytes(40_000)]);
const photo = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(200_000)]);
const base64Sha = (b: Buffer) => createHash('sha256').update(b).digest('base64');
const hexSha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const nextMediaId = () => `${Date.now()}${String(++seq).padStart(4, '0')}`;

function config(overrides: Record<string, string> = {}): Config {
  return testConfig({
    WHATSAPP_GRAPH_BASE_URL: standin.url,
    MEDIA_DIR: dir,
    MEDIA_DOWNLOAD_TIMEOUT_MS: '2000',
    WHATSAPP_HTTP_TIMEOUT_MS: '2000',
    ...overrides,
  });
}

/** The transcription agents the tests made, one per address rule, closed at the end. */
const transcriptionAgents = new Map<boolean, ReturnType<typeof createHttpAgent>>();
function transcriptionAgent(allowPrivateNetworks: boolean) {
  let agent = transcriptionAgents.get(allowPrivateNetworks);
  if (!agent) {
    agent = createHttpAgent({ maxConnectionsPerOrigin: 4, addressPolicy: { allowPrivateNetworks } });
    transcriptionAgents.set(allowPrivateNetworks, agent);
  }
  return agent;
}

function activities(options: { config?: Config; redis?: Redis } = {}) {
  const cfg = options.config ?? config();
  return mediaActivities({
    http: http1,
    transcriptionHttp: transcriptionAgent(cfg.media.transcription?.allowPrivateNetworks ?? false),
    redis: options.redis ?? redis,
    config: cfg,
    secrets: createSecretResolver({ [tenantSecretVariable(tenantId, 'WA_TOKEN')]: token }),
    log,
  });
}

function download(input: Partial<DownloadMediaInput> & { mediaId: string }, env = mockEnv()) {
  return env.run(activities().downloadMedia, { tenantId, type: 'audio' as const, ...input });
}

async function failure(promise: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof ApplicationFailure) return err;
    throw err;
  }
  throw new Error('expected a failure');
}

/** Every file under the store's folder, relative to it. */
function files(sub = ''): string[] {
  const root = path.join(dir, sub);
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}
const partials = () => files('.tmp');
const objectPath = (sha: string) => path.join(dir, tenantId, sha.slice(0, 2), sha);

beforeAll(async () => {
  standin = await startWhatsAppStandin({ accessToken: token });
  redis = createRedis(testEnv().redis.url);
  await waitFor('redis', () => redis.status === 'ready');
});
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'media-test-'));
});
afterEach(() => {
  standin.reset();
  rmSync(dir, { recursive: true, force: true });
});
afterAll(async () => {
  await standin.close();
  redis.disconnect();
  await http1.close();
  await Promise.all([...transcriptionAgents.values()].map((agent) => agent.close()));
});

describe('downloadMedia: happy paths', () => {
  it('stores a voice note by sha256 under the tenant, verified, and indexes it', async () => {
    const mediaId = nextMediaId();
    standin.addMedia(mediaId, { body: voiceNote, mimeType: 'audio/ogg; codecs=opus' });
    const env = mockEnv();
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    const result = await download(
      { mediaId, declaredMimeType: 'audio/ogg; codecs=opus', declaredSha256: base64Sha(voiceNote) },
      env,
    );
    const sha = hexSha(voiceNote);
    expect(result).toEqual({
      kind: 'stored',
      mediaId,
      sha256: sha,
      size: voiceNote.length,
      mimeType: 'audio/ogg; codecs=opus',
      ref: `media/${tenantId}/${sha}`,
    });
    expect(readFileSync(objectPath(sha)).equals(voiceNote)).toBe(true);
    expect(partials()).toEqual([]);
    expect(beats.at(-1)).toMatchObject({ mediaId, bytes: voiceNote.length });
    expect(await redis.hgetall(mediaIndexKey(tenantId, mediaId))).toMatchObject({
      status: 'stored',
      tenantId,
      type: 'audio',
      ref: `media/${tenantId}/${sha}`,
      size: String(voiceNote.length),
    });
    expect(await redis.ttl(mediaIndexKey(tenantId, mediaId))).toBeGreaterThan(0);
    expect(standin.media).toMatchObject({ metadata: 1, file: 1 });
  });

  it('stores a photo', async () => {
    const mediaId = nextMediaId();
    standin.addMedia(mediaId, { body: photo, mimeType: 'image/jpeg' });
    const result = await download({ mediaId, type: 'image', declaredMimeType: 'image/jpeg' });
    expect(result).toMatchObject({ kind: 'stored', sha256: hexSha(photo), size: photo.length, mimeType: 'image/jpeg' });
    expect(readFileSync(objectPath(hexSha(photo))).equals(photo)).toBe(true);
  });

  it('downloads with the tenant’s own token; a reference that resolves to nothing fails retryably', async () => {
    const mediaId = nextMediaId();
    standin.addMedia(mediaId, { body: photo, mimeType: 'image/png' });
    await expect(
      download({ mediaId, type: 'image', tokenRef: `env:${tenantSecretVariable(tenantId, 'WA_TOKEN')}` }),
    ).resolves.toMatchObject({
      kind: 'stored',
    });
    const f = await failure(
      download({ mediaId: nextMediaId(), type: 'image', tokenRef: `env:${tenantSecretVariable(tenantId, 'NOT_SET')}` }),
    );
    expect(f).toMatchObject({ type: ErrorType.SecretUnavailable, nonRetryable: false });
  });

  it('stores the same media once: a second delivery returns the stored object without fetching again', async () => {
    const mediaId = nextMediaId();
    standin.addMedia(mediaId, { body: photo, mimeType: 'image/jpeg' });
    const first = await download({ mediaId, type: 'image' });
    const second = await download({ mediaId, type: 'image' });
    expect(second).toEqual(first);
    expect(standin.media).toMatchObject({ metadata: 1, file: 1 });
    // Another media id with the same bytes (the guest forwarded the photo again): one object on disk.
    const otherId = nextMediaId();
    standin.addMedia(otherId, { body: photo, mimeType: 'image/jpeg' });
    const third = await download({ mediaId: otherId, type: 'image' });
    expect(third).toMatchObject({ kind: 'stored', ref: (first as { ref: string }).ref });
    expect(files(tenantId)).toEqual([path.join(tenantId, hexSha(photo).slice(0, 2), hexSha(photo))]);
  });

  it('downloads again when the index says stored but the object is gone', async () => {
    const mediaId = nextMediaId();
    standin.addMedia(mediaId, { body: voiceNote, mimeType: 'audio/ogg' });
    await download({ mediaId });
    rmSync(objectPath(hexSha(voiceNote)));
    await expect(download({ mediaId })).resolves.toMatchObject({ kind: 'stored' });
    expect(existsSync(objectPath(hexSha(voiceNote)))).toBe(true);
    expect(standin.media.file).toBe(2);
  });

  it('reuses pooled keep-alive connections across downloads', async () => {
    const agent = createHttpAgent({ maxConnectionsPerOrigin: 4 });
    try {
      const acts = mediaActivities({ http: agent, redis, config: config(), secrets: () => undefined, log });
      for (let i = 0; i < 8; i++) {
        const mediaId = nextMediaId();
        standin.addMedia(mediaId, { body: randomBytes(10_000), mimeType: 'image/png' });
        await mockEnv().run(acts.downloadMedia, { tenantId, mediaId, type: 'image' as const });
      }
      expect(standin.media.file).toBe(8);
      // 16 requests (metadata and file, same origin here); a client per request would open 16 connections.
      expect(standin.connections).toBeLessThanOrEqual(3);
    } finally {
      await agent.close();
    }
  });
});

describe('downloadMedia: limits and MIME types', () => {
  it('refuses media whose declared size is over the type’s limit without fetching the file', async () => {
    const mediaId = nextMediaId();
    standin.addMedia(mediaId, {
      body: generatedBody(mediaPolicy.image.maxBytes + 1),
      fileSize: mediaPolicy.image.maxBytes + 1,
      sha256: base64Sha(Buffer.from('unused')),
      mimeType: 'image/jpeg',
    });
    expect(await download({ mediaId, type: 'image' })).toEqual({ kind: 'rejected', reason: 'too_large' });
    expect(standin.media.file).toBe(0);
    expect(await redis.hget(mediaIndexKey(tenantId, mediaId), 'reason')).toBe('too_large');
  });

  it('refuses a body that grows past the limit while streaming, cutting the download short and keeping nothing', async () => {
    const mediaId = nextMediaId();
    // Declares 1 MB, then sends 40 MB more (chunked, so only counting the bytes reveals it).
    standin.addMedia(mediaId, {
      body: generatedBody(1024 * 1024),
      fileSize: 1024 * 1024,
      mimeType: 'image/jpeg',
      faults: { extraBytes: 40 * 1024 * 1024 },
    });
    expect(await download({ mediaId, type: 'image' })).toEqual({ kind: 'rejected', reason: 'too_large' });
    await waitFor('the stand-in to notice the hang-up', () => standin.media.bytesServed > 0);
    expect(standin.media.bytesServed).toBeLessThan(20 * 1024 * 1024);
    expect(files()).toEqual([]);
  });

  it('treats a body longer than declared but within the limit as a mismatch', async () => {
    const mediaId = nextMediaId();
    standin.addMedia(mediaId, { body: photo, mimeType: 'image/jpeg', faults: { extraBytes: 1000 } });
    const f = await failure(download({ mediaId, type: 'image' }));
    expect(f).toMatchObject({ type: ErrorType.MediaIntegrityError, nonRetryable: false });
    expect(files()).toEqual([]);
  });

  it('refuses a MIME type the media type does not allow, from Meta’s metadata or from the webhook', async () => {
    const mediaId = nextMediaId();
    standin.addMedia(mediaId, {
      body: photo,
      mimeType: 'image/jpeg',
      faults: { wrongMimeType: 'application/x-msdownload' },
    });
    expect(await download({ mediaId, type: 'image' })).toEqual({ kind: 'rejected', reason: 'mime_not_allowed' });
    expect(standin.media.file).toBe(0);

    const webhookId = nextMediaId();
    standin.addMedia(webhookId, { body: photo, mimeType: 'image/jpeg' });
    expect(await download({ mediaId: webhookId, type: 'image', declaredMimeType: 'image/svg+xml' })).toEqual({
      kind: 'rejected',
      reason: 'mime_not_allowed',
    });
    expect(standin.media.metadata).toBe(1);
    expect(files()).toEqual([]);
  });
});

describe('downloadMedia: integrity', () => {
  it('fails retryably on the first sha256 mismatch and records the media as corrupt on the second', async () => {
    const mediaId = nextMediaId();
    standin.addMedia(mediaId, { body: voiceNote, mimeType: 'audio/ogg', faults: { wrongSha256: Infinity } });
    const first = await failure(download({ mediaId }));
    expect(first).toMatchObject({ type: ErrorType.MediaIntegrityError, nonRetryable: false });
    expect(files()).toEqual([]);
    // The retry (Temporal's next attempt) mismatches again: a business outcome, not an exception.
    expect(await download({ mediaId }, mockEnv({ attempt: 2 }))).toEqual({
      kind: 'rejected',
      reason: 'corrupt',
    });
    expect(files()).toEqual([]);
    // Recorded: later deliveries get the same answer without asking Meta.
    const requests = standin.media.metadata;
    expect(await download({ mediaId })).toEqual({ kind: 'rejected', reason: 'corrupt' });
    expect(standin.media.metadata).toBe(requests);
  });

  it('stores the media when the retry after one mismatch matches', async () => {
    const mediaId = nextMediaId();
    standin.addMedia(mediaId, { body: voiceNote, mimeType: 'audio/ogg', faults: { wrongSha256: 1 } });
    await failure(download({ mediaId }));
    expect(await download({ mediaId })).toMatchObject({ kind: 'stored', sha256: hexSha(voiceNote) });
    expect(await redis.exists(mismatchMarkerKey(tenantId, mediaId))).toBe(0);
  });

  it('checks the sha256 the webhook declared too', async () => {
    const mediaId = nextMediaId();
    standin.addMedia(mediaId, { body: voiceNote, mimeType: 'audio/ogg' });
    const f = await failure(download({ mediaId, declaredSha256: base64Sha(Buffer.from('another file')) }));
    expect(f.type).toBe(ErrorType.MediaIntegrityError);
  });
});

describe('downloadMedia: Meta’s answers and the network', () => {
  it('fetches a fresh URL when the media URL has expired (404) and downloads with it', async () => {
    const mediaId = nextMediaId();
    standin.addMedia(mediaId, { body: photo, mimeType: 'image/jpeg', faults: { expiredUrl: 1 } });
    expect(await download({ mediaId, type: 'image' })).toMatchObject({ kind: 'stored', sha256: hexSha(photo) });
    expect(standin.media).toMatchObject({ metadata: 2, file: 2 });
  });

  it('fails retryably when fresh URLs keep being refused', async () => {
    const mediaId = nextMediaId();
    standin.addMedia(mediaId, { body: photo, mimeType: 'image/jpeg', faults: { expiredUrl: 10 } });
    const f = await failure(download({ mediaId, type: 'image' }));
    expect(f).toMatchObject({ type: ErrorType.MediaUnavailable, nonRetryable: false });
    expect(standin.media).toMatchObject({ metadata: 3, file: 3 });
  });

  it('answers not_found for media Meta no longer has', async () => {
    expect(await download({ mediaId: nextMediaId() })).toEqual({ kind: 'rejected', reason: 'not_found' });
  });

  it("clamps the Graph API's Retry-After to 5 minutes", async () => {
    const mediaId = nextMediaId();
    standin.addMedia(mediaId, { body: photo, mimeType: 'image/jpeg' });
    standin.injectMedia({
      kind: 'error',
      status: 429,
      code: 130429,
      message: 'Rate limit hit',
      retryAfterSeconds: 86_400,
    });
    const f = await failure(download({ mediaId, type: 'image' }));
    expect(f.type).toBe(ErrorType.WhatsAppRateLimited);
    expect(msToNumber(f.nextRetryDelay!)).toBe(5 * 60_000);
  });

  it.each([
    [131048, 'spam'],
    [131056, 'pair'],
  ])('reads Graph code %d as the %s rate limit, as a send does: retried after Retry-After', async (code, limit) => {
    const mediaId = nextMediaId();
    standin.addMedia(mediaId, { body: photo, mimeType: 'image/jpeg' });
    standin.injectMedia({ kind: 'error', status: 400, code, message: 'rate limit hit', retryAfterSeconds: 6 });
    const f = await failure(download({ mediaId, type: 'image' }));
    expect(f).toMatchObject({ type: ErrorType.WhatsAppRateLimited, nonRetryable: false });
    expect(f.details?.[0]).toMatchObject({ code, rateLimit: limit });
    expect(msToNumber(f.nextRetryDelay!)).toBe(6_000);
  });

  it('never sends the token to a host outside MEDIA_ALLOWED_HOSTS', async () => {
    const seen: (string | undefined)[] = [];
    const elsewhere = http.createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(200, { 'content-type': 'image/jpeg' }).end(photo);
    });
    await new Promise<void>((r) => elsewhere.listen(0, '127.0.0.1', r));
    try {
      const mediaId = nextMediaId();
      // The metadata names a host the allowlist (127.0.0.1, the stand-in's) does not hold.
      const foreignUrl = `http://localhost:${(elsewhere.address() as AddressInfo).port}`;
      standin.addMedia(mediaId, { body: photo, mimeType: 'image/jpeg', faults: { foreignUrl } });
      const f = await failure(download({ mediaId, type: 'image' }));
      expect(f).toMatchObject({ type: ErrorType.ConfigurationFailure, nonRetryable: true });
      expect(f.message).toContain('MEDIA_ALLOWED_HOSTS');
      expect(f.message).not.toContain(token);
      expect(seen).toEqual([]);
    } finally {
      elsewhere.close();
    }
  });

  it("refuses media over the tenant's quota before fetching it", async () => {
    const quotaTenant = `media-quota-${process.pid}-${Date.now()}`;
    const acts = activities({ config: config({ MEDIA_TENANT_QUOTA_BYTES: String(photo.length + 1000) }) });
    const first = nextMediaId();
    standin.addMedia(first, { body: photo, mimeType: 'image/jpeg' });
    expect(
      await mockEnv().run(acts.downloadMedia, { tenantId: quotaTenant, mediaId: first, type: 'image' as const }),
    ).toMatchObject({ kind: 'stored' });
    const second = nextMediaId();
    const other = Buffer.concat([photo.subarray(0, 4), randomBytes(photo.length - 4)]);
    standin.addMedia(second, { body: other, mimeType: 'image/jpeg' });
    const filesBefore = standin.media.file;
    expect(
      await mockEnv().run(acts.downloadMedia, { tenantId: quotaTenant, mediaId: second, type: 'image' as const }),
    ).toEqual({ kind: 'rejected', reason: 'quota_exceeded' });
    expect(standin.media.file).toBe(filesBefore);
    // Another tenant is not affected by this one's quota.
    const otherTenant = `${quotaTenant}-b`;
    expect(
      await mockEnv().run(acts.downloadMedia, { tenantId: otherTenant, mediaId: second, type: 'image' as const }),
    ).toMatchObject({
      kind: 'stored',
    });
  });

  it('refuses media while the disk has less free space than MEDIA_MIN_FREE_BYTES', async () => {
    const acts = activities({ config: config({ MEDIA_MIN_FREE_BYTES: String(2 ** 52) }) });
    const mediaId = nextMediaId();
    standin.addMedia(mediaId, { body: photo, mimeType: 'image/jpeg' });
    const filesBefore = standin.media.file;
    expect(await mockEnv().run(acts.downloadMedia, { tenantId, mediaId, type: 'image' as const })).toEqual({
      kind: 'rejected',
      reason: 'storage_full',
    });
    expect(standin.media.file).toBe(filesBefore);
  });

  it('maps a 5xx to MediaUnavailable, a refused token to WhatsAppAuthError (both retried)', async () => {
    const mediaId = nextMediaId();
    standin.addMedia(mediaId, { body: photo, mimeType: 'image/jpeg' });
    standin.injectMedia({ kind: 'error', status: 500, code: 1, message: 'An unknown error occurred' });
    expect(await failure(download({ mediaId, type: 'image' }))).toMatchObject({
      type: ErrorType.MediaUnavailable,
      nonRetryable: false,
    });
    const wrongToken = mediaActivities({
      http: http1,
      redis,
      config: config({ WHATSAPP_ACCESS_TOKEN: 'wrong-token-12345' }),
      secrets: () => undefined,
      log,
    });
    const f = await failure(mockEnv().run(wrongToken.downloadMedia, { tenantId, mediaId, type: 'image' as const }));
    expect(f).toMatchObject({ type: ErrorType.WhatsAppAuthError, nonRetryable: false });
    expect(f.message).not.toContain('wrong-token-12345');
  });

  it('times out a stalled body (retryable, nothing kept) and the retry completes', async () => {
    const mediaId = nextMediaId();
    const body = randomBytes(300_000);
    standin.addMedia(mediaId, {
      body,
      mimeType: 'audio/mpeg',
      faults: { slowBody: { chunkBytes: 100_000, intervalMs: 1_500, times: 1 } },
    });
    const acts = activities({ config: config({ MEDIA_DOWNLOAD_TIMEOUT_MS: '400' }) });
    const f = await failure(mockEnv().run(acts.downloadMedia, { tenantId, mediaId, type: 'audio' as const }));
    expect(f).toMatchObject({ type: ErrorType.MediaUnavailable, nonRetryable: false });
    expect(files()).toEqual([]);
    const retried = await mockEnv({ attempt: 2 }).run(acts.downloadMedia, {
      tenantId,
      mediaId,
      type: 'audio' as const,
    });
    expect(retried).toMatchObject({ kind: 'stored', sha256: hexSha(body) });
  });

  it('honours cancellation mid-stream and leaves no partial file', async () => {
    const mediaId = nextMediaId();
    standin.addMedia(mediaId, {
      body: randomBytes(2_000_000),
      mimeType: 'audio/mpeg',
      faults: { slowBody: { chunkBytes: 50_000, intervalMs: 50 } },
    });
    const env = mockEnv();
    const running = env.run(activities().downloadMedia, { tenantId, mediaId, type: 'audio' as const });
    await waitFor('a partial file', () => partials().length === 1);
    env.cancel();
    await expect(running).rejects.toBeInstanceOf(CancelledFailure);
    expect(files()).toEqual([]);
  });

  it('refuses malformed input for good', async () => {
    const f = await failure(download({ mediaId: '../../etc/passwd' }));
    expect(f).toMatchObject({ type: ErrorType.MediaInvalidRequest, nonRetryable: true });
    const g = await failure(
      mockEnv().run(activities().downloadMedia, {
        tenantId: 'Not A Slug',
        mediaId: '1',
        type: 'audio' as const,
      }),
    );
    expect(g).toMatchObject({ type: ErrorType.MediaInvalidRequest, nonRetryable: true });
  });
});

describe('downloadMedia while Redis is down', () => {
  let own: RedisServer;
  let ownClient: Redis;
  beforeAll(async () => {
    own = await startRedis({ dir: mkdtempSync(path.join(os.tmpdir(), 'media-redis-')) });
    ownClient = createRedis(own.url);
    await waitFor('own redis', () => ownClient.status === 'ready');
  });
  afterAll(async () => {
    ownClient.disconnect();
    await own.destroy();
  });

  it('still downloads and stores once (the index is only an index), and indexes again once Redis is back', async () => {
    const mediaId = nextMediaId();
    standin.addMedia(mediaId, { body: photo, mimeType: 'image/jpeg' });
    const acts = activities({ redis: ownClient });
    await own.stop();
    const first = await mockEnv().run(acts.downloadMedia, {
      tenantId,
      mediaId,
      type: 'image' as const,
    });
    const second = await mockEnv().run(acts.downloadMedia, {
      tenantId,
      mediaId,
      type: 'image' as const,
    });
    expect(first).toMatchObject({ kind: 'stored', sha256: hexSha(photo) });
    expect(second).toEqual(first);
    expect(files(tenantId)).toHaveLength(1);
    await own.start();
    await waitFor('own redis back', () => ownClient.status === 'ready', { timeoutMs: 10_000 });
    await mockEnv().run(acts.downloadMedia, { tenantId, mediaId, type: 'image' as const });
    expect(await ownClient.hget(mediaIndexKey(tenantId, mediaId), 'status')).toBe('stored');
  });
});

describe('transcribeAudio', () => {
  it('returns no text with the default (no transcriber configured)', async () => {
    const mediaId = nextMediaId();
    standin.addMedia(mediaId, { body: voiceNote, mimeType: 'audio/ogg; codecs=opus' });
    const stored = (await download({ mediaId })) as Extract<DownloadMediaResult, { kind: 'stored' }>;
    expect(
      await mockEnv().run(activities().transcribeAudio, {
        tenantId,
        ref: stored.ref,
        language: 'es' as const,
      }),
    ).toEqual({ text: null });
  });

  it('refuses a ref of another tenant or that is not a ref', async () => {
    const ref = `media/other-tenant/${'a'.repeat(64)}`;
    const f = await failure(mockEnv().run(activities().transcribeAudio, { tenantId, ref }));
    expect(f).toMatchObject({ type: ErrorType.MediaInvalidRequest, nonRetryable: true });
  });

  describe('with an OpenAI-compatible service', () => {
    let server: http.Server;
    let serviceUrl: string;
    let answer: { status: number; body: unknown; headers?: Record<string, string> } = {
      status: 200,
      body: { text: ' Quiero una habitación ' },
    };
    const received: { auth: string | undefined; contentType: string | undefined; body: Buffer; path: string }[] = [];
    beforeAll(async () => {
      server = http.createServer((req: IncomingMessage, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          received.push({
            auth: req.headers.authorization,
            contentType: req.headers['content-type'],
            body: Buffer.concat(chunks),
            path: req.url ?? '',
          });
          res
            .writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers })
            .end(JSON.stringify(answer.body));
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      serviceUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));
    beforeEach(() => {
      received.length = 0;
      answer = { status: 200, body: { text: ' Quiero una habitación ' } };
    });

    const withService = () =>
      activities({
        config: config({
          TRANSCRIPTION_URL: serviceUrl,
          TRANSCRIPTION_API_KEY: 'sk-test-123',
          TRANSCRIPTION_MODEL: 'whisper-1',
        }),
      });

    async function storedVoiceNote() {
      const mediaId = nextMediaId();
      standin.addMedia(mediaId, { body: voiceNote, mimeType: 'audio/ogg; codecs=opus' });
      return (await download({ mediaId })) as Extract<DownloadMediaResult, { kind: 'stored' }>;
    }

    it('posts the file as multipart to /v1/audio/transcriptions and returns the text', async () => {
      const stored = await storedVoiceNote();
      const result = await mockEnv().run(withService().transcribeAudio, {
        tenantId,
        ref: stored.ref,
        language: 'es' as const,
        mimeType: stored.mimeType,
      });
      expect(result).toEqual({ text: 'Quiero una habitación' });
      expect(received).toHaveLength(1);
      const request = received[0]!;
      expect(request.path).toBe('/v1/audio/transcriptions');
      expect(request.auth).toBe('Bearer sk-test-123');
      expect(request.contentType).toMatch(/^multipart\/form-data; boundary=/);
      expect(request.body.includes(voiceNote)).toBe(true);
      const text = request.body.toString('latin1');
      expect(text).toContain('filename="voice.ogg"');
      expect(text).toMatch(/name="model"\r\n\r\nwhisper-1/);
      expect(text).toMatch(/name="language"\r\n\r\nes/);
    });

    it('sniffs the audio type when the caller gives none', async () => {
      const stored = await storedVoiceNote();
      await mockEnv().run(withService().transcribeAudio, { tenantId, ref: stored.ref });
      expect(received[0]!.body.toString('latin1')).toContain('filename="voice.ogg"');
    });

    it('returns no text when the service heard nothing or the object is gone', async () => {
      const stored = await storedVoiceNote();
      answer = { status: 200, body: { text: '  ' } };
      const acts = withService();
      expect(await mockEnv().run(acts.transcribeAudio, { tenantId, ref: stored.ref })).toEqual({
        text: null,
      });
      rmSync(objectPath(stored.sha256));
      expect(await mockEnv().run(acts.transcribeAudio, { tenantId, ref: stored.ref })).toEqual({
        text: null,
      });
    });

    it('maps 5xx to a retryable TranscriptionUnavailable and 401 to a non-retryable TranscriptionRejected', async () => {
      const stored = await storedVoiceNote();
      const acts = withService();
      answer = { status: 503, body: { error: { message: 'overloaded' } } };
      expect(await failure(mockEnv().run(acts.transcribeAudio, { tenantId, ref: stored.ref }))).toMatchObject({
        type: ErrorType.TranscriptionUnavailable,
        nonRetryable: false,
      });
      answer = { status: 401, body: { error: { message: 'Incorrect API key provided' } } };
      const f = await failure(mockEnv().run(acts.transcribeAudio, { tenantId, ref: stored.ref }));
      expect(f).toMatchObject({ type: ErrorType.TranscriptionRejected, nonRetryable: true });
      expect(f.message).not.toContain('sk-test-123');
    });

    it('refuses a service on a private address unless TRANSCRIPTION_ALLOW_PRIVATE_NETWORKS is set', async () => {
      const stored = await storedVoiceNote();
      const acts = activities({
        config: config({ TRANSCRIPTION_URL: serviceUrl, TRANSCRIPTION_ALLOW_PRIVATE_NETWORKS: 'false' }),
      });
      const f = await failure(mockEnv().run(acts.transcribeAudio, { tenantId, ref: stored.ref }));
      expect(f).toMatchObject({ type: ErrorType.ConfigurationFailure, nonRetryable: true });
      expect(f.message).toMatch(/loopback/);
      expect(received).toHaveLength(0);
    });

    it('cuts off an answer over 1 MiB instead of reading it', async () => {
      const stored = await storedVoiceNote();
      answer = { status: 200, body: { text: 'la '.repeat(1024 * 1024) } };
      const f = await failure(mockEnv().run(withService().transcribeAudio, { tenantId, ref: stored.ref }));
      expect(f).toMatchObject({ type: ErrorType.TranscriptionUnavailable, nonRetryable: false });
      expect(f.message).toContain('more than 1048576 bytes');
    });

    it("clamps the service's Retry-After to 5 minutes", async () => {
      const stored = await storedVoiceNote();
      answer = { status: 429, body: { error: { message: 'slow down' } }, headers: { 'retry-after': '86400' } };
      const f = await failure(mockEnv().run(withService().transcribeAudio, { tenantId, ref: stored.ref }));
      expect(f.type).toBe(ErrorType.TranscriptionUnavailable);
      expect(msToNumber(f.nextRetryDelay!)).toBe(5 * 60_000);
    });
  });
});

describe('deleteExpiredMedia', () => {
  it('deletes objects past the TTL and stale partial files, and keeps the rest', async () => {
    const acts = activities({ config: config({ MEDIA_INDEX_TTL_SECONDS: '3600' }) });
    const store = createFileMediaStore({ dir });
    const oldId = nextMediaId();
    const freshId = nextMediaId();
    standin.addMedia(oldId, { body: photo, mimeType: 'image/jpeg' });
    standin.addMedia(freshId, { body: voiceNote, mimeType: 'audio/ogg' });
    const old = (await download({ mediaId: oldId, type: 'image' })) as Extract<DownloadMediaResult, { kind: 'stored' }>;
    const fresh = (await download({ mediaId: freshId })) as Extract<DownloadMediaResult, { kind: 'stored' }>;
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    utimesSync(objectPath(old.sha256), twoHoursAgo, twoHoursAgo);
    mkdirSync(path.join(dir, '.tmp'), { recursive: true });
    const stalePartial = path.join(dir, '.tmp', `${tenantId}~1~dead.part`);
    const livePartial = path.join(dir, '.tmp', `${tenantId}~2~live.part`);
    writeFileSync(stalePartial, 'half a file');
    writeFileSync(livePartial, 'being written');
    utimesSync(stalePartial, twoHoursAgo, twoHoursAgo);

    expect(await mockEnv().run(acts.deleteExpiredMedia)).toEqual({
      deleted: 1,
      partialsDeleted: 1,
    });
    expect(await store.has(old.ref)).toBe(false);
    expect(await store.has(fresh.ref)).toBe(true);
    expect(existsSync(stalePartial)).toBe(false);
    expect(existsSync(livePartial)).toBe(true);
    // The walk recounts what each tenant stores, which is what its quota is measured against.
    const onDisk = files(tenantId).reduce((sum, file) => sum + statSync(path.join(dir, file)).size, 0);
    expect(Number(await redis.get(mediaUsageKey(tenantId)))).toBe(onDisk);
  });

  it('keeps an object that a new delivery renewed', async () => {
    const acts = activities({ config: config({ MEDIA_INDEX_TTL_SECONDS: '3600' }) });
    const mediaId = nextMediaId();
    standin.addMedia(mediaId, { body: photo, mimeType: 'image/jpeg' });
    const stored = (await download({ mediaId, type: 'image' })) as Extract<DownloadMediaResult, { kind: 'stored' }>;
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    utimesSync(objectPath(stored.sha256), twoHoursAgo, twoHoursAgo);
    await download({ mediaId, type: 'image' }); // same media again: renews the object
    expect(await mockEnv().run(acts.deleteExpiredMedia)).toMatchObject({ deleted: 0 });
    expect(existsSync(objectPath(stored.sha256))).toBe(true);
  });
});
