/**
 * Pre-arrival and post-stay messages: the `stayMessages` workflow's contract and the arithmetic of when they go out.
 * Pure: no I/O, no clock of its own (the caller passes workflow time); `Intl` only.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { Language } from './language';
import { defaultStayMessageOffsets, type MessagingSettings } from './messaging-settings';

/** The booking was cancelled: the messages not yet sent are not sent. */
export const cancelStayMessagesSignal = defineSignal('cancelStayMessages');
export const stayMessagesQuery = defineQuery<StayMessagesState>('stayMessages');

/** The `stayMessages` workflow of a booking: one per booking reference. */
export function stayMessagesWorkflowId(reference: string): string {
  return `stay-messages-${reference}`;
}

export type StayMessageOutcome = 'scheduled' | 'sent' | 'not_sent' | 'cancelled';

export interface StayMessagesState {
  reference: string;
  preArrival: { at: number; outcome: StayMessageOutcome; reason?: string };
  postStay: { at: number; outcome: StayMessageOutcome; reason?: string };
}

export interface StayMessagesInput {
  reference: string;
  tenantId: string;
  phoneNumberId: string;
  waId: string;
  tokenRef: string | null;
  language: Language;
  roomTypeName: string;
  checkIn: string;
  checkOut: string;
  guestName?: string;
  /** When each message goes out (epoch ms), computed by {@link stayMessageTimes} when the booking was made. */
  preArrivalAt: number;
  postStayAt: number;
  timezone: string;
  sendTimeoutSeconds?: number;
}

/** The `HH:MM` at the start of a tenant's `info` value ("15:00", "from 15:00" is not), else the default. */
function timeOf(value: string | undefined, fallback: string): string {
  const match = /^\s*([01]?\d|2[0-3])[:.h]([0-5]\d)/.exec(value ?? '');
  return match ? `${match[1]!.padStart(2, '0')}:${match[2]}` : fallback;
}

/** Check-in and check-out times from the tenant's `info` (`checkIn`, `checkOut`), 15:00 and 11:00 by default. */
export function stayTimes(info: Record<string, string>): { checkInTime: string; checkOutTime: string } {
  return { checkInTime: timeOf(info.checkIn, '15:00'), checkOutTime: timeOf(info.checkOut, '11:00') };
}

/** Epoch ms of a local date (`YYYY-MM-DD`) and time (`HH:MM`) in an IANA timezone. */
export function localDateTime(date: string, time: string, timezone: string): number {
  const asUtc = Date.parse(`${date}T${time}:00Z`);
  // The zone's offset at that moment, read back through Intl; twice, so a DST change in between settles.
  let guess = asUtc;
  for (let i = 0; i < 2; i++) guess = asUtc - offsetMs(guess, timezone);
  return guess;
}

function offsetMs(at: number, timezone: string): number {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: timezone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(at));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const local = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return local - Math.floor(at / 1000) * 1000;
}

/** When a booking's pre-arrival and post-stay messages go out, by the tenant's settings. */
export function stayMessageTimes(
  stay: { checkIn: string; checkOut: string },
  tenant: { timezone: string; info: Record<string, string>; messaging?: MessagingSettings | undefined },
): { preArrivalAt: number; postStayAt: number } {
  const { checkInTime, checkOutTime } = stayTimes(tenant.info);
  const set = tenant.messaging?.stayMessages;
  const offsets = {
    preArrivalBeforeSeconds: set?.preArrivalBeforeSeconds ?? defaultStayMessageOffsets.preArrivalBeforeSeconds,
    postStayAfterSeconds: set?.postStayAfterSeconds ?? defaultStayMessageOffsets.postStayAfterSeconds,
  };
  return {
    preArrivalAt: localDateTime(stay.checkIn, checkInTime, tenant.timezone) - offsets.preArrivalBeforeSeconds * 1000,
    postStayAt: localDateTime(stay.checkOut, checkOutTime, tenant.timezone) + offsets.postStayAfterSeconds * 1000,
  };
}

/** "13 Dec 15:00" in the hotel's timezone, for operators. */
export function shortLocalTime(at: number, timezone: string): string {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone: timezone,
    day: 'numeric',
    month: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  })
    .format(new Date(at))
    .replace(',', '');
}
