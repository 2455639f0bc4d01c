import type { Sink, Sinks } from '@temporalio/workflow';

/**
 * What every log line of a conversation carries besides the workflow and run ids: the tenant and the guest's message
 * being handled. The workflow keeps it (workflows/log-context.ts) and adds it to its own log lines; it hands each change
 * to the worker through the `logContext` sink, and the worker puts it on the lines its activities log for that run.
 * Not in an activity header: headers are stored in clear, and every payload Temporal stores is encrypted.
 */
export interface LogContext {
  tenantId?: string;
  messageId?: string;
}

/** The sink through which a workflow tells its worker its current {@link LogContext}. */
export interface LogContextSinks extends Sinks {
  logContext: Sink & { set(context: LogContext): void };
}

/**
 * What a conversation tells its worker's metrics that no activity attempt shows: a send whose outcome was unknown,
 * settled by its status webhook and not sent again (`whatsapp_replies_total{result="reconciled"}`). A sink records
 * nothing in the history, so it changes no workflow command.
 */
export interface ReplyMetricsSinks extends Sinks {
  replyMetrics: Sink & { reconciled(): void };
}
