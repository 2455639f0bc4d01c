import {
  ActivityFailure,
  ApplicationFailure,
  log,
  patched,
  TimeoutFailure,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { MessageRecord } from '../../lib/domain/conversation';
import { configFailureIn } from '../../lib/domain/errors';
import type { Interactive } from '../../lib/domain/interactive';
import type { TemplateMessage } from '../../lib/domain/guest-templates';
import type { InboundMessage } from '../../lib/domain/messages';
import { isReEngagementRefusal } from '../../lib/domain/service-window';
import { LastIntent } from '../../lib/domain/search-attributes';
import { defaultSendTimeoutSeconds, sendDeadline, sendMessage } from './activity-options';
import { patches } from './patches';
import { lateReply, pace } from './service-window';
import type { ConversationMemory } from './state';

/**
 * Sends one reply to the guest's message and records it for operators (`LastIntent`, the last messages with their
 * delivery status). A reply that cannot be delivered is recorded as failed, with the reason, and the conversation
 * goes on.
 */
export async function reply(
  memory: ConversationMemory,
  message: InboundMessage,
  text: string,
  intent: string,
  interactive?: Interactive,
) {
  const record = outbound(text);
  // Sent as a list or buttons (already fitted to Meta's limits); `text`, the numbered-text version, is the record.
  if (interactive) record.type = 'interactive';
  memory.remember(record);
  upsertSearchAttributes([{ key: LastIntent, value: intent }]);
  await send(memory, record, {
    replyTo: message.id,
    summary: `reply (${intent}) to ${message.id}`,
    ...(interactive ? { interactive } : {}),
  });
}

/**
 * Sends a text an operator wrote (`operatorReply`) through the same send path as the bot's replies, recorded with
 * the operator's token id. Answers the record as it stands once the send is over: sent with its id, or failed and why.
 */
export async function staffReply(memory: ConversationMemory, text: string, tokenId: string): Promise<MessageRecord> {
  const record: MessageRecord = { ...outbound(text), operator: tokenId };
  memory.remember(record);
  await send(memory, record, { summary: `staff reply by operator ${tokenId}` });
  return { ...record };
}

/** A text to the guest, as recorded before it is sent. */
function outbound(text: string): MessageRecord {
  return { direction: 'out', id: undefined, type: 'text', text, at: Date.now(), status: 'pending' };
}

/**
 * The send path of every message to the guest: the `sendMessage` activity, bounded by the input's send timeout; the
 * record gets Meta's id and status, or `failed` with the reason when the guest cannot be reached.
 */
async function send(
  memory: ConversationMemory,
  record: MessageRecord,
  { replyTo, summary, interactive }: { replyTo?: string; summary: string; interactive?: Interactive },
): Promise<void> {
  const { input, tenant } = memory;
  // Past the guest's 24 h window only a template reaches them: the tenant's, or none, and staff are told.
  const late = lateReply(memory, record.text ?? '');
  if (late?.kind === 'refused') return refuseLate(memory, record, late.reason);
  const template: TemplateMessage | undefined = late?.template;
  if (template) record.type = 'template';
  await pace(memory);
  try {
    const result = await sendMessage.executeWithOptions({ ...sendDeadline(input.sendTimeoutSeconds), summary }, [
      {
        phoneNumberId: input.phoneNumberId,
        to: input.waId,
        text: record.text ?? '',
        ...(replyTo !== undefined ? { replyTo } : {}),
        ...(template ? { template } : interactive ? { interactive } : {}),
        tokenRef: tenant?.whatsappTokenRef ?? null,
        tenantId: tenant?.id ?? null,
      },
    ]);
    // A null id: Meta accepted the message (so it is sent, and never sent again) without saying its id.
    record.id = result.messageId ?? undefined;
    record.status = (result.messageId !== null ? memory.takeEarlyStatus(result.messageId) : undefined) ?? 'sent';
  } catch (err) {
    // The guest cannot be reached: a refusal for good, a configuration failure past its bound, or no success within
    // the send timeout. Record it and go on.
    if (!(err instanceof ActivityFailure)) throw err;
    const cause = err.cause;
    // WhatsApp says the window has closed (131047, as the send's answer): the template path, or a clear refusal.
    if (
      !template &&
      cause instanceof ApplicationFailure &&
      isReEngagementRefusal(cause.details) &&
      patched(patches.serviceWindow)
    ) {
      memory.windowClosedByMeta = true;
      return send(memory, record, { ...(replyTo !== undefined ? { replyTo } : {}), summary });
    }
    record.status = 'failed';
    if (cause instanceof ApplicationFailure && cause.nonRetryable) {
      record.error = `${cause.type ?? 'Error'}: ${cause.message}`;
    } else if (cause instanceof TimeoutFailure || cause instanceof ApplicationFailure) {
      // Out of time: the timeout itself, or the last retryable failure when no further attempt fitted.
      const seconds = input.sendTimeoutSeconds ?? defaultSendTimeoutSeconds;
      record.error = `undeliverable: WhatsApp did not accept it within ${seconds} s (last: ${lastFailure(err)})`;
    } else {
      throw err;
    }
    memory.noteConfigFailure(configFailureIn(err));
    log.warn('Message to the guest could not be delivered', { summary, error: record.error });
  }
}

/** The type and message of the failure that ended an activity's attempts, for the record. */
function lastFailure(err: ActivityFailure): string {
  let cause: unknown = err.cause;
  // A timeout carries the last attempt's failure as its cause.
  if (cause instanceof TimeoutFailure && cause.cause) cause = cause.cause;
  if (cause instanceof ApplicationFailure) return `${cause.type ?? 'Error'}: ${cause.message}`;
  return cause instanceof Error ? cause.message : 'timeout';
}

/** A free-form message past the window with no template to send instead: refused, recorded, staff told. */
function refuseLate(memory: ConversationMemory, record: MessageRecord, reason: string): void {
  record.status = 'failed';
  record.error = reason;
  memory.staffRequested = true;
  log.warn('Message to the guest refused: their 24 h window has closed and there is no template');
}
