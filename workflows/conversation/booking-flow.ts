/**
 * Rooms and bookings: offering what the PMS has free, starting the booking saga for the room the guest picks, and
 * cancelling — through the saga while it runs, at the PMS once it has confirmed.
 */
import {
  ActivityFailure,
  condition,
  getExternalWorkflowHandle,
  log,
  ParentClosePolicy,
  patched,
  startChild,
  upsertSearchAttributes,
  uuid4,
} from '@temporalio/workflow';
import type { Offer } from '../../lib/domain/conversation';
import type { AvailabilityQuery, AvailabilityResult } from '../../lib/domain/pms';
import { cancelBookingSignal } from '../../lib/domain/booking';
import { configFailureIn } from '../../lib/domain/errors';
import type { StayRequest, Understanding } from '../../lib/domain/intents';
import type { Language } from '../../lib/domain/language';
import type { InboundMessage } from '../../lib/domain/messages';
import { clarifyingQuestion } from '../../lib/domain/nlu-questions';
import { BookingReference, GuestRef, LastIntent } from '../../lib/domain/search-attributes';
import { fitInteractive, offerList, type Interactive } from '../../lib/domain/interactive';
import { cancelStayMessagesSignal, stayMessageTimes, stayMessagesWorkflowId } from '../../lib/domain/stay-messages';
import { bookingText } from '../../lib/domain/templates';
import type { TenantProfile } from '../../lib/domain/tenants';
import { booking } from '../booking';
import { cancelConfirmedBooking, checkAvailability } from './activity-options';
import { patches } from './patches';
import { reply } from './replies';
import type { ConversationMemory } from './state';
import { settleBookings, showStatus } from './status';

/** Answers a question about rooms with what the PMS has free (or asks what is missing), and keeps it as the offer. */
export async function showAvailability(
  memory: ConversationMemory,
  message: InboundMessage,
  u: Understanding,
  hotel: TenantProfile,
): Promise<void> {
  const t = bookingText(u.language);
  if (u.problem) {
    const question = clarifyingQuestion(u.problem, u.language, memory.bookingSettings.maxStayNights);
    return reply(memory, message, question, 'availability');
  }
  const stay: StayRequest | undefined = u.stay;
  if (!stay?.checkIn || !stay.checkOut) return reply(memory, message, t.chooseFirst(), 'availability');
  const query: AvailabilityQuery = {
    tenantId: hotel.id,
    checkIn: stay.checkIn,
    checkOut: stay.checkOut,
    adults: stay.adults ?? 2,
    ...(stay.children !== undefined ? { children: stay.children } : {}),
  };
  let result: AvailabilityResult;
  try {
    result = await checkAvailability.executeWithOptions({ summary: `availability ${stay.checkIn}..${stay.checkOut}` }, [
      query,
    ]);
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    log.warn('Availability could not be checked', { error: err.cause?.message });
    memory.noteConfigFailure(configFailureIn(err));
    return reply(memory, message, t.availabilityDown(), 'availability');
  }
  const rooms = result.rooms.filter((r) => r.roomIds.length > 0);
  if (rooms.length === 0) {
    memory.offer = undefined;
    return reply(memory, message, t.noRooms(stay.checkIn, stay.checkOut), 'availability');
  }
  const offer: Offer = { ...query, rooms, provisional: result.provisional };
  memory.offer = offer;
  const lines = rooms.map((r, i) =>
    t.offerLine(
      i + 1,
      r.roomTypeName,
      r.roomIds.length,
      r.pricePerNight !== undefined ? `${r.pricePerNight} ${r.currency ?? ''}`.trim() : undefined,
    ),
  );
  const text = t.offer(stay.checkIn, stay.checkOut, lines, result.provisional);
  return reply(memory, message, text, 'availability', interactiveOffer(hotel, u.language, offer));
}

/**
 * The offer as a list to tap, when the tenant has interactive messages on and it fits Meta's limits (at most 10
 * room types); otherwise undefined, and the offer goes as numbered text.
 */
function interactiveOffer(hotel: TenantProfile, lang: Language, offer: Offer): Interactive | undefined {
  if (!hotel.messaging?.interactive) return undefined;
  const fitted = fitInteractive(
    offerList(lang, hotel.name, {
      checkIn: offer.checkIn,
      checkOut: offer.checkOut,
      provisional: offer.provisional,
      rooms: offer.rooms.map((r) => ({
        roomTypeName: r.roomTypeName,
        free: r.roomIds.length,
        ...(r.pricePerNight !== undefined ? { price: `${r.pricePerNight} ${r.currency ?? ''}`.trim() } : {}),
      })),
    }),
  );
  if (fitted.ok) return fitted.message;
  log.info('Offer sent as numbered text: it does not fit a list', { problems: fitted.problems });
  return undefined;
}

