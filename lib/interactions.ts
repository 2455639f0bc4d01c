import type Redis from 'ioredis';
import { conversationWorkflowId } from './domain/messages';
import type { GuestRefs } from './guest-refs';
import { createHmac, hkdfSync } from 'node:crypto';
import type { Pool } from 'pg';
import { z } from 'zod';
import {
  bookingOutcomeKinds,
  interactionOutcomes,
  type BookingOutcomeKind,
  type InboundInteraction,
} from './domain/interactions';
import { appendToOutbox, outboxKey, startOutboxFlusher, type OutboxFlusher, type OutboxFlusherOptions } from './outbox';

/**
 * The interaction log: one row per guest message and per message sent to a guest, in Postgres `interactions`, for the
 * per-tenant analytics (`lib/db/analytics.ts`). Rows travel through a best-effort outbox (`lib/outbox.ts`, as the
 * hold audit does): the activities append them to a Redis list, a flusher in every worker moves them to Postgres and
 * links each reply to the guest message it answers (`reply_to`), which gives that message its first-response time.
 * Writing a row never delays or fails a reply. No text is kept: only its keyed hash ({@link createTextHasher}).
 */

/** Rows kept while Postgres is unreachable; about 400 bytes each in Redis. */
export const interactionsOutboxMax = 100_000;

/** The interaction log's outbox for the database at `databaseUrl`. */
export function interactionsOutboxKey(databaseUrl: string): string {
  return outboxKey('interactions:outbox', databaseUrl);
}

/** One row of `interactions`, as the outbox carries it (times in Unix ms). */
export const interactionRowSchema = z.object({
  /** The row's idempotency key: a retried write, or a batch flushed twice, is stored once. */
  key: z.string().min(1).max(400),
  tenantId: z.string().min(1).max(64),
  /** {@link conversationRef}: the business number and the guest's keyed reference. */
  conversationRef: z.string().min(1).max(300).nullable(),
  direction: z.enum(['in', 'out']),
  messageId: z.string().max(300).nullable(),
  /** Outbound: the guest message it answers. */
  replyTo: z.string().max(300).nullable(),
  type: z.string().min(1).max(40),
  intent: z.string().max(60).nullable(),
  textHash: z.string().max(64).nullable(),
  at: z.number().int(),
  receivedAt: z.number().int().nullable(),
  outcome: z.enum(interactionOutcomes),
  bookingOutcome: z.enum(bookingOutcomeKinds).nullable(),
});
export type InteractionRow = z.output<typeof interactionRowSchema>;

/** Text as it is hashed: Unicode-normalized, trimmed, spaces collapsed, lower case, so "Hola " and "hola" agree. */
export function normalizeForHash(text: string): string {
  return text.normalize('NFKC').trim().replace(/\s+/gu, ' ').toLowerCase();
}

/**
 * The keyed hash of a message's text: HMAC-SHA-256 under a key derived (HKDF) from `GUEST_REF_KEY` for this one use,
 * hex. The same text hashes alike within a deployment (repeated questions can be counted) but cannot be recomputed,
 * or guessed by hashing likely texts, without the key; and a text hash never equals a guest reference.
 */
export function createTextHasher(guestRefKey: string): (text: string) => string {
  if (guestRefKey.length === 0) throw new RangeError('the guest reference key must not be empty');
  const key = Buffer.from(hkdfSync('sha256', guestRefKey, 'hotel-messaging', 'interaction text hash v1', 32));
  return (text) => createHmac('sha256', key).update(normalizeForHash(text)).digest('hex');
}

/** Where the activities write rows. */
export interface InteractionLog {
  /** Appends rows to the outbox in one atomic step; rejects when Redis does not answer. */
  append(rows: InteractionRow[]): Promise<void>;
  /** The keyed hash of a text ({@link createTextHasher}). */
  hashText(text: string): string;
}

export function createInteractionLog({
  redis,
  outboxKey: key,
  guestRefKey,
}: {
  redis: Redis;
  outboxKey: string;
  guestRefKey: string;
}): InteractionLog {
  const hashText = createTextHasher(guestRefKey);
  return {
    append: (rows) => appendToOutbox(redis, key, rows, interactionsOutboxMax),
    hashText,
  };
}

/**
 * A conversation as the interaction log names it: `wa:<phone_number_id>:<guest ref>`, the guest's keyed pseudonym
 * (`GUEST_REF_KEY`) in place of the number, the same for every row of the conversation whoever writes it (the
 * conversation, the booking saga's messages); never the guest's number.
 */
export function conversationRef(guestRefs: GuestRefs, phoneNumberId: string, waId: string): string {
  // The conversation's own workflow id, by construction.
  return conversationWorkflowId(phoneNumberId, guestRefs.of(waId));
}

