import type { Payload } from '@temporalio/common';
import { z } from 'zod';
import type { GuestRefs } from '../../lib/guest-refs';

/**
 * Payloads as the codec-server protocol carries them (what the Temporal Web UI and `temporal --codec-endpoint`
 * send): the proto3 JSON of `temporal.api.common.v1.Payloads`, every byte string in base64, metadata values too.
 */

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');

/** At most this many payloads in one request; the UI sends the payloads of one field at a time. */
export const maxPayloadsPerRequest = 1_000;

export const payloadsBody = z.object({
  payloads: z
    .array(
      z.object({
        metadata: z
          .record(z.string().min(1).max(256), base64)
          .refine((m) => Object.keys(m).length <= 32, 'at most 32 metadata entries')
          .optional(),
        data: base64.optional(),
      }),
    )
    .max(maxPayloadsPerRequest),
});

export type WirePayloads = z.infer<typeof payloadsBody>;

/** Wire form → SDK payloads. */
export function fromWire(body: WirePayloads): Payload[] {
  return body.payloads.map((p) => ({
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
    data: Buffer.from(p.data ?? '', 'base64'),
  }));
}

/** SDK payloads → wire form. */
export function toWire(payloads: Payload[]): WirePayloads {
  return {
    payloads: payloads.map((p) => ({
      metadata: Object.fromEntries(
        Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')]),
      ),
      data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
    })),
  };
}

/** The fields in our payloads that hold a guest's WhatsApp id (a phone number). */
const guestNumberFields = new Set(['waId', 'wa_id', 'from', 'to', 'guestWaId', 'recipient_id']);
/** A WhatsApp id as Meta sends it: the number's digits, no `+`. */
const whatsAppId = /^\+?[0-9]{5,20}$/;
const maxDepth = 64;

function isJson(payload: Payload): boolean {
  const encoding = payload.metadata?.encoding;
  return encoding !== undefined && encoding !== null && Buffer.from(encoding).toString('utf8') === 'json/plain';
}

function walk(value: unknown, depth: number, visit: (key: string | undefined, value: unknown) => unknown): unknown {
  if (depth > maxDepth || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => walk(visit(undefined, item), depth + 1, visit));
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, walk(visit(k, v), depth + 1, visit)]),
  );
}

/**
 * Decoded payloads as a person may see them: the guest's WhatsApp id (a phone number) replaced by their keyed guest
 * reference (`guest:<ref>`, the one in the conversation's workflow id), in the fields that carry it and anywhere else
 * in the same request's strings (a failure message quoting it). Operators read what guests wrote, not who they are;
 * the admin API finds a guest's conversation by number (`GET /admin/conversations?phone=`). Payloads that are not
 * JSON pass unchanged.
 */
export function withoutGuestNumbers(payloads: Payload[], guestRefs: GuestRefs): Payload[] {
  const parsed = payloads.map((p) => {
    if (!isJson(p)) return undefined;
    try {
      return { value: JSON.parse(Buffer.from(p.data ?? new Uint8Array()).toString('utf8')) as unknown };
    } catch {
      return undefined;
    }
  });
  const numbers = new Set<string>();
  const isGuestNumber = (key: string | undefined, value: unknown): value is string =>
    key !== undefined && guestNumberFields.has(key) && typeof value === 'string' && whatsAppId.test(value);
  for (const p of parsed) {
    if (p)
      walk(p.value, 0, (key, value) => (isGuestNumber(key, value) && numbers.add(value.replace(/^\+/, '')), value));
  }
  if (numbers.size === 0) return payloads;
  const pseudonym = (n: string) => `guest:${guestRefs.of(n.replace(/^\+/, ''))}`;
  // One pass, longest first, whole digit runs only: a pseudonym put in is never scanned again.
  const ordered = [...numbers].sort((a, b) => b.length - a.length);
  const quoted = new RegExp(`(?<![0-9])\\+?(${ordered.join('|')})(?![0-9])`, 'g');
  const replace = (key: string | undefined, value: unknown) => {
    if (isGuestNumber(key, value)) return pseudonym(value);
    return typeof value === 'string' ? value.replace(quoted, (_m, n: string) => pseudonym(n)) : value;
  };
  return payloads.map((p, i) => {
    const json = parsed[i];
    return json ? rewrite(p, walk(replace(undefined, json.value), 0, replace)) : p;
  });
}

function rewrite(payload: Payload, value: unknown): Payload {
  return { metadata: payload.metadata ?? {}, data: Buffer.from(JSON.stringify(value), 'utf8') };
}
