import { defaultPayloadConverter } from '@temporalio/common';
import type { WorkflowInterceptorsFactory } from '@temporalio/workflow';
import { logContextHeader, type LogContext } from '../lib/domain/log-context';

/**
 * The workflow side of the log context (lib/domain/log-context.ts): what the workflow code last said it is handling.
 * Kept on `globalThis`, which the SDK gives each workflow execution of its own.
 */
const key = '__hmLogContext';

/** The tenant and message the workflow last said it is handling. */
export function currentLogContext(): LogContext {
  return ((globalThis as Record<string, unknown>)[key] as LogContext | undefined) ?? {};
}

/** Sets the tenant and/or the message being handled, for the log lines that follow (workflow and activities). */
export function setLogContext(context: LogContext): void {
  (globalThis as Record<string, unknown>)[key] = { ...currentLogContext(), ...context };
}

/**
 * Workflow interceptors (the worker's `workflowModules`, bundled with the workflows): every workflow log line gets the
 * context's `tenantId` and `messageId`, and every activity gets them in a header. Neither changes a command, so
 * recorded histories replay unchanged.
 */
export const interceptors: WorkflowInterceptorsFactory = () => ({
  outbound: [
    {
      getLogAttributes(input, next) {
        return next({ ...currentLogContext(), ...input });
      },
      scheduleActivity(input, next) {
        return next({
          ...input,
          headers: { ...input.headers, [logContextHeader]: defaultPayloadConverter.toPayload(currentLogContext()) },
        });
      },
      scheduleLocalActivity(input, next) {
        return next({
          ...input,
          headers: { ...input.headers, [logContextHeader]: defaultPayloadConverter.toPayload(currentLogContext()) },
        });
      },
    },
  ],
});