/** The rows of the guest messages one `recordInteractions` call reports. */
export function inboundRows(
  log: Pick<InteractionLog, 'hashText'>,
  tenantId: string,
  conversationRef: string,
  messages: InboundInteraction[],
): InteractionRow[] {
  return messages.map((m) => ({
    // A duplicate is a delivery of its own: keyed by when it came, so two redeliveries are two rows.
    key:
      m.outcome === 'duplicate_dropped'
        ? `dup:${conversationRef}:${m.messageId}:${m.receivedAt}`
        : `in:${conversationRef}:${m.messageId}`,
    tenantId,
    conversationRef,
    direction: 'in',
    messageId: m.messageId,
    replyTo: null,
    type: m.type,
    intent: m.intent ?? null,
    textHash: m.text ? log.hashText(m.text) : null,
    at: m.at,
    receivedAt: m.receivedAt,
    outcome: m.outcome,
    bookingOutcome: null,
  }));
}

/** The row of a message WhatsApp accepted for a guest. */
export function outboundRow(
  log: Pick<InteractionLog, 'hashText'>,
  sent: {
    tenantId: string;
    /** {@link conversationRef} of the guest it went to. */
    conversationRef: string;
    /** Meta's id of the message; null when Meta accepted it without one. */
    messageId: string | null;
    /** What identifies this send when Meta gave no id: the sending run, the activity and its attempt. */
    sendKey: string;
    replyTo: string | undefined;
    text: string;
    at: number;
    bookingOutcome: BookingOutcomeKind | undefined;
  },
): InteractionRow {
  return {
    key: sent.messageId !== null ? `out:${sent.messageId}` : `out:${sent.conversationRef}:${sent.sendKey}`,
    tenantId: sent.tenantId,
    conversationRef: sent.conversationRef,
    direction: 'out',
    messageId: sent.messageId,
    replyTo: sent.replyTo ?? null,
    type: 'text',
    intent: null,
    textHash: log.hashText(sent.text),
    at: sent.at,
    receivedAt: null,
    outcome: 'answered',
    bookingOutcome: sent.bookingOutcome ?? null,
  };
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * Stores a batch (a row already stored, by its key, is skipped), then links replies and the messages they answer in
 * both directions, whichever arrived first: a reply counts on the day of the message it answers, and the message's
 * `latency_ms` runs from its receipt to its first reply. Idempotent.
 */
export async function insertInteractions(db: Pool, rows: InteractionRow[]): Promise<void> {
  const records = rows.map((r) => ({
    record_key: r.key,
    tenant_id: r.tenantId,
    conversation_ref: r.conversationRef,
    direction: r.direction,
    message_id: r.messageId,
    reply_to: r.replyTo,
    type: r.type,
    intent: r.intent,
    text_hash: r.textHash,
    at: iso(r.at),
    received_at: iso(r.receivedAt),
    outcome: r.outcome,
    booking_outcome: r.bookingOutcome,
  }));
  await db.query(
    `INSERT INTO interactions (record_key, tenant_id, conversation_ref, direction, message_id, reply_to, type, intent,
                               text_hash, at, received_at, counts_at, outcome, booking_outcome)
     SELECT record_key, tenant_id, conversation_ref, direction, message_id, reply_to, type, intent,
            text_hash, at, received_at, at, outcome, booking_outcome
       FROM jsonb_to_recordset($1::jsonb) AS r(record_key text, tenant_id text, conversation_ref text, direction text,
            message_id text, reply_to text, type text, intent text, text_hash text, at timestamptz,
            received_at timestamptz, outcome text, booking_outcome text)
     ON CONFLICT (record_key) DO NOTHING`,
    [JSON.stringify(records)],
  );
  const linked = [
    ...new Set(rows.flatMap((r) => (r.direction === 'in' ? [r.messageId] : [r.replyTo])).filter((id) => id !== null)),
  ];
  if (linked.length === 0) return;
  await db.query(
    `UPDATE interactions o SET counts_at = i.at
       FROM interactions i
      WHERE o.direction = 'out' AND o.reply_to = ANY($1::text[])
        AND i.direction = 'in' AND i.outcome <> 'duplicate_dropped'
        AND i.tenant_id = o.tenant_id AND i.message_id = o.reply_to
        AND o.counts_at <> i.at`,
    [linked],
  );
  await db.query(
    `UPDATE interactions i
        SET latency_ms = GREATEST(0, round(extract(epoch FROM f.first_at - i.received_at) * 1000))::int
       FROM (SELECT tenant_id, reply_to, min(at) AS first_at FROM interactions
              WHERE direction = 'out' AND reply_to = ANY($1::text[]) GROUP BY tenant_id, reply_to) f
      WHERE i.direction = 'in' AND i.outcome <> 'duplicate_dropped' AND i.received_at IS NOT NULL
        AND i.tenant_id = f.tenant_id AND i.message_id = f.reply_to
        AND i.latency_ms IS DISTINCT FROM GREATEST(0, round(extract(epoch FROM f.first_at - i.received_at) * 1000))::int`,
    [linked],
  );
}

export type InteractionsFlusherOptions = Omit<OutboxFlusherOptions<InteractionRow>, 'name' | 'schema' | 'insert'>;

/** Starts the interaction log's flusher in one worker. */
export function startInteractionsFlusher(options: InteractionsFlusherOptions): OutboxFlusher {
  return startOutboxFlusher({
    ...options,
    name: 'interaction log',
    schema: interactionRowSchema,
    insert: insertInteractions,
  });
}
