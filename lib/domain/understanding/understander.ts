import { parseReplyId, type Intent, type StayProblem, type StayRequest, type Understanding } from '../intents';
import { detectLanguage, type Language } from '../language';
import { dayMs, isoDate, localDay } from './calendar';
import { extractDates, extractLoneDay, extractNights } from './dates';
import { extractBareGuests, extractChoice, extractCountedGuests, guestsOf } from './guests-and-choices';
import { decideIntent, languageHint, topicOf, type Entities } from './intents';
import { extractReference, normalize, Scan } from './text';

/**
 * Understanding guest messages: intent plus entities (stay dates, guests, info topic, booking reference,
 * the option picked from an offer). The default understander is rule-based, for Spanish and English;
 * `Understander` is the seam for another one (a model, a hosted NLU) behind the same activity.
 *
 * Everything here is deterministic in its input: "today" is the message's own timestamp rendered in the
 * hotel's timezone, never the worker's clock, so a retried or replayed message means the same thing.
 */

export interface UnderstandInput {
  /** What the guest wrote, or the title of the button or list row they tapped. */
  text?: string;
  /** The id of an interactive reply: `intent:<Intent>` or `choice:<n>` map straight to an intent. */
  replyId?: string;
  /** The conversation's language, used when the text gives no signal. */
  locale: Language;
  /** The hotel's IANA timezone; "today" and "tomorrow" are days there. */
  timezone: string;
  /** unix seconds, Meta's timestamp */
  messageTimestamp: number;
  /** Longer stays get `problem: 'too_long'`. */
  maxStayNights: number;
  /**
   * For a language model: the hotel (name, what guests may be told) and the conversation's last messages. Never a
   * phone number. The rules do not use it.
   */
  context?: UnderstandContext;
}

export interface UnderstandContext {
  hotel: string;
  info: Record<string, string>;
  /** Oldest first. */
  history: { from: 'guest' | 'hotel'; text: string }[];
}

/** Reads one guest message; the activity `understand` runs one. */
export interface Understander {
  understand(input: UnderstandInput): Promise<Understanding>;
}

/** What is wrong with the stay for an availability or booking request; checked in this order. */
function stayProblem(stay: StayRequest, today: number, maxStayNights: number): StayProblem | undefined {
  if (stay.checkIn === undefined || stay.checkOut === undefined) return 'missing_dates';
  const checkIn = Date.parse(stay.checkIn) / dayMs;
  const checkOut = Date.parse(stay.checkOut) / dayMs;
  if (checkOut <= checkIn) return 'checkout_before_checkin';
  if (checkIn < today) return 'in_the_past';
  if (checkOut - checkIn > maxStayNights) return 'too_long';
  return undefined;
}

/** Reads a text message; the interactive-reply mapping is done by the caller. */
function understandText(raw: string, input: UnderstandInput, forced?: { intent: Intent } | { choice: number }) {
  const today = localDay(input.messageTimestamp, input.timezone);
  const { reference, rest } = extractReference(raw);
  const text = normalize(raw);
  const scan = new Scan(normalize(rest));

  const nights = extractNights(scan);
  const guests = extractCountedGuests(scan);
  let dates = extractDates(scan, today, nights);
  const choice = forced && 'choice' in forced ? forced.choice : extractChoice(scan);
  dates ??= extractLoneDay(scan, today);
  extractBareGuests(scan, guests);

  const stay: StayRequest = {};
  if (dates) {
    stay.checkIn = isoDate(dates.checkIn);
    stay.checkOut = isoDate(dates.checkOut ?? dates.checkIn + (nights ?? 1));
  }
  Object.assign(stay, guestsOf(guests));
  const topic = topicOf(text);
  const entities: Entities = {
    stay,
    range: dates?.range ?? false,
    ...(choice !== undefined ? { choice } : {}),
    ...(topic !== undefined ? { topic } : {}),
  };
  const intent = forced
    ? 'intent' in forced
      ? forced.intent
      : 'book'
    : decideIntent(text, entities, nights !== undefined);

  const understanding: Understanding = { intent, language: detectLanguage(raw) ?? languageHint(text) ?? input.locale };
  if (Object.keys(stay).length > 0) understanding.stay = stay;
  if (intent === 'hotel_info') understanding.infoTopic = topic ?? 'general';
  if (reference !== undefined) understanding.bookingReference = reference;
  if (choice !== undefined && intent === 'book') understanding.choice = choice;
  // A booking needs dates when it asks for a room afresh ("quiero reservar una habitación"), not when it
  // accepts an offer: "book it", "me la quedo", "la 2" carry no dates (the offer has them), so they get no
  // 'missing_dates'. Dates given with any booking are still checked.
  const asksForRoom =
    /\b(?:habitacion(?:es)?|cuartos?|rooms?|alojamiento|accommodation)\b/.test(text) || Object.keys(stay).length > 0;
  const checkStay =
    intent === 'availability' || (intent === 'book' && (dates !== undefined || (choice === undefined && asksForRoom)));
  const problem = checkStay ? stayProblem(stay, today, input.maxStayNights) : undefined;
  if (problem !== undefined) understanding.problem = problem;
  return understanding;
}

/**
 * The default understander: rules for Spanish and English. Interactive replies whose id is `intent:<Intent>`
 * or `choice:<n>` map straight to an intent (`choice:<n>` is `book` with that choice); any other reply is
 * read by its title like a typed message.
 */
export function createRuleBasedUnderstander(): Understander {
  return {
    understand(input: UnderstandInput): Promise<Understanding> {
      try {
        const forced = input.replyId === undefined ? undefined : parseReplyId(input.replyId);
        return Promise.resolve(understandText(input.text ?? '', input, forced));
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
    },
  };
}
