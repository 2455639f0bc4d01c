import { ApplicationFailure } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import { availabilityCacheKey, createPmsActivities } from '../../activities/pms';
import type { AvailabilityQuery, BookingRequest } from '../../lib/domain/pms';
import { TenantCache } from '../../lib/tenant-directory';
import { startPmsStandin, type PmsStandin } from '../../dev/pms-standin';
import { getFreePort, waitFor } from '../../dev/process';
import { createPool } from '../../lib/db/pool';
import { ErrorType } from '../../lib/domain/errors';
import { createGuestRefs } from '../../lib/guest-refs';
import { createLogger } from '../../lib/log';
import { createMetrics, type Metrics } from '../../lib/metrics';
import { createRedis, type Redis } from '../../lib/redis';
import { createSecretResolver } from '../../lib/secrets';
import { testConfig } from '../helpers/env';
import type { PmsOrigins } from '../../clients/qloapps';
import { pmsOriginsFor } from '../../workers/resources';
import { createTestTenant, tenantSecretVariable } from '../helpers/tenants';

/** QloApps webservice keys are 32 characters. */
const webserviceKey = 'QLOTESTKEY0123456789ABCDEFGHIJKL';
const log = createLogger({ level: 'silent' });
const databaseUrl = testConfig().databaseUrl;
const db = createPool(databaseUrl, { max: 2 });
const tenants = new TenantCache({ db, databaseUrl, log, refreshMs: 60_000, maxStalenessMs: 60_000, missReloadMs: 0 });
/** The worker's environment: each test tenant gets its key (and a wrong one) in its own namespace. */
const secretEnv: Record<string, string> = {};
const secrets = createSecretResolver(secretEnv);
const redis = createRedis(testConfig().redisUrl);
let standin: PmsStandin;
const opened: PmsOrigins[] = [];
/** Failed activities are expected here; the SDK would log each at WARN. */
const activityLogger = new DefaultLogger('ERROR');

beforeAll(async () => {
  standin = await startPmsStandin({ webserviceKey });
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((origins) => origins.close()));
  standin.reset();
});
afterAll(async () => {
  await standin.close();
  await tenants.stop();
  await db.end();
  redis.disconnect();
});

/** A tenant whose PMS is the stand-in's hotel 1 (or what the overrides say). */
async function pmsTenant(
  overrides: { baseUrl?: string | null; credentialsName?: string | null; hotelId?: number | null } = {},
): Promise<string> {
  const { id } = await createTestTenant(db);
  secretEnv[tenantSecretVariable(id, 'PMS_KEY')] = webserviceKey;
  secretEnv[tenantSecretVariable(id, 'WRONG_KEY')] = 'WRONGKEY0123456789ABCDEFGHIJKLMN';
  const name = overrides.credentialsName === undefined ? 'PMS_KEY' : overrides.credentialsName;
  await db.query('UPDATE tenants SET pms_base_url = $2, pms_credentials_ref = $3, pms_hotel_id = $4 WHERE id = $1', [
    id,
    overrides.baseUrl === undefined ? standin.url : overrides.baseUrl,
    name === null ? null : `env:${tenantSecretVariable(id, name)}`,
    overrides.hotelId === undefined ? 1 : overrides.hotelId,
  ]);
  await tenants.reload();
  return id;
}

function pms(env: Record<string, string> = {}, options: { redis?: Redis } = {}) {
  const config = testConfig({ PMS_HTTP_TIMEOUT_MS: '1000', ...env });
  const metrics = createMetrics();
  const pmsOrigins = pmsOriginsFor(config, { log, metrics, tenants });
  opened.push(pmsOrigins);
  const acts = createPmsActivities({
    tenants,
    secrets,
    redis: options.redis ?? redis,
    config,
    log,
    pmsOrigins,
    guestRefs: createGuestRefs(config.guestRefKey),
  });
  const run = <A, R>(fn: (arg: A) => Promise<R>, arg: A): Promise<R> =>
    new MockActivityEnvironment(undefined, { logger: activityLogger }).run(fn, arg);
  return { acts, metrics, config, run };
}

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof ApplicationFailure) return err;
    throw err;
  }
  throw new Error('expected the activity to fail');
}

