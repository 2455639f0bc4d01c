/**
 * What every log line of a conversation carries besides the workflow and run ids: the tenant and the guest's message
 * being handled. The workflow keeps it (workflows/log-context.ts), adds it to its own log lines and sends it to each
 * activity in this header; the activity side puts it on every line logged while the activity runs.
 */
export interface LogContext {
  tenantId?: string;
  messageId?: string;
}

/** The activity header carrying the workflow's {@link LogContext}. */
export const logContextHeader = 'hm-log-context';
