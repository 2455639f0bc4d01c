import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  log,
  patched,
  proxySinks,
  setCurrentDetails,
  TimeoutFailure,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { defaultReconcileWaitSeconds, type MessageRecord } from '../../lib/domain/conversation';
import { configFailureIn, ErrorType } from '../../lib/domain/errors';
import type { TemplateMessage } from '../../lib/domain/guest-templates';
import type { Interactive } from '../../lib/domain/interactive';
import type { InboundMessage } from '../../lib/domain/messages';
import { isReEngagementRefusal } from '../../lib/domain/service-window';
import type { ReplyMetricsSinks } from '../../lib/domain/log-context';
import { LastIntent } from '../../lib/domain/search-attributes';
import { defaultSendTimeoutSeconds, secondsDeadline, sendDeadline, sendReply } from './activity-options';
import { patches } from './patches';
import { lateReply, pace } from './service-window';
import type { ConversationMemory } from './state';

/** Tells the worker's metrics of a reconciled send (lib/domain/log-context.ts); nothing in the history. */
const { replyMetrics } = proxySinks<ReplyMetricsSinks>();

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
 * The send path of every message to the guest: the `sendMessage` activity with the conversation's next idempotency key
 * (`biz_opaque_callback_data`), bounded by the input's send timeout; the record gets Meta's id and status, or `failed`
 * with the reason when the guest cannot be reached. A send whose outcome is unknown (the request may have reached
 * Meta, or the worker died mid-send) is not retried blindly: the conversation waits up to the reconcile wait for a
 * status webhook carrying its key; one that arrives means Meta has the message, so it counts as sent; without one it
 * is sent again, with the same key.
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
  const idempotencyKey = memory.nextKey(workflowInfo().workflowId);
  const sendSeconds = input.sendTimeoutSeconds ?? defaultSendTimeoutSeconds;
  const deadline = Date.now() + sendSeconds * 1000;
  const args = {
    phoneNumberId: input.phoneNumberId,
    to: input.waId,
    text: record.text ?? '',
    ...(replyTo !== undefined ? { replyTo } : {}),
    ...(template ? { template } : interactive ? { interactive } : {}),
    tokenRef: tenant?.whatsappTokenRef ?? null,
    tenantId: tenant?.id ?? null,
    idempotencyKey,
  };
  for (let again = false; ; again = true) {
    try {
      // A send again gets what is left of the send timeout, so the whole stays bounded by it.
      const bound = again
        ? secondsDeadline(Math.max(1, Math.ceil((deadline - Date.now()) / 1000)))
        : sendDeadline(sendSeconds);
      const result = await sendReply.executeWithOptions(
        { ...bound, summary: again ? `${summary} (again: no status for ${idempotencyKey})` : summary },
        [args],
      );
      // A null id: Meta accepted the message (so it is sent, and never sent again) without saying its id.
      record.id = result.messageId ?? undefined;
      record.status = (result.messageId !== null ? memory.takeEarlyStatus(result.messageId) : undefined) ?? 'sent';
      return;
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      // WhatsApp says the window has closed (131047, as the send's answer): the template path, or a clear refusal.
      const cause = err.cause;
      if (
        !template &&
        cause instanceof ApplicationFailure &&
        isReEngagementRefusal(cause.details) &&
        patched(patches.serviceWindow)
      ) {
        memory.windowClosedByMeta = true;
        return send(memory, record, { ...(replyTo !== undefined ? { replyTo } : {}), summary });
      }
      // Asked only when a send's outcome is unknown, so only runs that reconcile carry the patch marker.
      if (outcomeUnknown(err) && Date.now() < deadline && patched(patches.reconcileSend)) {
        const waitMs = Math.min(
          (input.reconcileWaitSeconds ?? defaultReconcileWaitSeconds) * 1000,
          deadline - Date.now(),
        );
        setCurrentDetails(
          `Send outcome unknown: waiting ${Math.round(waitMs / 1000)} s for a status of ${idempotencyKey}`,
        );
        await condition(() => memory.statusForKey(idempotencyKey) !== undefined, waitMs);
        const status = memory.statusForKey(idempotencyKey);
        if (status) {
          log.info('Send reconciled by its status webhook: not sent again', { key: idempotencyKey });
          replyMetrics.reconciled();
          record.id = status.messageId;
          record.status = status.status;
          return;
        }
        if (Date.now() < deadline) continue;
      }
      recordFailure(memory, record, err, summary);
      return;
    }
  }
}

/**
 * Whether the send may have reached Meta: the request was written and its answer lost (`SendOutcomeUnknown`), or the
 * attempt outlived its start-to-close timeout (the worker died or hung mid-send).
 */
function outcomeUnknown(err: ActivityFailure): boolean {
  const cause = err.cause;
  if (cause instanceof ApplicationFailure) return cause.type === ErrorType.SendOutcomeUnknown;
  return cause instanceof TimeoutFailure && cause.timeoutType === 'START_TO_CLOSE';
}

/**
 * The guest cannot be reached: a refusal for good, a configuration failure past its bound, or no success within the
 * send timeout. Records it and goes on.
 */
function recordFailure(memory: ConversationMemory, record: MessageRecord, err: ActivityFailure, summary: string): void {
  const cause = err.cause;
  record.status = 'failed';
  if (cause instanceof ApplicationFailure && cause.nonRetryable) {
    record.error = `${cause.type ?? 'Error'}: ${cause.message}`;
  } else if (cause instanceof TimeoutFailure || cause instanceof ApplicationFailure) {
    // Out of time: the timeout itself, or the last retryable failure when no further attempt fitted.
    const seconds = memory.input.sendTimeoutSeconds ?? defaultSendTimeoutSeconds;
    record.error = `undeliverable: WhatsApp did not accept it within ${seconds} s (last: ${lastFailure(err)})`;
  } else {
    throw err;
  }
  memory.noteConfigFailure(configFailureIn(err));
  log.warn('Message to the guest could not be delivered', { summary, error: record.error });
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
