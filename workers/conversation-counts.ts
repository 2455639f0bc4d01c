import type { Client } from '@temporalio/client';
import { conversationWorkflowType } from '../lib/domain/conversation';
import type { Logger } from '../lib/log';
import { conversationStatuses, type Metrics } from '../lib/metrics';

/**
 * Keeps `conversations{status}` current: every `intervalMs`, one visibility `count` per status of the running
 * conversation workflows on this worker's task queue. On a timer rather than at each scrape, so a scrape never waits
 * for (or loads) the visibility store; every worker replica reports the same figures (use `max` across them).
 * Returns the stop function.
 */
export function countConversations(
  { client, metrics, log, taskQueue }: { client: Client; metrics: Metrics; log: Logger; taskQueue: string },
  intervalMs: number,
): () => void {
  let failing = false;
  let running: Promise<void> | undefined;
  const refresh = async () => {
    try {
      for (const status of conversationStatuses) {
        const { count } = await client.workflow.count(
          `WorkflowType = '${conversationWorkflowType}' AND ExecutionStatus = 'Running' AND ` +
            `TaskQueue = '${taskQueue}' AND ConversationStatus = '${status}'`,
        );
        metrics.conversations.set({ status }, count);
      }
      failing = false;
    } catch (err) {
      // Once per outage: the gauge keeps its last values meanwhile.
      if (!failing) log.warn({ err }, 'conversation counts not refreshed (Temporal visibility)');
      failing = true;
    }
  };
  const tick = () => {
    running ??= refresh().finally(() => (running = undefined));
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
