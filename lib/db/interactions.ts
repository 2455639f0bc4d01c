import { randomUUID } from 'node:crypto';
import type { Queryable } from './queries';

/**
 * Per-tenant, per-day figures from the interaction log (`interactions`, see lib/interactions.ts), in the tenant's own
 * time zone. A guest message counts on the day the guest sent it (Meta's timestamp); a reply, and the booking outcome
 * it carries, on the day of the message it answers, so a day's answers stay with its questions past midnight.
 */

/** Figures over a set of rows: one day, or the whole range. */
export interface Figures {
  /** Guest messages, each once (redeliveries are in `duplicatesDropped`). */
  messagesIn: number;
  /** Messages WhatsApp accepted for guests: the bot's replies and the booking saga's messages. */
  messagesOut: number;
  /** Redeliveries of a message already taken in, dropped. */
  duplicatesDropped: number;
  /** Guest messages by what they were understood as (messages nothing was understood from are not here). */
  intents: Record<string, number>;
  /** Guest messages by WhatsApp type (text, audio, image, ...). */
  types: Record<string, number>;
  /** Guest messages by what became of them. */
  outcomes: { answered: number; handed_off: number; failed: number; no_reply: number };
  /**
   * From the conversation taking a guest message in to the first reply WhatsApp accepted for it, over the messages
   * that got one; nearest-rank percentiles (each is a measured time), null when none got a reply.
   */
  firstResponseMs: { count: number; median: number | null; p95: number | null };
  /** Conversations with at least one guest message. */
  conversations: number;
  /** Of those, the ones with at least one message handed off to staff. */
  handedOffConversations: number;
  /** `handedOffConversations / conversations`; null without conversations. */
  handoffRate: number | null;
  /** Booking sagas by how they ended (confirmed, or failed, unavailable, cancelled), as the guest was told. */
  bookings: { confirmed: number; failed: number; unavailable: number; cancelled: number };
}

export interface DayFigures extends Figures {
  /** YYYY-MM-DD in the tenant's time zone. */
  date: string;
}

export interface TenantAnalytics {
  tenantId: string;
  timezone: string;
  from: string;
  to: string;
  days: DayFigures[];
  total: Figures;
}

interface ScalarRow {
  day: string | null;
  messages_in: number;
  messages_out: number;
  duplicates: number;
  answered: number;
  handed_off: number;
  failed: number;
  no_reply: number;
  responded: number;
  median: number | null;
  p95: number | null;
  conversations: number;
  handed_off_conversations: number;
  confirmed: number;
  booking_failed: number;
  unavailable: number;
  cancelled: number;
}

interface BreakdownRow {
  day: string | null;
  kind: 'intent' | 'type';
  key: string;
  n: number;
}

/** The tenant's rows in [from, to] (whole days in `timezone`), each with the day it counts on. */
const rangeRows = `
  WITH r AS (
    SELECT to_char((counts_at AT TIME ZONE $2)::date, 'YYYY-MM-DD') AS day, direction, outcome, intent, type,
           latency_ms, conversation_ref, booking_outcome
      FROM interactions
     WHERE tenant_id = $1
       AND counts_at >= ($3::date)::timestamp AT TIME ZONE $2
       AND counts_at < ($4::date + 1)::timestamp AT TIME ZONE $2
  )`;

const guestMessage = `direction = 'in' AND outcome <> 'duplicate_dropped'`;

/** Every date from `from` to `to`, both included (YYYY-MM-DD). */
export function datesBetween(from: string, to: string): string[] {
  const dates: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += 86_400_000) {
    dates.push(new Date(t).toISOString().slice(0, 10));
  }
  return dates;
}

function empty(): Figures {
  return {
    messagesIn: 0,
    messagesOut: 0,
    duplicatesDropped: 0,
    intents: {},
    types: {},
    outcomes: { answered: 0, handed_off: 0, failed: 0, no_reply: 0 },
    firstResponseMs: { count: 0, median: null, p95: null },
    conversations: 0,
    handedOffConversations: 0,
    handoffRate: null,
    bookings: { confirmed: 0, failed: 0, unavailable: 0, cancelled: 0 },
  };
}

