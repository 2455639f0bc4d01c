/** Blue ticks and "typing…": what the guest sees first when the bot is going to answer. */
import { isCancellation, log, patched, TemporalFailure } from '@temporalio/workflow';
import { isMediaMessageType } from '../../lib/domain/conversation';
import type { InboundMessage } from '../../lib/domain/messages';
import type { TenantProfile } from '../../lib/domain/tenants';
import { markRead } from './activity-options';
import { patches } from './patches';

/** Message types the bot answers (see `answer` in index.ts); the others get no read receipt from the bot. */
const answeredTypes = new Set(['text', 'button', 'interactive', 'location', 'contacts']);

/** Whether the bot will answer a message of this type (outside handoff). */
export function botAnswers(message: InboundMessage): boolean {
  return answeredTypes.has(message.type) || isMediaMessageType(message.type);
}

/**
 * Marks the guest's message read and shows the typing indicator, in one Graph call, before the message is understood.
 * Called only when the bot will answer: never in handoff, where staff decide. Best effort: a failure is logged and
 * the reply goes out anyway.
 */
export async function showReadAndTyping(message: InboundMessage, tenant: TenantProfile, phoneNumberId: string) {
  if (!botAnswers(message) || !patched(patches.readTyping)) return;
  try {
    await markRead.executeWithOptions({ summary: `read and typing ${message.id}` }, [
      { phoneNumberId, messageId: message.id, typing: true, tokenRef: tenant.whatsappTokenRef, tenantId: tenant.id },
    ]);
  } catch (err) {
    // A local activity's failure may arrive as its cause itself (an ApplicationFailure), not wrapped in an
    // ActivityFailure: any failure but a cancellation is logged and the reply goes on.
    if (!(err instanceof TemporalFailure) || isCancellation(err)) throw err;
    log.warn('Read receipt not sent', { messageId: message.id, error: err.cause?.message ?? err.message });
  }
}