function booking(tenantId: string, overrides: Partial<BookingRequest> = {}): BookingRequest {
  return {
    tenantId,
    reference: `booking-${randomUUID()}`,
    roomTypeId: '1',
    roomId: '1',
    checkIn: '2031-03-10',
    checkOut: '2031-03-13',
    adults: 2,
    guestName: 'Ana María López',
    ...overrides,
  };
}

const stay = (tenantId: string, overrides: Partial<AvailabilityQuery> = {}): AvailabilityQuery => ({
  tenantId,
  checkIn: '2031-03-10',
  checkOut: '2031-03-13',
  adults: 2,
  ...overrides,
});

async function circuitState(metrics: Metrics): Promise<number | undefined> {
  const text = await metrics.registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`pms_circuit_state{origin="${standin.url}"}`));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

describe('QloApps wire protocol', () => {
  it('asks hotel_ari with Basic auth (key, empty password), output_format=JSON and an XML body', async () => {
    const tenantId = await pmsTenant();
    const { acts, run } = pms();
    const result = await run(acts.checkAvailability, stay(tenantId, { children: 1 }));

    const [req] = standin.requests;
    expect(req).toMatchObject({ method: 'POST', path: '/api/hotel_ari', query: { output_format: 'JSON' } });
    expect(req!.authorization).toBe(`Basic ${Buffer.from(`${webserviceKey}:`).toString('base64')}`);
    expect(Buffer.from(req!.authorization!.slice(6), 'base64').toString()).toBe(`${webserviceKey}:`);
    expect(req!.contentType).toMatch(/xml/);
    expect(req!.body).toMatch(/<qloapps[^>]*>\s*<hotel_ari>/);
    expect(req!.body).toContain('<id_hotel>1</id_hotel>');
    expect(req!.body).toContain('<date_from>2031-03-10</date_from>');
    expect(req!.body).toContain('<date_to>2031-03-13</date_to>');
    expect(req!.body).toMatch(
      /<associations>\s*<room_occupancies>\s*<room_occupancy>\s*<adults>2<\/adults>\s*<children>1<\/children>/,
    );

    expect(result.provisional).toBe(false);
    expect(Date.parse(result.checkedAt)).not.toBeNaN();
    expect(result.rooms).toEqual([
      {
        roomTypeId: '1',
        roomTypeName: 'Standard Double',
        roomIds: ['1', '2', '3'],
        pricePerNight: 99,
        currency: 'EUR',
      },
      { roomTypeId: '2', roomTypeName: 'Superior Twin', roomIds: ['4', '5'], pricePerNight: 121, currency: 'EUR' },
      { roomTypeId: '3', roomTypeName: 'Family Suite', roomIds: ['6', '7'], pricePerNight: 198, currency: 'EUR' },
    ]);
  });

  it('leaves out room types the party does not fit in', async () => {
    const tenantId = await pmsTenant();
    const { acts, run } = pms();
    const result = await run(acts.checkAvailability, stay(tenantId, { adults: 3, children: 2 }));
    expect(result.rooms.map((r) => r.roomTypeId)).toEqual(['3']);
  });

  it('books through POST /api/bookings with the reference as the order source, and reads it back', async () => {
    const tenantId = await pmsTenant();
    const { acts, run } = pms();
    const guest = '16505551234';
    const request = booking(tenantId, { roomTypeId: '2', roomId: '5', children: 1, guestWaId: guest });
    const result = await run(acts.createBooking, request);

    expect(result).toEqual({
      kind: 'booked',
      booking: {
        bookingId: expect.stringMatching(/^\d+$/),
        reference: request.reference,
        status: 'confirmed',
        roomTypeId: '2',
        roomId: '5',
        checkIn: '2031-03-10',
        checkOut: '2031-03-13',
      },
    });
    const post = standin.requests.find((r) => r.method === 'POST' && r.path === '/api/bookings')!;
    expect(post.query.output_format).toBe('JSON');
    expect(post.contentType).toMatch(/json/);
    const sent = JSON.parse(post.body);
    expect(sent.booking).toMatchObject({
      id_property: 1,
      currency: 'EUR',
      booking_status: 1,
      source: request.reference,
      associations: {
        customer_detail: { firstname: 'Ana', lastname: 'María López' },
        room_types: [
          {
            id_room_type: 2,
            checkin_date: '2031-03-10',
            checkout_date: '2031-03-13',
            number_of_rooms: 1,
            rooms: [{ id_room: 5, adults: 2, child: 1 }],
          },
        ],
      },
    });
    // No phone number of the guest reaches the PMS: the e-mail QloApps requires is the guest's keyed reference.
    expect(sent.booking.associations.customer_detail.phone).toBe('');
    expect(sent.booking.associations.customer_detail.email).toBe(
      `wa-${createGuestRefs(testConfig().guestRefKey).of(guest)}@guests.invalid`,
    );
    expect(post.body).not.toContain(guest);
    expect(standin.bookings).toHaveLength(1);
    expect(standin.bookings[0]!.source).toBe(request.reference);

    const bookingId = result.kind === 'booked' ? result.booking.bookingId : '';
    await expect(run(acts.getBooking, { tenantId, bookingId })).resolves.toEqual(
      result.kind === 'booked' ? result.booking : null,
    );
    await expect(run(acts.findBookingByReference, { tenantId, reference: request.reference })).resolves.toMatchObject({
      bookingId,
    });
  });
});

