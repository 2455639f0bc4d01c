import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { holdAuditOutboxKey, startHoldAuditFlusher, type HoldAuditFlusher } from '../../lib/hold-audit';
import { createLockActivities, holdKey } from '../../activities/locks';
import { waitFor } from '../../dev/process';
import { startRedis, type RedisServer } from '../../dev/redis';
import { createPool } from '../../lib/db/pool';
import { ErrorType } from '../../lib/domain/errors';
import { createLogger } from '../../lib/log';
import { createRedis, type Redis } from '../../lib/redis';
import { testConfig, testEnv } from '../helpers/env';

const log = createLogger({ level: 'silent' });
const db = createPool(testConfig().databaseUrl, { max: 4 });
let redis: Redis;
let seq = 0;
const tenantId = `t-locks-${process.pid}`;
const room = () => `room-${Date.now().toString(36)}-${++seq}`;
const env = new MockActivityEnvironment();

const auditOutboxKey = holdAuditOutboxKey(testConfig().databaseUrl);
let flusher: HoldAuditFlusher;

function locks(ttlSeconds = 900, client: Redis = redis) {
  return createLockActivities({ redis: client, log, holds: { ttlSeconds, maxExtensions: 2 }, auditOutboxKey });
}

/** The hold's audit trail in Postgres, once the outbox has been flushed. */
async function events(roomId: string): Promise<string[]> {
  await flusher.flush();
  const { rows } = await db.query<{ event: string }>(
    'SELECT event FROM room_hold_events WHERE tenant_id = $1 AND room_id = $2 ORDER BY id',
    [tenantId, roomId],
  );
  return rows.map((r) => r.event);
}

beforeAll(async () => {
  redis = createRedis(testEnv().redis.url);
  await waitFor('redis', () => redis.status === 'ready');
  flusher = startHoldAuditFlusher({ redis, db, log, outboxKey: auditOutboxKey });
});

afterAll(async () => {
  await flusher.stop();
  redis.disconnect();
  await db.end();
});

