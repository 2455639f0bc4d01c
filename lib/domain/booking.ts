/**
 * The booking saga's contract: its input and outcome, its signal and query. Pure (no I/O): the conversation that
 * starts the saga, the tests and operators' tools import it from here.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { Language } from './language';

/** The guest asked to cancel while the booking runs: what is done is undone, in reverse. */
export const cancelBookingSignal = defineSignal('cancelBooking');
export const bookingStatusQuery = defineQuery<BookingStatus>('status');

export type BookingStep =
  | 'holding'
  | 'booking'
  | 'confirming'
  | 'releasing'
  | 'compensating'
  | 'confirmed'
  | 'unavailable'
  | 'failed'
  | 'cancelled';

export interface BookingStatus {
  reference: string;
  step: BookingStep;
  roomId: string | undefined;
  bookingId: string | undefined;
}

export interface BookingInput {
  tenantId: string;
  /** Where to tell the guest. */
  phoneNumberId: string;
  waId: string;
  tokenRef: string | null;
  /** The guest message that asked for the booking; replies quote it. */
  replyTo?: string;
  language: Language;
  roomTypeId: string;
  roomTypeName: string;
  /** Rooms of that type to try, in order, until one can be held. */
  roomIds: string[];
  checkIn: string;
  checkOut: string;
  adults: number;
  children?: number;
  guestName?: string;
  /** The hold's TTL and how often it may be extended (config); the saga extends it while the PMS is slow. */
  holdTtlSeconds: number;
  holdMaxExtensions: number;
  /** How long to keep retrying the PMS before giving up and compensating. */
  pmsTimeoutSeconds: number;
  /** How long a message to the guest is retried before it counts as undeliverable; 24 h when absent. */
  sendTimeoutSeconds?: number;
  /** The tenant has interactive messages on: the confirmation comes with buttons (cancel, talk to reception). */
  interactive?: boolean;
  /** When the pre-arrival and post-stay messages go out (see `stayMessageTimes`); none scheduled when absent. */
  stayMessages?: { preArrivalAt: number; postStayAt: number; timezone: string };
}

export type BookingOutcome =
  | { kind: 'confirmed'; reference: string; bookingId: string; roomId: string }
  | { kind: 'unavailable'; reference: string }
  | {
      kind: 'failed';
      reference: string;
      reason: string;
      /** The booking failed on the configuration (a token or key refused, a secret missing): staff must act. */
      configFailure?: { kind: string; message: string };
    }
  | { kind: 'cancelled'; reference: string };
