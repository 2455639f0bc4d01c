/**
 * Tenants as the conversation sees them. Pure: no I/O, safe in workflow code.
 */
import type { Language } from './language';
import type { MessagingSettings } from './messaging-settings';

/**
 * A tenant id: a slug of 1-64 lowercase letters, digits and hyphens, not starting or ending with a hyphen. Written
 * once here; the `tenants.id` CHECK in lib/db/migrations/001_tenants.sql states the same pattern (a unit test keeps
 * the two equal). Nothing else may become a media folder name, a Redis key part or a secret namespace.
 */
export const tenantIdPattern = /^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$/;

/** Whether `value` is a tenant id ({@link tenantIdPattern}). */
export function isTenantId(value: string): boolean {
  return tenantIdPattern.test(value);
}

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';
export const weekdays: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** Opening intervals per weekday, `HH:MM` in the tenant's timezone; a missing day is closed. */
export type BusinessHours = Partial<Record<Weekday, [string, string][]>>;

export type TenantStatus = 'active' | 'suspended';

/** What a conversation needs to know about its hotel: no secrets, no other tenant's data. */
export interface TenantProfile {
  id: string;
  name: string;
  status: TenantStatus;
  locale: Language;
  timezone: string;
  businessHours: BusinessHours;
  info: Record<string, string>;
  whatsappTokenRef: string | null;
  /** What guests see: interactive messages, templates, stay-message offsets. Absent in profiles read before it. */
  messaging?: MessagingSettings;
}

/** Whose message this is: the business number it was sent to and the guest who sent it. */
export interface ResolveTenantInput {
  phoneNumberId: string;
  waId: string;
}

/** The result of resolving a message's tenant. A refusal for isolation is a failure, not a result. */
export type TenantResolution =
  { kind: 'resolved'; tenant: TenantProfile } | { kind: 'unknown' } | { kind: 'suspended'; tenantId: string };

/**
 * Normalizes a guest identifier: phone numbers to E.164 (`+` and 7-15 digits), e-mail addresses to lower
 * case. WhatsApp ids are phone numbers without the `+`. Returns `undefined` for anything else.
 */
export function normalizeIdentifier(raw: string): string | undefined {
  const trimmed = raw.trim();
  if (trimmed.includes('@')) {
    const email = trimmed.toLowerCase();
    return /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email) ? email : undefined;
  }
  const international = trimmed.replace(/^00/, '+');
  const digits = international.replace(/[\s().-]/g, '');
  const e164 = digits.startsWith('+') ? digits : `+${digits}`;
  return /^\+[1-9]\d{6,14}$/.test(e164) ? e164 : undefined;
}

const hhmm = /^([01]\d|2[0-3]):[0-5]\d$|^24:00$/;

/** Checks a business-hours value; returns what is wrong, or an empty list. */
export function businessHoursProblems(hours: BusinessHours): string[] {
  const problems: string[] = [];
  for (const [day, intervals] of Object.entries(hours)) {
    if (!weekdays.includes(day as Weekday)) problems.push(`${day}: not a weekday (mon..sun)`);
    for (const [from, to] of intervals ?? []) {
      if (!hhmm.test(from) || !hhmm.test(to)) problems.push(`${day}: ${from}-${to} is not HH:MM-HH:MM`);
      else if (from >= to) problems.push(`${day}: ${from}-${to} closes before it opens`);
    }
  }
  return problems;
}

/** Weekday and minutes since midnight of `atMs` in `timezone`. */
function localTime(atMs: number, timezone: string): { day: number; minutes: number } {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: timezone,
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(atMs));
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  const day = weekdays.indexOf(get('weekday').toLowerCase().slice(0, 3) as Weekday);
  return { day, minutes: Number(get('hour')) * 60 + Number(get('minute')) };
}

const toMinutes = (t: string) => Number(t.slice(0, 2)) * 60 + Number(t.slice(3, 5));

export type StaffAvailability = { open: true } | { open: false; next?: { day: Weekday; time: string } };

/**
 * Whether staff are working at `atMs` (the workflow's clock), and if not, when they are next.
 * A tenant with no business hours configured is treated as always open.
 */
export function staffAvailability(hours: BusinessHours, timezone: string, atMs: number): StaffAvailability {
  if (Object.values(hours).every((intervals) => !intervals || intervals.length === 0)) return { open: true };
  const now = localTime(atMs, timezone);
  for (let offset = 0; offset < 8; offset++) {
    const dayIndex = (now.day + offset) % 7;
    const day = weekdays[dayIndex]!;
    const intervals = [...(hours[day] ?? [])].sort(([a], [b]) => a.localeCompare(b));
    for (const [from, to] of intervals) {
      if (offset === 0 && now.minutes >= toMinutes(from) && now.minutes < toMinutes(to)) return { open: true };
      if (offset > 0 || toMinutes(from) > now.minutes) return { open: false, next: { day, time: from } };
    }
  }
  return { open: false };
}
