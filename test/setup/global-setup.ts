import { bundleWorkflowCode } from '@temporalio/worker';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startPostgres } from '../../dev/postgres';
import { startRedis } from '../../dev/redis';
import { migrate } from '../../lib/db/migrate';
import { createPool } from '../../lib/db/pool';
import { startTemporalDevServer } from '../../temporal/dev-server';
import type { TestEnvironmentState } from '../helpers/env';

/**
 * Starts the real servers the tests use, once per run: the Temporal dev server, a throwaway Postgres 15
 * cluster and a redis-server, each on a free port; and bundles the workflow code once.
 * Their addresses reach the test workers through a state file named in HM_TEST_ENV.
 */
export default async function globalSetup(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hotel-messaging-test-'));
  chmodSync(dir, 0o755); // the postgres user must be able to reach its data directory
  const [temporal, postgres, redis, bundle] = await Promise.all([
    startTemporalDevServer({ headless: true, logDir: dir }),
    startPostgres({ dataDir: path.join(dir, 'postgres'), fast: true }),
    startRedis({ dir: path.join(dir, 'redis') }),
    bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: quietLogger }),
  ]);
  const pool = createPool(postgres.url, { max: 1 });
  try {
    await migrate(pool);
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
