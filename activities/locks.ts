import { ApplicationFailure } from '@temporalio/activity';
import type Redis from 'ioredis';
import type { Pool } from 'pg';
import { ErrorType } from '../lib/domain/errors';
import type { Logger } from '../lib/log';

/**
 * Room holds in Redis. All holds of one room live in one hash (`hold:<tenant>:<room>`, field = owner),
 * so one Lua script can drop expired holds, check the requested range against every live hold of that
 * room and write the new hold atomically: no SCAN-then-SET race between two guests.
 * Time is Redis's own clock (`TIME`), so workers with skewed clocks agree on expiry.
 */
const acquireScript = `
local key = KEYS[1]
local owner, checkIn, checkOut, ttlMs = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local entries = redis.call('HGETALL', key)
local maxExpiry = now + ttlMs
for i = 1, #entries, 2 do
  local holder, hold = entries[i], cjson.decode(entries[i + 1])
  if hold.expiresAt <= now then
    redis.call('HDEL', key, holder)
  elseif holder == owner then
    if hold.checkIn == checkIn and hold.checkOut == checkOut then
      return {'held', tostring(hold.expiresAt), tostring(hold.extensions)}
    end
    return {'owner_mismatch', tostring(hold.expiresAt), hold.checkIn .. '/' .. hold.checkOut}
  elseif hold.checkIn < checkOut and checkIn < hold.checkOut then
    return {'conflict', tostring(hold.expiresAt), hold.checkIn .. '/' .. hold.checkOut}
  else
    if hold.expiresAt > maxExpiry then maxExpiry = hold.expiresAt end
  end
end
local expiresAt = now + ttlMs
redis.call('HSET', key, owner, cjson.encode({checkIn = checkIn, checkOut = checkOut, expiresAt = expiresAt, extensions = 0}))
redis.call('PEXPIREAT', key, maxExpiry)
return {'acquired', tostring(expiresAt), '0'}
`;

const extendScript = `
local key = KEYS[1]
local owner, ttlMs, maxExtensions = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local raw = redis.call('HGET', key, owner)
if not raw then return {'not_held', '0', '0'} end
local hold = cjson.decode(raw)
if hold.expiresAt <= now then
  redis.call('HDEL', key, owner)
  return {'not_held', '0', '0'}
end
if hold.extensions >= maxExtensions then return {'max_extensions', tostring(hold.expiresAt), tostring(hold.extensions)} end
hold.extensions = hold.extensions + 1
hold.expiresAt = now + ttlMs
redis.call('HSET', key, owner, cjson.encode(hold))
if redis.call('PTTL', key) < ttlMs then redis.call('PEXPIRE', key, ttlMs) end
return {'extended', tostring(hold.expiresAt), tostring(hold.extensions)}
`;

const releaseScript = `
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 'not_held' end
redis.call('HDEL', KEYS[1], ARGV[1])
return 'released'
`;

export interface HoldKey {
  tenantId: string;
  roomId: string;
  /** The booking workflow id: only it may extend or release its hold. */
  owner: string;
}

export interface AcquireHoldInput extends HoldKey {
  /** YYYY-MM-DD; the hold covers the nights [checkIn, checkOut). */
  checkIn: string;
  checkOut: string;
}

export type AcquireHoldResult = { kind: 'held'; expiresAt: number } | { kind: 'conflict' };
export type ExtendHoldResult =
  | { kind: 'extended'; expiresAt: number; extensionsLeft: number }
  | { kind: 'refused'; reason: 'not_held' | 'max_extensions' };
export type ReleaseHoldResult = { kind: 'released' } | { kind: 'not_held' };

export interface LockDeps {
  redis: Redis;
  db: Pool;
  log: Logger;
  holds: { ttlSeconds: number; maxExtensions: number };
}

const isoDate = /^\d{4}-\d{2}-\d{2}$/;

export function holdKey(tenantId: string, roomId: string): string {
  return `hold:${tenantId}:${roomId}`;
}

