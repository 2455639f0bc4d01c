import type Redis from 'ioredis';
import type { Pool } from 'pg';
import { z } from 'zod';
import type { Logger } from './log';

/**
 * The audit trail of room holds, as a best-effort outbox. The hold scripts (activities/locks.ts) append each event
 * to a Redis list in the same atomic step as the hold change, so a hold's outcome never waits on Postgres; a flusher
 * in every worker moves the events into `room_hold_events`, retrying while Postgres is down.
 *
 * Delivery is at least once: a batch is inserted, then removed from the list only if it is still at its head, so
 * two flushers (two workers) may insert the same events, and the unique `event_id` keeps one copy. While Postgres is
 * down the list grows, up to {@link holdAuditOutboxMax} events; beyond that the oldest are dropped (best effort).
 */

/** Events kept while Postgres is unreachable; about 200 bytes each in Redis. */
export const holdAuditOutboxMax = 100_000;

/**
 * The outbox of one database: workers writing to the same Postgres share it, and a worker pointed at another
 * database (a test's own, a staging copy on the same Redis) never drains events meant for this one.
 */
export function holdAuditOutboxKey(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  return `hold:audit:${url.hostname}:${url.port || '5432'}${url.pathname}`;
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

/** Removes the head of the list only while it is what this flusher inserted: never events another one has not seen. */
const popIfHeadScript = `
local n = 0
for i = 1, #ARGV do
  if redis.call('LINDEX', KEYS[1], 0) ~= ARGV[i] then break end
  redis.call('LPOP', KEYS[1])
  n = n + 1
end
return n
`;

export interface HoldAuditFlusherOptions {
  redis: Redis;
  db: Pool;
  log: Logger;
  outboxKey: string;
  /** Between flushes while all is well. */
  intervalMs?: number;
  /** Longest wait between attempts while Postgres or Redis fails. */
  maxBackoffMs?: number;
  batchSize?: number;
}

export interface HoldAuditFlusher {
  /** Moves everything in the outbox to Postgres now; resolves with the number of events handled. */
  flush(): Promise<number>;
  /** Stops the timer after a last flush (whose failure is only logged). */
  stop(): Promise<void>;
}

/** Starts the flusher of one worker: every `intervalMs`, and with backoff while a flush fails. */
export function startHoldAuditFlusher(options: HoldAuditFlusherOptions): HoldAuditFlusher {
  const { redis, db, log, outboxKey } = options;
  const intervalMs = options.intervalMs ?? 1_000;
  const maxBackoffMs = options.maxBackoffMs ?? 30_000;
  const batchSize = options.batchSize ?? 500;
  let chain: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let failures = 0;

  async function insert(events: HoldEvent[]): Promise<void> {
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

  async function drain(): Promise<number> {
    let handled = 0;
    for (;;) {
      const raw = await redis.lrange(outboxKey, 0, batchSize - 1);
      if (raw.length === 0) return handled;
      const events: HoldEvent[] = [];
      for (const entry of raw) {
        let parsed;
        try {
          parsed = holdEventSchema.safeParse(JSON.parse(entry));
        } catch {
          parsed = undefined;
        }
        if (parsed?.success) events.push(parsed.data);
        else log.warn({ outboxKey }, 'unreadable hold audit event dropped');
      }
      if (events.length > 0) await insert(events);
      const popped = Number(await redis.eval(popIfHeadScript, 1, outboxKey, ...raw));
      handled += popped;
      // Another flusher took this batch meanwhile (its events are stored either way): look again from the head.
      if (popped === 0 && raw.length > 0) continue;
    }
  }

  function flush(): Promise<number> {
    const run = chain.then(drain);
    chain = run.catch(() => undefined);
    return run;
  }

  function schedule(delayMs: number): void {
    if (stopped) return;
    timer = setTimeout(() => {
      flush().then(
        () => {
          if (failures > 0) log.info({ failures }, 'hold audit outbox flushed again');
          failures = 0;
          schedule(intervalMs);
        },
        (err: unknown) => {
          failures++;
          // Once per outage, not once per attempt.
          if (failures === 1) log.warn({ err }, 'hold audit not flushed to Postgres yet; retrying');
          schedule(Math.min(maxBackoffMs, intervalMs * 2 ** failures));
        },
      );
    }, delayMs);
    timer.unref();
  }
  schedule(intervalMs);

  return {
    flush,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await flush().catch((err: unknown) => log.warn({ err }, 'hold audit outbox not emptied at shutdown'));
    },
  };
}
