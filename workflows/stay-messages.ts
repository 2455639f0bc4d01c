/**
 * A confirmed booking's pre-arrival and post-stay messages, on durable timers. A workflow of its own per booking
 * (id `stay-messages-<reference>`), started by the booking saga with parent close policy ABANDON: the conversation
 * continues as new and closes when idle, and the saga ends right after confirming, but these timers run for weeks.
 * Cancelling the booking signals it (`cancelStayMessages`), and the messages not yet sent are not sent.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  log,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { idempotencyKey } from '../lib/domain/messages';
import type { TemplatePurpose } from '../lib/domain/guest-templates';
import { lateSend } from '../lib/domain/service-window';
import { BookingReference, TenantId } from '../lib/domain/search-attributes';
import {
  cancelStayMessagesSignal,
  shortLocalTime,
  stayMessagesQuery,
  stayTimes,
  type StayMessagesInput,
  type StayMessagesState,
} from '../lib/domain/stay-messages';
import { resolveTenant, sendDeadline, sendMessage } from './conversation/activity-options';

export async function stayMessages(input: StayMessagesInput): Promise<StayMessagesState> {
  const state: StayMessagesState = {
    reference: input.reference,
    preArrival: { at: input.preArrivalAt, outcome: 'scheduled' },
    postStay: { at: input.postStayAt, outcome: 'scheduled' },
  };
  let cancelled = false;
  setHandler(cancelStayMessagesSignal, () => {
    cancelled = true;
  });
  setHandler(stayMessagesQuery, () => JSON.parse(JSON.stringify(state)) as StayMessagesState);
  upsertSearchAttributes([
    { key: TenantId, value: input.tenantId },
    { key: BookingReference, value: input.reference },
  ]);

  for (const [purpose, step] of [
    ['pre_arrival', state.preArrival],
    ['post_stay', state.postStay],
  ] as const) {
    const label = purpose === 'pre_arrival' ? 'pre-arrival message' : 'thank-you message';
    setCurrentDetails(`Booking ${input.reference}: ${label} on ${shortLocalTime(step.at, input.timezone)}`);
    const wait = step.at - Date.now();
    if (wait > 0) await condition(() => cancelled, wait);
    if (cancelled) break;
    Object.assign(step, await sendStayMessage(input, purpose));
  }
  if (cancelled) {
    for (const step of [state.preArrival, state.postStay]) if (step.outcome === 'scheduled') step.outcome = 'cancelled';
    setCurrentDetails(`Booking ${input.reference} cancelled: no more messages`);
  } else {
    setCurrentDetails(`Booking ${input.reference}: stay messages done`);
  }
  return state;
}

/**
 * Sends one stay message as the tenant's template (read fresh, so a template added since counts), in the guest's
 * language, with the stay's details and the hotel's address. Weeks after the guest last wrote, only a template can
 * reach them: without one it is not sent, and says why.
 */
async function sendStayMessage(
  input: StayMessagesInput,
  purpose: TemplatePurpose,
): Promise<{ outcome: 'sent' | 'not_sent'; reason?: string }> {
  const resolution = await resolveTenant.executeWithOptions({ summary: `tenant for ${purpose}` }, [
    { phoneNumberId: input.phoneNumberId, waId: input.waId },
  ]);
  if (resolution.kind !== 'resolved') return { outcome: 'not_sent', reason: `tenant ${resolution.kind}` };
  const tenant = resolution.tenant;
  const { checkInTime, checkOutTime } = stayTimes(tenant.info);
  const late = lateSend(tenant.messaging, purpose, input.language, {
    hotel: tenant.name,
    guestName: input.guestName,
    room: input.roomTypeName,
    reference: input.reference,
    checkInDate: input.checkIn,
    checkInTime,
    checkOutDate: input.checkOut,
    checkOutTime,
    address: tenant.info.address,
  });
  if (late.kind === 'refused') {
    log.warn('Stay message not sent: no template', { reference: input.reference, purpose });
    return { outcome: 'not_sent', reason: late.reason };
  }
  try {
    await sendMessage.executeWithOptions(
      { ...sendDeadline(input.sendTimeoutSeconds), summary: `${purpose} message for ${input.reference}` },
      [
        {
          phoneNumberId: input.phoneNumberId,
          to: input.waId,
          text: `[${purpose}] ${late.template.name}`,
          template: late.template,
          // Traceable in status webhooks, like the saga's messages (not reconciled: one message, retried as usual).
          idempotencyKey: idempotencyKey(workflowInfo().workflowId, purpose === 'pre_arrival' ? 1 : 2),
          tokenRef: tenant.whatsappTokenRef,
          tenantId: tenant.id,
        },
      ],
    );
    return { outcome: 'sent' };
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    const cause = err.cause;
    const reason = cause instanceof ApplicationFailure ? `${cause.type ?? 'Error'}: ${cause.message}` : String(cause);
    log.warn('Stay message could not be sent', { reference: input.reference, purpose, error: reason });
    return { outcome: 'not_sent', reason };
  }
}