describe('bookings and inventory', () => {
  it('availability reflects bookings and cancellations', async () => {
    const tenantId = await pmsTenant();
    const { acts, run } = pms();
    const roomsOfType1 = async (q = stay(tenantId)) =>
      (await run(acts.checkAvailability, q)).rooms.find((r) => r.roomTypeId === '1')?.roomIds ?? [];

    const first = await run(acts.createBooking, booking(tenantId, { roomId: '1' }));
    expect(await roomsOfType1()).toEqual(['2', '3']);
    // A stay that only touches the booking's check-out day is not affected.
    expect(await roomsOfType1(stay(tenantId, { checkIn: '2031-03-13', checkOut: '2031-03-15' }))).toEqual([
      '1',
      '2',
      '3',
    ]);

    await run(acts.createBooking, booking(tenantId, { roomId: '2', checkIn: '2031-03-12', checkOut: '2031-03-14' }));
    await run(acts.createBooking, booking(tenantId, { roomId: '3', checkIn: '2031-03-05', checkOut: '2031-03-11' }));
    expect(await roomsOfType1()).toEqual([]);

    if (first.kind !== 'booked') throw new Error('first booking failed');
    await run(acts.cancelBooking, { tenantId, bookingId: first.booking.bookingId });
    expect(await roomsOfType1()).toEqual(['1']);
  });

  it('a retried createBooking never books twice: same reference, one booking at the PMS', async () => {
    const tenantId = await pmsTenant();
    const { acts, run } = pms();
    const request = booking(tenantId);
    const first = await run(acts.createBooking, request);
    const second = await run(acts.createBooking, request);
    expect(second).toEqual(first);
    expect(standin.bookings).toHaveLength(1);
    expect(standin.requests.filter((r) => r.method === 'POST' && r.path === '/api/bookings')).toHaveLength(1);
  });

  it('a booking whose answer was lost is found by its reference on retry, not booked again', async () => {
    const tenantId = await pmsTenant();
    const { acts, run } = pms();
    const request = booking(tenantId);
    standin.inject({ kind: 'lostResponse', match: { method: 'POST', resource: 'bookings' } });

    const lost = await failureOf(run(acts.createBooking, request));
    expect(lost.type).toBe(ErrorType.PmsUnavailable);
    expect(lost.nonRetryable).toBe(false);
    expect(standin.bookings).toHaveLength(1); // the PMS did book

    const retried = await run(acts.createBooking, request);
    expect(retried).toMatchObject({
      kind: 'booked',
      booking: { bookingId: String(standin.bookings[0]!.id), reference: request.reference, status: 'confirmed' },
    });
    expect(standin.bookings).toHaveLength(1);
  });

  it('a room taken at the PMS is the outcome { kind: "unavailable" }, not an error', async () => {
    const tenantId = await pmsTenant();
    const { acts, run } = pms();
    await run(acts.createBooking, booking(tenantId, { roomId: '4', roomTypeId: '2' }));
    await expect(
      run(acts.createBooking, booking(tenantId, { roomId: '4', roomTypeId: '2', checkIn: '2031-03-12' })),
    ).resolves.toEqual({ kind: 'unavailable' });
    expect(standin.bookings).toHaveLength(1);
  });

  it('maps QloApps refusing the POST ("Requested room(s) not available.") to unavailable too', async () => {
    const tenantId = await pmsTenant();
    const { acts, run } = pms();
    // The room goes between hotel_ari and the POST.
    standin.inject({
      kind: 'error',
      status: 400,
      message: 'Requested room(s) not available.',
      match: { method: 'POST', resource: 'bookings' },
    });
    await expect(run(acts.createBooking, booking(tenantId))).resolves.toEqual({ kind: 'unavailable' });
  });

  it('cancels idempotently: a second cancel returns the cancelled booking without a second PUT', async () => {
    const tenantId = await pmsTenant();
    const { acts, run } = pms();
    const created = await run(acts.createBooking, booking(tenantId));
    if (created.kind !== 'booked') throw new Error('booking failed');
    const { bookingId } = created.booking;

    const cancelled = await run(acts.cancelBooking, { tenantId, bookingId });
    expect(cancelled).toEqual({ ...created.booking, status: 'cancelled' });
    const put = standin.requests.find((r) => r.method === 'PUT')!;
    expect(put.path).toBe(`/api/bookings/${bookingId}`);
    expect(JSON.parse(put.body).booking).toMatchObject({
      id: Number(bookingId),
      booking_status: 3,
      associations: { room_types: [{ id_room_type: 1, rooms: [{ id_room: 1 }] }] },
    });

    await expect(run(acts.cancelBooking, { tenantId, bookingId })).resolves.toEqual(cancelled);
    expect(standin.requests.filter((r) => r.method === 'PUT')).toHaveLength(1);
    await expect(run(acts.getBooking, { tenantId, bookingId })).resolves.toMatchObject({ status: 'cancelled' });
  });

  it('answers null for unknown bookings and references; cancelling an unknown booking is PmsRejected', async () => {
    const tenantId = await pmsTenant();
    const { acts, run } = pms();
    await expect(run(acts.getBooking, { tenantId, bookingId: '987654' })).resolves.toBeNull();
    await expect(run(acts.findBookingByReference, { tenantId, reference: 'booking-none' })).resolves.toBeNull();
    const failure = await failureOf(run(acts.cancelBooking, { tenantId, bookingId: '987654' }));
    expect(failure.type).toBe(ErrorType.PmsRejected);
    expect(failure.nonRetryable).toBe(true);
  });
});

