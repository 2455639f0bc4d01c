import { ApplicationFailure } from '@temporalio/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { request, type Dispatcher } from 'undici';
import type { z } from 'zod';
import { ErrorType } from '../../lib/domain/errors';
import type { AvailabilityQuery, BookingRecord, PmsBookingRequest, PmsClient, RoomOffer } from '../../lib/domain/pms';
import {
  describeError,
  errorCode,
  isNetworkError,
  readCapped,
  ResponseTooLargeError,
  retryAfterMs,
} from '../../lib/http';
import { addressRefusal } from '../../lib/network-policy';
import { customerName, customerPhone } from './customer';
import { pmsMaybeDone, pmsRejected, pmsUnavailable } from './failures';
import {
  ariResponseSchema,
  bookingStatus,
  cancelledStateKeys,
  configurationsSchema,
  defaultCurrencyKey,
  createdBookingSchema,
  customersSchema,
  isPhpErrorBody,
  numericId,
  ordersSchema,
  paymentAwaiting,
  priceAdditionWithRoom,
  productSchema,
  qloErrorList,
  qloErrorMessages,
  referencePattern,
  roomBookingsSchema,
  type AriRoom,
  type OrderRow,
  type Product,
  type RoomBookingRow,
} from './schemas';
import type { ShopCache } from './shop-cache';

export interface QloAppsClientOptions {
  /** The shop's root URL; the webservice is under `<baseUrl>/api/`. Its host must be the shop's own domain. */
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
  /** What is remembered about the shop between calls (order states, room types and their fees). */
  cache: ShopCache;
  /**
   * `PMS_REQUEST_ATTEMPTS`: tries of a request that is safe to send again, when the PMS failed it with a 5xx or the
   * connection failed (not a timeout): reads, and a booking the shop refused with a 503 and a look-up did not find.
   */
  requestAttempts?: number;
}

interface QloResponse {
  status: number;
  text: string;
  retryAfter: string | undefined;
  location: string | undefined;
}

/** A fee QloApps adds to every room of a type (auto-added, "with room"), sent with the booking so it is charged. */
interface RoomFee {
  id: string;
  taxRulesGroup: string;
}

/** What a booking needs to know of a room type: its tax rules group and its fees. */
interface RoomTypeTerms {
  taxRulesGroup: string;
  fees: RoomFee[];
}

const header = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

/** undici's timeouts: the request already took the whole timeout, so it is not tried again at once. */
const timeoutCodes = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

/** A short, jittered pause before trying a request again: 50 ms, 100 ms, … plus up to 50 ms. */
const pauseBeforeTry = (tried: number) => sleep(50 * tried + Math.random() * 50);

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * A client for one hotel of a QloApps 1.6.1 shop, through its webservice, with Basic auth (the webservice key as
 * user, no password) and `output_format=JSON`. Responses are validated with zod; a body that does not match is a
 * retryable `PmsUnavailable`.
 *
 * Availability comes from `hotel_ari`; bookings are made and cancelled through `bookings` (POST, PUT), and found and
 * checked through the generic resources only (`orders` by `source`, `room_bookings`, `customers`): on a shop that
 * shows prices tax excluded, QloApps 1.6.1 answers every read of `bookings/{id}`, and the replies to POST and PUT,
 * with a 500 made of PHP warnings after doing the work. Such a 500 to a write is "maybe done": the client looks the
 * booking up and answers from what it finds.
 */
