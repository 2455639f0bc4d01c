import type { Pool } from 'pg';
import { z } from 'zod';
import { outboxKey, startOutboxFlusher, type OutboxFlusher, type OutboxFlusherOptions } from './outbox';

/**
 * The audit trail of room holds, as a best-effort outbox (`lib/outbox.ts`). The hold scripts (activities/locks.ts)
 * append each event to a Redis list in the same atomic step as the hold change, so a hold's outcome never waits on
 * Postgres; a flusher in every worker moves the events into `room_hold_events`, retrying while Postgres is down.
 * The unique `event_id` keeps one copy of an event inserted twice. While Postgres is down the list grows, up to
 * {@link holdAuditOutboxMax} events; beyond that the oldest are dropped (best effort).
 */

/** Events kept while Postgres is unreachable; about 200 bytes each in Redis. */
export const holdAuditOutboxMax = 100_000;

/**
 * The outbox of one database: workers writing to the same Postgres share it, and a worker pointed at another
 * database (a test's own, a staging copy on the same Redis) never drains events meant for this one.
 */
export function holdAuditOutboxKey(databaseUrl: string): string {
  return outboxKey('hold:audit', databaseUrl);
}

export const holdEventSchema = z.object({
  id: z.string().min(1).max(100),
  /** Redis time, Unix ms. */
  at: z.number().int().positive(),
  tenantId: z.string().min(1),
  roomId: z.string().min(1),
  checkIn: z.string().optional(),
  checkOut: z.string().optional(),
  owner: z.string().min(1),
  event: z.enum(['acquired', 'conflict', 'extended', 'extend_refused', 'released', 'release_refused']),
  // cjson encodes an empty Lua table as {} (and a non-empty one as an object, keyed as we wrote it).
  details: z.record(z.string(), z.unknown()).or(z.array(z.never()).transform(() => ({}))),
});
export type HoldEvent = z.output<typeof holdEventSchema>;

export type HoldAuditFlusherOptions = Omit<OutboxFlusherOptions<HoldEvent>, 'name' | 'schema' | 'insert'>;
export type HoldAuditFlusher = OutboxFlusher;

/** Stores a batch of hold events; an event already stored (same `event_id`) is skipped. */
async function insertHoldEvents(db: Pool, events: HoldEvent[]): Promise<void> {
  const rows = events.map((e) => ({
    event_id: e.id,
    at: new Date(e.at).toISOString(),
    tenant_id: e.tenantId,
    room_id: e.roomId,
    check_in: e.checkIn || null,
    check_out: e.checkOut || null,
    owner: e.owner,
    event: e.event,
    details: e.details,
  }));
  await db.query(
    `INSERT INTO room_hold_events (event_id, at, tenant_id, room_id, check_in, check_out, owner, event, details)
     SELECT event_id, at, tenant_id, room_id, check_in, check_out, owner, event, details
       FROM jsonb_to_recordset($1::jsonb) AS e(event_id text, at timestamptz, tenant_id text, room_id text,
            check_in date, check_out date, owner text, event text, details jsonb)
     ON CONFLICT (event_id) DO NOTHING`,
    [JSON.stringify(rows)],
  );
}

/** Starts the hold audit's flusher in one worker: every `intervalMs`, and with backoff while a flush fails. */
export function startHoldAuditFlusher(options: HoldAuditFlusherOptions): HoldAuditFlusher {
  return startOutboxFlusher({ ...options, name: 'hold audit', schema: holdEventSchema, insert: insertHoldEvents });
}
