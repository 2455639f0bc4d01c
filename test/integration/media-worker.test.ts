import { type Client } from '@temporalio/client';
import { failureConverterPath, payloadDataConverter } from '../../lib/codec';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { mediaActivities as buildMediaActivities } from '../helpers/media';
import type { DownloadMediaResult } from '../../lib/domain/media';
import { waitFor } from '../../dev/process';
import { startWhatsAppStandin, type WhatsAppStandin } from '../../dev/whatsapp-standin';
import type { Config } from '../../lib/config';
import { createHttpAgent } from '../../lib/http';
import { createLogger } from '../../lib/log';
import { createFileMediaStore } from '../../lib/media-store';
import { createRedis, type Redis } from '../../lib/redis';
import { ensureMediaCleanupSchedule } from '../../workers/schedules';
import { temporalClient, testConfig, testEnv, testSecrets } from '../helpers/env';
import type { downloadMediaForTest } from './media-workflows';

/**
 * The media activities on a real worker and the real Temporal dev server: the cleanup schedule, a worker killed
 * mid-download (its own process, SIGKILLed), and a stalled download timed out and retried by Temporal.
 */

const log = createLogger({ level: 'silent' });
const tenantId = `mw-${process.pid}`;
const quietLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: (message: string) => console.error(message),
};
let standin: WhatsAppStandin;
let redis: Redis;
let connection: NativeConnection;
let temporal: Client;
let testWorkflows: { code: string };
let dir: string;
const http = createHttpAgent({ maxConnectionsPerOrigin: 4 });
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function config(overrides: Record<string, string> = {}): Config {
  return testConfig({
    WHATSAPP_GRAPH_BASE_URL: standin.url,
    MEDIA_DIR: dir,
    MEDIA_DOWNLOAD_TIMEOUT_MS: '2000',
    ...overrides,
  });
}

function mediaActivities(cfg: Config) {
  return buildMediaActivities({ http, redis, config: cfg, secrets: () => undefined, log });
}

const partials = () => (existsSync(path.join(dir, '.tmp')) ? readdirSync(path.join(dir, '.tmp')) : []);
const objectPath = (hex: string) => path.join(dir, tenantId, hex.slice(0, 2), hex);

beforeAll(async () => {
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // installed already by another test file in this process
  }
  standin = await startWhatsAppStandin({ accessToken: testSecrets.WHATSAPP_ACCESS_TOKEN });
  redis = createRedis(testEnv().redis.url);
  connection = await NativeConnection.connect({ address: testEnv().temporalAddress });
  temporal = await temporalClient(testConfig());
  testWorkflows = await bundleWorkflowCode({
    workflowsPath: require.resolve('./media-workflows'),
    failureConverterPath,
    logger: quietLogger,
  });
});
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'media-worker-'));
});
afterEach(() => {
  standin.reset();
  rmSync(dir, { recursive: true, force: true });
});
afterAll(async () => {
  await standin.close();
  redis.disconnect();
  await http.close();
  await temporal.connection.close();
  await connection.close();
});

describe('media-cleanup schedule', () => {
  it('is created once, and a triggered run deletes expired media', async () => {
    const cfg = config({ MEDIA_INDEX_TTL_SECONDS: '3600' });
    const store = createFileMediaStore({ dir });
    const put = (bytes: Buffer, key: string) =>
      store.put(Readable.from([bytes]), { tenantId, key, maxBytes: 1_000_000 });
    const expired = await put(randomBytes(1000), 'old');
    const current = await put(randomBytes(1000), 'new');
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    utimesSync(objectPath(expired.sha256), twoHoursAgo, twoHoursAgo);

    const worker = await Worker.create({
      connection,
      taskQueue: cfg.temporal.taskQueue,
      workflowBundle: { codePath: testEnv().workflowBundlePath },
      activities: mediaActivities(cfg),
      dataConverter: payloadDataConverter(cfg.payloadKeys),
    });
    const scheduleId = `media-cleanup-test-${randomUUID()}`;
    await worker.runUntil(async () => {
      const handle = await ensureMediaCleanupSchedule(temporal, cfg, { scheduleId });
      try {
        // A second worker starting up leaves it as it is.
        await ensureMediaCleanupSchedule(temporal, cfg, { scheduleId, every: '5 minutes' });
        const description = await handle.describe();
        expect(description.spec.intervals).toEqual([expect.objectContaining({ every: 3600_000 })]);
        expect(description.action).toMatchObject({
          type: 'startWorkflow',
          workflowType: 'mediaCleanup',
          taskQueue: cfg.temporal.taskQueue,
        });

        await handle.trigger();
        let workflowId: string | undefined;
        await waitFor('the triggered run', async () => {
          workflowId = (await handle.describe()).info.recentActions[0]?.action.workflow.workflowId;
          return workflowId !== undefined;
        });
        const result = await temporal.workflow.getHandle(workflowId!).result();
        expect(result).toEqual({ deleted: 1, partialsDeleted: 0 });
        expect(await store.has(expired.ref)).toBe(false);
        expect(await store.has(current.ref)).toBe(true);
      } finally {
        await handle.delete();
      }
    });
  });
});

