import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { postgresServer, type PostgresServer } from '../../dev/postgres';
import { redisServer, type RedisServer } from '../../dev/redis';
import { payloadDataConverter } from '../../lib/codec';
import { loadConfig, type Config } from '../../lib/config';
import type { Pool } from 'pg';
import type { TenantCache } from '../../lib/tenant-directory';
import { createSecretResolver } from '../../lib/secrets';
import type { Tracing } from '../../lib/tracing';
import { createLogger, type Logger } from '../../lib/log';
import type { Metrics } from '../../lib/metrics';
import { createConversationWorker } from '../../workers/worker';

export interface TestEnvironmentState {
  dir: string;
  temporalAddress: string;
  temporalPid: number;
  postgres: { url: string; port: number; dataDir: string };
  redis: { url: string; port: number; dir: string };
  workflowBundlePath: string;
}

/** The servers the jest global setup started for this run. */
export function testEnv(): TestEnvironmentState {
  const file = process.env.HM_TEST_ENV;
  if (!file)
    throw new Error('HM_TEST_ENV is not set: run the tests through jest (the global setup starts the servers)');
  return JSON.parse(readFileSync(file, 'utf8')) as TestEnvironmentState;
}

/** Stops and restarts the run's Postgres, for outage tests. */
export function testPostgres(): PostgresServer {
  const { postgres } = testEnv();
  return postgresServer({ ...postgres, user: 'hotel', database: 'hotel', fast: true });
}

/** Stops and restarts the run's Redis, for outage tests. */
export function testRedis(): RedisServer {
  const { redis } = testEnv();
  return redisServer({ ...redis, persistent: false });
}

export const testSecrets = {
  WHATSAPP_APP_SECRET: 'test-app-secret-0123456789',
  WHATSAPP_VERIFY_TOKEN: 'test-verify-token',
  WHATSAPP_ACCESS_TOKEN: 'test-access-token-abcdef',
  GUEST_REF_KEY: 'test-guest-reference-key-0123456789abcdef',
  PAYLOAD_KEYS: 'test-1:eePvX0inWwKQGekqagTpCE0/ZIqPGlaOfKhm3XvWnjk=',
};

/** A config for this run's servers, with a task queue of its own so test files do not steal each other's tasks. */
export function testConfig(overrides: Record<string, string> = {}): Config {
  const env = testEnv();
  return loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    TEMPORAL_ADDRESS: env.temporalAddress,
    // Letters only: a run of digits in a UUID can look like a phone number, which the logs then mask.
    TEMPORAL_TASK_QUEUE: `test-${randomBytes(12)
      .toString('hex')
      .replace(/\d/g, (d) => 'ghijklmnop'[Number(d)]!)}`,
    DATABASE_URL: env.postgres.url,
    REDIS_URL: env.redis.url,
    MEDIA_DIR: `${env.dir}/media`,
    // The stand-ins listen on 127.0.0.1; the network policy tests turn this off.
    PMS_ALLOW_PRIVATE_NETWORKS: 'true',
    TRANSCRIPTION_ALLOW_PRIVATE_NETWORKS: 'true',
    // Media is served by the stand-in, not by Meta's hosts.
    MEDIA_ALLOWED_HOSTS: '127.0.0.1',
    ...testSecrets,
    ...overrides,
  });
}

/** A logger whose lines a test can read back (to check redaction, say). */
export function captureLogger(): { log: Logger; lines: () => string[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString('utf8'));
      cb();
    },
  });
  return { log: createLogger({ level: 'debug' }, stream), lines: () => chunks.join('').split('\n').filter(Boolean) };
}

let runtimeInstalled = false;
function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({ logger: new DefaultLogger('WARN') });
}

export async function temporalClient(config: Config, tracing?: Tracing): Promise<Client> {
  const connection = await Connection.connect({ address: config.temporal.address });
  return new Client({
    connection,
    namespace: config.temporal.namespace,
    dataConverter: payloadDataConverter(config.payloadKeys),
    ...(tracing ? { interceptors: { workflow: tracing.clientInterceptors } } : {}),
  });
}

export interface RunningWorker {
  worker: Worker;
  tenants: TenantCache;
  /** The worker's own Postgres pool. */
  db: Pool;
  /** Stops the worker, waits for it to finish and closes what it opened; a second call waits for the first. */
  stop(): Promise<void>;
}

/** Runs the real conversation worker (real activities, the run's workflow bundle) until `stop()`. */
export async function startWorker(
  config: Config,
  options: {
    secrets?: Record<string, string>;
    log?: Logger;
    metrics?: Metrics;
    applicationName?: string;
    tracing?: Tracing;
  } = {},
): Promise<RunningWorker> {
  quietRuntime();
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const { worker, tenants, db, close } = await createConversationWorker({
    config,
    log: options.log ?? createLogger({ level: 'silent' }),
    connection,
    secrets: createSecretResolver(options.secrets ?? {}),
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(options.applicationName ? { applicationName: options.applicationName } : {}),
    ...(options.tracing ? { tracing: options.tracing } : {}),
    workflowBundle: { codePath: testEnv().workflowBundlePath },
  });
  const running = worker.run();
  let stopped: Promise<void> | undefined;
  return {
    worker,
    tenants,
    db,
    stop() {
      stopped ??= (async () => {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await running;
        await close();
        await connection.close();
      })();
      return stopped;
    },
  };
}
