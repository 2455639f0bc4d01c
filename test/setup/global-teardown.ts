import { readFileSync, rmSync } from 'node:fs';
import { postgresServer } from '../../dev/postgres';
import { redisServer } from '../../dev/redis';
import type { DevServer } from '../../temporal/dev-server';
import type { TestEnvironmentState } from '../helpers/env';

export default async function globalTeardown(): Promise<void> {
  const stateFile = process.env.HM_TEST_ENV;
  if (!stateFile) return;
  const state = JSON.parse(readFileSync(stateFile, 'utf8')) as TestEnvironmentState;
  const temporal = (globalThis as { __hmTemporal?: DevServer }).__hmTemporal;
  await Promise.allSettled([
    temporal?.stop(),
    postgresServer({ ...state.postgres, user: 'hotel', database: 'hotel', fast: true }).stop(),
    redisServer({ ...state.redis, persistent: false }).stop(),
  ]);
  rmSync(state.dir, { recursive: true, force: true });
}
