import { ApplicationFailure } from '@temporalio/activity';
import {
  CircuitState,
  ConsecutiveBreaker,
  CountBreaker,
  circuitBreaker,
  handleWhen,
  isBrokenCircuitError,
  type CircuitBreakerPolicy,
  type IBreaker,
  type IDisposable,
} from 'cockatiel';
import type Redis from 'ioredis';
import { request, type Agent, type Dispatcher } from 'undici';
import { z } from 'zod';
import type { Config } from '../lib/config';
import type { GuestRefs } from '../lib/guest-refs';
import { ErrorType } from '../lib/domain/errors';
import { createHttpAgent } from '../lib/http';
import type { Logger } from '../lib/log';
import { CircuitStateValue, type Metrics, type PmsCallOutcome, type PmsOperation } from '../lib/metrics';
import { requireSecret, type SecretResolver } from '../lib/secrets';
import type { TenantCache } from './tenants';
import { isNetworkError, readCapped, ResponseTooLargeError, retryAfterMs } from '../lib/http';
import { addressRefusal, serviceUrlProblem } from '../lib/network-policy';
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

// ---------------------------------------------------------------------------------------------------------------
// QloApps webservice client
// ---------------------------------------------------------------------------------------------------------------

/**
 * QloApps' default order state ids (install/data/xml/configuration.xml: PS_OS_CANCELED = 4, PS_OS_REFUND = 5).
 * A booking in either no longer holds its rooms.
 */
const cancelledOrderStates = new Set(['4', '5']);
/** `booking_status` values of the bookings resource (WebserviceSpecificManagementBookings::API_BOOKING_STATUS_*). */
const bookingStatus = { new: 1, cancelled: 3 } as const;
/** `payment_status`: API_BOOKING_PAYMENT_STATUS_AWATING (sic). */
const paymentAwaiting = 3;

/** QloApps renders database ids as strings or numbers depending on the resource; we carry them as strings. */
const qloId = z.union([z.string().regex(/^\d+$/), z.number().int().nonnegative()]).transform(String);
const qloNumber = z.union([
  z.number(),
  z
    .string()
    .regex(/^-?\d+(\.\d+)?$/)
    .transform(Number),
]);
/** A localised field is a string in JSON, or `[{id, value}]` when the shop has several languages. */
const qloText = z
  .union([z.string(), z.array(z.object({ value: z.string() }))])
  .transform((v) => (typeof v === 'string' ? v : (v[0]?.value ?? '')));
const qloDate = z.string().regex(/^\d{4}-\d{2}-\d{2}/);

const ariRoom = z.object({ id_room: qloId });
/** PHP's json_encode renders a map keyed by room id as an object, and an empty one as []. */
const ariRooms = z
  .union([z.array(ariRoom), z.record(z.string(), ariRoom)])
  .transform((v) => (Array.isArray(v) ? v : Object.values(v)));
const ariResponseSchema = z.object({
  hotel_ari: z.object({
    id_hotel: qloId,
    currency: z.string().optional(),
    room_types: z
      .array(
        z.object({
          id_room_type: qloId,
          name: qloText,
          base_price: qloNumber.optional(),
          base_price_with_tax: qloNumber.optional(),
          rooms: z.union([z.object({ available: ariRooms.optional() }), z.array(z.unknown()).max(0)]).optional(),
        }),
      )
      .optional(),
  }),
});

const bookingDetailsSchema = z.object({
  booking: z.object({
    id: qloId,
    id_property: qloId,
    currency: z.string(),
    source: z.string().nullable().optional(),
    associations: z.object({
      customer_detail: z.object({
        id_customer: qloId.optional(),
        firstname: z.string(),
        lastname: z.string(),
        email: z.string(),
        phone: z.union([z.string(), z.number()]).transform(String).optional(),
      }),
      room_types: z
        .array(
          z.object({
            id_room_type: qloId,
            checkin_date: qloDate,
            checkout_date: qloDate,
            number_of_rooms: qloNumber.optional(),
            rooms: z.array(z.object({ id_room: qloId })).optional(),
          }),
        )
        .default([]),
    }),
  }),
});
type BookingDetails = z.output<typeof bookingDetailsSchema>['booking'];

/** GET /api/orders?display=[…]: `{"orders": […]}`, or `[]` when nothing matched. */
const ordersSchema = z.union([
  z
    .array(z.unknown())
    .max(0)
    .transform(() => []),
  z
    .object({
      orders: z.array(
        z.object({ id: qloId, current_state: qloId.optional(), source: z.string().nullable().optional() }),
      ),
    })
    .transform((v) => v.orders),
]);

