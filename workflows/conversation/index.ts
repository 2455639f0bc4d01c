import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  setCurrentDetails,
  getExternalWorkflowHandle,
  ParentClosePolicy,
  setHandler,
  startChild,
  TimeoutFailure,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
// contract: repoint to lib/domain/pms (restructure-io) at the merge.
import type { AvailabilityResult } from '../../activities/pms';
// contract: repoint to lib/domain/media (restructure-io) at the merge.
import type { DownloadMediaResult } from '../../activities/media';
import type { BookingOutcome } from '../../lib/domain/booking';
import { cancelBookingSignal } from '../../lib/domain/booking';
import {
  defaultBookingSettings,
  deliveryStatusSignal,
  inboundMessageSignal,
  stateQuery,
  type BookingSummary,
  type ConfigFailureRecord,
  type ConversationCarryOver,
  type ConversationInput,
  type ConversationResult,
  type ConversationStatusName,
  type MessageRecord,
  type Offer,
  type TenantState,
} from '../../lib/domain/conversation';
import { configFailureIn, ErrorType } from '../../lib/domain/errors';
import { detectLanguage, type Language } from '../../lib/domain/language';
import type { InboundMessage } from '../../lib/domain/messages';
import type { InfoTopic, StayRequest, Understanding } from '../../lib/domain/intents';
import { clarifyingQuestion } from '../../lib/domain/nlu-questions';
import { BookingReference, ConversationStatus, LastIntent, TenantId } from '../../lib/domain/search-attributes';
import {
  acknowledgementWithHelp,
  bookingText,
  infoAnswer,
  mediaReply,
  receivedReply,
  staffReply,
} from '../../lib/domain/templates';
import { staffAvailability, type TenantProfile } from '../../lib/domain/tenants';
import { booking } from '../booking';
import {
  cancelConfirmedBooking,
  checkAvailability,
  defaultSendTimeoutSeconds,
  downloadMedia,
  resolveTenant,
  sendDeadline,
  sendMessage,
  transcribeAudio,
  understand,
} from './activity-options';

const lastMessagesMax = 20;
/**
 * Texts kept for display (`lastMessages`) cross continue-as-new cut to this many characters, so the carry-over stays
 * far below Temporal's 2 MB payload limit. Queued messages are carried whole: they have yet to be understood.
 */
const carriedTextMax = 500;

function cut(text: string): string {
  return text.length > carriedTextMax ? `${text.slice(0, carriedTextMax - 1)}…` : text;
}

/** A message record as carried across continue-as-new: its text and error cut to {@link carriedTextMax}. */
function forCarryOver(record: MessageRecord): MessageRecord {
  return {
    ...record,
    ...(record.text !== undefined ? { text: cut(record.text) } : {}),
    ...(record.error !== undefined ? { error: cut(record.error) } : {}),
  };
}

/**
 * One guest's conversation with one business number: `wa:<phone_number_id>:<wa_id>`.
 * Messages arrive by signal into a queue and are answered in order, each exactly once.
 */
