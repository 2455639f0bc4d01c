/**
 * The interaction log's contract: what the conversation reports about each guest message it handled, for the per-tenant
 * analytics. Pure (no I/O): the workflow builds it, the `recordInteractions` activity stores it.
 */

/**
 * What became of one guest message:
 * - `answered`: the bot answered it (a reply WhatsApp accepted), or handed it to the booking saga, which answers;
 * - `handed_off`: it went to staff (the guest asked for a person, or something only a person can sort out happened);
 * - `failed`: the bot tried to answer and no reply could be delivered;
 * - `no_reply`: nothing to answer by design (a reaction, a system notice, a suspended tenant);
 * - `duplicate_dropped`: a redelivery of a message already taken in, dropped.
 * An outbound message's row says `answered`.
 */
export type InteractionOutcome = 'answered' | 'handed_off' | 'failed' | 'no_reply' | 'duplicate_dropped';

export const interactionOutcomes: readonly InteractionOutcome[] = [
  'answered',
  'handed_off',
  'failed',
  'no_reply',
  'duplicate_dropped',
];

/** How the booking saga ended, on the message that tells the guest so. */
export type BookingOutcomeKind = 'confirmed' | 'unavailable' | 'failed' | 'cancelled';

export const bookingOutcomeKinds: readonly BookingOutcomeKind[] = ['confirmed', 'unavailable', 'failed', 'cancelled'];

/** One guest message as the conversation handled it (or dropped it as a duplicate). */
export interface InboundInteraction {
  /** WhatsApp message id (wamid). */
  messageId: string;
  /** WhatsApp message type: text, audio, image, ... */
  type: string;
  /** What it was understood as (`availability`, `human`, ...); absent when nothing was understood from it. */
  intent?: string;
  /** What the guest wrote (or said, transcribed): the activity keeps only its keyed hash. */
  text?: string;
  /** Meta's timestamp, Unix ms: when the guest sent it. */
  at: number;
  /** Workflow time, Unix ms: when the conversation took it in (its signal was delivered). */
  receivedAt: number;
  outcome: InteractionOutcome;
}

/** The `recordInteractions` activity's input: one handled message, and the duplicates dropped since the last one. */
export interface RecordInteractionsInput {
  tenantId: string;
  /** The conversation's business number and guest: the log keeps only its reference (the guest's keyed pseudonym). */
  phoneNumberId: string;
  waId: string;
  messages: InboundInteraction[];
}
