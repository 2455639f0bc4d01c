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
import { boundConfigFailure } from '../../activities/config-failures';
import { configFailureKind, ErrorType } from '../../lib/domain/errors';
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

/**
 * The activities on a config of this file's own. Each request is sent once (`PMS_REQUEST_ATTEMPTS=1`) unless a test
 * says otherwise, so an injected fault is one failed activity; "tries a request again" below covers the default.
 */
function pms(env: Record<string, string> = {}, options: { redis?: Redis } = {}) {
  const config = testConfig({ PMS_HTTP_TIMEOUT_MS: '1000', PMS_REQUEST_ATTEMPTS: '1', ...env });
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
    guestWaId: '34600123456',
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
    // Prices as hotel_ari quotes them: with tax and the cleaning fee QloApps adds to every room.
    expect(result.rooms).toEqual([
      {
        roomTypeId: '1',
        roomTypeName: 'Standard Double',
        roomIds: ['1', '2', '3'],
        pricePerNight: 104.5,
        currency: 'EUR',
      },
      { roomTypeId: '2', roomTypeName: 'Superior Twin', roomIds: ['4', '5'], pricePerNight: 126.5, currency: 'EUR' },
      { roomTypeId: '3', roomTypeName: 'Family Suite', roomIds: ['6', '7'], pricePerNight: 203.5, currency: 'EUR' },
    ]);
  });

  it('books through POST /api/bookings with the reference as the order source, and reads it back', async () => {
    const tenantId = await pmsTenant();
    const { acts, run } = pms();
    const guest = '16505551234';
    const request = booking(tenantId, { roomTypeId: '2', roomId: '5', guestWaId: guest });
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
        // 3 nights × (110 + the 5 cleaning fee) + 10 %.
        total: 379.5,
        currency: 'EUR',
      },
    });
    const post = standin.requests.find((r) => r.method === 'POST' && r.path === '/api/bookings')!;
    expect(post.query.output_format).toBe('JSON');
    expect(post.contentType).toMatch(/json/);
    const sent = JSON.parse(post.body);
    expect(sent.booking).toEqual({
      id_property: 1,
      currency: 'EUR',
      booking_status: 1,
      payment_status: 3,
      source: request.reference,
      remark: `Booked over WhatsApp, reference ${request.reference}.`,
      associations: {
        customer_detail: {
          firstname: 'Ana',
          lastname: 'María López',
          // QloApps requires an e-mail: the guest's keyed reference stands in for one.
          email: `wa-${createGuestRefs(testConfig().guestRefKey).of(guest)}@guests.invalid`,
          phone: `+${guest}`,
        },
        payment_detail: { payment_type: 'pay at hotel' },
        room_types: [
          {
            id_room_type: 2,
            checkin_date: '2031-03-10',
            checkout_date: '2031-03-13',
            number_of_rooms: 1,
            rooms: [
              {
                id_room: 5,
                adult: 2,
                child: 0,
                id_tax_rules_group: 1,
                services: [{ id_service: 11, quantity: 1, id_tax_rules_group: 1 }],
              },
            ],
          },
        ],
      },
    });
    expect(standin.bookings).toHaveLength(1);
    expect(standin.bookings[0]!.source).toBe(request.reference);

    const bookingId = result.kind === 'booked' ? result.booking.bookingId : '';
    const record = result.kind === 'booked' ? result.booking : undefined;
    await expect(run(acts.getBooking, { tenantId, bookingId })).resolves.toEqual(record);
    await expect(run(acts.findBookingByReference, { tenantId, reference: request.reference })).resolves.toEqual(record);
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
    const { currency: _currency, total: _total, ...rest } = created.booking;
    expect(cancelled).toMatchObject({ ...rest, status: 'cancelled' });
    const put = standin.requests.find((r) => r.method === 'PUT')!;
    expect(put.path).toBe(`/api/bookings/${bookingId}`);
    // Every room of the order, by type and dates (a PUT removes the ones it leaves out), for its own customer.
    expect(JSON.parse(put.body).booking).toEqual({
      id: Number(bookingId),
      id_property: 1,
      booking_status: 3,
      associations: {
        customer_detail: { id_customer: standin.bookings[0]!.customer.id, email: standin.bookings[0]!.customer.email },
        room_types: [{ id_room_type: 1, checkin_date: '2031-03-10', checkout_date: '2031-03-13', number_of_rooms: 1 }],
      },
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

/** The POST bookings request the client sent last, parsed. */
function lastPost(): { booking: Record<string, any> } {
  const post = standin.requests.filter((r) => r.method === 'POST' && r.path === '/api/bookings').at(-1)!;
  return JSON.parse(post.body);
}

/** The order's total as the stand-in's orders resource renders it. */
const orderTotal = (id: string) =>
  standin.bookings
    .find((b) => String(b.id) === id)!
    .rooms.reduce((sum, r) => sum + r.price + r.tax + r.services.reduce((s, v) => s + v.price + v.tax, 0), 0);

describe('QloApps 1.6.1 as it runs (issue 15)', () => {
  it('1. sends the guest’s WhatsApp number as the customer phone, which a default install requires', async () => {
    const tenantId = await pmsTenant();
    const { acts, run } = pms();
    await expect(run(acts.createBooking, booking(tenantId, { guestWaId: '447700900123' }))).resolves.toMatchObject({
      kind: 'booked',
    });
    expect(lastPost().booking.associations.customer_detail.phone).toBe('+447700900123');
    expect(standin.customers[0]!.phone).toBe('+447700900123');
    // Without the guest's id (a booking started before it was passed) QloApps refuses the booking, as it would.
    const { guestWaId: _none, ...old } = booking(tenantId, { roomId: '2' });
    const refused = await failureOf(run(acts.createBooking, old));
    expect(refused).toMatchObject({ type: ErrorType.PmsRejected, nonRetryable: true });
    expect(refused.message).toContain('Please provide a valid phone number.');
  });

  it('2. offers only rooms whose maximum occupancy takes the party; QloApps lists them all', async () => {
    const tenantId = await pmsTenant();
    const { acts, run } = pms();
    const types = async (adults: number, children: number) =>
      (await run(acts.checkAvailability, stay(tenantId, { adults, children }))).rooms.map((r) => r.roomTypeId);
    expect(await types(3, 2)).toEqual(['3']);
    // Standard Double takes one child at most.
    expect(await types(2, 2)).toEqual(['2', '3']);
    // Superior Twin: 2 adults and 2 children, but 3 guests at most.
    const twin = standin.hotels[0]!.roomTypes[1]!;
    twin.maxOccupancy = 3;
    try {
      expect(await types(2, 2)).toEqual(['3']);
      expect(await types(1, 2)).toEqual(['2', '3']);
    } finally {
      delete twin.maxOccupancy;
    }
    // Asked to book a room too small for the party, the client does not try.
    await expect(
      run(acts.createBooking, booking(tenantId, { roomTypeId: '1', roomId: '1', adults: 2, children: 2 })),
    ).resolves.toEqual({ kind: 'unavailable' });
    expect(standin.requests.filter((r) => r.method === 'POST' && r.path === '/api/bookings')).toHaveLength(0);
  });

  it('3. records the children for the hotel in the remark: QloApps counts them as 0 without their ages', async () => {
    const tenantId = await pmsTenant();
    const { acts, run } = pms();
    await run(acts.createBooking, booking(tenantId, { roomTypeId: '3', roomId: '6', adults: 2, children: 2 }));
    const sent = lastPost().booking;
    expect(sent.associations.room_types[0].rooms[0]).toMatchObject({ adult: 2, child: 2 });
    expect(sent.associations.room_types[0].rooms[0].child_ages).toBeUndefined();
    const [stored] = standin.bookings;
    expect(stored!.rooms[0]).toMatchObject({ adults: 2, children: 0 });
    expect(stored!.remarks[0]).toContain(
      'Party: 2 adult(s) and 2 child(ren), ages not given; QloApps counts the children as 0.',
    );
  });

  it('4. sends the room type’s tax rules group, read from room_types, so QloApps answers 200', async () => {
    const tenantId = await pmsTenant();
    const { acts, run } = pms();
    standin.hotels[0]!.taxRulesGroupId = 7;
    try {
      await run(acts.createBooking, booking(tenantId));
      const room = lastPost().booking.associations.room_types[0].rooms[0];
      expect(room.id_tax_rules_group).toBe(7);
      expect(room.services).toEqual([{ id_service: 11, quantity: 1, id_tax_rules_group: 7 }]);
      expect(standin.requests.some((r) => r.path === '/api/room_types/1')).toBe(true);
    } finally {
      standin.hotels[0]!.taxRulesGroupId = 1;
    }
  });

  it('4. takes a PHP-warning 500 to a POST or PUT as maybe done: looks it up, and the breaker does not count it', async () => {
    const tenantId = await pmsTenant();
    const { acts, run, metrics } = pms({
      PMS_BREAKER_CONSECUTIVE_FAILURES: '2',
      PMS_BREAKER_HALF_OPEN_AFTER_MS: '30000',
    });
    const made: string[] = [];
    for (const roomId of ['1', '2', '3']) {
      standin.inject({ kind: 'phpWarning', match: { method: 'POST', resource: 'bookings' } });
      const created = await run(acts.createBooking, booking(tenantId, { roomId }));
      expect(created).toMatchObject({ kind: 'booked', booking: { roomId, status: 'confirmed' } });
      made.push(created.kind === 'booked' ? created.booking.bookingId : '');
    }
    for (const bookingId of made) {
      standin.inject({ kind: 'phpWarning', match: { method: 'PUT', resource: 'bookings' } });
      await expect(run(acts.cancelBooking, { tenantId, bookingId })).resolves.toMatchObject({ status: 'cancelled' });
    }
    expect(standin.bookings).toHaveLength(3);
    // A PHP warning where the work was not done: retried (the next attempt looks first), still not an outage.
    const warning =
      '[PHP Warning #2] Undefined array key "total_tax" (/var/www/classes/webservice/WebserviceSpecificManagementBookings.php, line 504)';
    for (let i = 0; i < 3; i++) {
      standin.inject({ kind: 'error', status: 500, message: warning, match: { method: 'POST', resource: 'bookings' } });
      const failure = await failureOf(run(acts.createBooking, booking(tenantId, { roomId: '1' })));
      expect(failure).toMatchObject({ type: ErrorType.PmsUnavailable, nonRetryable: false });
      expect(failure.message).toContain('has no order with source');
    }
    expect(await circuitState(metrics)).toBe(0);
    // A plain 500 still counts: two open the breaker.
    standin.inject({ kind: 'error', status: 500 }, 2);
    for (let i = 0; i < 2; i++) await failureOf(run(acts.getBooking, { tenantId, bookingId: '1' }));
    expect(await circuitState(metrics)).toBe(2);
  });

  it('5. reads the cancelled order states from configurations, once per shop, as the shop numbers them', async () => {
    const tenantId = await pmsTenant();
    const { acts, run } = pms();
    standin.settings.orderStates = { ...standin.settings.orderStates, canceled: 14, error: 16 };
    const first = await run(acts.createBooking, booking(tenantId, { roomId: '1' }));
    const second = await run(acts.createBooking, booking(tenantId, { roomId: '2' }));
    if (first.kind !== 'booked' || second.kind !== 'booked') throw new Error('not booked');
    await expect(run(acts.cancelBooking, { tenantId, bookingId: first.booking.bookingId })).resolves.toMatchObject({
      status: 'cancelled',
    });
    expect(standin.bookings[0]!.currentState).toBe(14);
    // A payment error frees the rooms in QloApps too.
    standin.bookings[1]!.currentState = 16;
    await expect(run(acts.getBooking, { tenantId, bookingId: second.booking.bookingId })).resolves.toMatchObject({
      status: 'cancelled',
    });
    // The default 4 is no longer a cancelled state on this shop.
    standin.bookings[1]!.currentState = 4;
    await expect(run(acts.getBooking, { tenantId, bookingId: second.booking.bookingId })).resolves.toMatchObject({
      status: 'confirmed',
    });
    expect(standin.requests.filter((r) => r.path === '/api/configurations')).toHaveLength(1);
    // Another tenant on the same shop uses the same copy.
    const other = await pmsTenant();
    await run(acts.getBooking, { tenantId: other, bookingId: second.booking.bookingId });
    expect(standin.requests.filter((r) => r.path === '/api/configurations')).toHaveLength(1);
  });

  it('5. reads the states again once PMS_SHOP_CACHE_SECONDS has passed', async () => {
    const tenantId = await pmsTenant();
    const { acts, run } = pms({ PMS_SHOP_CACHE_SECONDS: '1' });
    const created = await run(acts.createBooking, booking(tenantId));
    if (created.kind !== 'booked') throw new Error('not booked');
    standin.settings.orderStates = { ...standin.settings.orderStates, canceled: 24 };
    standin.bookings[0]!.currentState = 24;
    await waitFor(
      'the renumbered state to be read',
      async () =>
        (await run(acts.getBooking, { tenantId, bookingId: created.booking.bookingId }))?.status === 'cancelled',
      { timeoutMs: 5_000, intervalMs: 200 },
    );
  });

  it.each([
    ['digits and symbols', 'Ana2 (María) López: #1', 'Ana', 'María López'],
    ['an emoji, stored as ???? by QloApps', 'Ana 🙂', 'Ana', 'Guest'],
    [
      'a name longer than 32 characters',
      `Ana ${'Fernández-Villaverde '.repeat(3)}`,
      'Ana',
      'Fernández-Villaverde Fernández-V',
    ],
    ['nothing usable', '12345 :)', 'WhatsApp', 'Guest'],
  ])('6. cleans a WhatsApp profile name with %s to what QloApps accepts', async (_what, guestName, first, last) => {
    const tenantId = await pmsTenant();
    const { acts, run } = pms();
    await expect(run(acts.createBooking, booking(tenantId, { guestName }))).resolves.toMatchObject({ kind: 'booked' });
    expect(lastPost().booking.associations.customer_detail).toMatchObject({ firstname: first, lastname: last });
    // The guest books again, and cancels: QloApps saves the customer each time, and accepts what it stored.
    const again = await run(acts.createBooking, booking(tenantId, { guestName, roomId: '2' }));
    if (again.kind !== 'booked') throw new Error('not booked');
    await expect(run(acts.cancelBooking, { tenantId, bookingId: again.booking.bookingId })).resolves.toMatchObject({
      status: 'cancelled',
    });
  });

  it('7. maps a key lacking a permission (401 for a resource, 405 for a method) to a configuration failure', async () => {
    const tenantId = await pmsTenant();
    const { acts, run } = pms();
    standin.settings.permissions = {
      hotel_ari: ['POST'],
      bookings: ['GET'],
      room_types: ['GET'],
      orders: ['GET'],
      configurations: ['GET'],
      room_bookings: ['GET'],
    };
    const noPost = await failureOf(run(acts.createBooking, booking(tenantId)));
    expect(noPost).toMatchObject({ type: ErrorType.PmsAuthError, nonRetryable: false });
    expect(noPost.message).toContain('Method POST is not allowed for the resource bookings');
    expect(noPost.message).toContain('lacks a permission');
    expect(configFailureKind(noPost.type)).toBe('pms_auth');
    standin.settings.permissions = { hotel_ari: ['POST'] };
    const noOrders = await failureOf(run(acts.getBooking, { tenantId, bookingId: '1' }));
    expect(noOrders).toMatchObject({ type: ErrorType.PmsAuthError, nonRetryable: false });
    expect(noOrders.message).toContain('Resource of type "orders" is not allowed');
    // Once the bound has passed, the worker's interceptor makes it a ConfigurationFailure (activities/config-failures.ts).
    const bounded = boundConfigFailure(noOrders, { scheduledTimestampMs: 0, activityType: 'getBooking' }, 1_000, 2_000);
    expect(bounded).toMatchObject({
      type: ErrorType.ConfigurationFailure,
      nonRetryable: true,
      details: [{ kind: 'pms_auth' }],
    });
  });

  it('7. needs only the documented permissions', async () => {
    const tenantId = await pmsTenant();
    const { acts, run } = pms();
    standin.settings.permissions = {
      hotel_ari: ['POST'],
      bookings: ['POST', 'PUT'],
      orders: ['GET'],
      room_bookings: ['GET'],
      customers: ['GET'],
      configurations: ['GET'],
      room_types: ['GET'],
    };
    const created = await run(acts.createBooking, booking(tenantId));
    if (created.kind !== 'booked') throw new Error('not booked');
    await run(acts.findBookingByReference, { tenantId, reference: created.booking.reference });
    await run(acts.cancelBooking, { tenantId, bookingId: created.booking.bookingId });
    await run(acts.cancelBookingsByReference, { tenantId, reference: created.booking.reference });
    expect(standin.requests.filter((r) => r.path.startsWith('/api/bookings') && r.method === 'GET')).toHaveLength(0);
  });

  it('8. books, finds and cancels on a shop that shows prices tax excluded, never reading bookings/{id}', async () => {
    const tenantId = await pmsTenant();
    const { acts, run } = pms();
    standin.settings.taxExcludedDisplay = true;
    const request = booking(tenantId);
    const created = await run(acts.createBooking, request);
    expect(created).toMatchObject({ kind: 'booked', booking: { status: 'confirmed', roomId: '1', total: 313.5 } });
    if (created.kind !== 'booked') throw new Error('not booked');
    const { bookingId } = created.booking;
    // A retried create finds it instead of booking again.
    await expect(run(acts.createBooking, request)).resolves.toMatchObject({ kind: 'booked', booking: { bookingId } });
    await expect(run(acts.findBookingByReference, { tenantId, reference: request.reference })).resolves.toMatchObject({
      bookingId,
    });
    await expect(run(acts.cancelBookingsByReference, { tenantId, reference: request.reference })).resolves.toEqual({
      cancelled: [bookingId],
    });
    await expect(run(acts.getBooking, { tenantId, bookingId })).resolves.toMatchObject({ status: 'cancelled' });
    expect(standin.bookings).toHaveLength(1);
    expect(standin.bookings[0]!.currentState).toBe(4);
    expect(standin.requests.filter((r) => r.path.startsWith('/api/bookings/') && r.method === 'GET')).toHaveLength(0);
  });

  it("9. reports a base URL that is not the shop's domain as a PmsRedirect configuration failure", async () => {
    const tenantId = await pmsTenant();
    const { acts, run, metrics } = pms({ PMS_BREAKER_CONSECUTIVE_FAILURES: '2' });
    standin.settings.domain = 'hotel-sol.example';
    for (let i = 0; i < 3; i++) {
      const failure = await failureOf(run(acts.checkAvailability, stay(tenantId, { adults: 1 + i })));
      expect(failure).toMatchObject({ type: ErrorType.PmsRedirect, nonRetryable: false });
      expect(failure.message).toContain('the PMS redirects to hotel-sol.example');
      expect(failure.message).toContain("set pmsBaseUrl to the shop's own domain");
      expect(configFailureKind(failure.type)).toBe('pms_redirect');
    }
    // Not an outage: no breaker, no provisional answer.
    expect(await circuitState(metrics)).toBe(0);
  });

  it('10. books the fees hotel_ari quotes, so the booked total is the price the guest was quoted', async () => {
    const tenantId = await pmsTenant();
    const { acts, run } = pms();
    const q = stay(tenantId);
    const quoted = (await run(acts.checkAvailability, q)).rooms.find((r) => r.roomTypeId === '1')!;
    const created = await run(acts.createBooking, booking(tenantId));
    if (created.kind !== 'booked') throw new Error('not booked');
    // 3 nights at the quoted 104.5 (90 + the 5 cleaning fee, + 10 %): 313.5, as the order records it.
    expect(created.booking.total).toBe(313.5);
    expect(created.booking.total).toBeCloseTo(quoted.pricePerNight! * 3, 6);
    expect(orderTotal(created.booking.bookingId)).toBeCloseTo(313.5, 6);
    // Only the auto-added "with room" fee: not the per-booking fee (hotel_ari does not quote it) nor breakfast.
    expect(lastPost().booking.associations.room_types[0].rooms[0].services).toEqual([
      { id_service: 11, quantity: 1, id_tax_rules_group: 1 },
    ]);
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

  it('maps a refused webservice key (401) or a proxy’s 403 to a retryable PmsAuthError, another 4xx to a non-retryable PmsRejected', async () => {
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

  it('opens again, for twice as long, when the trial call fails', async () => {
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
    // The PMS is still failing: the next trial waits 600 ms, not 300.
    const fast = await failureOf(run(acts.getBooking, { tenantId, bookingId: '1' }));
    expect(fast.nextRetryDelay as number).toBeGreaterThan(300);
    expect(fast.nextRetryDelay as number).toBeLessThanOrEqual(600);
  });

  it('doubles the wait while trial calls fail, up to PMS_BREAKER_HALF_OPEN_MAX_MS, and starts short again after a success', async () => {
    const tenantId = await pmsTenant();
    const { acts, run, metrics } = pms({
      ...breakerEnv,
      PMS_BREAKER_HALF_OPEN_AFTER_MS: '100',
      PMS_BREAKER_HALF_OPEN_MAX_MS: '400',
    });
    const call = () => failureOf(run(acts.getBooking, { tenantId, bookingId: '1' }));
    /** Waits for the trial call, made by one of these calls; returns the wait the failing trial then set. */
    const failedTrial = async () => {
      const sent = standin.requests.length;
      await waitFor('a trial call', async () => (await call(), standin.requests.length > sent), {
        timeoutMs: 5_000,
        intervalMs: 20,
      });
      return (await call()).nextRetryDelay as number;
    };
    standin.inject({ kind: 'error', status: 503 }, 3 + 4);
    for (let i = 0; i < 3; i++) await call();
    expect(((await call()).nextRetryDelay as number) <= 100).toBe(true);
    const waits = [await failedTrial(), await failedTrial(), await failedTrial(), await failedTrial()];
    // 200, 400, then capped at 400 (each is the time left, so a little under).
    expect(waits.map((ms) => (ms > 100 && ms <= 200 ? 200 : ms > 200 && ms <= 400 ? 400 : ms))).toEqual([
      200, 400, 400, 400,
    ]);
    expect(waits[2]).toBeGreaterThan(200);
    expect(waits[3]).toBeGreaterThan(200);

    // The PMS is back: the trial succeeds and closes the breaker; the next outage starts again at 100 ms.
    await waitFor(
      'the breaker to close',
      async () => (await run(acts.getBooking, { tenantId, bookingId: '1' }), true),
      {
        timeoutMs: 5_000,
        intervalMs: 20,
      },
    );
    expect(await circuitState(metrics)).toBe(0);
    standin.inject({ kind: 'error', status: 503 }, 3);
    for (let i = 0; i < 3; i++) await call();
    expect(await circuitState(metrics)).toBe(2);
    const again = (await call()).nextRetryDelay as number;
    expect(again).toBeGreaterThan(0);
    expect(again).toBeLessThanOrEqual(100);
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

  it('counts neither a 429 (it says how long to wait) nor an answer it cannot read (the PMS answered)', async () => {
    const tenantId = await pmsTenant();
    const { acts, run, metrics } = pms({ ...breakerEnv, PMS_BREAKER_HALF_OPEN_AFTER_MS: '30000' });
    standin.inject({ kind: 'error', status: 429, retryAfterSeconds: 1 }, 3);
    standin.inject({ kind: 'malformed' }, 3);
    for (let i = 0; i < 6; i++) {
      const failure = await failureOf(run(acts.getBooking, { tenantId, bookingId: '1' }));
      expect(failure.type).toBe(ErrorType.PmsUnavailable);
    }
    expect(await circuitState(metrics)).toBe(0);
    // A dropped connection is an outage: three open it.
    standin.inject({ kind: 'drop' }, 3);
    for (let i = 0; i < 3; i++) await failureOf(run(acts.getBooking, { tenantId, bookingId: '1' }));
    expect(await circuitState(metrics)).toBe(2);
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

describe('tries a request again (PMS_REQUEST_ATTEMPTS, 3 by default)', () => {
  const defaults = { PMS_REQUEST_ATTEMPTS: '3' };
  const bookingPosts = () => standin.requests.filter((r) => r.method === 'POST' && r.path === '/api/bookings');

  it('sends a read the PMS failed in passing (a 503, a dropped connection) again at once', async () => {
    const tenantId = await pmsTenant();
    const { acts, run, metrics } = pms(defaults);
    standin.inject({ kind: 'error', status: 503 });
    standin.inject({ kind: 'drop' });
    await expect(run(acts.getBooking, { tenantId, bookingId: '1' })).resolves.toBeNull();
    expect(standin.requests).toHaveLength(3);
    await expect(run(acts.checkAvailability, stay(tenantId))).resolves.toMatchObject({ provisional: false });
    // Answered in the end: nothing counted against the breaker.
    const text = await metrics.registry.metrics();
    expect(text).not.toContain('outcome="failure"');
  });

  it('gives up after three tries, and never tries again a timeout or a 503 that says when to come back', async () => {
    const tenantId = await pmsTenant();
    const { acts, run } = pms({ ...defaults, PMS_HTTP_TIMEOUT_MS: '300' });
    standin.inject({ kind: 'error', status: 502 }, 3);
    expect(await failureOf(run(acts.getBooking, { tenantId, bookingId: '1' }))).toMatchObject({
      type: ErrorType.PmsUnavailable,
    });
    expect(standin.requests).toHaveLength(3);
    standin.inject({ kind: 'timeout' });
    await failureOf(run(acts.getBooking, { tenantId, bookingId: '1' }));
    expect(standin.requests).toHaveLength(4);
    standin.inject({ kind: 'error', status: 503, retryAfterSeconds: 2 });
    expect(await failureOf(run(acts.getBooking, { tenantId, bookingId: '1' }))).toMatchObject({
      type: ErrorType.PmsUnavailable,
    });
    expect(standin.requests).toHaveLength(5);
  });

  it('sends a booking the PMS refused with a 503 again, and books it once; any other failed write is not resent', async () => {
    const tenantId = await pmsTenant();
    const { acts, run } = pms(defaults);
    standin.inject({ kind: 'error', status: 503, match: { method: 'POST', resource: 'bookings' } });
    const created = await run(acts.createBooking, booking(tenantId));
    expect(created.kind).toBe('booked');
    expect(bookingPosts()).toHaveLength(2);
    expect(standin.bookings).toHaveLength(1);

    // A 502 may come from a proxy after the shop took the booking: the activity fails, and its next attempt looks
    // the reference up before booking.
    standin.inject({ kind: 'error', status: 502, match: { method: 'POST', resource: 'bookings' } });
    const failure = await failureOf(run(acts.createBooking, booking(tenantId, { roomId: '2' })));
    expect(failure.type).toBe(ErrorType.PmsUnavailable);
    expect(bookingPosts()).toHaveLength(3);
    expect(standin.bookings).toHaveLength(1);
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