/** Starts the booking saga for the offered room the guest chose (1-based); its outcome arrives later. */
export async function startBooking(
  memory: ConversationMemory,
  message: InboundMessage,
  choice: number,
  hotel: TenantProfile,
  lang: Language,
): Promise<void> {
  const { input, bookingSettings: settings } = memory;
  const t = bookingText(lang);
  settleBookings(memory);
  const offer = memory.offer;
  if (!offer) return reply(memory, message, t.chooseFirst(), 'book');
  if (memory.activeBooking) return reply(memory, message, t.inProgress(), 'book');
  const room = offer.rooms[choice - 1];
  if (!room) return reply(memory, message, t.badChoice(offer.rooms.length), 'book');
  const workflowId = `booking-${uuid4()}`;
  upsertSearchAttributes([
    { key: LastIntent, value: 'book' },
    { key: BookingReference, value: workflowId },
  ]);
  // Pre-arrival and post-stay messages, when the tenant has a template for either (see workflows/stay-messages.ts).
  const templates = hotel.messaging?.templates;
  const stayTimes =
    templates?.pre_arrival || templates?.post_stay
      ? stayMessageTimes({ checkIn: offer.checkIn, checkOut: offer.checkOut }, hotel)
      : undefined;
  memory.booking = {
    reference: workflowId,
    status: 'in_progress',
    roomTypeName: room.roomTypeName,
    checkIn: offer.checkIn,
    checkOut: offer.checkOut,
    ...stayTimes,
  };
  const handle = await startChild(booking, {
    workflowId,
    // If this conversation ends abnormally, the saga is asked to cancel: it compensates and tells the guest.
    parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
    staticSummary: `Booking of ${room.roomTypeName} ${offer.checkIn}..${offer.checkOut} for tenant ${hotel.id}`,
    // The guest's bookings are found (for export) by their reference, never by their number.
    ...(input.guestRef !== undefined ? { typedSearchAttributes: [{ key: GuestRef, value: input.guestRef }] } : {}),
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
        ...(hotel.messaging?.interactive ? { interactive: true } : {}),
        ...(stayTimes ? { stayMessages: { ...stayTimes, timezone: hotel.timezone } } : {}),
      },
    ],
  });
  memory.activeBooking = { workflowId, showsStatus: patched(patches.bookingStatus) };
  showStatus(memory);
  memory.offer = undefined;
  void handle.result().then(
    (outcome) => memory.bookingOutcomes.push(outcome),
    (err: unknown) => memory.bookingOutcomes.push({ kind: 'failed', reference: workflowId, reason: String(err) }),
  );
}

/** The guest asks to cancel: the running saga undoes what it did; a confirmed booking is cancelled at the PMS. */
export async function cancelBooking(
  memory: ConversationMemory,
  message: InboundMessage,
  hotel: TenantProfile,
  lang: Language,
): Promise<void> {
  const t = bookingText(lang);
  settleBookings(memory);
  if (memory.activeBooking) {
    try {
      // The saga undoes what it did and tells the guest itself.
      await getExternalWorkflowHandle(memory.activeBooking.workflowId).signal(cancelBookingSignal);
      upsertSearchAttributes([{ key: LastIntent, value: 'cancel_booking' }]);
      return;
    } catch {
      // It finished meanwhile: wait for its outcome, then cancel what it booked, if anything.
      await condition(() => memory.bookingOutcomes.length > 0);
      settleBookings(memory);
    }
  }
  const summary = memory.booking;
  if (summary?.status === 'confirmed' && summary.bookingId) {
    try {
      await cancelConfirmedBooking.executeWithOptions({ summary: `cancel ${summary.reference}` }, [
        { tenantId: hotel.id, bookingId: summary.bookingId },
      ]);
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      // The booking stands; a person follows up rather than the conversation failing.
      log.warn('Booking could not be cancelled at the PMS', {
        reference: summary.reference,
        error: err.cause?.message,
      });
      memory.staffRequested = true;
      memory.noteConfigFailure(configFailureIn(err));
      return reply(memory, message, t.cancelFailed(summary.reference), 'cancel_booking');
    }
    summary.status = 'cancelled';
    if (summary.preArrivalAt !== undefined && patched(patches.stayMessagesCancel)) {
      await getExternalWorkflowHandle(stayMessagesWorkflowId(summary.reference))
        .signal(cancelStayMessagesSignal)
        .catch(() => log.info('No stay messages to cancel', { reference: summary.reference }));
    }
    return reply(memory, message, t.cancelled(), 'cancel_booking');
  }
  return reply(memory, message, t.nothingToCancel(), 'cancel_booking');
}
