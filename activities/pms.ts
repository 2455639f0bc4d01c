import { ApplicationFailure } from '@temporalio/activity';
import type Redis from 'ioredis';
import type { Dispatcher } from 'undici';
import { z } from 'zod';
import { createQloAppsClient, createShopCache, isPmsOutage, pmsRejected, type PmsOrigins } from '../clients/qloapps';
import type { Config } from '../lib/config';
import { ErrorType } from '../lib/domain/errors';
import type {
  AvailabilityQuery,
  AvailabilityResult,
  BookingLookup,
  BookingRecord,
  BookingRequest,
  CancelledBookings,
  CreateBookingResult,
  PmsClient,
  ReferenceLookup,
  RoomOffer,
} from '../lib/domain/pms';
import type { GuestRefs } from '../lib/guest-refs';
import type { Logger } from '../lib/log';
import type { PmsOperation } from '../lib/metrics';
import { serviceUrlProblem } from '../lib/network-policy';
import { withTimeout } from '../lib/redis';
import { requireSecret, type SecretResolver } from '../lib/secrets';
import type { TenantCache } from '../lib/tenant-directory';

const isoDate = /^\d{4}-\d{2}-\d{2}$/;

export interface PmsActivityDeps {
  /** Names the guest at the PMS in the placeholder e-mail QloApps requires. */
  guestRefs: GuestRefs;
  tenants: TenantCache;
  secrets: SecretResolver;
  redis: Redis;
  config: Config;
  log: Logger;
  /** The worker's pools and breakers, one per PMS origin. */
  pmsOrigins: PmsOrigins;
}

const cachedAvailabilitySchema = z.object({
  rooms: z.array(
    z
      .object({
        roomTypeId: z.string(),
        roomTypeName: z.string(),
        roomIds: z.array(z.string()),
        pricePerNight: z.number().optional(),
        currency: z.string().optional(),
      })
      .transform(({ pricePerNight, currency, ...offer }): RoomOffer => ({
        ...offer,
        ...(pricePerNight !== undefined ? { pricePerNight } : {}),
        ...(currency !== undefined ? { currency } : {}),
      })),
  ),
  checkedAt: z.string(),
});

/** Redis is a cache here: an operation that takes longer than this is abandoned, not waited for. */
const cacheTimeoutMs = 1_000;

export function availabilityCacheKey(q: AvailabilityQuery): string {
  return `avail:${q.tenantId}:${q.checkIn}:${q.checkOut}:${q.adults}:${q.children ?? 0}`;
}

function validateStay(q: { checkIn: string; checkOut: string; adults: number; children?: number }): void {
  const valid = (d: string) => isoDate.test(d) && !Number.isNaN(Date.parse(`${d}T00:00:00Z`));
  if (!valid(q.checkIn) || !valid(q.checkOut) || q.checkIn >= q.checkOut) {
    throw ApplicationFailure.nonRetryable(`Invalid stay ${q.checkIn}..${q.checkOut}`, ErrorType.InvalidDates);
  }
  const children = q.children ?? 0;
  if (!Number.isInteger(q.adults) || q.adults < 1 || !Number.isInteger(children) || children < 0) {
    throw pmsRejected(`Invalid occupancy: ${q.adults} adults, ${children} children`);
  }
}

/**
 * The PMS activities. Each tenant's PMS comes from the tenant directory (`pms_base_url`, `pms_hotel_id`,
 * `pms_credentials_ref`); calls to one PMS origin share the pooled agent and circuit breaker the worker's
 * {@link PmsOrigins} keeps for it. While a breaker is open, calls fail at once with a retryable `PmsUnavailable` whose
 * `nextRetryDelay` is the time left until the breaker lets a trial call through, so Temporal does the waiting.
 */