describe('PMS failures', () => {
  it.each([
    ['HTTP 500', { kind: 'error', status: 500 }],
    ['HTTP 503', { kind: 'error', status: 503 }],
    ['a dropped connection', { kind: 'drop' }],
    ['no answer (timeout)', { kind: 'timeout' }],
    ['a malformed JSON body', { kind: 'malformed' }],
    ['JSON of the wrong shape', { kind: 'malformed', body: '{"orders": [{"id": "x"}]}' }],
  ] as const)('maps %s to a retryable PmsUnavailable', async (_name, fault) => {
    const tenantId = await pmsTenant();
    const { acts, run } = pms({ PMS_HTTP_TIMEOUT_MS: '300' });
    standin.inject(fault);
    const failure = await failureOf(run(acts.getBooking, { tenantId, bookingId: '1' }));
    expect(failure.type).toBe(ErrorType.PmsUnavailable);
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).not.toContain(webserviceKey);
  });

  it('times out a slow answer with the configured timeout', async () => {
    const tenantId = await pmsTenant();
    const { acts, run } = pms({ PMS_HTTP_TIMEOUT_MS: '300' });
    standin.inject({ kind: 'latency', ms: 2_000 });
    const started = Date.now();
    const failure = await failureOf(run(acts.checkAvailability, stay(tenantId)));
    expect(failure.type).toBe(ErrorType.PmsUnavailable);
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('waits as long as a 429 Retry-After says', async () => {
    const tenantId = await pmsTenant();
    const { acts, run } = pms();
    standin.inject({ kind: 'error', status: 429, retryAfterSeconds: 7 });
    const failure = await failureOf(run(acts.getBooking, { tenantId, bookingId: '1' }));
    expect(failure).toMatchObject({ type: ErrorType.PmsUnavailable, nonRetryable: false, nextRetryDelay: 7_000 });
  });

  it("clamps a server's Retry-After to 5 minutes", async () => {
    const tenantId = await pmsTenant();
    const { acts, run } = pms();
    standin.inject({ kind: 'error', status: 429, retryAfterSeconds: 86_400 });
    const failure = await failureOf(run(acts.getBooking, { tenantId, bookingId: '1' }));
    expect(failure.type).toBe(ErrorType.PmsUnavailable);
    expect(msToNumber(failure.nextRetryDelay!)).toBe(5 * 60_000);
  });

  it('maps a refused webservice key (401) or permission (403) to a retryable PmsAuthError, another 4xx to a non-retryable PmsRejected', async () => {
    const wrongKey = await pmsTenant({ credentialsName: 'WRONG_KEY' });
    const { acts, run } = pms();
    const auth = await failureOf(run(acts.checkAvailability, stay(wrongKey)));
    expect(auth).toMatchObject({ type: ErrorType.PmsAuthError, nonRetryable: false });
    expect(auth.message).toContain('Authentification key is not active');

    const tenantId = await pmsTenant();
    standin.inject({ kind: 'error', status: 403, message: 'No permission for this key on this shop' });
    const forbidden = await failureOf(run(acts.getBooking, { tenantId, bookingId: '1' }));
    expect(forbidden).toMatchObject({ type: ErrorType.PmsAuthError, nonRetryable: false });
    standin.inject({ kind: 'error', status: 400, message: 'Bad request' });
    const rejected = await failureOf(run(acts.getBooking, { tenantId, bookingId: '1' }));
    expect(rejected).toMatchObject({ type: ErrorType.PmsRejected, nonRetryable: true });
  });

  it('fails non-retryably when the tenant has no PMS, and retryably when its key reference resolves to nothing', async () => {
    const { acts, run } = pms();
    for (const overrides of [{ baseUrl: null }, { hotelId: null }, { credentialsName: null }, { baseUrl: 'ftp://x' }]) {
      const tenantId = await pmsTenant(overrides);
      const failure = await failureOf(run(acts.checkAvailability, stay(tenantId)));
      expect(failure).toMatchObject({ type: ErrorType.PmsNotConfigured, nonRetryable: true });
    }
    const noSecret = await pmsTenant({ credentialsName: 'MISSING_KEY' });
    const failure = await failureOf(run(acts.checkAvailability, stay(noSecret)));
    expect(failure).toMatchObject({ type: ErrorType.SecretUnavailable, nonRetryable: false });
    expect(standin.requests).toHaveLength(0);
  });

  it('refuses a base URL with a query, a fragment, credentials or a non-http(s) scheme, sending nothing', async () => {
    const { acts, run } = pms();
    const bad = [
      `${standin.url}/?ws_key=x`,
      `${standin.url}/#frag`,
      standin.url.replace('http://', 'http://user:pass@'),
      standin.url.replace('http://', 'file://'),
      standin.url.replace('http://', 'gopher://'),
    ];
    for (const baseUrl of bad) {
      const failure = await failureOf(run(acts.checkAvailability, stay(await pmsTenant({ baseUrl }))));
      expect(failure).toMatchObject({ type: ErrorType.PmsNotConfigured, nonRetryable: true });
    }
    expect(standin.requests).toHaveLength(0);
  });

  it('reuses pooled keep-alive connections to the PMS', async () => {
    const tenantId = await pmsTenant();
    const { acts, run } = pms();
    for (let i = 0; i < 10; i++) await run(acts.getBooking, { tenantId, bookingId: '1' });
    expect(standin.requests).toHaveLength(10);
    expect(standin.connections).toBeLessThanOrEqual(2);
  });
});

describe('network policy', () => {
  it('refuses loopback addresses with PMS_ALLOW_PRIVATE_NETWORKS off: an IP literal and a name resolving to one', async () => {
    const { acts, run } = pms({ PMS_ALLOW_PRIVATE_NETWORKS: 'false' });
    const port = new URL(standin.url).port;
    for (const baseUrl of [standin.url, `http://localhost:${port}`, `http://[::ffff:127.0.0.1]:${port}`]) {
      const failure = await failureOf(run(acts.checkAvailability, stay(await pmsTenant({ baseUrl }))));
      expect(failure).toMatchObject({ type: ErrorType.ConfigurationFailure, nonRetryable: true });
      expect(failure.message).toMatch(/loopback/);
      expect(failure.message).toContain('PMS_ALLOW_PRIVATE_NETWORKS');
    }
    expect(standin.requests).toHaveLength(0);
  });

  it('refuses link-local, private and metadata addresses before any byte is sent', async () => {
    const { acts, run } = pms({ PMS_ALLOW_PRIVATE_NETWORKS: 'false', PMS_HTTP_TIMEOUT_MS: '500' });
    for (const baseUrl of ['http://169.254.169.254', 'http://10.1.2.3:8080', 'http://[fd00::1]', 'http://0.0.0.0']) {
      const failure = await failureOf(run(acts.checkAvailability, stay(await pmsTenant({ baseUrl }))));
      expect(failure).toMatchObject({ type: ErrorType.ConfigurationFailure, nonRetryable: true });
    }
  });

  it('caps the PMS answer at PMS_MAX_RESPONSE_BYTES (1 MiB by default): a huge body is cut off, not read', async () => {
    const tenantId = await pmsTenant();
    const { acts, run } = pms();
    for (const declareLength of [false, true]) {
      standin.inject({ kind: 'huge', bytes: 64 * 1024 * 1024, declareLength });
      const started = Date.now();
      const failure = await failureOf(run(acts.checkAvailability, stay(tenantId)));
      expect(failure).toMatchObject({ type: ErrorType.PmsUnavailable, nonRetryable: false });
      expect(failure.message).toContain('more than 1048576 bytes');
      expect(Date.now() - started).toBeLessThan(5_000);
    }
  });

  it('forgets the agent, breaker and metric series of an origin no tenant uses any more', async () => {
    const other = await startPmsStandin({ webserviceKey });
    try {
      const tenantId = await pmsTenant();
      const { acts, run, metrics } = pms();
      await run(acts.checkAvailability, stay(tenantId));
      expect(await metrics.registry.metrics()).toContain(`origin="${standin.url}"`);
      await db.query('UPDATE tenants SET pms_base_url = $2 WHERE id = $1', [tenantId, other.url]);
      // Other tenants of this file still use the first stand-in: point them away too.
      await db.query('UPDATE tenants SET pms_base_url = $2 WHERE pms_base_url = $1', [standin.url, other.url]);
      await tenants.reload();
      await run(acts.checkAvailability, stay(tenantId));
      const text = await metrics.registry.metrics();
      expect(text).toContain(`origin="${other.url}"`);
      expect(text).not.toContain(`origin="${standin.url}"`);
    } finally {
      await db.query('UPDATE tenants SET pms_base_url = $2 WHERE pms_base_url = $1', [other.url, standin.url]);
      await tenants.reload();
      await other.close();
    }
  });
});

describe('circuit breaker', () => {
  const breakerEnv = {
    PMS_BREAKER_CONSECUTIVE_FAILURES: '3',
    PMS_BREAKER_FAILURE_RATIO: '0.9',
    PMS_BREAKER_MIN_REQUESTS: '10',
  };

  it('opens after consecutive failures, then fails fast with nextRetryDelay = time left until half-open', async () => {
    const tenantId = await pmsTenant();
    const { acts, run, metrics } = pms({ ...breakerEnv, PMS_BREAKER_HALF_OPEN_AFTER_MS: '30000' });
    standin.inject({ kind: 'error', status: 503 }, 3);
    for (let i = 0; i < 3; i++) {
      const failure = await failureOf(run(acts.getBooking, { tenantId, bookingId: '1' }));
      // The failure that trips the breaker already tells Temporal to wait for the half-open trial.
      if (i < 2) expect(failure.nextRetryDelay).toBeUndefined();
      else expect(failure.nextRetryDelay).toBeDefined();
    }
    expect(await circuitState(metrics)).toBe(2);

    const sent = standin.requests.length;
    const fast = await failureOf(run(acts.getBooking, { tenantId, bookingId: '1' }));
    expect(fast.type).toBe(ErrorType.PmsUnavailable);
    expect(fast.nonRetryable).toBe(false);
    expect(typeof fast.nextRetryDelay).toBe('number');
    expect(fast.nextRetryDelay as number).toBeGreaterThan(0);
    expect(fast.nextRetryDelay as number).toBeLessThanOrEqual(30_000);
    // Failing fast means not asking the PMS at all: every operation of every tenant on that origin.
    const other = await pmsTenant();
    await failureOf(run(acts.createBooking, booking(other)));
    expect(standin.requests).toHaveLength(sent);

    const text = await metrics.registry.metrics();
    expect(text).toContain(`pms_calls_total{origin="${standin.url}",operation="get_booking",outcome="failure"} 3`);
    expect(text).toContain(
      `pms_calls_total{origin="${standin.url}",operation="get_booking",outcome="short_circuited"} 1`,
    );
  });

  it('half-opens after the delay and closes again when the trial call succeeds', async () => {
    const tenantId = await pmsTenant();
    const { acts, run, metrics } = pms({ ...breakerEnv, PMS_BREAKER_HALF_OPEN_AFTER_MS: '300' });
    expect(await circuitState(metrics)).toBeUndefined(); // no origin used yet
    standin.inject({ kind: 'error', status: 503 }, 3);
    for (let i = 0; i < 3; i++) await failureOf(run(acts.getBooking, { tenantId, bookingId: '1' }));
    expect([1, 2]).toContain(await circuitState(metrics));

    // The metric shows the trial as due once the delay has passed, before any call is made.
    await waitFor('the breaker to be due for its trial call', async () => (await circuitState(metrics)) === 1, {
      timeoutMs: 5_000,
      intervalMs: 20,
    });
    await expect(run(acts.getBooking, { tenantId, bookingId: '1' })).resolves.toBeNull();
    expect(await circuitState(metrics)).toBe(0);
    await expect(run(acts.checkAvailability, stay(tenantId))).resolves.toMatchObject({ provisional: false });
  });

  it('opens again when the trial call fails', async () => {
    const tenantId = await pmsTenant();
    const { acts, run, metrics } = pms({ ...breakerEnv, PMS_BREAKER_HALF_OPEN_AFTER_MS: '300' });
    standin.inject({ kind: 'error', status: 503 }, 4);
    for (let i = 0; i < 3; i++) await failureOf(run(acts.getBooking, { tenantId, bookingId: '1' }));
    const sent = standin.requests.length;
    // Calls fail fast until the delay has passed; then one trial call reaches the PMS and fails.
    await waitFor(
      'a trial call',
      async () => {
        await failureOf(run(acts.getBooking, { tenantId, bookingId: '1' }));
        return standin.requests.length > sent;
      },
      { timeoutMs: 5_000, intervalMs: 50 },
    );
    expect(standin.requests).toHaveLength(sent + 1);
    expect(await circuitState(metrics)).toBe(2);
    const fast = await failureOf(run(acts.getBooking, { tenantId, bookingId: '1' }));
    expect(fast.nextRetryDelay as number).toBeGreaterThan(0);
    expect(fast.nextRetryDelay as number).toBeLessThanOrEqual(300);
  });

  it('opens on a failure ratio even without a run of consecutive failures (a flapping PMS)', async () => {
    const tenantId = await pmsTenant();
    const { acts, run, metrics } = pms({
      PMS_BREAKER_CONSECUTIVE_FAILURES: '10',
      PMS_BREAKER_FAILURE_RATIO: '0.4',
      PMS_BREAKER_MIN_REQUESTS: '4',
      PMS_BREAKER_HALF_OPEN_AFTER_MS: '30000',
    });
    standin.inject({ kind: 'flapping', status: 502 }, 3); // fail, ok, fail, ok, fail, ok
    const outcomes: string[] = [];
    for (let i = 0; i < 5; i++) {
      outcomes.push(
        await run(acts.getBooking, { tenantId, bookingId: '1' }).then(
          () => 'ok',
          () => 'failed',
        ),
      );
    }
    expect(outcomes).toEqual(['failed', 'ok', 'failed', 'ok', 'failed']);
    // The last 4 calls: 2 failures of 4 = 0.5 > 0.4.
    expect(await circuitState(metrics)).toBe(2);
    const fast = await failureOf(run(acts.getBooking, { tenantId, bookingId: '1' }));
    expect(fast.nextRetryDelay as number).toBeGreaterThan(0);
    expect(standin.requests).toHaveLength(5);
  });

  it('does not count refusals (4xx) against the PMS', async () => {
    const tenantId = await pmsTenant();
    const { acts, run, metrics } = pms({ ...breakerEnv, PMS_BREAKER_HALF_OPEN_AFTER_MS: '30000' });
    standin.inject({ kind: 'error', status: 400 }, 5);
    for (let i = 0; i < 5; i++) {
      const failure = await failureOf(run(acts.getBooking, { tenantId, bookingId: '1' }));
      expect(failure.type).toBe(ErrorType.PmsRejected);
    }
    expect(await circuitState(metrics)).toBe(0);
  });
});

describe('availability cache', () => {
  const breakerEnv = { PMS_BREAKER_CONSECUTIVE_FAILURES: '2', PMS_BREAKER_HALF_OPEN_AFTER_MS: '30000' };

  it('answers from the cache, marked provisional, while the breaker is open; without a copy it fails', async () => {
    const tenantId = await pmsTenant();
    const { acts, run, metrics } = pms(breakerEnv);
    const live = await run(acts.checkAvailability, stay(tenantId));
    expect(await redis.ttl(availabilityCacheKey(stay(tenantId)))).toBeGreaterThan(0);

    standin.inject({ kind: 'error', status: 503 }, 2);
    for (let i = 0; i < 2; i++) await failureOf(run(acts.getBooking, { tenantId, bookingId: '1' }));
    expect(await circuitState(metrics)).toBe(2);

    const sent = standin.requests.length;
    const provisional = await run(acts.checkAvailability, stay(tenantId));
    expect(provisional).toEqual({ rooms: live.rooms, provisional: true, checkedAt: live.checkedAt });
    expect(standin.requests).toHaveLength(sent);

    const uncached = await failureOf(run(acts.checkAvailability, stay(tenantId, { adults: 1 })));
    expect(uncached.type).toBe(ErrorType.PmsUnavailable);
    expect(uncached.nextRetryDelay as number).toBeGreaterThan(0);
  });

  it('answers from the cache when the PMS fails with the breaker still closed', async () => {
    const tenantId = await pmsTenant();
    const { acts, run } = pms(breakerEnv);
    const live = await run(acts.checkAvailability, stay(tenantId));
    standin.inject({ kind: 'error', status: 500 });
    await expect(run(acts.checkAvailability, stay(tenantId))).resolves.toMatchObject({
      provisional: true,
      rooms: live.rooms,
    });
  });

  it('never serves another tenant’s or another stay’s cached answer', async () => {
    const a = await pmsTenant();
    const b = await pmsTenant();
    const { acts, run } = pms(breakerEnv);
    await run(acts.checkAvailability, stay(a));
    standin.inject({ kind: 'error', status: 500 }, 2);
    await expect(failureOf(run(acts.checkAvailability, stay(b)))).resolves.toMatchObject({
      type: ErrorType.PmsUnavailable,
    });
    await expect(failureOf(run(acts.checkAvailability, stay(a, { checkOut: '2031-03-14' })))).resolves.toMatchObject({
      type: ErrorType.PmsUnavailable,
    });
  });

  it('answers from the PMS when Redis is down; with both down it fails retryably', async () => {
    const deadRedis = createRedis(`redis://127.0.0.1:${await getFreePort()}`);
    try {
      const tenantId = await pmsTenant();
      const { acts, run } = pms(breakerEnv, { redis: deadRedis });
      const result = await run(acts.checkAvailability, stay(tenantId));
      expect(result.provisional).toBe(false);
      expect(result.rooms).toHaveLength(3);

      standin.inject({ kind: 'error', status: 500 });
      const failure = await failureOf(run(acts.checkAvailability, stay(tenantId)));
      expect(failure).toMatchObject({ type: ErrorType.PmsUnavailable, nonRetryable: false });
    } finally {
      deadRedis.disconnect();
    }
  });
});