const qloErrorsSchema = z.object({ errors: z.array(z.object({ code: z.unknown(), message: z.string() })) });

export interface QloAppsClientOptions {
  /** The shop's root URL; the webservice is under `<baseUrl>/api/`. */
  baseUrl: string;
  /** The 32-character webservice key: the Basic auth user name, with an empty password. */
  webserviceKey: string;
  /** QloApps' id_hotel (its "property"). */
  hotelId: number;
  /** Headers and body timeout per request; the dispatcher's connect timeout bounds the connect. */
  timeoutMs: number;
  /** Longest answer read; a longer one fails the call as `PmsUnavailable` (the PMS may be misbehaving). */
  maxResponseBytes: number;
  dispatcher: Dispatcher;
}

const isoDate = /^\d{4}-\d{2}-\d{2}$/;
const numericId = /^\d+$/;
/**
 * The reference is stored in the order's `source` and searched with PrestaShop's `filter[source]=[…]`, where
 * `|`, `,`, `%`, `[` and `]` mean something; references are workflow ids, so a plain charset is no loss.
 */
const referencePattern = /^[A-Za-z0-9._:@-]{1,200}$/;

function pmsUnavailable(message: string, details: Record<string, unknown> = {}, nextRetryDelayMs?: number) {
  return ApplicationFailure.create({
    type: ErrorType.PmsUnavailable,
    message,
    nonRetryable: false,
    details: [details],
    ...(nextRetryDelayMs !== undefined ? { nextRetryDelay: nextRetryDelayMs } : {}),
  });
}

function pmsRejected(message: string, details: Record<string, unknown> = {}) {
  return ApplicationFailure.nonRetryable(message, ErrorType.PmsRejected, details);
}

function qloErrorMessages(text: string): string {
  try {
    const parsed = qloErrorsSchema.safeParse(JSON.parse(text));
    if (parsed.success) return parsed.data.errors.map((e) => e.message).join('; ');
  } catch {
    // not JSON: fall through
  }
  return text ? 'unreadable error body' : 'empty body';
}

interface QloResponse {
  status: number;
  text: string;
  retryAfter: string | undefined;
}

/**
 * A client for one hotel of a QloApps shop, through its webservice (`/api/hotel_ari`, `/api/bookings`,
 * `/api/orders`), with Basic auth (the webservice key as user, no password) and `output_format=JSON`.
 * Responses are validated with zod; a body that does not match is a retryable `PmsUnavailable`.
 */