function redisFailure(err: unknown): ApplicationFailure {
  const reason = err instanceof Error ? err.message : String(err);
  return ApplicationFailure.retryable(`Redis unavailable for room holds: ${reason}`, ErrorType.HoldStoreUnavailable);
}

export function createLockActivities({ redis, db, log, holds }: LockDeps) {
  const ttlMs = holds.ttlSeconds * 1000;

  async function audit(
    event: 'acquired' | 'conflict' | 'extended' | 'extend_refused' | 'released' | 'release_refused',
    input: HoldKey & { checkIn?: string; checkOut?: string },
    details: Record<string, unknown> = {},
  ): Promise<void> {
    await db.query(
      `INSERT INTO room_hold_events (tenant_id, room_id, check_in, check_out, owner, event, details)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [
        input.tenantId,
        input.roomId,
        input.checkIn ?? null,
        input.checkOut ?? null,
        input.owner,
        event,
        JSON.stringify(details),
      ],
    );
  }

  async function run(script: string, key: string, args: (string | number)[]): Promise<unknown> {
    try {
      return await redis.eval(script, 1, key, ...args);
    } catch (err) {
      throw redisFailure(err);
    }
  }

  return {
    /**
     * Holds one room for [checkIn, checkOut) for `owner`, unless a live hold of another owner overlaps.
     * Idempotent: the same owner and range again returns the existing hold (activity retries are safe).
     */
    async acquireHold(input: AcquireHoldInput): Promise<AcquireHoldResult> {
      if (!isoDate.test(input.checkIn) || !isoDate.test(input.checkOut) || input.checkIn >= input.checkOut) {
        throw ApplicationFailure.nonRetryable(
          `Invalid hold range ${input.checkIn}..${input.checkOut}`,
          ErrorType.InvalidDates,
        );
      }
      const [outcome, expiresAt, extra] = (await run(acquireScript, holdKey(input.tenantId, input.roomId), [
        input.owner,
        input.checkIn,
        input.checkOut,
        ttlMs,
      ])) as [string, string, string];
      if (outcome === 'acquired' || outcome === 'held') {
        if (outcome === 'acquired') await audit('acquired', input, { expiresAt: Number(expiresAt) });
        return { kind: 'held', expiresAt: Number(expiresAt) };
      }
      if (outcome === 'owner_mismatch') {
        throw ApplicationFailure.nonRetryable(
          `Owner ${input.owner} already holds this room for ${extra}, not ${input.checkIn}/${input.checkOut}`,
          ErrorType.InvalidDates,
        );
      }
      await audit('conflict', input, { overlapping: extra });
      log.info({ tenantId: input.tenantId, roomId: input.roomId }, 'room hold conflict');
      return { kind: 'conflict' };
    },

    /** Pushes the hold's expiry out by the hold TTL; at most `maxExtensions` times, and only by its owner. */
    async extendHold(input: HoldKey): Promise<ExtendHoldResult> {
      const [outcome, expiresAt, extensions] = (await run(extendScript, holdKey(input.tenantId, input.roomId), [
        input.owner,
        ttlMs,
        holds.maxExtensions,
      ])) as [string, string, string];
      if (outcome === 'extended') {
        await audit('extended', input, { expiresAt: Number(expiresAt), extensions: Number(extensions) });
        return {
          kind: 'extended',
          expiresAt: Number(expiresAt),
          extensionsLeft: holds.maxExtensions - Number(extensions),
        };
      }
      const reason = outcome === 'max_extensions' ? 'max_extensions' : 'not_held';
      await audit('extend_refused', input, { reason });
      return { kind: 'refused', reason };
    },

    /** Releases the hold; only its owner can, so another owner's call releases nothing. Idempotent. */
    async releaseHold(input: HoldKey): Promise<ReleaseHoldResult> {
      const outcome = (await run(releaseScript, holdKey(input.tenantId, input.roomId), [input.owner])) as string;
      if (outcome === 'released') {
        await audit('released', input);
        return { kind: 'released' };
      }
      await audit('release_refused', input, { reason: 'not_held' });
      return { kind: 'not_held' };
    },
  };
}
