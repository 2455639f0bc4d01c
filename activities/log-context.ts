import { defaultPayloadConverter, type Headers } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { logContextHeader, type LogContext } from '../lib/domain/log-context';
import { withLogContext, type LogFields } from '../lib/log-context';

function headerContext(headers: Headers): LogContext {
  const payload = headers[logContextHeader];
  if (!payload) return {};
  try {
    const value = defaultPayloadConverter.fromPayload<LogContext | null>(payload);
    return typeof value === 'object' && value !== null ? value : {};
  } catch {
    return {};
  }
}

function tenantOf(args: unknown[]): string | undefined {
  const tenantId = (args[0] as { tenantId?: unknown } | undefined)?.tenantId;
  return typeof tenantId === 'string' && tenantId !== '' ? tenantId : undefined;
}

/**
 * Every line logged while an activity runs carries its workflow id, run id, activity type, and the tenant and
 * message id the workflow sent in the log-context header (the tenant from the input when the header has none): our
 * pino lines through the logger's mixin, the SDK's activity lines (`Context.current().log`) through getLogAttributes.
 */
export function logContextInterceptor(): ActivityInterceptorsFactory {
  return (ctx) => {
    const { info } = ctx;
    // Before execute (the SDK's "Activity started" line) only what the activity's info says is known.
    let fields: LogFields = {
      workflowId: info.workflowExecution?.workflowId,
      runId: info.workflowExecution?.runId,
      activityType: info.activityType,
    };
    return {
      inbound: {
        execute(input, next) {
          const context = headerContext(input.headers);
          fields = {
            ...fields,
            tenantId: context.tenantId ?? tenantOf(input.args),
            messageId: context.messageId,
          };
          return withLogContext(fields, () => next(input));
        },
      },
      outbound: {
        getLogAttributes(input, next) {
          return next({ ...input, ...Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) });
        },
      },
    };
  };
}
