/**
 * Calendar arithmetic on day numbers (days since 1970-01-01), so no Date is ever read from the clock: "today" is the
 * message's own timestamp rendered in the hotel's timezone.
 */

export const dayMs = 86_400_000;

export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** The day number of a calendar date; months past 12 or before 1 roll the year. Undefined for 30 February. */
export function dayNumber(year: number, month: number, day: number): number | undefined {
  const y = year + Math.floor((month - 1) / 12);
  const m = ((((month - 1) % 12) + 12) % 12) + 1;
  if (!Number.isInteger(day) || day < 1 || day > daysInMonth(y, m)) return undefined;
  return Date.UTC(y, m - 1, day) / dayMs;
}

export function calendarDate(dn: number): { year: number; month: number; day: number } {
  const d = new Date(dn * dayMs);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

export const isoDate = (dn: number): string => new Date(dn * dayMs).toISOString().slice(0, 10);

/** 0 = Monday ... 6 = Sunday (1970-01-01 was a Thursday). */
export const weekdayOf = (dn: number): number => (((dn + 3) % 7) + 7) % 7;

const dateFormats = new Map<string, Intl.DateTimeFormat>();

/** The day number of the message's date in the hotel's timezone. Throws RangeError for an unknown timezone. */
export function localDay(timestampSeconds: number, timeZone: string): number {
  let format = dateFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: 'numeric', day: 'numeric' });
    dateFormats.set(timeZone, format);
  }
  const parts = format.formatToParts(new Date(timestampSeconds * 1000));
  const part = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === type)?.value);
  const dn = dayNumber(part('year'), part('month'), part('day'));
  if (dn === undefined) throw new RangeError(`Cannot read a date from timestamp ${timestampSeconds} in ${timeZone}`);
  return dn;
}