describe('room holds', () => {
  it('holds a room, refuses an overlapping range to another owner, allows an adjacent one', async () => {
    const l = locks();
    const roomId = room();
    const a = { tenantId, roomId, owner: 'booking-a', checkIn: '2027-03-03', checkOut: '2027-03-05' };
    expect(await env.run(l.acquireHold, a)).toMatchObject({ kind: 'held' });
    expect(
      await env.run(l.acquireHold, { ...a, owner: 'booking-b', checkIn: '2027-03-04', checkOut: '2027-03-06' }),
    ).toEqual({
      kind: 'conflict',
    });
    expect(
      await env.run(l.acquireHold, { ...a, owner: 'booking-c', checkIn: '2027-03-01', checkOut: '2027-03-10' }),
    ).toEqual({
      kind: 'conflict',
    });
    // Check-out day of one stay is the check-in day of the next: no overlap.
    expect(
      await env.run(l.acquireHold, { ...a, owner: 'booking-d', checkIn: '2027-03-05', checkOut: '2027-03-07' }),
    ).toMatchObject({
      kind: 'held',
    });
    expect(await events(roomId)).toEqual(['acquired', 'conflict', 'conflict', 'acquired']);
  });

  it('is idempotent for the same owner and range, so a retried activity keeps its hold', async () => {
    const l = locks();
    const input = { tenantId, roomId: room(), owner: 'booking-a', checkIn: '2027-04-01', checkOut: '2027-04-03' };
    const first = await env.run(l.acquireHold, input);
    const again = await env.run(l.acquireHold, input);
    expect(again).toEqual(first);
    expect(await events(input.roomId)).toEqual(['acquired']);
  });

  it('refuses the same owner asking for a different range of the same room', async () => {
    const l = locks();
    const input = { tenantId, roomId: room(), owner: 'booking-a', checkIn: '2027-04-01', checkOut: '2027-04-03' };
    await env.run(l.acquireHold, input);
    await expect(env.run(l.acquireHold, { ...input, checkOut: '2027-04-04' })).rejects.toMatchObject({
      type: ErrorType.InvalidDates,
      nonRetryable: true,
    });
  });

  it('rejects an impossible range without touching Redis', async () => {
    const roomId = room();
    await expect(
      env.run(locks().acquireHold, { tenantId, roomId, owner: 'x', checkIn: '2027-04-05', checkOut: '2027-04-05' }),
    ).rejects.toMatchObject({ type: ErrorType.InvalidDates, nonRetryable: true });
    expect(await redis.exists(holdKey(tenantId, roomId))).toBe(0);
  });

  it('drops expired holds when the next guest asks', async () => {
    const l = locks(1);
    const input = { tenantId, roomId: room(), owner: 'booking-a', checkIn: '2027-05-01', checkOut: '2027-05-03' };
    await env.run(l.acquireHold, input);
    expect(await env.run(l.acquireHold, { ...input, owner: 'booking-b' })).toEqual({ kind: 'conflict' });
    await waitFor(
      'the first hold to expire',
      async () => {
        const result: { kind: string } = await env.run(l.acquireHold, { ...input, owner: 'booking-b' });
        return result.kind === 'held';
      },
      { timeoutMs: 5_000, intervalMs: 250 },
    );
  });

  it('extends a hold at most twice, and only for its owner', async () => {
    const l = locks();
    const input = { tenantId, roomId: room(), owner: 'booking-a', checkIn: '2027-06-01', checkOut: '2027-06-02' };
    await env.run(l.acquireHold, input);
    const key = { tenantId, roomId: input.roomId };
    expect(await env.run(l.extendHold, { ...key, owner: 'booking-b' })).toEqual({
      kind: 'refused',
      reason: 'not_held',
    });
    expect(await env.run(l.extendHold, { ...key, owner: 'booking-a' })).toMatchObject({
      kind: 'extended',
      extensionsLeft: 1,
    });
    expect(await env.run(l.extendHold, { ...key, owner: 'booking-a' })).toMatchObject({
      kind: 'extended',
      extensionsLeft: 0,
    });
    expect(await env.run(l.extendHold, { ...key, owner: 'booking-a' })).toEqual({
      kind: 'refused',
      reason: 'max_extensions',
    });
    expect(await events(input.roomId)).toEqual([
      'acquired',
      'extend_refused',
      'extended',
      'extended',
      'extend_refused',
    ]);
  });

  it('is released only by its owner', async () => {
    const l = locks();
    const input = { tenantId, roomId: room(), owner: 'booking-a', checkIn: '2027-07-01', checkOut: '2027-07-04' };
    await env.run(l.acquireHold, input);
    const key = { tenantId, roomId: input.roomId };
    expect(await env.run(l.releaseHold, { ...key, owner: 'booking-b' })).toEqual({ kind: 'not_held' });
    expect(await env.run(l.acquireHold, { ...input, owner: 'booking-b' })).toEqual({ kind: 'conflict' });
    expect(await env.run(l.releaseHold, { ...key, owner: 'booking-a' })).toEqual({ kind: 'released' });
    expect(await env.run(l.releaseHold, { ...key, owner: 'booking-a' })).toEqual({ kind: 'not_held' });
    expect(await env.run(l.acquireHold, { ...input, owner: 'booking-b' })).toMatchObject({ kind: 'held' });
  });

  it('keeps tenants apart: the same room id of two tenants never conflicts', async () => {
    const l = locks();
    const roomId = room();
    const input = { roomId, owner: 'booking-a', checkIn: '2027-08-01', checkOut: '2027-08-04' };
    expect(await env.run(l.acquireHold, { ...input, tenantId })).toMatchObject({ kind: 'held' });
    expect(await env.run(l.acquireHold, { ...input, tenantId: `${tenantId}-other`, owner: 'booking-b' })).toMatchObject(
      {
        kind: 'held',
      },
    );
  });

  it('gives exactly one of 50 concurrent guests the room', async () => {
    const l = locks();
    const roomId = room();
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        env.run(l.acquireHold, {
          tenantId,
          roomId,
          owner: `booking-${i}`,
          // overlapping ranges of different lengths
          checkIn: `2027-09-0${1 + (i % 3)}`,
          checkOut: `2027-09-0${5 + (i % 4)}`,
        }),
      ),
    );
    expect(results.filter((r) => (r as { kind: string }).kind === 'held')).toHaveLength(1);
    expect(await redis.hlen(holdKey(tenantId, roomId))).toBe(1);
  });
});

describe('while Redis is down', () => {
  let dir: string;
  let own: RedisServer;
  let client: Redis;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'hm-locks-redis-'));
    own = await startRedis({ dir });
    client = createRedis(own.url);
    await waitFor('redis', () => client.status === 'ready');
  });

  afterAll(async () => {
    client.disconnect();
    await own.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('fails retryably, then holds again once Redis is back', async () => {
    const l = locks(900, client);
    const input = { tenantId, roomId: room(), owner: 'booking-a', checkIn: '2027-10-01', checkOut: '2027-10-03' };
    await own.stop();
    const failure = await env.run(l.acquireHold, input).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: ErrorType.HoldStoreUnavailable, nonRetryable: false });
    await own.start();
    await waitFor('the client to reconnect', () => client.status === 'ready', { timeoutMs: 10_000 });
    expect(await env.run(l.acquireHold, input)).toMatchObject({ kind: 'held' });
  });
});
