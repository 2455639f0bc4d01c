import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { withLogContext, type LogContexts, type LogFields } from '../lib/log-context';

function tenantOf(args: unknown[]): string | undefined {
  const tenantId = (args[0] as { tenantId?: unknown } | undefined)?.tenantId;
  return typeof tenantId === 'string' && tenantId !== '' ? tenantId : undefined;
}

/**
 * Every line logged while an activity runs carries its workflow id, run id, activity type, and the tenant and
 * message id its workflow last set (the `logContext` sink; the tenant from the input when there is none): our
 * pino lines through the logger's mixin, the SDK's activity lines (`Context.current().log`) through getLogAttributes.
 */
export function logContextInterceptor(contexts: LogContexts): ActivityInterceptorsFactory {
  return (ctx) => {
    const { info } = ctx;
    const run = info.workflowExecution;
    const context = (run && contexts.get(run.runId)) ?? {};
    let fields: LogFields = {
      workflowId: run?.workflowId,
      runId: run?.runId,
      activityType: info.activityType,
      tenantId: context.tenantId,
      messageId: context.messageId,
    };
    return {
      inbound: {
        execute(input, next) {
          fields = { ...fields, tenantId: fields.tenantId ?? tenantOf(input.args) };
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
