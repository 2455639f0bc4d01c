import { ScheduleNotFoundError, type Client } from '@temporalio/client';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { getFreePort, spawnService, waitFor, type Service } from '../../dev/process';
import { projectRoot } from '../../dev/paths';
import type { Config } from '../../lib/config';
import { mediaCleanupScheduleId } from '../../workers/schedules';
import { testEnv, testSecrets } from './env';

/**
 * The API and the worker as processes of their own (`tsx api/main.ts`, `tsx workers/main.ts`), as the start command
 * runs them: for what only a process shows (signals, its listening sockets, the SDK's Runtime, its log output).
 */

export interface ProcessService extends Service {
  /** The process's output so far. */
  output(): string;
  /** Its JSON log lines so far, parsed (other output skipped). */
  logLines(): Record<string, unknown>[];
  /** Throws with its output if it has exited. */
  assertRunning(): void;
  /** Resolves with the exit code once it exits. */
  exited: Promise<number | null>;
}

/** The environment of the API and the worker for `config` (the run's servers, its task queue), plus `extra`. */
export function processEnv(config: Config, dir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const { WORKER_METRICS_HOST: _w, API_METRICS_HOST: _a, ...inherited } = process.env;
  return {
    ...inherited,
    ...testSecrets,
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    TEMPORAL_ADDRESS: config.temporal.address,
    TEMPORAL_TASK_QUEUE: config.temporal.taskQueue,
    DATABASE_URL: config.databaseUrl,
    REDIS_URL: config.redisUrl,
    MEDIA_DIR: path.join(dir, 'media'),
    PMS_ALLOW_PRIVATE_NETWORKS: 'true',
    MEDIA_ALLOWED_HOSTS: '127.0.0.1',
    // The run's bundle: the worker does not bundle workflows/ at each start.
    WORKFLOW_BUNDLE_PATH: testEnv().workflowBundlePath,
    ...extra,
  };
}

/** Spawns `tsx <entry>` from the project with `env`, its output in `<dir>/logs/<name>.log`. */
export function spawnProcess(name: string, entry: string, env: NodeJS.ProcessEnv, dir: string): ProcessService {
  const service = spawnService(name, process.execPath, ['--import', 'tsx', entry], {
    cwd: projectRoot,
    logDir: path.join(dir, 'logs'),
    env,
  });
  const output = () => (existsSync(service.logFile) ? readFileSync(service.logFile, 'utf8') : '');
  const exited = new Promise<number | null>((resolve) => {
    if (service.child.exitCode !== null) resolve(service.child.exitCode);
    service.child.once('exit', (code) => resolve(code));
  });
  return {
    ...service,
    output,
    exited,
    logLines: () =>
      output()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .flatMap((line) => {
          try {
            return [JSON.parse(line) as Record<string, unknown>];
          } catch {
            return [];
          }
        }),
    assertRunning() {
      if (service.child.exitCode !== null || service.child.signalCode !== null) {
        throw new Error(`${name} exited (${service.child.exitCode ?? service.child.signalCode}): ${output()}`);
      }
    },
  };
}

/** Starts the worker process and waits until its /health/ready says it polls; returns it and its metrics port. */
export async function startWorkerProcess(
  config: Config,
  dir: string,
  extra: Record<string, string> = {},
  name = 'worker',
): Promise<{ worker: ProcessService; metricsUrl: string; readyUrl: string }> {
  const port = await getFreePort();
  const worker = spawnProcess(
    name,
    'workers/main.ts',
    processEnv(config, dir, { WORKER_METRICS_PORT: String(port), ...extra }),
    dir,
  );
  const readyUrl = `http://127.0.0.1:${port}/health/ready`;
  await waitFor(
    `${name} to poll`,
    async () => {
      worker.assertRunning();
      return (await fetch(readyUrl)).ok;
    },
    { timeoutMs: 60_000, intervalMs: 200 },
  );
  return { worker, metricsUrl: `http://127.0.0.1:${port}/metrics`, readyUrl };
}

/** A worker process creates the media cleanup schedule for its task queue; removes it when it is this test's. */
export async function removeCleanupSchedule(temporal: Client, config: Config): Promise<void> {
  try {
    const handle = temporal.schedule.getHandle(mediaCleanupScheduleId);
    const described = await handle.describe();
    if (described.action.type === 'startWorkflow' && described.action.taskQueue === config.temporal.taskQueue) {
      await handle.delete();
    }
  } catch (err) {
    if (!(err instanceof ScheduleNotFoundError)) throw err;
  }
}

/** Prometheus text to `name{labels}` → value; comments skipped. */
export function parseScrape(text: string): Map<string, number> {
  const series = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    const value = Number(line.slice(at + 1));
    if (at > 0 && Number.isFinite(value)) series.set(line.slice(0, at), value);
  }
  return series;
}

/** The sum of the series of `name` whose labels include every `label="value"` given. */
export function seriesSum(scrape: Map<string, number>, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const [key, value] of scrape) {
    const base = key.includes('{') ? key.slice(0, key.indexOf('{')) : key;
    if (base !== name) continue;
    if (Object.entries(labels).every(([k, v]) => key.includes(`${k}="${v}"`))) sum += value;
  }
  return sum;
}

/** The metric names a scrape declares (`# TYPE <name> <type>`). */
export function declaredMetrics(text: string): Set<string> {
  return new Set([...text.matchAll(/^# TYPE (\S+) \S+$/gm)].map((m) => m[1]!));
}

export async function scrapeText(url: string): Promise<string> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  return res.text();
}