export function createPmsActivities(deps: PmsActivityDeps) {
  const { tenants, secrets, redis, config, log, guestRefs, pmsOrigins } = deps;
  const shopCache = createShopCache({ ttlMs: config.pms.shopCacheSeconds * 1000 });

  /** Where the tenant's PMS is and how to call it, or a failure that says what is missing. */
  async function target(tenantId: string): Promise<{ origin: string; client: (dispatcher: Dispatcher) => PmsClient }> {
    let directory = await tenants.get();
    let settings = directory.pms.get(tenantId);
    if (!settings) {
      // Maybe newer than our copy: reload once (failing retryably if Postgres is down).
      directory = await tenants.get({ forceReloadOlderThanMs: tenants.missReloadMs });
      settings = directory.pms.get(tenantId);
    }
    const missing = !settings
      ? ['tenant']
      : [
          ...(settings.baseUrl ? [] : ['base URL']),
          ...(settings.hotelId ? [] : ['hotel id']),
          ...(settings.credentialsRef ? [] : ['credentials reference']),
        ];
    if (!settings?.baseUrl || !settings.hotelId || !settings.credentialsRef) {
      throw ApplicationFailure.nonRetryable(
        `Tenant ${tenantId} has no PMS configured (missing ${missing.join(', ')})`,
        ErrorType.PmsNotConfigured,
      );
    }
    // The admin API refuses such URLs when written; this catches rows written before the rule, or by hand.
    const problem = serviceUrlProblem(settings.baseUrl);
    if (problem !== undefined) {
      throw ApplicationFailure.nonRetryable(
        `Tenant ${tenantId} has a PMS base URL that ${problem}`,
        ErrorType.PmsNotConfigured,
      );
    }
    const origin = new URL(settings.baseUrl).origin;
    const webserviceKey = requireSecret(secrets, tenantId, settings.credentialsRef, 'PMS credentials');
    const { baseUrl, hotelId } = settings;
    const client = (dispatcher: Dispatcher) =>
      createQloAppsClient({
        baseUrl,
        webserviceKey,
        hotelId,
        timeoutMs: config.pms.httpTimeoutMs,
        maxResponseBytes: config.pms.maxResponseBytes,
        requestAttempts: config.pms.requestAttempts,
        dispatcher,
        cache: shopCache,
      });
    return { origin, client };
  }

  /** Runs one PMS operation through the origin's breaker and pool (see `PmsOrigins.execute`). */
  async function guarded<T>(tenantId: string, operation: PmsOperation, fn: (client: PmsClient) => Promise<T>) {
    const { origin, client } = await target(tenantId);
    return pmsOrigins.execute(origin, operation, (dispatcher) => fn(client(dispatcher)));
  }

  async function readCache(key: string): Promise<z.output<typeof cachedAvailabilitySchema> | undefined> {
    try {
      const raw = await withTimeout(redis.get(key), cacheTimeoutMs);
      if (raw === null) return undefined;
      const parsed = cachedAvailabilitySchema.safeParse(JSON.parse(raw));
      return parsed.success ? parsed.data : undefined;
    } catch (err) {
      log.warn({ err }, 'availability cache unreadable (Redis)');
      return undefined;
    }
  }

  async function writeCache(key: string, result: AvailabilityResult): Promise<void> {
    try {
      const value = JSON.stringify({ rooms: result.rooms, checkedAt: result.checkedAt });
      await withTimeout(redis.set(key, value, 'EX', config.pms.availabilityCacheTtlSeconds), cacheTimeoutMs);
    } catch (err) {
      log.warn({ err }, 'availability not cached (Redis); answering from the PMS anyway');
    }
  }

  const activities = {
    /**
     * Rooms free for the stay, straight from the PMS (then cached for a short time). While the PMS is failing or
     * its breaker is open, answers from the cache with `provisional: true`; with no cached copy, fails with a
     * retryable `PmsUnavailable`. A Redis outage only costs the cache.
     */
    async checkAvailability(q: AvailabilityQuery): Promise<AvailabilityResult> {
      validateStay(q);
      const key = availabilityCacheKey(q);
      try {
        const result = await guarded(q.tenantId, 'availability', (client) => client.checkAvailability(q));
        await writeCache(key, result);
        return result;
      } catch (err) {
        if (!isPmsOutage(err)) throw err;
        const cached = await readCache(key);
        if (!cached) throw err;
        log.warn({ tenantId: q.tenantId, checkedAt: cached.checkedAt }, 'PMS unavailable; provisional availability');
        return { rooms: cached.rooms, provisional: true, checkedAt: cached.checkedAt };
      }
    },

    /**
     * Books the room at the PMS, idempotently by `reference`: a booking already made with this reference (by an
     * attempt whose answer was lost, say) is returned instead of booking again. A room gone is
     * `{ kind: 'unavailable' }`.
     */
    async createBooking(r: BookingRequest): Promise<CreateBookingResult> {
      validateStay(r);
      const existing = await guarded(r.tenantId, 'find_booking', (client) =>
        client.findBookingByReference(r.reference),
      );
      if (existing) {
        if (existing.roomId !== r.roomId || existing.checkIn !== r.checkIn || existing.checkOut !== r.checkOut) {
          log.warn({ tenantId: r.tenantId, bookingId: existing.bookingId }, 'reference already booked differently');
        }
        return { kind: 'booked', booking: existing };
      }
      const { tenantId: _tenantId, ...request } = r;
      // Without the guest's id (an older booking workflow), the booking reference stands in for them.
      const guestRef = guestRefs.of(r.guestWaId ?? r.reference);
      return guarded(r.tenantId, 'create_booking', (client) => client.createBooking({ ...request, guestRef }));
    },

    /** The booking, or null when the PMS has no booking with this id. */
    async getBooking({ tenantId, bookingId }: BookingLookup): Promise<BookingRecord | null> {
      return guarded(tenantId, 'get_booking', (client) => client.getBooking(bookingId));
    },

    /** The booking made with this reference (the booking workflow id), or null. */
    async findBookingByReference({ tenantId, reference }: ReferenceLookup): Promise<BookingRecord | null> {
      return guarded(tenantId, 'find_booking', (client) => client.findBookingByReference(reference));
    },

    /**
     * Cancels every live booking made with this reference: the saga's compensation. Normally there is one, but two
     * create attempts that overlapped (an attempt timed out while still running) may each have booked; undoing
     * only one would leave the other booked in the guest's name. Returns the ids it cancelled; idempotent.
     */
    async cancelBookingsByReference({ tenantId, reference }: ReferenceLookup): Promise<CancelledBookings> {
      const found = await guarded(tenantId, 'find_booking', (client) => client.findBookingsByReference(reference));
      const cancelled: string[] = [];
      for (const booking of found.filter((b) => b.status !== 'cancelled')) {
        await guarded(tenantId, 'cancel_booking', (client) => client.cancelBooking(booking.bookingId));
        cancelled.push(booking.bookingId);
      }
      if (cancelled.length > 1) log.warn({ tenantId, cancelled }, 'several PMS bookings carried one reference');
      return { cancelled };
    },

    /** Cancels the booking; idempotent (a cancelled booking is returned as it is). Unknown id: `PmsRejected`. */
    async cancelBooking({ tenantId, bookingId }: BookingLookup): Promise<BookingRecord> {
      return guarded(tenantId, 'cancel_booking', (client) => client.cancelBooking(bookingId));
    },
  };

  return activities;
}

export type PmsActivities = ReturnType<typeof createPmsActivities>;