export function createQloAppsClient(opts: QloAppsClientOptions): PmsClient {
  const { webserviceKey, hotelId, timeoutMs, maxResponseBytes, dispatcher } = opts;
  const apiBase = `${opts.baseUrl.replace(/\/+$/, '')}/api`;
  const authorization = `Basic ${Buffer.from(`${webserviceKey}:`).toString('base64')}`;

  async function call(
    method: 'GET' | 'POST' | 'PUT',
    path: string,
    what: string,
    init: { query?: Record<string, string>; body?: string; contentType?: string } = {},
  ): Promise<QloResponse> {
    const query = new URLSearchParams({ ...init.query, output_format: 'JSON' });
    const url = `${apiBase}/${path}?${query.toString()}`;
    try {
      const response = await request(url, {
        method,
        dispatcher,
        headers: {
          authorization,
          accept: 'application/json',
          ...(init.contentType ? { 'content-type': init.contentType } : {}),
        },
        ...(init.body !== undefined ? { body: init.body } : {}),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      const text = await readCapped(response, maxResponseBytes);
      const retryAfter = response.headers['retry-after'];
      return { status: response.statusCode, text, retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter };
    } catch (err) {
      if (err instanceof ResponseTooLargeError) throw pmsUnavailable(`PMS answered ${what} with ${err.message}`);
      const refused = addressRefusal(err);
      if (refused) {
        throw ApplicationFailure.nonRetryable(
          `PMS address refused (${what}): ${refused.message}; set PMS_ALLOW_PRIVATE_NETWORKS=true only where the PMS ` +
            'is meant to be on a private network',
          ErrorType.ConfigurationFailure,
          { kind: 'pms_address' },
        );
      }
      if (isNetworkError(err)) {
        const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
        throw pmsUnavailable(`PMS unreachable (${what}): ${reason}`);
      }
      throw err;
    }
  }

  /** The failure for an answer that is not a success; callers handle the statuses they expect first. */
  function failure(res: QloResponse, what: string): ApplicationFailure {
    const message = `PMS answered HTTP ${res.status} to ${what}: ${qloErrorMessages(res.text)}`;
    const details = { httpStatus: res.status };
    // 401: the key is not (or no longer) valid; 403: it is, but not for this resource. Both are the tenant's settings.
    if (res.status === 401 || res.status === 403) {
      return ApplicationFailure.retryable(message, ErrorType.PmsAuthError, details);
    }
    if (res.status === 429) {
      return pmsUnavailable(message, details, retryAfterMs(res.retryAfter));
    }
    if (res.status >= 400 && res.status < 500) return pmsRejected(message, details);
    return pmsUnavailable(message, details);
  }

  function parse<T extends z.ZodType>(schema: T, res: QloResponse, what: string): z.output<T> {
    let json: unknown;
    try {
      json = JSON.parse(res.text);
    } catch {
      throw pmsUnavailable(`PMS answered ${what} with a body that is not JSON`, { httpStatus: res.status });
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw pmsUnavailable(
        `PMS answered ${what} with an unexpected shape${issue ? ` (${issue.path.join('.')}: ${issue.message})` : ''}`,
        { httpStatus: res.status },
      );
    }
    return parsed.data;
  }

  function ariXml(q: Omit<AvailabilityQuery, 'tenantId'>, roomTypeId?: string): string {
    // QloApps reads the first child of the root element (`<qloapps>` is what its own XML answers use).
    return [
      '<?xml version="1.0" encoding="UTF-8"?>',
      '<qloapps xmlns:xlink="http://www.w3.org/1999/xlink">',
      '  <hotel_ari>',
      `    <id_hotel>${hotelId}</id_hotel>`,
      ...(roomTypeId ? [`    <id_room_type>${roomTypeId}</id_room_type>`] : []),
      `    <date_from>${q.checkIn}</date_from>`,
      `    <date_to>${q.checkOut}</date_to>`,
      '    <associations>',
      '      <room_occupancies>',
      '        <room_occupancy>',
      `          <adults>${q.adults}</adults>`,
      `          <children>${q.children ?? 0}</children>`,
      '        </room_occupancy>',
      '      </room_occupancies>',
      '    </associations>',
      '  </hotel_ari>',
      '</qloapps>',
    ].join('\n');
  }

  async function ari(q: Omit<AvailabilityQuery, 'tenantId'>, roomTypeId?: string) {
    const res = await call('POST', 'hotel_ari', 'hotel_ari', {
      body: ariXml(q, roomTypeId),
      contentType: 'application/xml; charset=utf-8',
    });
    if (res.status < 200 || res.status >= 300) throw failure(res, 'hotel_ari');
    const { hotel_ari: answer } = parse(ariResponseSchema, res, 'hotel_ari');
    const currency = answer.currency || undefined;
    const rooms: RoomOffer[] = [];
    for (const type of answer.room_types ?? []) {
      const available = type.rooms && !Array.isArray(type.rooms) ? (type.rooms.available ?? []) : [];
      if (!available.length) continue;
      const price = type.base_price_with_tax ?? type.base_price;
      rooms.push({
        roomTypeId: type.id_room_type,
        roomTypeName: type.name,
        roomIds: available.map((r) => r.id_room),
        ...(price !== undefined ? { pricePerNight: price } : {}),
        ...(currency ? { currency } : {}),
      });
    }
    return { rooms, currency };
  }

  async function bookingDetails(bookingId: string): Promise<BookingDetails | null> {
    const res = await call('GET', `bookings/${bookingId}`, 'GET bookings/{id}');
    if (res.status === 404) return null;
    if (res.status < 200 || res.status >= 300) throw failure(res, 'GET bookings/{id}');
    return parse(bookingDetailsSchema, res, 'GET bookings/{id}').booking;
  }

  /** The orders matching a filter, through PrestaShop's generic orders resource (status and source live there). */
  async function orders(field: 'id' | 'source', value: string) {
    const res = await call('GET', 'orders', 'GET orders', {
      query: { [`filter[${field}]`]: `[${value}]`, display: '[id,current_state,source]' },
    });
    if (res.status < 200 || res.status >= 300) throw failure(res, 'GET orders');
    return parse(ordersSchema, res, 'GET orders');
  }

  function toRecord(details: BookingDetails, status: BookingRecord['status']): BookingRecord {
    // The saga books one room per booking; a booking made elsewhere with several rooms shows its first.
    const type = details.associations.room_types[0];
    return {
      bookingId: details.id,
      reference: details.source ?? '',
      status,
      roomTypeId: type?.id_room_type ?? '',
      roomId: type?.rooms?.[0]?.id_room ?? '',
      checkIn: type?.checkin_date.slice(0, 10) ?? '',
      checkOut: type?.checkout_date.slice(0, 10) ?? '',
    };
  }

  const statusOf = (state: string | undefined): BookingRecord['status'] =>
    state !== undefined && cancelledOrderStates.has(state) ? 'cancelled' : 'confirmed';

  async function getBooking(bookingId: string): Promise<BookingRecord | null> {
    if (!numericId.test(bookingId)) return null;
    const [order] = await orders('id', bookingId);
    if (!order) return null;
    const details = await bookingDetails(bookingId);
    return details ? toRecord(details, statusOf(order.current_state)) : null;
  }

  return {
    async checkAvailability(q) {
      const { rooms } = await ari(q);
      return { rooms, provisional: false, checkedAt: new Date().toISOString() };
    },

    async createBooking(r) {
      if (!numericId.test(r.roomTypeId) || !numericId.test(r.roomId)) {
        throw pmsRejected(`Room type ${r.roomTypeId} / room ${r.roomId} are not QloApps ids`);
      }
      if (!referencePattern.test(r.reference)) {
        throw pmsRejected(
          'The booking reference must match [A-Za-z0-9._:@-]{1,200} to be stored and searched at the PMS',
        );
      }
      // The bookings resource needs the booking's currency, which hotel_ari reports; asking for the one room type
      // also finds a room already gone without a refused POST.
      const { rooms, currency } = await ari(r, r.roomTypeId);
      const offer = rooms.find((o) => o.roomTypeId === r.roomTypeId);
      if (!offer?.roomIds.includes(r.roomId)) return { kind: 'unavailable' };
      if (!currency) throw pmsUnavailable('PMS answered hotel_ari without the hotel currency a booking needs');

      const [firstname, ...rest] = (r.guestName ?? '').trim().split(/\s+/).filter(Boolean);
      const body = {
        booking: {
          id_property: hotelId,
          currency,
          booking_status: bookingStatus.new,
          payment_status: paymentAwaiting,
          // `source` is the order's free-text origin (varchar 255), returned by GET bookings/{id} and filterable
          // on the orders resource: the one place QloApps keeps a caller's reference.
          source: r.reference,
          remark: `Booked over WhatsApp, reference ${r.reference}`,
          associations: {
            customer_detail: {
              firstname: firstname ?? 'WhatsApp',
              lastname: rest.length ? rest.join(' ') : 'Guest',
              // QloApps requires an email; the guest gave none, and their phone number stays out of the PMS.
              email: `wa-${r.guestRef}@guests.invalid`,
              phone: '',
            },
            payment_detail: { payment_type: 'pay at hotel' },
            room_types: [
              {
                id_room_type: Number(r.roomTypeId),
                checkin_date: r.checkIn,
                checkout_date: r.checkOut,
                number_of_rooms: 1,
                rooms: [
                  {
                    id_room: Number(r.roomId),
                    // The schema says `adults`; QloApps 1.6.x's formatOccupancyInRequestData reads `adult`.
                    adults: r.adults,
                    adult: r.adults,
                    child: r.children ?? 0,
                  },
                ],
              },
            ],
          },
        },
      };
      const res = await call('POST', 'bookings', 'POST bookings', {
        body: JSON.stringify(body),
        contentType: 'application/json',
      });
      if (res.status >= 200 && res.status < 300) {
        const details = parse(bookingDetailsSchema, res, 'POST bookings').booking;
        return { kind: 'booked', booking: toRecord(details, 'confirmed') };
      }
      // QloApps refuses a taken room with HTTP 400 "Requested room(s) not available." (error code 404).
      if (res.status === 400 && /not available/i.test(qloErrorMessages(res.text))) return { kind: 'unavailable' };
      throw failure(res, 'POST bookings');
    },

    getBooking,

    async findBookingByReference(reference) {
      if (!referencePattern.test(reference)) return null;
      const found = await orders('source', reference);
      // Exact match only (a filter is case-insensitive in MySQL); prefer a live booking, then the oldest.
      const liveFirst = (o: { current_state?: string | undefined }) =>
        statusOf(o.current_state) === 'cancelled' ? 1 : 0;
      const [order] = found
        .filter((o) => o.source === reference)
        .sort((a, b) => liveFirst(a) - liveFirst(b) || Number(a.id) - Number(b.id));
      if (!order) return null;
      const details = await bookingDetails(order.id);
      return details ? toRecord(details, statusOf(order.current_state)) : null;
    },

    async findBookingsByReference(reference) {
      if (!referencePattern.test(reference)) return [];
      const found = (await orders('source', reference))
        .filter((o) => o.source === reference)
        .sort((a, b) => Number(a.id) - Number(b.id));
      const records: BookingRecord[] = [];
      for (const order of found) {
        const details = await bookingDetails(order.id);
        if (details) records.push(toRecord(details, statusOf(order.current_state)));
      }
      return records;
    },

    async cancelBooking(bookingId) {
      const current = numericId.test(bookingId) ? await orders('id', bookingId) : [];
      const details = current[0] ? await bookingDetails(bookingId) : null;
      if (!details) throw pmsRejected(`Booking ${bookingId} does not exist at the PMS`, { httpStatus: 404 });
      if (statusOf(current[0]?.current_state) === 'cancelled') return toRecord(details, 'cancelled');
      // A PUT replaces the booking's rooms with the ones sent, so the current rooms go back unchanged.
      const { id_customer: idCustomer, ...customer } = details.associations.customer_detail;
      const body = {
        booking: {
          id: Number(details.id),
          id_property: Number(details.id_property),
          currency: details.currency,
          booking_status: bookingStatus.cancelled,
          associations: {
            customer_detail: { ...(idCustomer ? { id_customer: Number(idCustomer) } : {}), ...customer },
            room_types: details.associations.room_types.map((type) => ({
              id_room_type: Number(type.id_room_type),
              checkin_date: type.checkin_date.slice(0, 10),
              checkout_date: type.checkout_date.slice(0, 10),
              number_of_rooms: type.number_of_rooms ?? type.rooms?.length ?? 1,
              ...(type.rooms?.length ? { rooms: type.rooms.map((room) => ({ id_room: Number(room.id_room) })) } : {}),
            })),
          },
        },
      };
      const res = await call('PUT', `bookings/${bookingId}`, 'PUT bookings/{id}', {
        body: JSON.stringify(body),
        contentType: 'application/json',
      });
      if (res.status < 200 || res.status >= 300) throw failure(res, 'PUT bookings/{id}');
      return toRecord(parse(bookingDetailsSchema, res, 'PUT bookings/{id}').booking, 'cancelled');
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Activities: tenant → PMS, one pooled agent and one circuit breaker per PMS origin, availability cache
// ---------------------------------------------------------------------------------------------------------------

/**
 * Opens on `consecutive` failures in a row, or when more than `ratio` of the last `window` calls failed (once
 * `window` calls have been seen): cockatiel's own ConsecutiveBreaker and CountBreaker, both fed every result.
 */
class ConsecutiveOrRatioBreaker implements IBreaker {
  private readonly consecutive: ConsecutiveBreaker;
  private readonly ratio: CountBreaker | undefined;

  constructor({ consecutive, ratio, window }: { consecutive: number; ratio: number; window: number }) {
    this.consecutive = new ConsecutiveBreaker(consecutive);
    // CountBreaker takes a ratio in (0, 1); a ratio of 1 ("all failed") is what the consecutive count says.
    this.ratio =
      ratio < 1 ? new CountBreaker({ threshold: ratio, size: window, minimumNumberOfCalls: window }) : undefined;
  }

  get state(): unknown {
    return { consecutive: this.consecutive.state, ratio: this.ratio?.state };
  }

  set state(value: unknown) {
    const v = value as { consecutive: number; ratio: unknown };
    this.consecutive.state = v.consecutive;
    if (this.ratio) this.ratio.state = v.ratio;
  }

  success(state: CircuitState): void {
    this.consecutive.success();
    this.ratio?.success(state);
  }

  failure(state: CircuitState): boolean {
    const consecutive = this.consecutive.failure();
    const ratio = this.ratio?.failure(state) ?? false;
    return consecutive || ratio;
  }
}

interface OriginEntry {
  origin: string;
  agent: Agent;
  breaker: CircuitBreakerPolicy;
  openedAt: number | undefined;
  listeners: IDisposable[];
  /** The `pms_calls_total` series of this origin (`operation outcome`), removed with it. */
  callSeries: Set<string>;
}

export interface PmsActivityDeps {
  /** Names the guest at the PMS (the placeholder e-mail) without their number. */
  guestRefs: GuestRefs;
  tenants: TenantCache;
  secrets: SecretResolver;
  redis: Redis;
  config: Config;
  log: Logger;
  metrics?: Metrics;
}

export type PmsActivities = ReturnType<typeof createPmsActivities>;

const closers = new WeakMap<object, () => Promise<void>>();

/** Closes the pooled agents of activities made by {@link createPmsActivities} and stops their metrics. */
export async function closePmsActivities(activities: PmsActivities): Promise<void> {
  await closers.get(activities)?.();
}

const isOutage = (err: unknown) => err instanceof ApplicationFailure && err.type === ErrorType.PmsUnavailable;

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

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

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
 * `pms_credentials_ref`); calls to one PMS origin share a pooled agent and a circuit breaker. While a breaker is
 * open, calls fail at once with a retryable `PmsUnavailable` whose `nextRetryDelay` is the time left until the
 * breaker lets a trial call through, so Temporal does the waiting. Close with {@link closePmsActivities}.
 */
export function createPmsActivities(deps: PmsActivityDeps) {
  const { tenants, secrets, redis, config, log, metrics, guestRefs } = deps;
  // cockatiel measures the open time with Date.now, so the time left is measured with it too.
  const now = () => Date.now();
  const halfOpenAfterMs = config.pms.breakerHalfOpenAfterMs;
  const origins = new Map<string, OriginEntry>();

  function circuitValue(entry: OriginEntry): number {
    switch (entry.breaker.state) {
      case CircuitState.Closed:
        return CircuitStateValue.closed;
      case CircuitState.HalfOpen:
        return CircuitStateValue.halfOpen;
      case CircuitState.Open:
        // cockatiel moves to half-open on the first call after the delay; until then the trial is due.
        return entry.openedAt !== undefined && now() - entry.openedAt >= halfOpenAfterMs
          ? CircuitStateValue.halfOpen
          : CircuitStateValue.open;
      default:
        return CircuitStateValue.open;
    }
  }

  const unregisterCollect = metrics?.onCollect(() => {
    for (const entry of origins.values()) metrics.pmsCircuitState.set({ origin: entry.origin }, circuitValue(entry));
  });

  function originEntry(origin: string): OriginEntry {
    let entry = origins.get(origin);
    if (entry) return entry;
    const breaker = circuitBreaker(handleWhen(isOutage), {
      halfOpenAfter: halfOpenAfterMs,
      breaker: new ConsecutiveOrRatioBreaker({
        consecutive: config.pms.breakerConsecutiveFailures,
        ratio: config.pms.breakerFailureRatio,
        window: config.pms.breakerMinRequests,
      }),
    });
    const created: OriginEntry = {
      origin,
      agent: createHttpAgent({
        maxConnectionsPerOrigin: config.http.maxConnectionsPerOrigin,
        connectTimeoutMs: config.pms.httpTimeoutMs,
        addressPolicy: { allowPrivateNetworks: config.pms.allowPrivateNetworks },
      }),
      breaker,
      openedAt: undefined,
      listeners: [],
      callSeries: new Set(),
    };
    created.listeners.push(
      breaker.onBreak(() => {
        created.openedAt = now();
        log.warn({ origin, retryInMs: halfOpenAfterMs }, 'PMS circuit opened');
      }),
      breaker.onHalfOpen(() => log.info({ origin }, 'PMS circuit half-open: trial call')),
      breaker.onReset(() => {
        created.openedAt = undefined;
        log.info({ origin }, 'PMS circuit closed');
      }),
      breaker.onStateChange(() => metrics?.pmsCircuitState.set({ origin }, circuitValue(created))),
    );
    metrics?.pmsCircuitState.set({ origin }, CircuitStateValue.closed);
    origins.set(origin, created);
    entry = created;
    return entry;
  }

  /** The tenant's PMS client and the breaker of its origin, or a failure that says what is missing. */
  async function target(tenantId: string): Promise<{ client: PmsClient; entry: OriginEntry }> {
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
    const entry = originEntry(origin);
    const client = createQloAppsClient({
      baseUrl: settings.baseUrl,
      webserviceKey,
      hotelId: settings.hotelId,
      timeoutMs: config.pms.httpTimeoutMs,
      maxResponseBytes: config.pms.maxResponseBytes,
      dispatcher: entry.agent,
    });
    return { client, entry };
  }

  function count(entry: OriginEntry, operation: PmsOperation, outcome: PmsCallOutcome) {
    // A call that outlived its origin's eviction must not bring the series back.
    if (origins.get(entry.origin) !== entry) return;
    entry.callSeries.add(`${operation} ${outcome}`);
    metrics?.pmsCalls.inc({ origin: entry.origin, operation, outcome });
  }

  /** Closes an origin's pool (after its requests in flight), stops its breaker's listeners, drops its series. */
  function evict(entry: OriginEntry): void {
    origins.delete(entry.origin);
    for (const listener of entry.listeners) listener.dispose();
    entry.agent.close().catch((err: unknown) => log.warn({ err, origin: entry.origin }, 'PMS pool not closed'));
    metrics?.pmsCircuitState.remove({ origin: entry.origin });
    for (const series of entry.callSeries) {
      const [operation, outcome] = series.split(' ') as [PmsOperation, PmsCallOutcome];
      metrics?.pmsCalls.remove({ origin: entry.origin, operation, outcome });
    }
    log.info({ origin: entry.origin }, 'PMS origin no tenant uses any more: pool, breaker and metrics dropped');
  }

  // Each reload of the tenant directory drops the origins no tenant points at any more (a changed or removed PMS
  // URL), so a worker that has seen many URLs does not keep a pool, a breaker and metric series for each forever.
  const unsubscribe = tenants.onReload((directory) => {
    const inUse = new Set<string>();
    for (const { baseUrl } of directory.pms.values()) {
      if (baseUrl && serviceUrlProblem(baseUrl) === undefined) inUse.add(new URL(baseUrl).origin);
    }
    for (const entry of [...origins.values()]) if (!inUse.has(entry.origin)) evict(entry);
  });

  /** Runs one PMS operation through the origin's breaker; an open breaker fails at once with the time left. */
  async function guarded<T>(tenantId: string, operation: PmsOperation, fn: (client: PmsClient) => Promise<T>) {
    const { client, entry } = await target(tenantId);
    try {
      const result = await entry.breaker.execute(() => fn(client));
      count(entry, operation, 'success');
      return result;
    } catch (err) {
      if (isBrokenCircuitError(err)) {
        count(entry, operation, 'short_circuited');
        const elapsed = entry.openedAt === undefined ? 0 : now() - entry.openedAt;
        const retryInMs = Math.min(halfOpenAfterMs, Math.max(1, halfOpenAfterMs - elapsed));
        throw pmsUnavailable(
          `PMS at ${entry.origin} is failing; circuit open, next trial call in ${retryInMs} ms`,
          { origin: entry.origin, retryInMs },
          retryInMs,
        );
      }
      count(entry, operation, isOutage(err) ? 'failure' : 'rejected');
      // This failure tripped the breaker (or found it tripped by another call): the next attempt is
      // pointless before the half-open trial, so Temporal waits for the breaker, not its own backoff.
      const open = entry.openedAt !== undefined || entry.breaker.state === CircuitState.Open;
      if (isOutage(err) && open && err instanceof ApplicationFailure && !err.nextRetryDelay) {
        const elapsed = entry.openedAt === undefined ? 0 : now() - entry.openedAt;
        const retryInMs = Math.min(halfOpenAfterMs, Math.max(1, halfOpenAfterMs - elapsed));
        throw pmsUnavailable(
          `${err.message}; circuit open, next trial call in ${retryInMs} ms`,
          { origin: entry.origin, retryInMs },
          retryInMs,
        );
      }
      throw err;
    }
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
        if (!isOutage(err)) throw err;
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
      const { tenantId: _tenantId, guestWaId, ...request } = r;
      // Without the guest's id (an older booking workflow), the booking reference stands in for them.
      const guestRef = guestRefs.of(guestWaId ?? r.reference);
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

  closers.set(activities, async () => {
    unsubscribe();
    unregisterCollect?.();
    const entries = [...origins.values()];
    origins.clear();
    for (const entry of entries) for (const listener of entry.listeners) listener.dispose();
    await Promise.all(entries.map((entry) => entry.agent.close()));
  });
  return activities;
}