export async function conversation(input: ConversationInput): Promise<ConversationResult> {
  const carry = input.carryOver;
  const seenIds: string[] = [...(carry?.seenIds ?? [])];
  const seen = new Set(seenIds);
  const pending: InboundMessage[] = [...(carry?.pending ?? [])];
  const lastMessages: MessageRecord[] = [...(carry?.lastMessages ?? [])];
  let language: Language | undefined = carry?.language;
  let staffRequested = carry?.staffRequested ?? false;
  let tenant: TenantProfile | undefined;
  let tenantState: TenantState = { kind: 'pending' };
  let offer: Offer | undefined = carry?.offer;
  let bookingSummary: BookingSummary | undefined = carry?.booking;
  let configFailure: ConfigFailureRecord | undefined = carry?.configFailure;
  /** A configuration failure happened: the tenant's settings may have been fixed since, so read them again. */
  let tenantStale = false;
  const settings = input.booking ?? defaultBookingSettings;
  const sendTimeoutSeconds = input.sendTimeoutSeconds ?? defaultSendTimeoutSeconds;
  /** The running booking saga, if any; its outcome arrives in `bookingOutcomes`. */
  let activeBooking: { workflowId: string } | undefined;
  const bookingOutcomes: BookingOutcome[] = [];
  let received = carry?.received ?? 0;
  let duplicatesDropped = carry?.duplicatesDropped ?? 0;
  let status: ConversationStatusName = 'active';

  function remember(record: MessageRecord): MessageRecord {
    lastMessages.push(record);
    if (lastMessages.length > lastMessagesMax) lastMessages.splice(0, lastMessages.length - lastMessagesMax);
    return record;
  }

  setHandler(inboundMessageSignal, (message) => {
    if (seen.has(message.id)) {
      duplicatesDropped++;
      log.info('Dropped a duplicate delivery', { messageId: message.id });
      return;
    }
    seen.add(message.id);
    seenIds.push(message.id);
    if (seenIds.length > input.seenIdsMax) {
      for (const old of seenIds.splice(0, seenIds.length - input.seenIdsMax)) seen.delete(old);
    }
    received++;
    pending.push(message);
  });

  /** Statuses that arrived before the send activity's result did (Meta can be faster than our worker). */
  const earlyStatuses = new Map<string, string>();
  setHandler(deliveryStatusSignal, (update) => {
    const record = lastMessages.find((m) => m.direction === 'out' && m.id === update.messageId);
    if (record) {
      record.status = update.status;
      return;
    }
    earlyStatuses.set(update.messageId, update.status);
    if (earlyStatuses.size > 50) earlyStatuses.delete(earlyStatuses.keys().next().value!);
  });

  setHandler(stateQuery, () => ({
    status,
    offer,
    booking: bookingSummary ? { ...bookingSummary } : undefined,
    phoneNumberId: input.phoneNumberId,
    tenant: tenantState,
    language: language ?? tenant?.locale ?? 'es',
    staffRequested,
    configFailure: configFailure ? { ...configFailure } : undefined,
    received,
    duplicatesDropped,
    pending: pending.length,
    lastMessages: lastMessages.map((m) => ({ ...m })),
  }));

  upsertSearchAttributes([{ key: ConversationStatus, value: status }]);

  /**
   * A configuration failure ran its course: record it for operators, flag staff (a person has to fix the settings or
   * answer the guest), and read the tenant again before the next message, so a fixed reference takes effect.
   */
  function noteConfigFailure(failure: { kind: string; message: string }): void {
    configFailure = { kind: failure.kind, message: cut(failure.message), at: Date.now() };
    staffRequested = true;
    tenantStale = true;
    log.warn('Configuration failure recorded; staff flagged', { kind: failure.kind });
  }

  /** Resolves the tenant; a refusal for isolation is recorded, never retried, never revealed. */
  async function resolve(): Promise<void> {
    tenantStale = false;
    setCurrentDetails('Resolving the hotel of this conversation');
    try {
      const resolution = await resolveTenant.executeWithOptions(
        { summary: `tenant of number ${input.phoneNumberId}` },
        [{ phoneNumberId: input.phoneNumberId, waId: input.waId }],
      );
      if (resolution.kind === 'resolved') {
        tenant = resolution.tenant;
        tenantState = { kind: 'resolved', tenantId: tenant.id, name: tenant.name };
        upsertSearchAttributes([{ key: TenantId, value: tenant.id }]);
      } else {
        tenant = undefined;
        tenantState = resolution;
      }
    } catch (err) {
      if (
        err instanceof ActivityFailure &&
        err.cause instanceof ApplicationFailure &&
        err.cause.type === ErrorType.TenantIsolationError
      ) {
        tenant = undefined;
        tenantState = { kind: 'refused', reason: 'isolation' };
        return;
      }
      throw err;
    }
  }

  async function reply(message: InboundMessage, text: string, intent: string): Promise<void> {
    const record: MessageRecord = {
      direction: 'out',
      id: undefined,
      type: 'text',
      text,
      at: Date.now(),
      status: 'pending',
    };
    remember(record);
    upsertSearchAttributes([{ key: LastIntent, value: intent }]);
    try {
      const result = await sendMessage.executeWithOptions(
        { ...sendDeadline(input.sendTimeoutSeconds), summary: `reply (${intent}) to ${message.id}` },
        [
          {
            phoneNumberId: input.phoneNumberId,
            to: input.waId,
            text,
            replyTo: message.id,
            tokenRef: tenant?.whatsappTokenRef ?? null,
            tenantId: tenant?.id ?? null,
          },
        ],
      );
      // A null id: Meta accepted the message (so it is sent, and never sent again) without saying its id.
      record.id = result.messageId ?? undefined;
      record.status = (result.messageId !== null ? earlyStatuses.get(result.messageId) : undefined) ?? 'sent';
      if (result.messageId !== null) earlyStatuses.delete(result.messageId);
    } catch (err) {
      // The guest cannot be reached: a refusal for good, a configuration failure past its bound, or no success within
      // the send timeout. Record it and go on.
      if (!(err instanceof ActivityFailure)) throw err;
      const cause = err.cause;
      record.status = 'failed';
      if (cause instanceof ApplicationFailure && cause.nonRetryable) {
        record.error = `${cause.type ?? 'Error'}: ${cause.message}`;
      } else if (cause instanceof TimeoutFailure || cause instanceof ApplicationFailure) {
        // Out of time: the timeout itself, or the last retryable failure when no further attempt fitted.
        record.error = `undeliverable: WhatsApp did not accept it within ${sendTimeoutSeconds} s (last: ${lastFailure(err)})`;
      } else {
        throw err;
      }
      const config = configFailureIn(err);
      if (config) noteConfigFailure(config);
      log.warn('Reply could not be delivered', { messageId: message.id, error: record.error });
      return;
    }
  }

  /** What the conversation does about one understood message. */
  async function act(message: InboundMessage, u: Understanding, hotel: TenantProfile): Promise<void> {
    const lang = u.language;
    const t = bookingText(lang);
    switch (u.intent) {
      case 'human': {
        staffRequested = true;
        const availability = staffAvailability(hotel.businessHours, hotel.timezone, Date.now());
        return reply(message, staffReply(lang, hotel.name, availability), 'human');
      }
      case 'hotel_info': {
        const topic = u.infoTopic ?? 'general';
        const value = infoFor(hotel, topic);
        return reply(message, value ? infoAnswer(lang, topic, value) : t.infoUnknown(), 'hotel_info');
      }
      case 'availability':
        return showAvailability(message, u, hotel);
      case 'book': {
        if (u.choice === undefined) {
          if (u.stay?.checkIn || u.problem) return showAvailability(message, u, hotel);
          if (offer?.rooms.length === 1) return startBooking(message, 1, hotel, lang);
          return reply(message, offer ? t.badChoice(offer.rooms.length) : t.chooseFirst(), 'book');
        }
        return startBooking(message, u.choice, hotel, lang);
      }
      case 'cancel_booking':
        return cancelBooking(message, hotel, lang);
      default:
        return reply(
          message,
          acknowledgementWithHelp(lang, message.profileName),
          u.intent === 'unknown' ? 'help' : u.intent,
        );
    }
  }

  async function showAvailability(message: InboundMessage, u: Understanding, hotel: TenantProfile): Promise<void> {
    const t = bookingText(u.language);
    if (u.problem)
      return reply(message, clarifyingQuestion(u.problem, u.language, settings.maxStayNights), 'availability');
    const stay: StayRequest | undefined = u.stay;
    if (!stay?.checkIn || !stay.checkOut) return reply(message, t.chooseFirst(), 'availability');
    const query = {
      tenantId: hotel.id,
      checkIn: stay.checkIn,
      checkOut: stay.checkOut,
      adults: stay.adults ?? 2,
      ...(stay.children !== undefined ? { children: stay.children } : {}),
    };
    let result: AvailabilityResult;
    try {
      result = await checkAvailability.executeWithOptions(
        { summary: `availability ${stay.checkIn}..${stay.checkOut}` },
        [query],
      );
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      log.warn('Availability could not be checked', { error: err.cause?.message });
      const config = configFailureIn(err);
      if (config) noteConfigFailure(config);
      return reply(message, t.availabilityDown(), 'availability');
    }
    const rooms = result.rooms.filter((r) => r.roomIds.length > 0);
    if (rooms.length === 0) {
      offer = undefined;
      return reply(message, t.noRooms(stay.checkIn, stay.checkOut), 'availability');
    }
    offer = { ...query, rooms, provisional: result.provisional };
    const lines = rooms.map((r, i) =>
      t.offerLine(
        i + 1,
        r.roomTypeName,
        r.roomIds.length,
        r.pricePerNight !== undefined ? `${r.pricePerNight} ${r.currency ?? ''}`.trim() : undefined,
      ),
    );
    return reply(message, t.offer(stay.checkIn, stay.checkOut, lines, result.provisional), 'availability');
  }

  async function startBooking(
    message: InboundMessage,
    choice: number,
    hotel: TenantProfile,
    lang: Language,
  ): Promise<void> {
    const t = bookingText(lang);
    settleBookings();
    if (!offer) return reply(message, t.chooseFirst(), 'book');
    if (activeBooking) return reply(message, t.inProgress(), 'book');
    const room = offer.rooms[choice - 1];
    if (!room) return reply(message, t.badChoice(offer.rooms.length), 'book');
    const workflowId = `booking-${uuid4()}`;
    upsertSearchAttributes([
      { key: LastIntent, value: 'book' },
      { key: BookingReference, value: workflowId },
    ]);
    bookingSummary = {
      reference: workflowId,
      status: 'in_progress',
      roomTypeName: room.roomTypeName,
      checkIn: offer.checkIn,
      checkOut: offer.checkOut,
    };
    const handle = await startChild(booking, {
      workflowId,
      // If this conversation ends abnormally, the saga is asked to cancel: it compensates and tells the guest.
      parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      staticSummary: `Booking of ${room.roomTypeName} ${offer.checkIn}..${offer.checkOut} for tenant ${hotel.id}`,
      args: [
        {
          tenantId: hotel.id,
          phoneNumberId: input.phoneNumberId,
          waId: input.waId,
          tokenRef: hotel.whatsappTokenRef,
          replyTo: message.id,
          language: lang,
          roomTypeId: room.roomTypeId,
          roomTypeName: room.roomTypeName,
          roomIds: room.roomIds,
          checkIn: offer.checkIn,
          checkOut: offer.checkOut,
          adults: offer.adults,
          ...(offer.children !== undefined ? { children: offer.children } : {}),
          ...(message.profileName !== undefined ? { guestName: message.profileName } : {}),
          holdTtlSeconds: settings.holdTtlSeconds,
          holdMaxExtensions: settings.holdMaxExtensions,
          pmsTimeoutSeconds: settings.pmsTimeoutSeconds,
          ...(input.sendTimeoutSeconds !== undefined ? { sendTimeoutSeconds: input.sendTimeoutSeconds } : {}),
        },
      ],
    });
    activeBooking = { workflowId };
    offer = undefined;
    void handle.result().then(
      (outcome) => bookingOutcomes.push(outcome),
      (err: unknown) => bookingOutcomes.push({ kind: 'failed', reference: workflowId, reason: String(err) }),
    );
  }

  async function cancelBooking(message: InboundMessage, hotel: TenantProfile, lang: Language): Promise<void> {
    const t = bookingText(lang);
    settleBookings();
    if (activeBooking) {
      try {
        // The saga undoes what it did and tells the guest itself.
        await getExternalWorkflowHandle(activeBooking.workflowId).signal(cancelBookingSignal);
        upsertSearchAttributes([{ key: LastIntent, value: 'cancel_booking' }]);
        return;
      } catch {
        // It finished meanwhile: wait for its outcome, then cancel what it booked, if anything.
        await condition(() => bookingOutcomes.length > 0);
        settleBookings();
      }
    }
    if (bookingSummary?.status === 'confirmed' && bookingSummary.bookingId) {
      try {
        await cancelConfirmedBooking.executeWithOptions({ summary: `cancel ${bookingSummary.reference}` }, [
          { tenantId: hotel.id, bookingId: bookingSummary.bookingId },
        ]);
      } catch (err) {
        if (!(err instanceof ActivityFailure)) throw err;
        // The booking stands; a person follows up rather than the conversation failing.
        log.warn('Booking could not be cancelled at the PMS', {
          reference: bookingSummary.reference,
          error: err.cause?.message,
        });
        staffRequested = true;
        const config = configFailureIn(err);
        if (config) noteConfigFailure(config);
        return reply(message, t.cancelFailed(bookingSummary.reference), 'cancel_booking');
      }
      bookingSummary.status = 'cancelled';
      return reply(message, t.cancelled(), 'cancel_booking');
    }
    return reply(message, t.nothingToCancel(), 'cancel_booking');
  }

  function settleBookings(): void {
    for (const outcome of bookingOutcomes.splice(0)) {
      activeBooking = undefined;
      if (outcome.kind === 'failed' && outcome.configFailure) noteConfigFailure(outcome.configFailure);
      if (bookingSummary?.reference === outcome.reference) {
        bookingSummary.status = outcome.kind;
        if (outcome.kind === 'confirmed') bookingSummary.bookingId = outcome.bookingId;
      }
    }
  }

  async function understandAndAct(
    message: InboundMessage,
    text: string | undefined,
    hotel: TenantProfile,
    lang: Language,
  ) {
    const understanding = await understand
      .executeWithOptions({ summary: `understand ${message.id}` }, [
        {
          ...(text !== undefined ? { text } : {}),
          ...(message.replyId !== undefined ? { replyId: message.replyId } : {}),
          locale: lang,
          timezone: hotel.timezone,
          messageTimestamp: message.timestamp,
          maxStayNights: settings.maxStayNights,
        },
      ])
      .catch((err: unknown): Understanding => {
        // A message that cannot be understood is answered with help, never left blocking the queue.
        if (!(err instanceof ActivityFailure)) throw err;
        log.warn('Message not understood', { messageId: message.id, error: err.cause?.message });
        return { intent: 'unknown', language: lang };
      });
    language = understanding.language;
    await act(message, understanding, hotel);
  }

  /**
   * Downloads a photo, voice note or file as it arrives (Meta's links expire), keeps its store reference in
   * the state for staff, and answers: a transcribed voice note is understood like typed text; one nobody
   * transcribed is flagged for staff.
   */
  async function receiveMedia(message: InboundMessage, record: MessageRecord, hotel: TenantProfile, lang: Language) {
    const item = message.media;
    const type = message.type as 'audio' | 'image' | 'video' | 'document' | 'sticker';
    if (!item) return reply(message, receivedReply(lang, 'media'), 'media');
    let stored: DownloadMediaResult;
    try {
      stored = await downloadMedia.executeWithOptions({ summary: `download ${type} ${item.id}` }, [
        {
          tenantId: hotel.id,
          mediaId: item.id,
          type,
          tokenRef: hotel.whatsappTokenRef,
          ...(item.mimeType !== undefined ? { declaredMimeType: item.mimeType } : {}),
          ...(item.sha256 !== undefined ? { declaredSha256: item.sha256 } : {}),
        },
      ]);
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      log.warn('Media could not be downloaded', { messageId: message.id, error: err.cause?.message });
      record.media = { rejected: 'unavailable' };
      staffRequested = true;
      const config = configFailureIn(err);
      if (config) noteConfigFailure(config);
      return reply(message, mediaReply(lang, 'not_found'), 'media');
    }
    if (stored.kind === 'rejected') {
      record.media = { rejected: stored.reason };
      // The file is fine but could not be kept: a person has to look at the storage and follow up.
      if (stored.reason === 'quota_exceeded' || stored.reason === 'storage_full') staffRequested = true;
      return reply(message, mediaReply(lang, stored.reason), 'media');
    }
    record.media = { ref: stored.ref, mimeType: stored.mimeType, size: stored.size };
    if (type !== 'audio') return reply(message, receivedReply(lang, 'media'), 'media');
    let transcript: string | null = null;
    try {
      ({ text: transcript } = await transcribeAudio.executeWithOptions({ summary: `transcribe ${item.id}` }, [
        { tenantId: hotel.id, ref: stored.ref, language: lang, mimeType: stored.mimeType },
      ]));
    } catch (err) {
      // Transcription is a convenience: when it fails, staff listen instead.
      if (!(err instanceof ActivityFailure)) throw err;
      log.warn('Voice note not transcribed', { messageId: message.id, error: err.cause?.message });
      const config = configFailureIn(err);
      if (config) noteConfigFailure(config);
    }
    if (transcript) {
      record.text = transcript;
      return understandAndAct(message, transcript, hotel, lang);
    }
    staffRequested = true;
    return reply(message, mediaReply(lang, 'voice_note_for_staff'), 'voice_note');
  }

  async function handle(message: InboundMessage): Promise<void> {
    const inbound = remember({
      direction: 'in',
      id: message.id,
      type: message.type,
      text: message.text,
      at: message.timestamp * 1000,
    });
    // A tenant that was unknown, suspended or refused may have been fixed by an operator since; the
    // resolution made at the start of the run already counts for the first message.
    if ((tenantState.kind !== 'resolved' || tenantStale) && !freshResolution) await resolve();
    freshResolution = false;
    if (!tenant) {
      log.info('No automated reply: no active tenant for this conversation', {
        messageId: message.id,
        tenant: tenantState.kind,
      });
      setCurrentDetails(`Not answering: tenant ${tenantState.kind}`);
      return;
    }
    if (message.text && message.type !== 'text') language = detectLanguage(message.text) ?? language;
    const lang: Language = language ?? tenant.locale;
    setCurrentDetails(`Answering ${message.type} message ${message.id}`);
    switch (message.type) {
      case 'text':
      case 'button':
      case 'interactive':
        await understandAndAct(message, message.text, tenant, lang);
        break;
      case 'audio':
      case 'image':
      case 'video':
      case 'document':
      case 'sticker':
        await receiveMedia(message, inbound, tenant, lang);
        break;
      case 'location':
        await reply(message, receivedReply(lang, 'location'), 'location');
        break;
      case 'contacts':
        await reply(message, receivedReply(lang, 'contacts'), 'contacts');
        break;
      default:
        // Reactions, system notices and types WhatsApp itself does not support get no automated reply.
        log.info('No reply for this message type', { messageId: message.id, type: message.type });
    }
  }

  // Once per run: at start, and again after continue-as-new (the tenant may have changed meanwhile).
  await resolve();
  // Counts only for a message already waiting; after a quiet continue-as-new the next one re-resolves.
  let freshResolution = pending.length > 0;

  for (;;) {
    setCurrentDetails(
      activeBooking
        ? `Booking ${activeBooking.workflowId} in progress`
        : `Waiting for the guest (${received} messages so far)`,
    );
    const wake = () => pending.length > 0 || bookingOutcomes.length > 0;
    // A running booking keeps the conversation open: it must hear the outcome (and a guest's "cancel").
    const woke = activeBooking ? (await condition(wake), true) : await condition(wake, input.idleTimeoutSeconds * 1000);
    settleBookings();
    if (!woke && pending.length === 0) break;
    while (pending.length > 0) {
      await handle(pending.shift()!);
      settleBookings();
      // Checked after every message: a burst must not grow one run's history without bound. Not while a
      // booking runs: its parent must stay the same run to receive its result.
      if (workflowInfo().continueAsNewSuggested && !activeBooking) {
        await condition(allHandlersFinished);
        const carryOver: ConversationCarryOver = {
          seenIds,
          pending,
          lastMessages: lastMessages.map(forCarryOver),
          language,
          staffRequested,
          offer,
          booking: bookingSummary,
          ...(configFailure ? { configFailure } : {}),
          received,
          duplicatesDropped,
        };
        return continueAsNew<typeof conversation>({ ...input, carryOver });
      }
    }
  }

  status = 'closed';
  upsertSearchAttributes([{ key: ConversationStatus, value: status }]);
  setCurrentDetails('Closed after the idle period');
  return { status: 'closed', received, duplicatesDropped };
}

/** The type and message of the failure that ended an activity's attempts, for the record. */
function lastFailure(err: ActivityFailure): string {
  let cause: unknown = err.cause;
  // A timeout carries the last attempt's failure as its cause.
  if (cause instanceof TimeoutFailure && cause.cause) cause = cause.cause;
  if (cause instanceof ApplicationFailure) return `${cause.type ?? 'Error'}: ${cause.message}`;
  return cause instanceof Error ? cause.message : 'timeout';
}

const infoKeys: Record<InfoTopic, string[]> = {
  address: ['address'],
  check_in: ['checkIn'],
  check_out: ['checkOut'],
  parking: ['parking'],
  wifi: ['wifi'],
  breakfast: ['breakfast'],
  pets: ['pets'],
  general: ['general', 'address'],
};

/** The tenant's answer to an information question, from its settings (`info`); none when not set. */
function infoFor(tenant: TenantProfile, topic: InfoTopic): string | undefined {
  for (const key of infoKeys[topic]) {
    const value = tenant.info[key];
    if (value) return value;
  }
  return undefined;
}
