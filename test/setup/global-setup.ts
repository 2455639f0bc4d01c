import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startPostgres } from '../../dev/postgres';
import { startRedis } from '../../dev/redis';
import { migrate } from '../../lib/db/migrate';
import { createPool } from '../../lib/db/pool';
import { startTemporalDevServer } from '../../temporal/dev-server';
import { bundleWorkflows } from '../../workers/workflow-bundle';
import type { TestEnvironmentState } from '../helpers/env';

/**
 * Starts the real servers the tests use, once per run: the Temporal dev server, a throwaway Postgres 15
 * cluster and a redis-server, each on a free port; and bundles the workflow code once.
 * Their addresses reach the test workers through a state file named in HM_TEST_ENV.
 */
export default async function globalSetup(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hotel-messaging-test-'));
  chmodSync(dir, 0o755); // the postgres user must be able to reach its data directory
  const started = await Promise.allSettled([
    startTemporalDevServer({ headless: true, logDir: dir }),
    startPostgres({ dataDir: path.join(dir, 'postgres'), fast: true }),
    startRedis({ dir: path.join(dir, 'redis') }),
    // The same bundle options as the image's prebuilt bundle (npm run build).
    bundleWorkflows(quietLogger),
  ]);
  const [temporalResult, postgresResult, redisResult, bundleResult] = started;
  const stopStarted = async () => {
    await Promise.allSettled([
      temporalResult.status === 'fulfilled' ? temporalResult.value.stop() : undefined,
      postgresResult.status === 'fulfilled' ? postgresResult.value.destroy() : undefined,
      redisResult.status === 'fulfilled' ? redisResult.value.destroy() : undefined,
    ]);
    rmSync(dir, { recursive: true, force: true });
  };
  if (
    temporalResult.status === 'rejected' ||
    postgresResult.status === 'rejected' ||
    redisResult.status === 'rejected' ||
    bundleResult.status === 'rejected'
  ) {
    // Jest runs no teardown when the setup fails: stop what did start, then report every failure.
    await stopStarted();
    const reasons = started.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
    throw new Error(`Test setup failed:\n${reasons.join('\n')}`);
  }
  const [temporal, postgres, redis, bundle] = [
    temporalResult.value,
    postgresResult.value,
    redisResult.value,
    bundleResult.value,
  ];
  const pool = createPool(postgres.url, { max: 1 });
  try {
    await migrate(pool);
  } catch (err) {
    await stopStarted();
    throw err;
  } finally {
    await pool.end();
  }
  const bundlePath = path.join(dir, 'workflow-bundle.js');
  writeFileSync(bundlePath, bundle.code);
  const state: TestEnvironmentState = {
    dir,
    temporalAddress: temporal.address,
    temporalPid: temporal.service.child.pid ?? 0,
    postgres: { url: postgres.url, port: postgres.port, dataDir: postgres.dataDir },
    redis: { url: redis.url, port: redis.port, dir: redis.dir },
    workflowBundlePath: bundlePath,
  };
  const stateFile = path.join(dir, 'state.json');
  writeFileSync(stateFile, JSON.stringify(state, null, 2));
  process.env.HM_TEST_ENV = stateFile;
  // Kept for the teardown, which runs in this same process.
  (globalThis as { __hmTemporal?: typeof temporal }).__hmTemporal = temporal;
}

const quietLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
};
