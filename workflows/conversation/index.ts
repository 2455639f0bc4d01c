/**
 * One guest's conversation with one business number: `wa:<phone_number_id>:<guest ref>`. This module holds the signal and
 * query handlers, the loop that answers queued messages in order, and continue-as-new; what it knows is in
 * {@link ConversationMemory} (`state.ts`), what operators can do to it is in `operators.ts`, and what it does about a
 * message is in the flows beside it.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  patched,
  setCurrentDetails,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import {
  defaultDedupWindowSeconds,
  deliveryStatusSignal,
  inboundMessageSignal,
  isMediaMessageType,
  stateQuery,
  type ConversationInput,
  type ConversationResult,
  type MessageRecord,
} from '../../lib/domain/conversation';
import { detectLanguage, type Language } from '../../lib/domain/language';
import type { InboundMessage } from '../../lib/domain/messages';
import { shortLocalTime } from '../../lib/domain/stay-messages';
import { receivedReply } from '../../lib/domain/templates';
import type { TenantProfile } from '../../lib/domain/tenants';
import { understandAndAct } from './dialogue';
import { dormantCarry, dormantRun, isDormant } from './dormant';
import { InteractionRecorder } from './interactions';
import { keepMediaForStaff, receiveMedia } from './media-flow';
import { handleOperators } from './operators';
import { patches } from './patches';
import { showReadAndTyping } from './read-receipts';
import { reply } from './replies';
import { ConversationMemory } from './state';
import { settleBookings, showStatus } from './status';
import { resolveConversationTenant } from './tenant';
import { currentLogContext, setLogContext } from '../log-context';
import { inMessageTrace } from '../tracing';

/**
 * One guest's conversation with one business number: `wa:<phone_number_id>:<guest ref>`. Messages arrive by signal
 * into a queue and are answered in order, each exactly once; while staff have the conversation (handoff) they are kept
 * for staff, not answered.
 */
export async function conversation(input: ConversationInput): Promise<ConversationResult> {
  if (isDormant(input)) return dormantRun(input, input.dormant, (next) => continueAsNew<typeof conversation>(next));
  const memory = new ConversationMemory(input);
  const interactions = new InteractionRecorder(memory);
  setHandler(inboundMessageSignal, (message) => {
    // Until a message is being handled, the lines (the run's first tenant resolution) are about this one.
    setLogContext({ messageId: currentLogContext().messageId ?? message.id });
    memory.accept(message);
  });
  setHandler(deliveryStatusSignal, (update) => memory.noteDeliveryStatus(update));
  setHandler(stateQuery, () => memory.snapshot());
  handleOperators(memory);
  showStatus(memory);

  // Once per run: at start, and again after continue-as-new (the tenant may have changed meanwhile).
  await resolveConversationTenant(memory);
  // Counts only for a message already waiting; after a quiet continue-as-new the next one re-resolves.
  memory.freshResolution = memory.pending.length > 0;

  for (;;) {
    setCurrentDetails(waitingDetails(memory));
    const wake = () => memory.hasWork() || closeDue(memory);
    // A running booking keeps the conversation open: it must hear the outcome (and a guest's "cancel").
    const woke = memory.activeBooking
      ? (await condition(wake), true)
      : await condition(wake, input.idleTimeoutSeconds * 1000);
    settleBookings(memory);
    if (closeDue(memory) || (!woke && memory.pending.length === 0)) break;
    while (memory.pending.length > 0) {
      const message = memory.pending.shift()!;
      // Closing: what still arrives is kept for the record, not answered.
      if (memory.closing) recordInbound(memory, message);
      else {
        const handling = interactions.begin(message);
        // In the trace of the webhook that delivered it (workflows/tracing.ts).
        await inMessageTrace(message.id, () => handle(memory, message));
        interactions.end(handling);
      }
      settleBookings(memory);
      // Checked after every message: a burst must not grow one run's history without bound. Not while a
      // booking runs: its parent must stay the same run to receive its result.
      if (continueAsNewDue(memory) && !memory.activeBooking && !memory.closing) {
        await condition(allHandlersFinished);
        await interactions.settle();
        return continueAsNew<typeof conversation>({ ...input, carryOver: memory.carryOver() });
      }
    }
  }

  memory.closed = true;
  showStatus(memory);
  const closedBy = memory.closing;
  setCurrentDetails(
    closedBy ? `Closed by operator ${closedBy.tokenId} (${closedBy.reason})` : 'Closed after the idle period',
  );
  // The `close` update answers once the run is closed; it must finish before the run does.
  await condition(allHandlersFinished);
  // Asked only at close, so only runs that close carry the marker (released histories complete here).
  if (patched(patches.dormantRun)) {
    // The `close` update's answer goes out in a workflow task of its own: a task that also continues as new is
    // refused by the server when a signal (a delivery status, say) arrives meanwhile, and the answer would be lost.
    if (closedBy) await sleep(1);
    await interactions.settle();
    const { carryOver: _carryOver, ...closedInput } = input;
    return continueAsNew<typeof conversation>({
      ...closedInput,
      dormant: dormantCarry(input, {
        seenIds: memory.seenIds(),
        replySeq: memory.replySeq,
        lastMessageAt: memory.lastMessageAt,
        // Taken in after the close was decided: they wake the conversation at once.
        pending: memory.pending,
        received: memory.received,
        duplicatesDropped: memory.duplicatesDropped,
        closedBy,
        windowSeconds: input.dedupWindowSeconds ?? defaultDedupWindowSeconds,
      }),
    });
  }
  return {
    status: 'closed',
    received: memory.received,
    duplicatesDropped: memory.duplicatesDropped,
    ...(closedBy ? { closedBy } : {}),
  };
}

