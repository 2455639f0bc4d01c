/** What the conversation answers to what the guest wrote (or said, transcribed): understood first, then acted on. */
import { ActivityFailure, log, patched, TemporalFailure } from '@temporalio/workflow';
import type { InfoTopic, Understanding } from '../../lib/domain/intents';
import type { Language } from '../../lib/domain/language';
import type { UnderstandInput } from '../../lib/domain/understanding';
import type { InboundMessage } from '../../lib/domain/messages';
import { acknowledgementWithHelp, bookingText, infoAnswer, staffReply } from '../../lib/domain/templates';
import { staffAvailability, type TenantProfile } from '../../lib/domain/tenants';
import { understand, understandLocally } from './activity-options';
import { cancelBooking, showAvailability, startBooking } from './booking-flow';
import { patches } from './patches';
import { reply } from './replies';
import type { ConversationMemory } from './state';
import { showStatus } from './status';

/** Understands a text (typed, chosen or transcribed) and acts on it; the guest's language follows what they wrote. */
export async function understandAndAct(
  memory: ConversationMemory,
  message: InboundMessage,
  text: string | undefined,
  hotel: TenantProfile,
  lang: Language,
): Promise<void> {
  const input: UnderstandInput = {
    ...(text !== undefined ? { text } : {}),
    ...(message.replyId !== undefined ? { replyId: message.replyId } : {}),
    locale: lang,
    timezone: hotel.timezone,
    messageTimestamp: message.timestamp,
    maxStayNights: memory.bookingSettings.maxStayNights,
    context: { hotel: hotel.name, info: hotel.info, history: memory.recentTexts(4) },
  };
  const summary = `understand ${message.id}`;
  // A local activity: no task-queue trip, and its result (the intent) is in the history's marker.
  const understood = patched(patches.localSteps)
    ? understandLocally.executeWithOptions({ summary }, [input])
    : understand.executeWithOptions({ summary }, [input]);
  const understanding = await understood.catch((err: unknown): Understanding => {
    // A message that cannot be understood is answered with help, never left blocking the queue.
    // A local activity's failure may arrive unwrapped (the activity's own failure, or a timeout).
    if (!(err instanceof TemporalFailure)) throw err;
    const cause = err instanceof ActivityFailure ? err.cause : err;
    log.warn('Message not understood', { messageId: message.id, error: cause?.message });
    return { intent: 'unknown', language: lang };
  });
  memory.language = understanding.language;
  memory.understood = { messageId: message.id, intent: understanding.intent };
  memory.understoodBy = {
    source: understanding.source ?? 'rules',
    ...(understanding.fallbackReason !== undefined ? { fallbackReason: understanding.fallbackReason } : {}),
  };
  await act(memory, message, understanding, hotel);
}

/** What the conversation does about one understood message. */
async function act(memory: ConversationMemory, message: InboundMessage, u: Understanding, hotel: TenantProfile) {
  const lang = u.language;
  const t = bookingText(lang);
  switch (u.intent) {
    case 'human': {
      memory.staffRequested = true;
      // From here staff answer: the bot tells the guest so, then keeps quiet until an operator resumes it.
      if (patched(patches.guestHandoff)) {
        memory.handOff({ at: Date.now(), by: 'guest' });
        showStatus(memory);
      }
      const availability = staffAvailability(hotel.businessHours, hotel.timezone, Date.now());
      return reply(memory, message, staffReply(lang, hotel.name, availability), 'human');
    }
    case 'hotel_info': {
      const topic = u.infoTopic ?? 'general';
      const value = infoFor(hotel, topic);
      return reply(memory, message, value ? infoAnswer(lang, topic, value) : t.infoUnknown(), 'hotel_info');
    }
    case 'availability':
      return showAvailability(memory, message, u, hotel);
    case 'book': {
      const offer = memory.offer;
      if (u.choice === undefined) {
        if (u.stay?.checkIn || u.problem) return showAvailability(memory, message, u, hotel);
        if (offer?.rooms.length === 1) return startBooking(memory, message, 1, hotel, lang);
        return reply(memory, message, offer ? t.badChoice(offer.rooms.length) : t.chooseFirst(), 'book');
      }
      return startBooking(memory, message, u.choice, hotel, lang);
    }
    case 'cancel_booking':
      return cancelBooking(memory, message, hotel, lang);
    default:
      return reply(
        memory,
        message,
        acknowledgementWithHelp(lang, message.profileName),
        u.intent === 'unknown' ? 'help' : u.intent,
      );
  }
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
