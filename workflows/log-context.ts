import { proxySinks, type WorkflowInterceptorsFactory } from '@temporalio/workflow';
import type { LogContext, LogContextSinks } from '../lib/domain/log-context';

/**
 * The workflow side of the log context (lib/domain/log-context.ts): what the workflow code last said it is handling.
 * Kept on `globalThis`, which the SDK gives each workflow execution of its own.
 */
const key = '__hmLogContext';
const { logContext } = proxySinks<LogContextSinks>();

/** The tenant and message the workflow last said it is handling. */
export function currentLogContext(): LogContext {
  return ((globalThis as Record<string, unknown>)[key] as LogContext | undefined) ?? {};
}

/**
 * Sets the tenant and/or the message being handled, for the log lines that follow: the workflow's own, and (through the
 * `logContext` sink, which records nothing in the history) those of the activities it schedules next.
 */
export function setLogContext(context: LogContext): void {
  const next = { ...currentLogContext(), ...context };
  (globalThis as Record<string, unknown>)[key] = next;
  logContext.set(next);
}

/**
 * Workflow interceptors (the worker's `workflowModules`, bundled with the workflows): every workflow log line gets the
 * context's `tenantId` and `messageId`. No command changes, so recorded histories replay unchanged.
 */
export const interceptors: WorkflowInterceptorsFactory = () => ({
  outbound: [
    {
      getLogAttributes(input, next) {
        return next({ ...currentLogContext(), ...input });
      },
    },
  ],
});