/** An operator asked to close and no booking is running (a booking keeps the run until its outcome arrives). */
function closeDue(memory: ConversationMemory): boolean {
  return memory.closing !== undefined && !memory.activeBooking;
}

/** The next pre-arrival or post-stay message of a confirmed booking, for operators: "; pre-arrival message on …". */
function stayMessageDetails(memory: ConversationMemory): string {
  const booking = memory.booking;
  const timezone = memory.tenant?.timezone;
  if (booking?.status !== 'confirmed' || !timezone) return '';
  const now = Date.now();
  if (booking.preArrivalAt !== undefined && booking.preArrivalAt > now)
    return `; pre-arrival message on ${shortLocalTime(booking.preArrivalAt, timezone)}`;
  if (booking.postStayAt !== undefined && booking.postStayAt > now)
    return `; thank-you message on ${shortLocalTime(booking.postStayAt, timezone)}`;
  return '';
}

/** What operators see while the conversation waits. */
function waitingDetails(memory: ConversationMemory): string {
  if (memory.activeBooking) return `Booking ${memory.activeBooking.workflowId} in progress`;
  if (memory.handoff) return `Waiting for staff: handed off by the ${memory.handoff.by} (${memory.received} messages)`;
  return `Waiting for the guest (${memory.received} messages so far)${stayMessageDetails(memory)}`;
}

/**
 * The server suggests continuing as new (`continueAsNewSuggested`: its `limit.historyCount` and `limit.historySize`
 * thresholds, 4,096 events and 4 MB by default), or this run's history has reached the project's own bound, whatever
 * the cluster is configured to suggest.
 */
function continueAsNewDue(memory: ConversationMemory): boolean {
  const info = workflowInfo();
  if (info.continueAsNewSuggested) return true;
  const { events, bytes } = memory.historyBound;
  const reached = info.historyLength >= events || info.historySize >= bytes;
  // Asked only once the bound is reached, so only the runs that continue on it carry the patch marker.
  return reached && patched(patches.historyBound);
}

/** Keeps a guest's message in the last messages shown to operators. */
function recordInbound(memory: ConversationMemory, message: InboundMessage): MessageRecord {
  return memory.remember({
    direction: 'in',
    id: message.id,
    type: message.type,
    text: message.text,
    at: message.timestamp * 1000,
  });
}

/**
 * Answers one message by its type, once the conversation has a tenant to answer for. In handoff it is only kept for
 * staff (media downloaded), not answered.
 */
async function handle(memory: ConversationMemory, message: InboundMessage): Promise<void> {
  setLogContext({ messageId: message.id });
  const inbound = recordInbound(memory, message);
  // A tenant that was unknown, suspended or refused may have been fixed by an operator since; the
  // resolution made at the start of the run already counts for the first message.
  if ((memory.tenantState.kind !== 'resolved' || memory.tenantStale) && !memory.freshResolution) {
    await resolveConversationTenant(memory);
  }
  memory.freshResolution = false;
  const tenant = memory.tenant;
  if (tenant) setLogContext({ tenantId: tenant.id });
  if (!tenant) {
    log.info('No automated reply: no active tenant for this conversation', {
      messageId: message.id,
      tenant: memory.tenantState.kind,
    });
    setCurrentDetails(`Not answering: tenant ${memory.tenantState.kind}`);
    return;
  }
  if (message.text && message.type !== 'text') memory.language = detectLanguage(message.text) ?? memory.language;
  const lang: Language = memory.language ?? tenant.locale;
  if (memory.handoff) {
    setCurrentDetails(`Handoff: keeping ${message.type} message ${message.id} for staff`);
    if (isMediaMessageType(message.type)) await keepMediaForStaff(memory, message, message.type, inbound, tenant, lang);
    return;
  }
  setCurrentDetails(`Answering ${message.type} message ${message.id}`);
  await showReadAndTyping(message, tenant, memory.input.phoneNumberId);
  await answer(memory, message, inbound, tenant, lang);
}

async function answer(
  memory: ConversationMemory,
  message: InboundMessage,
  inbound: MessageRecord,
  tenant: TenantProfile,
  lang: Language,
): Promise<void> {
  const type = message.type;
  if (isMediaMessageType(type)) return receiveMedia(memory, message, type, inbound, tenant, lang);
  switch (type) {
    case 'text':
    case 'button':
    case 'interactive':
      return understandAndAct(memory, message, message.text, tenant, lang);
    case 'location':
      return reply(memory, message, receivedReply(lang, 'location'), 'location');
    case 'contacts':
      return reply(memory, message, receivedReply(lang, 'contacts'), 'contacts');
    default:
      // Reactions, system notices and types WhatsApp itself does not support get no automated reply.
      log.info('No reply for this message type', { messageId: message.id, type });
  }
}
