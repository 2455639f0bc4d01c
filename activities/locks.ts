import { ApplicationFailure } from '@temporalio/activity';
import type Redis from 'ioredis';
import { ErrorType } from '../lib/domain/errors';
import type { Logger } from '../lib/log';
import { holdAuditOutboxMax } from '../lib/hold-audit';

/**
 * Room holds in Redis. All holds of one room live in one hash (`hold:<tenant>:<room>`, field = owner),
 * so one Lua script can drop expired holds, check the requested range against every live hold of that
 * room and write the new hold atomically: no SCAN-then-SET race between two guests.
 * Time is Redis's own clock (`TIME`), so workers with skewed clocks agree on expiry.
 *
 * Each script also appends its audit event to the outbox list (KEYS[2], see lib/hold-audit.ts) in the same
 * atomic step, so the audit never lags the hold and a Postgres outage never fails one. KEYS[3] numbers the events.
 * ARGV[1..3] are the tenant, the room and the outbox bound; the operation's own arguments follow.
 */
const auditPrelude = `
local tenantId, roomId, outboxMax = ARGV[1], ARGV[2], tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function audit(event, owner, checkIn, checkOut, details)
  local id = t[1] .. string.format('%06d', tonumber(t[2])) .. '-' .. redis.call('INCR', KEYS[3])
  redis.call('RPUSH', KEYS[2], cjson.encode({
    id = id, at = now, tenantId = tenantId, roomId = roomId, owner = owner, event = event,
    checkIn = checkIn, checkOut = checkOut, details = details,
  }))
  if redis.call('LLEN', KEYS[2]) > outboxMax then redis.call('LTRIM', KEYS[2], -outboxMax, -1) end
end
`;

const acquireScript = `${auditPrelude}
local key = KEYS[1]
local owner, checkIn, checkOut, ttlMs = ARGV[4], ARGV[5], ARGV[6], tonumber(ARGV[7])
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
    local overlapping = hold.checkIn .. '/' .. hold.checkOut
    audit('conflict', owner, checkIn, checkOut, {overlapping = overlapping})
    return {'conflict', tostring(hold.expiresAt), overlapping}
  else
    if hold.expiresAt > maxExpiry then maxExpiry = hold.expiresAt end
  end
end
local expiresAt = now + ttlMs
redis.call('HSET', key, owner, cjson.encode({checkIn = checkIn, checkOut = checkOut, expiresAt = expiresAt, extensions = 0}))
redis.call('PEXPIREAT', key, maxExpiry)
audit('acquired', owner, checkIn, checkOut, {expiresAt = expiresAt})
return {'acquired', tostring(expiresAt), '0'}
`;

const extendScript = `${auditPrelude}
local key = KEYS[1]
local owner, ttlMs, maxExtensions = ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6])
local raw = redis.call('HGET', key, owner)
local hold = raw and cjson.decode(raw)
if hold and hold.expiresAt <= now then
  redis.call('HDEL', key, owner)
  hold = nil
end
if not hold then
  audit('extend_refused', owner, nil, nil, {reason = 'not_held'})
  return {'not_held', '0', '0'}
end
if hold.extensions >= maxExtensions then
  audit('extend_refused', owner, nil, nil, {reason = 'max_extensions'})
  return {'max_extensions', tostring(hold.expiresAt), tostring(hold.extensions)}
end
hold.extensions = hold.extensions + 1
hold.expiresAt = now + ttlMs
redis.call('HSET', key, owner, cjson.encode(hold))
if redis.call('PTTL', key) < ttlMs then redis.call('PEXPIRE', key, ttlMs) end
audit('extended', owner, nil, nil, {expiresAt = hold.expiresAt, extensions = hold.extensions})
return {'extended', tostring(hold.expiresAt), tostring(hold.extensions)}
`;

const releaseScript = `${auditPrelude}
local owner = ARGV[4]
if not redis.call('HGET', KEYS[1], owner) then
  audit('release_refused', owner, nil, nil, {reason = 'not_held'})
  return 'not_held'
end
redis.call('HDEL', KEYS[1], owner)
audit('released', owner, nil, nil, {})
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
  log: Logger;
  holds: { ttlSeconds: number; maxExtensions: number };
  /** The audit outbox ({@link holdAuditOutboxKey} of the database the worker's flusher writes to). */
  auditOutboxKey: string;
}

const isoDate = /^\d{4}-\d{2}-\d{2}$/;

export function holdKey(tenantId: string, roomId: string): string {
  return `hold:${tenantId}:${roomId}`;
}

function redisFailure(err: unknown): ApplicationFailure {
  const reason = err instanceof Error ? err.message : String(err);
  return ApplicationFailure.retryable(`Redis unavailable for room holds: ${reason}`, ErrorType.HoldStoreUnavailable);
}

export function createLockActivities({ redis, log, holds, auditOutboxKey }: LockDeps) {
  const ttlMs = holds.ttlSeconds * 1000;
  const sequenceKey = `${auditOutboxKey}:seq`;

  /** Runs a hold script on the room's hash, with the audit outbox and its sequence as the other keys. */
  async function run(script: string, input: HoldKey, args: (string | number)[]): Promise<unknown> {
    try {
      return await redis.eval(
        script,
        3,
        holdKey(input.tenantId, input.roomId),
        auditOutboxKey,
        sequenceKey,
        input.tenantId,
        input.roomId,
        holdAuditOutboxMax,
        ...args,
      );
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
      const [outcome, expiresAt, extra] = (await run(acquireScript, input, [
        input.owner,
        input.checkIn,
        input.checkOut,
        ttlMs,
      ])) as [string, string, string];
      if (outcome === 'acquired' || outcome === 'held') return { kind: 'held', expiresAt: Number(expiresAt) };
      if (outcome === 'owner_mismatch') {
        throw ApplicationFailure.nonRetryable(
          `Owner ${input.owner} already holds this room for ${extra}, not ${input.checkIn}/${input.checkOut}`,
          ErrorType.InvalidDates,
        );
      }
      log.info({ tenantId: input.tenantId, roomId: input.roomId }, 'room hold conflict');
      return { kind: 'conflict' };
    },

    /** Pushes the hold's expiry out by the hold TTL; at most `maxExtensions` times, and only by its owner. */
    async extendHold(input: HoldKey): Promise<ExtendHoldResult> {
      const [outcome, expiresAt, extensions] = (await run(extendScript, input, [
        input.owner,
        ttlMs,
        holds.maxExtensions,
      ])) as [string, string, string];
      if (outcome === 'extended') {
        return {
          kind: 'extended',
          expiresAt: Number(expiresAt),
          extensionsLeft: holds.maxExtensions - Number(extensions),
        };
      }
      return { kind: 'refused', reason: outcome === 'max_extensions' ? 'max_extensions' : 'not_held' };
    },

    /** Releases the hold; only its owner can, so another owner's call releases nothing. Idempotent. */
    async releaseHold(input: HoldKey): Promise<ReleaseHoldResult> {
      const outcome = (await run(releaseScript, input, [input.owner])) as string;
      return outcome === 'released' ? { kind: 'released' } : { kind: 'not_held' };
    },
  };
}
