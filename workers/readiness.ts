import type { NativeConnection, Worker } from '@temporalio/worker';
import type { Pool } from 'pg';
import type { ReadinessReport } from '../lib/metrics-server';
import type { Redis } from '../lib/redis';

/** One dependency's state: `ok`, `timeout` (no answer within its own timeout) or `error` (it answered with a failure). */
export type CheckState = 'ok' | 'timeout' | 'error';

export interface Readiness extends ReadinessReport {
  ready: boolean;
  checks: {
    temporal: CheckState;
    postgres: CheckState;
    redis: CheckState;
    /** `polling` once the worker runs and its pollers have asked Temporal for tasks; `starting`, `stopping` before and after. */
    worker: 'polling' | 'starting' | 'stopping';
  };
}

export interface ReadinessDeps {
  connection: NativeConnection;
  db: Pool;
  redis: Redis;
  /** The worker, once created (it is created after the resources); `starting` until it runs. */
  worker: () => Worker | undefined;
  /** Each check's own timeout, in milliseconds. */
  timeoutMs: { temporal: number; postgres: number; redis: number };
}

async function check(timeoutMs: number, probe: () => Promise<unknown>): Promise<CheckState> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<CheckState>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    return await Promise.race([probe().then((): CheckState => 'ok'), timedOut]);
  } catch {
    return 'error';
  } finally {
    clearTimeout(timer);
  }
}

export type PollingState = Readiness['checks']['worker'];

/**
 * Whether the worker polls: state RUNNING, both pollers POLLING, and a workflow and an activity poll seen outstanding
 * at least once (the pollers have reached Temporal, not only been started). Call it repeatedly: the first poll is
 * remembered.
 */
export function workerPolling(getWorker: () => Worker | undefined): () => PollingState {
  let polled = false;
  return () => {
    const worker = getWorker();
    if (!worker) return 'starting';
    const state = worker.getState();
    if (state !== 'RUNNING') return state === 'INITIALIZED' ? 'starting' : 'stopping';
    const status = worker.getStatus();
    if (status.workflowPollerState !== 'POLLING' || status.activityPollerState !== 'POLLING') return 'stopping';
    polled ||= status.hasOutstandingWorkflowPoll && status.hasOutstandingActivityPoll;
    return polled ? 'polling' : 'starting';
  };
}

/**
 * The worker's readiness: Temporal (`GetSystemInfo`), Postgres (`SELECT 1`) and Redis (`PING`), each with its own
 * timeout and state, and whether the worker polls: state RUNNING, both pollers POLLING, and a workflow and an activity
 * poll seen outstanding at least once (see {@link workerPolling}).
 */
export function workerReadiness(deps: ReadinessDeps): () => Promise<Readiness> {
  const polling = workerPolling(deps.worker);
  return async () => {
    const { connection, db, redis, timeoutMs } = deps;
    const [temporal, postgres, redisState] = await Promise.all([
      check(timeoutMs.temporal, () =>
        connection.withDeadline(Date.now() + timeoutMs.temporal, () => connection.workflowService.getSystemInfo({})),
      ),
      check(timeoutMs.postgres, () => db.query('SELECT 1')),
      check(timeoutMs.redis, () => redis.ping()),
    ]);
    const worker = polling();
    const checks = { temporal, postgres, redis: redisState, worker };
    return {
      ready: temporal === 'ok' && postgres === 'ok' && redisState === 'ok' && worker === 'polling',
      checks,
    };
  };
}
