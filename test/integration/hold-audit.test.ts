import { MockActivityEnvironment } from '@temporalio/testing';
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { holdAuditOutboxKey, startHoldAuditFlusher } from '../../lib/hold-audit';
import { createLockActivities } from '../../activities/locks';
import { startPostgres, type PostgresServer } from '../../dev/postgres';
import { waitFor } from '../../dev/process';
import { migrate } from '../../lib/db/migrate';
import { createPool } from '../../lib/db/pool';
import { createLogger } from '../../lib/log';
import { createRedis, type Redis } from '../../lib/redis';
import { testEnv } from '../helpers/env';

/**
 * The hold audit is an outbox: a Postgres outage never fails a hold or its release. On a Postgres of this test's
 * own, since it is stopped mid-test.
 */
const log = createLogger({ level: 'silent' });
const env = new MockActivityEnvironment();
let dir: string;
let postgres: PostgresServer;
let redis: Redis;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'hm-hold-audit-'));
  chmodSync(dir, 0o755);
  postgres = await startPostgres({ dataDir: path.join(dir, 'pg'), fast: true });
  const pool = createPool(postgres.url, { max: 1 });
  await migrate(pool);
  await pool.end();
  redis = createRedis(testEnv().redis.url);
  await waitFor('redis', () => redis.status === 'ready');
});

afterAll(async () => {
  redis?.disconnect();
  await postgres?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

it('acquires and releases holds while Postgres is down; the events reach Postgres once it is back', async () => {
  const db = createPool(postgres.url, { max: 2 });
  const outboxKey = holdAuditOutboxKey(postgres.url);
  const locks = createLockActivities({
    redis,
    log,
    holds: { ttlSeconds: 900, maxExtensions: 2 },
    auditOutboxKey: outboxKey,
  });
  const flusher = startHoldAuditFlusher({ redis, db, log, outboxKey, intervalMs: 100, maxBackoffMs: 500 });
  const events = async (roomId: string) =>
    (
      await db.query<{ event: string; owner: string }>(
        'SELECT event, owner FROM room_hold_events WHERE room_id = $1 ORDER BY at, id',
        [roomId],
      )
    ).rows;
  try {
    const roomId = `room-${randomUUID()}`;
    const hold = { tenantId: 't-audit', roomId, owner: 'booking-a', checkIn: '2031-05-01', checkOut: '2031-05-03' };
    await postgres.stop();
    expect(await env.run(locks.acquireHold, hold)).toMatchObject({ kind: 'held' });
    expect(await env.run(locks.acquireHold, { ...hold, owner: 'booking-b' })).toEqual({ kind: 'conflict' });
    expect(await env.run(locks.extendHold, hold)).toMatchObject({ kind: 'extended' });
    // The release succeeds at once, so compensation is never blocked and no retry records "release_refused".
    expect(await env.run(locks.releaseHold, hold)).toEqual({ kind: 'released' });

    await postgres.start();
    await waitFor('the events in Postgres', async () => (await events(roomId).catch(() => [])).length === 4, {
      timeoutMs: 30_000,
    });
    expect(await events(roomId)).toEqual([
      { event: 'acquired', owner: 'booking-a' },
      { event: 'conflict', owner: 'booking-b' },
      { event: 'extended', owner: 'booking-a' },
      { event: 'released', owner: 'booking-a' },
    ]);
    // A second flush (another worker's, say) stores nothing twice.
    await flusher.flush();
    expect(await events(roomId)).toHaveLength(4);
  } finally {
    await flusher.stop();
    await db.end();
  }
}, 90_000);