export function createQloAppsClient(opts: QloAppsClientOptions): PmsClient {
  const { webserviceKey, hotelId, timeoutMs, maxResponseBytes, dispatcher, cache } = opts;
  const requestAttempts = opts.requestAttempts ?? 1;
  const shop = opts.baseUrl.replace(/\/+$/, '');
  const apiBase = `${shop}/api`;
  const authorization = `Basic ${Buffer.from(`${webserviceKey}:`).toString('base64')}`;

  /**
   * One request, tried up to `requestAttempts` times when it is safe to send again (`repeatable`: GETs, and reads
   * sent as a POST) and the PMS failed it in passing: a 5xx that is not a PHP-warning 500 (those repeat) and carries
   * no `Retry-After`, or a connection failure other than a timeout. A PMS behind a balancer with one bad backend
   * then costs a retry of one request, not of a whole activity.
   */
  async function call(
    method: 'GET' | 'POST' | 'PUT',
    path: string,
    what: string,
    init: { query?: Record<string, string>; body?: string; contentType?: string; repeatable?: boolean } = {},
  ): Promise<QloResponse> {
    const tries = (init.repeatable ?? method === 'GET') ? requestAttempts : 1;
    for (let tried = 1; ; tried++) {
      try {
        const res = await send(method, path, what, init);
        if (tried >= tries || !failedInPassing(res)) return res;
      } catch (err) {
        if (tried >= tries || !droppedInPassing(err)) throw err;
      }
      await pauseBeforeTry(tried);
    }
  }

  /** A 5xx worth sending again at once: not QloApps' PHP-warning 500 (it repeats), no `Retry-After` to honour. */
  const failedInPassing = (res: QloResponse) =>
    res.status >= 500 && res.retryAfter === undefined && !isPhpErrorBody(res.text);

  /** A connection that failed before an answer, not by our timeout. */
  function droppedInPassing(err: unknown): boolean {
    if (!(err instanceof ApplicationFailure) || err.type !== ErrorType.PmsUnavailable) return false;
    const details = err.details?.[0] as { unreachable?: unknown; timedOut?: unknown } | undefined;
    return details?.unreachable === true && details.timedOut !== true;
  }

  async function send(
    method: 'GET' | 'POST' | 'PUT',
    path: string,
    what: string,
    init: { query?: Record<string, string>; body?: string; contentType?: string },
  ): Promise<QloResponse> {
    const query = new URLSearchParams({ ...init.query, output_format: 'JSON' });
    const url = `${apiBase}/${path}?${query.toString()}`;
    let res: QloResponse;
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
      res = {
        status: response.statusCode,
        text,
        retryAfter: header(response.headers['retry-after']),
        location: header(response.headers.location),
      };
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
        const timedOut = timeoutCodes.has(errorCode(err) ?? '');
        throw pmsUnavailable(`PMS unreachable (${what}): ${describeError(err)}`, { unreachable: true, timedOut });
      }
      throw err;
    }
    if (res.status >= 300 && res.status < 400) throw redirected(res, what);
    return res;
  }

  /**
   * QloApps sends a request whose host is not the shop's domain to its front office (Shop::initialize, a 302 before
   * any authentication). Following it would end on the shop's home page, so it is a setting to fix, not an outage.
   */
  function redirected(res: QloResponse, what: string): ApplicationFailure {
    let to = 'another address';
    try {
      if (res.location) to = new URL(res.location, apiBase).host;
    } catch {
      // an unreadable Location still says "redirect"
    }
    return ApplicationFailure.retryable(
      `the PMS redirects to ${to} (HTTP ${res.status} to ${what}): set pmsBaseUrl to the shop's own domain`,
      ErrorType.PmsRedirect,
      { httpStatus: res.status, location: to },
    );
  }

  /** The failure for an answer that is not a success; callers handle the statuses they expect first. */
  function failure(res: QloResponse, what: string): ApplicationFailure {
    const message = `PMS answered HTTP ${res.status} to ${what}: ${qloErrorMessages(res.text)}`;
    const details = { httpStatus: res.status };
    // 401: the key is not valid, or may not use this resource at all; 405: not with this method. 403 is not
    // QloApps' but a proxy's in front of it. All are the tenant's settings: the README lists what the key needs.
    if (res.status === 401 || res.status === 403 || res.status === 405) {
      const permission = res.status === 405 || /not allowed with this authentication key/.test(message);
      return ApplicationFailure.retryable(
        permission
          ? `${message}; the webservice key lacks a permission this service needs (see the README: QloApps)`
          : message,
        ErrorType.PmsAuthError,
        details,
      );
    }
    if (res.status === 429) {
      return pmsUnavailable(message, details, retryAfterMs(res.retryAfter));
    }
    if (res.status >= 400 && res.status < 500) return pmsRejected(message, details);
    return pmsUnavailable(message, details);
  }

  const ok = (res: QloResponse) => res.status >= 200 && res.status < 300;
  /** QloApps' error handler turned PHP warnings into a 500 but carried on: the write may be done. */
  const maybeDone = (res: QloResponse) => res.status === 500 && isPhpErrorBody(res.text);

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

  /** A GET on a generic resource, parsed; `query` holds filters and `display`. */
  async function read<T extends z.ZodType>(
    schema: T,
    path: string,
    what: string,
    query: Record<string, string>,
  ): Promise<z.output<T>> {
    const res = await call('GET', path, what, { query });
    if (!ok(res)) throw failure(res, what);
    return parse(schema, res, what);
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

  /**
   * Free rooms that take the party. QloApps 1.6.1's hotel_ari ignores the occupancy it is sent (it stores it under
   * `room_occupancy` and HotelBookingDetail reads `occupancy`), so rooms too small are filtered out here, by the
   * maximums each room row carries.
   */
  async function ari(q: Omit<AvailabilityQuery, 'tenantId'>, roomTypeId?: string) {
    const res = await call('POST', 'hotel_ari', 'hotel_ari', {
      body: ariXml(q, roomTypeId),
      contentType: 'application/xml; charset=utf-8',
      repeatable: true,
    });
    if (!ok(res)) throw failure(res, 'hotel_ari');
    const { hotel_ari: answer } = parse(ariResponseSchema, res, 'hotel_ari');
    const currency = answer.currency || undefined;
    const adults = q.adults;
    const children = q.children ?? 0;
    const fits = (room: AriRoom) =>
      adults <= room.max_adult && children <= room.max_children && adults + children <= room.max_occupancy;
    const rooms: RoomOffer[] = [];
    for (const type of answer.room_types ?? []) {
      const available = type.rooms && !Array.isArray(type.rooms) ? (type.rooms.available ?? []) : [];
      const roomIds = available.filter(fits).map((r) => r.id_room);
      if (!roomIds.length) continue;
      const price = type.base_price_with_tax ?? type.base_price;
      rooms.push({
        roomTypeId: type.id_room_type,
        roomTypeName: type.name,
        roomIds,
        ...(price !== undefined ? { pricePerNight: price } : {}),
        ...(currency ? { currency } : {}),
      });
    }
    return { rooms, currency };
  }

  /**
   * What records need of the shop's configuration (cached): the order states in which QloApps frees a booking's
   * rooms, as this shop numbers them, and its default currency's id.
   */
  function shopSettings(): Promise<{ cancelled: Set<string>; defaultCurrencyId: string | undefined }> {
    return cache.get(shop, 'settings', async () => {
      const rows = await read(configurationsSchema, 'configurations', 'GET configurations', {
        [`filter[name]`]: `[${[...cancelledStateKeys, defaultCurrencyKey].join('|')}]`,
        display: '[name,value]',
      });
      const cancelled = new Set(rows.filter((r) => cancelledStateKeys.some((k) => k === r.name)).map((r) => r.value));
      if (!cancelled.size) throw pmsUnavailable(`PMS configurations has none of ${cancelledStateKeys.join(', ')}`);
      return { cancelled, defaultCurrencyId: rows.find((r) => r.name === defaultCurrencyKey)?.value };
    });
  }

  /** The ISO code of the shop's default currency (cached): hotel_ari names it, for any dates. */
  function shopCurrency(): Promise<string | undefined> {
    return cache.get(shop, 'currency', async () => {
      const today = new Date().toISOString().slice(0, 10);
      const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
      return (await ari({ checkIn: today, checkOut: tomorrow, adults: 1 })).currency;
    });
  }

  function product(id: string): Promise<Product> {
    return cache.get(shop, `product:${id}`, async () => {
      const res = await call('GET', `room_types/${id}`, 'GET room_types/{id}');
      if (res.status === 404) throw pmsRejected(`Room type or service ${id} does not exist at the PMS`);
      if (!ok(res)) throw failure(res, 'GET room_types/{id}');
      return parse(productSchema, res, 'GET room_types/{id}').room_type;
    });
  }

  /**
   * A room type's tax rules group (sent with each room: without it QloApps answers 500 after booking) and its
   * automatically added "with room" fees. hotel_ari's price includes those fees, but a booking made through the
   * webservice drops every auto-added service it does not list (removeAutoAddedServicesFromCart), so they are listed:
   * the booking then costs what was quoted.
   */
  async function roomTypeTerms(roomTypeId: string): Promise<RoomTypeTerms> {
    const type = await product(roomTypeId);
    const fees: RoomFee[] = [];
    for (const link of type.associations?.services ?? []) {
      const service = await product(link.id);
      if (service.auto_add_to_cart !== 1 || service.price_addition_type !== priceAdditionWithRoom) continue;
      fees.push({ id: service.id, taxRulesGroup: link.id_tax_rules_group ?? service.id_tax_rules_group });
    }
    return { taxRulesGroup: type.id_tax_rules_group, fees };
  }

  /** Orders matching a filter, with what a record needs. */
  async function orders(field: 'id' | 'source', value: string): Promise<OrderRow[]> {
    return read(ordersSchema, 'orders', 'GET orders', {
      [`filter[${field}]`]: `[${value}]`,
      display: '[id,current_state,source,id_customer,id_currency,total_paid_tax_incl]',
    });
  }

  /** The booked rooms of these orders (HotelBookingDetail rows), oldest first. */
  async function roomBookings(orderIds: string[]): Promise<RoomBookingRow[]> {
    if (!orderIds.length) return [];
    const rows = await read(roomBookingsSchema, 'room_bookings', 'GET room_bookings', {
      [`filter[id_order]`]: `[${orderIds.join('|')}]`,
      display: '[id,id_order,id_product,id_room,id_hotel,date_from,date_to]',
    });
    return rows.sort((a, b) => Number(a.id) - Number(b.id));
  }

  /** Records of these orders, with their rooms (read unless given); an order without rooms is left out. */
  async function records(found: OrderRow[], rooms?: RoomBookingRow[]): Promise<BookingRecord[]> {
    if (!found.length) return [];
    const [settings, currency, rows] = await Promise.all([
      shopSettings(),
      shopCurrency(),
      rooms ?? roomBookings(found.map((o) => o.id)),
    ]);
    return found.flatMap((order) => {
      // The saga books one room per booking; a booking made elsewhere with several rooms shows its first.
      const room = rows.find((r) => r.id_order === order.id);
      if (!room) return [];
      const record: BookingRecord = {
        bookingId: order.id,
        reference: order.source ?? '',
        status:
          order.current_state !== undefined && settings.cancelled.has(order.current_state) ? 'cancelled' : 'confirmed',
        roomTypeId: room.id_product,
        roomId: room.id_room,
        checkIn: room.date_from.slice(0, 10),
        checkOut: room.date_to.slice(0, 10),
        ...(order.total_paid_tax_incl !== undefined ? { total: order.total_paid_tax_incl } : {}),
        // Our orders are in the default currency (hotel_ari's); another order's is not named.
        ...(currency && order.id_currency === settings.defaultCurrencyId ? { currency } : {}),
      };
      return [record];
    });
  }

  async function getBooking(bookingId: string): Promise<BookingRecord | null> {
    if (!numericId.test(bookingId)) return null;
    const [record] = await records(await orders('id', bookingId));
    return record ?? null;
  }

  async function findBookingsByReference(reference: string): Promise<BookingRecord[]> {
    if (!referencePattern.test(reference)) return [];
    // Exact match only (a filter is case-insensitive in MySQL); oldest first.
    const found = (await orders('source', reference))
      .filter((o) => o.source === reference)
      .sort((a, b) => Number(a.id) - Number(b.id));
    return records(found);
  }

  async function findBookingByReference(reference: string): Promise<BookingRecord | null> {
    const found = await findBookingsByReference(reference);
    // Prefer a live booking, then the oldest.
    return found.find((b) => b.status !== 'cancelled') ?? found[0] ?? null;
  }

  function bookingBody(r: PmsBookingRequest, currency: string, terms: RoomTypeTerms) {
    const children = r.children ?? 0;
    const phone = customerPhone(r.guestWaId);
    const remark = [
      `Booked over WhatsApp, reference ${r.reference}.`,
      // QloApps records children only with their ages (formatOccupancyInRequestData sets child to 0 without
      // child_ages), which the guest was not asked: the party is written down here for the hotel.
      ...(children > 0
        ? [`Party: ${r.adults} adult(s) and ${children} child(ren), ages not given; QloApps counts the children as 0.`]
        : []),
    ].join(' ');
    return {
      booking: {
        id_property: hotelId,
        currency,
        booking_status: bookingStatus.new,
        payment_status: paymentAwaiting,
        // `source` is the order's free-text origin (varchar 255), filterable on the orders resource: the one place
        // QloApps keeps a caller's reference.
        source: r.reference,
        remark,
        associations: {
          customer_detail: {
            ...customerName(r.guestName),
            // QloApps requires an e-mail; the guest gave none, so it names them by their keyed reference.
            email: `wa-${r.guestRef}@guests.invalid`,
            // PS_ONE_PHONE_AT_LEAST (on by default) refuses a booking without one; the hotel needs it anyway.
            phone: phone ?? '',
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
                  // The schema says `adults`; QloApps 1.6.1 reads `adult` (and `child`, kept only with child_ages).
                  adult: r.adults,
                  child: children,
                  // Without a tax field QloApps answers 500 (an undefined index) after booking; a tax group other
                  // than the room type's own moves the price the wrong way, so it is the room type's.
                  id_tax_rules_group: Number(terms.taxRulesGroup),
                  services: terms.fees.map((fee) => ({
                    id_service: Number(fee.id),
                    quantity: 1,
                    id_tax_rules_group: Number(fee.taxRulesGroup),
                  })),
                },
              ],
            },
          ],
        },
      },
    };
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
      // also finds a room already gone (or too small for the party) without a refused POST.
      const { rooms, currency } = await ari(r, r.roomTypeId);
      const offer = rooms.find((o) => o.roomTypeId === r.roomTypeId);
      if (!offer?.roomIds.includes(r.roomId)) return { kind: 'unavailable' };
      if (!currency) throw pmsUnavailable('PMS answered hotel_ari without the hotel currency a booking needs');
      const terms = await roomTypeTerms(r.roomTypeId);

      const post = () =>
        call('POST', 'bookings', 'POST bookings', {
          body: JSON.stringify(bookingBody(r, currency, terms)),
          contentType: 'application/json',
        });
      let res = await post();
      // A 503 is the shop (or the server in front of it) saying it did not take the request (RFC 9110 §15.6.4):
      // PrestaShop's webservice answers it before any booking code runs. So the same booking is sent again at once.
      // Should a 503 ever follow a booking made, the reference still holds: the activity's next attempt looks it up
      // first, and compensation cancels every booking that carries it.
      for (let tried = 1; tried < requestAttempts && res.status === 503 && res.retryAfter === undefined; tried++) {
        await pauseBeforeTry(tried);
        res = await post();
      }
      if (ok(res) || maybeDone(res)) {
        // Read back through orders, never bookings/{id} (a 500 on tax-excluded shops): the total is the order's. The
        // answer's id says which order this POST made; a 500 has none, and the reference finds it.
        const created = ok(res) ? createdBookingSchema.safeParse(safeJson(res.text)) : undefined;
        const booked = created?.success
          ? await getBooking(created.data.booking.id)
          : await findBookingByReference(r.reference);
        if (booked) return { kind: 'booked', booking: booked };
        const message = `PMS answered HTTP ${res.status} to POST bookings but has no order with source ${r.reference}`;
        throw ok(res) ? pmsUnavailable(message) : pmsMaybeDone(`${message}: ${qloErrorMessages(res.text)}`);
      }
      // QloApps refuses a taken room with HTTP 400 "Requested room(s) not available." (error code 404).
      if (res.status === 400 && qloErrorList(res.text)?.some((m) => /not available/i.test(m))) {
        return { kind: 'unavailable' };
      }
      throw failure(res, 'POST bookings');
    },

    getBooking,
    findBookingByReference,
    findBookingsByReference,

    async cancelBooking(bookingId) {
      const [order] = numericId.test(bookingId) ? await orders('id', bookingId) : [];
      const rows = order ? (await roomBookings([order.id])).filter((row) => row.id_order === order.id) : [];
      const [current] = order ? await records([order], rows) : [];
      if (!order || !current) throw pmsRejected(`Booking ${bookingId} does not exist at the PMS`, { httpStatus: 404 });
      if (current.status === 'cancelled') return current;
      // A PUT removes the rooms it does not list, so every room of the order goes back, by type and dates. Without
      // `rooms[]` it keeps them, but drops the services booked with them (the fees): a cancelled order's total is its
      // rooms' price.
      const groups = new Map<
        string,
        { id_room_type: number; checkin_date: string; checkout_date: string; n: number }
      >();
      for (const row of rows) {
        const key = `${row.id_product} ${row.date_from} ${row.date_to}`;
        const group = groups.get(key);
        if (group) group.n++;
        else
          groups.set(key, {
            id_room_type: Number(row.id_product),
            checkin_date: row.date_from.slice(0, 10),
            checkout_date: row.date_to.slice(0, 10),
            n: 1,
          });
      }
      // The PUT names an existing customer by e-mail; QloApps would overwrite the order's customer's e-mail with
      // another one, so it is read, not guessed.
      const [customer] = order.id_customer
        ? await read(customersSchema, 'customers', 'GET customers', {
            [`filter[id]`]: `[${order.id_customer}]`,
            display: '[id,email]',
          })
        : [];
      if (!customer) throw pmsRejected(`Booking ${bookingId} has no customer at the PMS to cancel it for`);
      const body = {
        booking: {
          id: Number(order.id),
          id_property: Number(rows[0]?.id_hotel ?? hotelId),
          booking_status: bookingStatus.cancelled,
          associations: {
            customer_detail: { id_customer: Number(customer.id), email: customer.email },
            room_types: [...groups.values()].map(({ n, ...type }) => ({ ...type, number_of_rooms: n })),
          },
        },
      };
      const res = await call('PUT', `bookings/${order.id}`, 'PUT bookings/{id}', {
        body: JSON.stringify(body),
        contentType: 'application/json',
      });
      if (!ok(res) && !maybeDone(res)) throw failure(res, 'PUT bookings/{id}');
      const after = await getBooking(order.id);
      if (after?.status === 'cancelled') return after;
      const message = `PMS answered HTTP ${res.status} to PUT bookings/${order.id} but the order is not cancelled`;
      throw ok(res) ? pmsUnavailable(message) : pmsMaybeDone(`${message}: ${qloErrorMessages(res.text)}`);
    },
  };
}
