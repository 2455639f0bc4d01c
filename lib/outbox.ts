import type Redis from 'ioredis';
import type { Pool } from 'pg';
import type { z } from 'zod';
import type { Logger } from './log';

/**
 * A best-effort outbox from Redis to Postgres: writers append JSON entries to a Redis list (a Lua script in the same
 * atomic step as the change it records, or {@link appendToOutbox}), so they never wait on Postgres; a flusher in every
 * worker moves the entries into their table, retrying while Postgres is down. The hold audit (`lib/hold-audit.ts`)
 * and the interaction log (`lib/interactions.ts`) are the two outboxes.
 *
 * Delivery is at least once: a batch is inserted, then removed from the list only if it is still at its head, so
 * two flushers (two workers) may insert the same entries, and each entry's unique id keeps one copy. While Postgres is
 * down the list grows up to its bound; beyond that the oldest entries are dropped (best effort).
 */

/**
 * The outbox of one kind for one database: workers writing to the same Postgres share it, and a worker pointed at
 * another database (a test's own, a staging copy on the same Redis) never drains entries meant for this one.
 */
export function outboxKey(prefix: string, databaseUrl: string): string {
  const url = new URL(databaseUrl);
  return `${prefix}:${url.hostname}:${url.port || '5432'}${url.pathname}`;
}

/**
 * Appends entries to the outbox and trims it to its newest `max`, in one atomic step (`MULTI`): a writer that is not
 * a Lua script already. Rejects when Redis does not answer (the client has no offline queue).
 */
export async function appendToOutbox(redis: Redis, key: string, entries: unknown[], max: number): Promise<void> {
  if (entries.length === 0) return;
  const results = await redis
    .multi()
    .rpush(key, ...entries.map((e) => JSON.stringify(e)))
    .ltrim(key, -max, -1)
    .exec();
  const failed = results?.find(([err]) => err !== null)?.[0];
  if (!results || failed) throw failed ?? new Error('the outbox transaction was discarded');
}

/** Removes the head of the list only while it is what this flusher inserted: never entries another one has not seen. */
const popIfHeadScript = `
local n = 0
for i = 1, #ARGV do
  if redis.call('LINDEX', KEYS[1], 0) ~= ARGV[i] then break end
  redis.call('LPOP', KEYS[1])
  n = n + 1
end
return n
`;

export interface OutboxFlusherOptions<T> {
  redis: Redis;
  db: Pool;
  log: Logger;
  outboxKey: string;
  /** Names the outbox in logs ("hold audit", "interaction log"). */
  name: string;
  /** An entry as read back from the list; one that does not parse is dropped with a warning. */
  schema: z.ZodType<T>;
  /** Stores a batch; must be idempotent (a batch may be inserted twice). */
  insert(db: Pool, entries: T[]): Promise<void>;
  /** Between flushes while all is well. */
  intervalMs?: number;
  /** Longest wait between attempts while Postgres or Redis fails. */
  maxBackoffMs?: number;
  batchSize?: number;
}

export interface OutboxFlusher {
  /** Moves everything in the outbox to Postgres now; resolves with the number of entries handled. */
  flush(): Promise<number>;
  /** Stops the timer after a last flush (whose failure is only logged). */
  stop(): Promise<void>;
}

/** Starts the flusher of one outbox in one worker: every `intervalMs`, and with backoff while a flush fails. */
export function startOutboxFlusher<T>(options: OutboxFlusherOptions<T>): OutboxFlusher {
  const { redis, db, log, outboxKey: key, name, schema } = options;
  const intervalMs = options.intervalMs ?? 1_000;
  const maxBackoffMs = options.maxBackoffMs ?? 30_000;
  const batchSize = options.batchSize ?? 500;
  let chain: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let failures = 0;

  async function drain(): Promise<number> {
    let handled = 0;
    for (;;) {
      const raw = await redis.lrange(key, 0, batchSize - 1);
      if (raw.length === 0) return handled;
      const entries: T[] = [];
      for (const entry of raw) {
        let parsed;
        try {
          parsed = schema.safeParse(JSON.parse(entry));
        } catch {
          parsed = undefined;
        }
        if (parsed?.success) entries.push(parsed.data);
        else log.warn({ outboxKey: key }, `unreadable ${name} entry dropped`);
      }
      if (entries.length > 0) await options.insert(db, entries);
      const popped = Number(await redis.eval(popIfHeadScript, 1, key, ...raw));
      handled += popped;
      // Another flusher took this batch meanwhile (its entries are stored either way): look again from the head.
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
          if (failures > 0) log.info({ failures }, `${name} outbox flushed again`);
          failures = 0;
          schedule(intervalMs);
        },
        (err: unknown) => {
          failures++;
          // Once per outage, not once per attempt.
          if (failures === 1) log.warn({ err }, `${name} not flushed to Postgres yet; retrying`);
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
      await flush().catch((err: unknown) => log.warn({ err }, `${name} outbox not emptied at shutdown`));
    },
  };
}