function figures(row: ScalarRow): Figures {
  return {
    messagesIn: row.messages_in,
    messagesOut: row.messages_out,
    duplicatesDropped: row.duplicates,
    intents: {},
    types: {},
    outcomes: { answered: row.answered, handed_off: row.handed_off, failed: row.failed, no_reply: row.no_reply },
    firstResponseMs: { count: row.responded, median: row.median, p95: row.p95 },
    conversations: row.conversations,
    handedOffConversations: row.handed_off_conversations,
    handoffRate: row.conversations > 0 ? row.handed_off_conversations / row.conversations : null,
    bookings: {
      confirmed: row.confirmed,
      failed: row.booking_failed,
      unavailable: row.unavailable,
      cancelled: row.cancelled,
    },
  };
}

/**
 * The figures of `tenantId` for each day from `from` to `to` (YYYY-MM-DD, both included, in `timezone`), and over the
 * whole range. Days without rows are there, with zeros.
 */
export async function tenantAnalytics(
  db: Queryable,
  range: { tenantId: string; timezone: string; from: string; to: string },
): Promise<TenantAnalytics> {
  const args = [range.tenantId, range.timezone, range.from, range.to];
  const scalars = await db.query<ScalarRow>(
    `${rangeRows}
     SELECT day,
            count(*) FILTER (WHERE ${guestMessage})::int AS messages_in,
            count(*) FILTER (WHERE direction = 'out')::int AS messages_out,
            count(*) FILTER (WHERE outcome = 'duplicate_dropped')::int AS duplicates,
            count(*) FILTER (WHERE direction = 'in' AND outcome = 'answered')::int AS answered,
            count(*) FILTER (WHERE direction = 'in' AND outcome = 'handed_off')::int AS handed_off,
            count(*) FILTER (WHERE direction = 'in' AND outcome = 'failed')::int AS failed,
            count(*) FILTER (WHERE direction = 'in' AND outcome = 'no_reply')::int AS no_reply,
            count(latency_ms)::int AS responded,
            percentile_disc(0.5) WITHIN GROUP (ORDER BY latency_ms) AS median,
            percentile_disc(0.95) WITHIN GROUP (ORDER BY latency_ms) AS p95,
            count(DISTINCT conversation_ref) FILTER (WHERE ${guestMessage})::int AS conversations,
            count(DISTINCT conversation_ref) FILTER (WHERE direction = 'in' AND outcome = 'handed_off')::int
              AS handed_off_conversations,
            count(*) FILTER (WHERE booking_outcome = 'confirmed')::int AS confirmed,
            count(*) FILTER (WHERE booking_outcome = 'failed')::int AS booking_failed,
            count(*) FILTER (WHERE booking_outcome = 'unavailable')::int AS unavailable,
            count(*) FILTER (WHERE booking_outcome = 'cancelled')::int AS cancelled
       FROM r
      GROUP BY GROUPING SETS ((day), ())`,
    args,
  );
  const breakdowns = await db.query<BreakdownRow>(
    `${rangeRows}
     SELECT day, 'intent' AS kind, intent AS key, count(*)::int AS n FROM r
      WHERE ${guestMessage} AND intent IS NOT NULL GROUP BY GROUPING SETS ((day, intent), (intent))
     UNION ALL
     SELECT day, 'type' AS kind, type AS key, count(*)::int AS n FROM r
      WHERE ${guestMessage} GROUP BY GROUPING SETS ((day, type), (type))
      ORDER BY kind, key`,
    args,
  );

  const byDay = new Map<string | null, Figures>();
  for (const row of scalars.rows) byDay.set(row.day, figures(row));
  const total = byDay.get(null) ?? empty();
  for (const row of breakdowns.rows) {
    const target = row.day === null ? total : byDay.get(row.day);
    if (target) (row.kind === 'intent' ? target.intents : target.types)[row.key] = row.n;
  }
  return {
    tenantId: range.tenantId,
    timezone: range.timezone,
    from: range.from,
    to: range.to,
    days: datesBetween(range.from, range.to).map((date) => ({ date, ...(byDay.get(date) ?? empty()) })),
    total,
  };
}

/**
 * Takes a conversation out of the interaction log for a guest's erasure: its reference becomes an opaque token of its
 * own (so the per-day counts stay right), and its text hashes and WhatsApp message ids go. Returns the rows changed.
 */
export async function scrubInteractions(db: Queryable, conversationRef: string): Promise<number> {
  const { rowCount } = await db.query(
    `UPDATE interactions
        SET conversation_ref = $2, text_hash = NULL, message_id = NULL, reply_to = NULL
      WHERE conversation_ref = $1`,
    [conversationRef, `erased:${randomUUID()}`],
  );
  return rowCount ?? 0;
}
