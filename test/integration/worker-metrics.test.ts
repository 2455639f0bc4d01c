import { ScheduleNotFoundError, type Client } from '@temporalio/client';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getFreePort, spawnService, waitFor, type Service } from '../../dev/process';
import { projectRoot } from '../../dev/paths';
import type { AddressInfo } from 'node:net';
import { createMetrics } from '../../lib/metrics';
import { serveMetrics } from '../../lib/metrics-server';
import { mediaCleanupScheduleId } from '../../workers/schedules';
import { temporalClient, testConfig, testSecrets } from '../helpers/env';
import { isLoopback, listeningSocketsOf } from '../helpers/sockets';

/**
 * The worker's /metrics has no authentication, so by default it must be reachable from this machine only.
 * The worker runs as its own process with the default configuration (WORKER_METRICS_HOST unset), and the
 * kernel's socket table says where it listens: no traffic is sent to any address but loopback.
 */

const config = testConfig();
let temporal: Client;
let dir: string;
let worker: Service | undefined;

beforeAll(async () => {
  temporal = await temporalClient(config);
  dir = mkdtempSync(path.join(os.tmpdir(), 'worker-metrics-'));
});

afterAll(async () => {
  await worker?.stop(3_000);
  // A worker that got as far as its start-up creates the media cleanup schedule for its own task queue;
  // remove it when it is ours, so it does not outlive this test pointing at a queue nobody serves.
  const handle = temporal.schedule.getHandle(mediaCleanupScheduleId);
  try {
    const described = await handle.describe();
    if (described.action.type === 'startWorkflow' && described.action.taskQueue === config.temporal.taskQueue) {
      await handle.delete();
    }
  } catch (err) {
    if (!(err instanceof ScheduleNotFoundError)) throw err;
  }
  await temporal.connection.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the worker process', () => {
  it('serves /metrics on 127.0.0.1 only when WORKER_METRICS_HOST is not set', async () => {
    const port = await getFreePort();
    const { WORKER_METRICS_HOST: _unset, ...inherited } = process.env;
    worker = spawnService('worker', process.execPath, ['--import', 'tsx', 'workers/main.ts'], {
      cwd: projectRoot,
      logDir: dir,
      env: {
        ...inherited,
        ...testSecrets,
        NODE_ENV: 'test',
        LOG_LEVEL: 'warn',
        TEMPORAL_ADDRESS: config.temporal.address,
        TEMPORAL_TASK_QUEUE: config.temporal.taskQueue,
        DATABASE_URL: config.databaseUrl,
        REDIS_URL: config.redisUrl,
        MEDIA_DIR: path.join(dir, 'media'),
        WORKER_METRICS_PORT: String(port),
      },
    });
    const child = worker.child;
    await waitFor(
      `the worker's /metrics on 127.0.0.1:${port}`,
      async () => {
        if (child.exitCode !== null) {
          throw new Error(`worker exited with ${child.exitCode}: ${readFileSync(worker!.logFile, 'utf8')}`);
        }
        const res = await fetch(`http://127.0.0.1:${port}/metrics`);
        return res.ok && (await res.text()).includes('process_cpu_seconds_total');
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    const sockets = listeningSocketsOf(child.pid!).filter((s) => s.port === port);
    expect(sockets.map((s) => s.address)).toEqual(['127.0.0.1']);
    expect(sockets.every((s) => isLoopback(s.address))).toBe(true);
  });
});

describe('serveMetrics', () => {
  it('listens where WORKER_METRICS_HOST says: 127.0.0.1 by default, 0.0.0.0 as compose sets it', async () => {
    for (const [host, expected] of [
      [config.workerMetricsHost, '127.0.0.1'],
      [testConfig({ WORKER_METRICS_HOST: '0.0.0.0' }).workerMetricsHost, '0.0.0.0'],
    ] as const) {
      const server = await serveMetrics(createMetrics(), { host, port: 0 });
      try {
        expect((server.address() as AddressInfo).address).toBe(expected);
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    }
  });

  it('serves the registry on /metrics and nothing else', async () => {
    const metrics = createMetrics();
    metrics.pmsCalls.inc({ origin: 'https://pms.example', operation: 'availability', outcome: 'success' });
    const server = await serveMetrics(metrics, { host: '127.0.0.1', port: 0 });
    try {
      const { port } = server.address() as AddressInfo;
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(metrics.registry.contentType);
      expect(await res.text()).toMatch(/pms_calls_total\{[^}]*operation="availability"[^}]*\} 1/);
      expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(404);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('rejects when the address cannot be had, rather than failing later in the background', async () => {
    const first = await serveMetrics(createMetrics(), { host: '127.0.0.1', port: 0 });
    try {
      const { port } = first.address() as AddressInfo;
      await expect(serveMetrics(createMetrics(), { host: '127.0.0.1', port })).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await new Promise((resolve) => first.close(resolve));
    }
  });
});
