import { ApplicationFailure } from '@temporalio/common';
import { request, type Dispatcher } from 'undici';
import type { z } from 'zod';
import { ErrorType } from '../../lib/domain/errors';
import type { AvailabilityQuery, BookingRecord, PmsClient, RoomOffer } from '../../lib/domain/pms';
import { describeError, isNetworkError, readCapped, ResponseTooLargeError, retryAfterMs } from '../../lib/http';
import { addressRefusal } from '../../lib/network-policy';
import { pmsRejected, pmsUnavailable } from './failures';
import {
  ariResponseSchema,
  bookingDetailsSchema,
  bookingStatus,
  cancelledOrderStates,
  numericId,
  ordersSchema,
  paymentAwaiting,
  qloErrorMessages,
  referencePattern,
  type BookingDetails,
} from './schemas';

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
        throw pmsUnavailable(`PMS unreachable (${what}): ${describeError(err)}`);
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
