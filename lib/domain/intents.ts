/**
 * What a guest's message means, as the conversation workflow sees it. Pure: no I/O, safe in workflow code.
 * The `understand` activity (activities/nlu.ts) produces an `Understanding`; the workflow acts on it.
 */
import type { Language } from './language';

export const intents = [
  'greeting',
  'availability',
  'book',
  'cancel_booking',
  'hotel_info',
  'human',
  'thanks',
  'unknown',
] as const;

export type Intent = (typeof intents)[number];

/** What a hotel-information question is about; the answer comes from the tenant's `info` settings. */
export type InfoTopic = 'address' | 'check_in' | 'check_out' | 'parking' | 'wifi' | 'breakfast' | 'pets' | 'general';

/** A stay as the guest described it. Dates are `YYYY-MM-DD` in the hotel's timezone; check-out is exclusive. */
export interface StayRequest {
  checkIn?: string;
  checkOut?: string;
  adults?: number;
  children?: number;
}

/** Why a stay cannot be used as said; the workflow asks `clarifyingQuestion(problem, ...)` instead of failing. */
export type StayProblem = 'checkout_before_checkin' | 'in_the_past' | 'too_long' | 'missing_dates';

export interface Understanding {
  intent: Intent;
  /** The language the guest wrote in, or the locale passed in when the text gives no signal. */
  language: Language;
  stay?: StayRequest;
  infoTopic?: InfoTopic;
  /** A booking reference the guest quoted (for cancel_booking), e.g. "BK-1234" or a workflow-style id. */
  bookingReference?: string;
  /** 1-based option the guest picked when answering an offer: "1", "la segunda", "the first one", "book 2". */
  choice?: number;
  /** The stay cannot be used as said: the workflow asks `clarifyingQuestion(problem, ...)` instead of failing. */
  problem?: StayProblem;
  /** Which understander answered: the language model, or the rules (the default, and the model's fallback). */
  source?: 'rules' | 'model';
  /** Why the rules answered although a model is configured: timeout, http_500, invalid_json, wrong_shape, ... */
  fallbackReason?: string;
}

const intentPrefix = 'intent:';
const choicePrefix = 'choice:';

/** The interactive reply id (button or list row) that means `intent`: `intent:<Intent>`. */
export function replyIdFor(intent: Intent): string {
  return `${intentPrefix}${intent}`;
}

/** The interactive reply id that picks the `n`th (1-based) option of an offer: `choice:<n>`. */
export function choiceReplyId(n: number): string {
  return `${choicePrefix}${n}`;
}

export function isIntent(value: string): value is Intent {
  return (intents as readonly string[]).includes(value);
}

/**
 * Reads an interactive reply id made by `replyIdFor` or `choiceReplyId`; `undefined` for any other id
 * (the caller then reads the reply's title as text).
 */
export function parseReplyId(replyId: string): { intent: Intent } | { choice: number } | undefined {
  if (replyId.startsWith(intentPrefix)) {
    const name = replyId.slice(intentPrefix.length);
    return isIntent(name) ? { intent: name } : undefined;
  }
  if (replyId.startsWith(choicePrefix)) {
    const digits = replyId.slice(choicePrefix.length);
    const n = Number(digits);
    return /^\d{1,3}$/.test(digits) && n >= 1 ? { choice: n } : undefined;
  }
  return undefined;
}
