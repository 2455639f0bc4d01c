import type { WorkflowInfo } from '@temporalio/workflow';
import type { InjectedSinks } from '@temporalio/worker';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { LogContext, LogContextSinks } from './domain/log-context';

/** Fields added to every log line written inside {@link withLogContext} (the logger's mixin reads them). */
export type LogFields = Record<string, string | undefined>;

const storage = new AsyncLocalStorage<LogFields>();

/** Runs `fn` so that every line any logger writes during it (and what it awaits) carries `fields`. */
export function withLogContext<T>(fields: LogFields, fn: () => T): T {
  return storage.run({ ...storage.getStore(), ...fields }, fn);
}

/** The fields of the context the caller runs in; empty outside any. */
export function logContextFields(): LogFields {
  const store = storage.getStore();
  if (!store) return {};
  return Object.fromEntries(Object.entries(store).filter(([, v]) => v !== undefined));
}

/**
 * The worker's record of each workflow run's {@link LogContext}, fed by the `logContext` sink and read by the activity
 * interceptor. Bounded (the oldest runs are forgotten first); an activity that runs on another worker than its
 * workflow's last task finds nothing here and names the tenant from its input only.
 */
export interface LogContexts {
  get(runId: string): LogContext | undefined;
  /** The sink to register with the worker (`sinks`). */
  sinks: InjectedSinks<LogContextSinks>;
}

export function createLogContexts(maxRuns = 10_000): LogContexts {
  const runs = new Map<string, LogContext>();
  return {
    get: (runId) => runs.get(runId),
    sinks: {
      logContext: {
        set: {
          fn(info: WorkflowInfo, context: LogContext) {
            runs.delete(info.runId);
            runs.set(info.runId, context);
            if (runs.size > maxRuns) runs.delete(runs.keys().next().value!);
          },
          // Rebuilt when a worker replays a run it did not have in its cache.
          callDuringReplay: true,
        },
      },
    },
  };
}