describe('downloadMedia on a real worker', () => {
  async function startWorkflowWorker(cfg: Config, withActivities: boolean): Promise<Worker> {
    return Worker.create({
      connection,
      taskQueue: cfg.temporal.taskQueue,
      workflowBundle: testWorkflows,
      ...(withActivities ? { activities: mediaActivities(cfg) } : {}),
      dataConverter: payloadDataConverter(cfg.payloadKeys),
    });
  }

  it('a worker killed mid-download leaves no object and no lasting partial file; the retry on another worker completes', async () => {
    const cfg = config();
    const file = randomBytes(6 * 1024 * 1024);
    const mediaId = `${Date.now()}77`;
    // The first download trickles (about 3 MB/s), so the worker can be killed in the middle of it.
    standin.addMedia(mediaId, {
      body: file,
      mimeType: 'application/pdf',
      faults: { slowBody: { chunkBytes: 64 * 1024, intervalMs: 20, times: 1 } },
    });
    const workflows = await startWorkflowWorker(cfg, false);
    let child: ChildProcess | undefined;
    await workflows.runUntil(async () => {
      try {
        // node itself with tsx's loader (not the tsx CLI, which would run the worker in a grandchild we could not kill).
        child = spawn(process.execPath, ['--import', 'tsx', require.resolve('./media-worker-process.ts')], {
          env: {
            ...process.env,
            ...testSecrets,
            NODE_ENV: 'test',
            LOG_LEVEL: 'silent',
            TEMPORAL_ADDRESS: cfg.temporal.address,
            TEMPORAL_TASK_QUEUE: cfg.temporal.taskQueue,
            REDIS_URL: cfg.redisUrl,
            MEDIA_DIR: dir,
            MEDIA_DOWNLOAD_TIMEOUT_MS: '2000',
            WHATSAPP_GRAPH_BASE_URL: standin.url,
            MEDIA_ALLOWED_HOSTS: '127.0.0.1',
          },
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        let ready = false;
        child.stdout!.on('data', (chunk: Buffer) => (ready ||= chunk.toString().includes('ready')));
        await waitFor('the child worker', () => ready, { timeoutMs: 30_000 });

        const handle = await temporal.workflow.start<typeof downloadMediaForTest>('downloadMediaForTest', {
          taskQueue: cfg.temporal.taskQueue,
          workflowId: `media-kill-${randomUUID()}`,
          args: [{ tenantId, mediaId, type: 'document' }],
        });
        await waitFor('the download to be under way', () => {
          const [part] = partials();
          return part !== undefined && statSync(path.join(dir, '.tmp', part)).size > 1024 * 1024;
        });
        child.kill('SIGKILL');
        await new Promise((resolve) => child!.once('exit', resolve));

        // What the killed worker left: a partial file under .tmp, and no object anyone could read.
        const store = createFileMediaStore({ dir });
        expect(partials()).toHaveLength(1);
        expect(partials()[0]).toMatch(new RegExp(`^${tenantId}~${mediaId}~.+\\.part$`));
        expect(await store.has(`media/${tenantId}/${sha(file)}`)).toBe(false);
        expect(existsSync(path.join(dir, tenantId))).toBe(false);

        // Another worker takes over once the heartbeat timeout (2 s) shows the attempt is dead.
        const activities = await Worker.create({
          connection,
          taskQueue: cfg.temporal.taskQueue,
          activities: mediaActivities(cfg),
          dataConverter: payloadDataConverter(cfg.payloadKeys),
        });
        const result: DownloadMediaResult = await activities.runUntil(handle.result());
        expect(result).toMatchObject({ kind: 'stored', sha256: sha(file), size: file.length });
        expect(readFileSync(objectPath(sha(file))).equals(file)).toBe(true);
        expect(partials()).toEqual([]);

        const { events } = await handle.fetchHistory();
        const started = (events ?? []).find((e) => e.activityTaskStartedEventAttributes)!;
        expect(started.activityTaskStartedEventAttributes!.attempt).toBe(2);
        expect(started.activityTaskStartedEventAttributes!.lastFailure?.message).toMatch(/heartbeat/i);
      } finally {
        if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
    });
  });

  it('a stalled download times out and Temporal retries it to completion', async () => {
    const cfg = config({ MEDIA_DOWNLOAD_TIMEOUT_MS: '500' });
    const file = randomBytes(400_000);
    const mediaId = `${Date.now()}88`;
    standin.addMedia(mediaId, {
      body: file,
      mimeType: 'audio/ogg',
      faults: { slowBody: { chunkBytes: 100_000, intervalMs: 2_000, times: 1 } },
    });
    const worker = await startWorkflowWorker(cfg, true);
    const handle = await temporal.workflow.start<typeof downloadMediaForTest>('downloadMediaForTest', {
      taskQueue: cfg.temporal.taskQueue,
      workflowId: `media-slow-${randomUUID()}`,
      args: [{ tenantId, mediaId, type: 'audio' }],
    });
    const result = await worker.runUntil(handle.result());
    expect(result).toMatchObject({ kind: 'stored', sha256: sha(file) });
    expect(standin.media.file).toBe(2);
    expect(partials()).toEqual([]);
    const { events } = await handle.fetchHistory();
    const started = (events ?? []).find((e) => e.activityTaskStartedEventAttributes)!;
    expect(started.activityTaskStartedEventAttributes!.attempt).toBe(2);
    expect(started.activityTaskStartedEventAttributes!.lastFailure?.applicationFailureInfo?.type).toBe(
      'MediaUnavailable',
    );
  });
});
