import { ApplicationFailure } from '@temporalio/activity';
import { ErrorType } from '../lib/domain/errors';
import type { RecordInteractionsInput } from '../lib/domain/interactions';
import type { GuestRefs } from '../lib/guest-refs';
import { conversationRef, inboundRows, type InteractionLog } from '../lib/interactions';

/** The interaction log's activity; replies are logged by `sendMessage` itself (activities/whatsapp.ts). */
export function createInteractionActivities({
  interactions,
  guestRefs,
}: {
  interactions: InteractionLog;
  guestRefs: GuestRefs;
}) {
  return {
    /**
     * Appends the rows of the guest messages the conversation handled (or dropped as duplicates) to the interaction
     * log's outbox; the worker's flusher moves them to Postgres. The texts are hashed here and go no further.
     * Retried while Redis is down, within the caller's deadline; the conversation never waits for it.
     */
    async recordInteractions(input: RecordInteractionsInput): Promise<void> {
      const ref = conversationRef(guestRefs, input.phoneNumberId, input.waId);
      const rows = inboundRows(interactions, input.tenantId, ref, input.messages);
      try {
        await interactions.append(rows);
      } catch (err) {
        throw ApplicationFailure.retryable(
          `Redis did not take the interaction log's rows: ${err instanceof Error ? err.message : String(err)}`,
          ErrorType.InteractionLogUnavailable,
        );
      }
    },
  };
}
