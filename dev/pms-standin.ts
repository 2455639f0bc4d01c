import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { serverControls } from './process';

/**
 * A local stand-in for a QloApps PMS that speaks the subset of its webservice this project uses, with the
 * wire shapes of QloApps 1.6.x (github.com/Qloapps/QloApps, branch develop / v1.6.x):
 *
 * - `POST /api/hotel_ari` (modules/hotelreservationsystem/classes/WebserviceSpecificManagementHotelAri.php):
 *   an XML body `<qloapps><hotel_ari><id_hotel/><date_from/><date_to/><associations><room_occupancies>
 *   <room_occupancy><adults/><children/></room_occupancy>…`; with `output_format=JSON` the answer is
 *   `{"hotel_ari": {id_hotel, date_from, date_to, currency, total_rooms, total_available_rooms,
 *   room_types: [{id_room_type, base_price, base_price_with_tax, total_price, total_price_with_tax, name,
 *   rooms: {available: {<id_room>: {id_room, room_num, …}}}}]}}` (PHP renders an empty map as `[]`).
 * - `/api/bookings` (classes/webservice/WebserviceSpecificManagementBookings.php): JSON or XML bodies
 *   `{"booking": {id_property, currency, booking_status, payment_status, source, remark,
 *   associations: {customer_detail, room_types: [{id_room_type, checkin_date, checkout_date, number_of_rooms,
 *   rooms: [{id_room, adults, child}]}]}}}`; `GET /api/bookings/{id}` answers the booking without its status
 *   (QloApps leaves `current_status` commented out) or 404 with an empty body; `PUT /api/bookings/{id}` with
 *   `booking_status` 3 cancels. Refusals are `{"errors": [{code, message}]}`, e.g. HTTP 400
 *   "Requested room(s) not available.".
 * - `GET /api/orders` (classes/order/Order.php, PrestaShop's generic resource): `filter[field]=[v1|v2]`,
 *   `display=[a,b]` or `full`; an empty list is `[]`. An order's `current_state` is the order state id
 *   (a default install: 1 awaiting payment, 2 payment accepted, 4 cancelled, 5 refunded).
 *
 * Basic auth takes the webservice key as user name and ignores the password, as QloApps does. This stand-in
 * renders JSON only (`output_format=JSON`), accepts JSON bodies for bookings, and does not model prices
 * per date, taxes rules, services, cart rules or payments. For tests and the demo only.
 */

export interface StandinRoomType {
  id: number;
  name: string;
  /** Per night, tax excluded. */
  pricePerNight: number;
  maxAdults: number;
  maxChildren: number;
  rooms: { id: number; number: string }[];
}

export interface StandinHotel {
  id: number;
  name: string;
  currency: string;
  /** VAT on rooms, e.g. 0.1. */
  taxRate: number;
  roomTypes: StandinRoomType[];
}

/** QloApps' default order state ids (install/data/xml/configuration.xml, PS_OS_*). */
export const OrderState = { awaitingPayment: 1, paymentAccepted: 2, cancelled: 4, refunded: 5 } as const;

export interface StandinBookedRoom {
  /** QloApps' id_hotel_booking: one row per room and stay. */
  lineId: number;
  roomTypeId: number;
  roomId: number;
  checkIn: string;
  checkOut: string;
  adults: number;
  children: number;
  /** Tax excluded, for the whole stay. */
  price: number;
  tax: number;
}

export interface StandinBooking {
  id: number;
  hotelId: number;
  currency: string;
  source: string;
  remarks: string[];
  customer: { id: number; firstname: string; lastname: string; email: string; phone: string };
  rooms: StandinBookedRoom[];
  currentState: number;
  createdAt: string;
  updatedAt: string;
}

export interface StandinRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  authorization: string | undefined;
  contentType: string | undefined;
  body: string;
  at: number;
}

/** Which requests a fault applies to; all API requests when absent. */
export interface FaultMatch {
  method?: string;
  /** `hotel_ari`, `bookings` or `orders`. */
  resource?: string;
}

export type PmsFault = (
  | /** Answer with this HTTP status and a QloApps error body. */
    { kind: 'error'; status: number; message?: string; retryAfterSeconds?: number }
    /** Wait, then answer normally. */
  | { kind: 'latency'; ms: number }
  /** Never answer (the client's timeout has to fire). */
  | { kind: 'timeout' }
  /** Cut the connection without an answer. */
  | { kind: 'drop' }
  /** Do the work (book, cancel), then cut the connection: the client never learns it succeeded. */
  | { kind: 'lostResponse' }
  /** Answer 200 with a body that is not what QloApps sends (default: truncated JSON). */
  | { kind: 'malformed'; body?: string }
  /** With `times` = n: the next 2n matching requests alternate failing (HTTP `status`, default 503) and succeeding. */
  | { kind: 'flapping'; status?: number }
  /** Answer 200 with a JSON body of about `bytes` bytes, streamed (with a Content-Length when `declareLength`). */
  | { kind: 'huge'; bytes: number; declareLength?: boolean }
) & { match?: FaultMatch };

export interface PmsStandin {
  url: string;
  hotels: StandinHotel[];
  bookings: StandinBooking[];
  /** Every API request received, including failed ones (control endpoints excluded). */
  requests: StandinRequest[];
  /** TCP connections accepted so far (shows whether clients reuse keep-alive connections). */
  connections: number;
  /** TCP connections open now (shows whether a client closed its pool). */
  openConnections(): Promise<number>;
  /** Queues faults: each of the next `times` matching requests gets `fault` (default once). */
  inject(fault: PmsFault, times?: number): void;
  /** Drops the queued faults. */
  clearFaults(): void;
  /** Rooms of a hotel free for every night of [checkIn, checkOut), by room type id. */
  freeRooms(hotelId: number, checkIn: string, checkOut: string): Map<number, number[]>;
  /** Forgets bookings, requests and queued faults (booking ids keep counting up). */
  reset(): void;
  close(): Promise<void>;
}

/** The demo hotel: id 1, three room types, seven rooms. */
export function demoHotels(): StandinHotel[] {
  return [
    {
      id: 1,
      name: 'Hotel Demo Sol',
      currency: 'EUR',
      taxRate: 0.1,
      roomTypes: [
        {
          id: 1,
          name: 'Standard Double',
          pricePerNight: 90,
          maxAdults: 2,
          maxChildren: 1,
          rooms: [
            { id: 1, number: '101' },
            { id: 2, number: '102' },
            { id: 3, number: '103' },
          ],
        },
        {
          id: 2,
          name: 'Superior Twin',
          pricePerNight: 110,
          maxAdults: 2,
          maxChildren: 2,
          rooms: [
            { id: 4, number: '201' },
            { id: 5, number: '202' },
          ],
        },
        {
          id: 3,
          name: 'Family Suite',
          pricePerNight: 180,
          maxAdults: 4,
          maxChildren: 3,
          rooms: [
            { id: 6, number: '301' },
            { id: 7, number: '302' },
          ],
        },
      ],
    },
  ];
}

interface Reply {
  status: number;
  headers?: Record<string, string>;
  /** A JSON value, or a raw string sent as is. */
  body?: unknown;
}

type QueuedFault = PmsFault | { kind: 'none'; match?: FaultMatch };

const isoDate = /^\d{4}-\d{2}-\d{2}$/;
const authRealm =
  'Basic realm="Welcome to QloApps Webservice, please enter the authentication key as the login. No password required."';

function errors(status: number, code: number, message: string, headers: Record<string, string> = {}): Reply {
  return { status, headers, body: { errors: [{ code, message }] } };
}

function validDate(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const day = value.slice(0, 10);
  return isoDate.test(day) && !Number.isNaN(Date.parse(`${day}T00:00:00Z`));
}

function nights(checkIn: string, checkOut: string): number {
  return Math.round((Date.parse(`${checkOut}T00:00:00Z`) - Date.parse(`${checkIn}T00:00:00Z`)) / 86_400_000);
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

function sqlDateTime(date: Date): string {
  return date.toISOString().slice(0, 19).replace('T', ' ');
}

/** QloApps accepts a list as `[…]`, `{item: {…}}` or `{item: […]}` (what XML turns into); normalise to an array. */
function listOf(value: unknown, item: string): Record<string, unknown>[] {
  if (Array.isArray(value)) return value as Record<string, unknown>[];
  if (value && typeof value === 'object') {
    const inner = (value as Record<string, unknown>)[item];
    if (Array.isArray(inner)) return inner as Record<string, unknown>[];
    if (inner && typeof inner === 'object') return [inner as Record<string, unknown>];
  }
  return [];
}

function int(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  return Number.isInteger(n) ? n : undefined;
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '';
}

/** The text of the first `<tag>`, with or without CDATA; enough XML for the hotel_ari request. */
function xmlText(xml: string, tag: string): string | undefined {
  const match = new RegExp(`<${tag}>\\s*(?:<!\\[CDATA\\[([\\s\\S]*?)\\]\\]>|([^<]*))\\s*</${tag}>`).exec(xml);
  if (!match) return undefined;
  return (match[1] ?? match[2] ?? '').trim();
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startPmsStandin(options: {
  webserviceKey: string;
  port?: number;
  host?: string;
  hotels?: StandinHotel[];
  /** How long an idle keep-alive connection is kept (Node's 5 s by default). */
  keepAliveTimeoutMs?: number;
}): Promise<PmsStandin> {
  const hotels = options.hotels ?? demoHotels();
  const faults: QueuedFault[] = [];
  const customers = new Map<string, number>();
  let nextBookingId = 1;
  let nextLineId = 1;

  const roomTypeOf = (hotel: StandinHotel, id: number | undefined) => hotel.roomTypes.find((t) => t.id === id);
  const occupies = (b: StandinBooking) =>
    b.currentState !== OrderState.cancelled && b.currentState !== OrderState.refunded;

  function takenRoomIds(hotelId: number, checkIn: string, checkOut: string, except?: StandinBooking): Set<number> {
    const taken = new Set<number>();
    for (const booking of standin.bookings) {
      if (booking.hotelId !== hotelId || booking === except || !occupies(booking)) continue;
      for (const room of booking.rooms) {
        if (room.checkIn < checkOut && checkIn < room.checkOut) taken.add(room.roomId);
      }
    }
    return taken;
  }

  const standin: Omit<PmsStandin, 'url' | 'close' | 'openConnections'> = {
    hotels,
    bookings: [],
    requests: [],
    connections: 0,
    inject(fault, times = 1) {
      for (let i = 0; i < times; i++) {
        if (fault.kind === 'flapping') {
          faults.push({ kind: 'error', status: fault.status ?? 503, ...(fault.match ? { match: fault.match } : {}) });
          faults.push({ kind: 'none', ...(fault.match ? { match: fault.match } : {}) });
        } else {
          faults.push(fault);
        }
      }
    },
    clearFaults() {
      faults.length = 0;
    },
    freeRooms(hotelId, checkIn, checkOut) {
      const hotel = hotels.find((h) => h.id === hotelId);
      const free = new Map<number, number[]>();
      if (!hotel) return free;
      const taken = takenRoomIds(hotelId, checkIn, checkOut);
      for (const type of hotel.roomTypes) {
        free.set(
          type.id,
          type.rooms.filter((r) => !taken.has(r.id)).map((r) => r.id),
        );
      }
      return free;
    },
    reset() {
      faults.length = 0;
      standin.bookings.length = 0;
      standin.requests.length = 0;
      standin.connections = 0;
      customers.clear();
    },
  };

  function nextFault(method: string, resource: string): QueuedFault | undefined {
    const index = faults.findIndex(
      (f) => (!f.match?.method || f.match.method === method) && (!f.match?.resource || f.match.resource === resource),
    );
    return index < 0 ? undefined : faults.splice(index, 1)[0];
  }

  function authorized(req: IncomingMessage, query: URLSearchParams): Reply | undefined {
    let key: string | undefined = query.get('ws_key') ?? undefined;
    const header = req.headers.authorization;
    if (header?.startsWith('Basic ')) {
      const decoded = Buffer.from(header.slice('Basic '.length), 'base64').toString('utf8');
      key = decoded.split(':')[0];
    }
    const challenge = { 'www-authenticate': authRealm };
    if (key === undefined)
      return errors(401, 16, 'Please enter the authentication key as the login. No password required', challenge);
    if (key === '') return errors(401, 17, 'Authentication key is empty', challenge);
    if (key !== options.webserviceKey) return errors(401, 20, 'Authentification key is not active', challenge);
    return undefined;
  }

  // ----- hotel_ari -----

  function hotelAri(body: string): Reply {
    const xml = body.startsWith('xml=') ? body.slice(4) : body;
    const ari = /<hotel_ari>([\s\S]*)<\/hotel_ari>/.exec(xml)?.[1];
    if (!ari) return errors(400, 85, 'Validation error: ARI search parameters are missing.');
    for (const field of ['id_hotel', 'date_from', 'date_to']) {
      if (xmlText(ari, field) === undefined) return errors(400, 41, `parameter "${field}" required`);
    }
    const hotelId = int(xmlText(ari, 'id_hotel'));
    const dateFrom = xmlText(ari, 'date_from')!;
    const dateTo = xmlText(ari, 'date_to')!;
    if (!validDate(dateFrom) || !validDate(dateTo))
      return errors(400, 85, 'Validation error: "The date_from field is invalid."');
    const from = dateFrom.slice(0, 10);
    const to = dateTo.slice(0, 10);
    if (to <= from) return errors(400, 85, 'Validation error: "Date to" must be after "date from"');
    const occupancies = [...ari.matchAll(/<room_occupancy>([\s\S]*?)<\/room_occupancy>/g)].map((m, i) => ({
      index: i + 1,
      adults: int(xmlText(m[1]!, 'adults')),
      children: int(xmlText(m[1]!, 'children')),
    }));
    for (const o of occupancies) {
      if (o.adults === undefined || o.adults < 1)
        return errors(
          400,
          85,
          `Validation error: Invalid value for number of adults for Room-${o.index} occupancy(value must be greater than 0).`,
        );
      if (o.children === undefined || o.children < 0)
        return errors(400, 85, `Validation error: Missing information for children for Room-${o.index} occupancy.`);
    }
    const hotel = hotels.find((h) => h.id === hotelId);
    const onlyType = int(xmlText(ari, 'id_room_type'));
    const answer: Record<string, unknown> = {
      id_hotel: String(hotelId ?? ''),
      date_from: from,
      date_to: to,
      currency: hotel?.currency ?? 'EUR',
    };
    if (hotel) {
      const taken = takenRoomIds(hotel.id, from, to);
      const stay = nights(from, to);
      let total = 0;
      let available = 0;
      answer.room_types = hotel.roomTypes
        .filter((type) => onlyType === undefined || onlyType === 0 || type.id === onlyType)
        .map((type) => {
          total += type.rooms.length;
          const fits = occupancies.every((o) => o.adults! <= type.maxAdults && o.children! <= type.maxChildren);
          const free = fits ? type.rooms.filter((r) => !taken.has(r.id)) : [];
          available += free.length;
          const rooms = Object.fromEntries(
            free.map((r) => [
              String(r.id),
              {
                id_room: String(r.id),
                id_product: String(type.id),
                id_hotel: String(hotel.id),
                room_num: r.number,
                room_comment: '',
                max_adult: String(type.maxAdults),
                max_children: String(type.maxChildren),
                max_occupancy: String(type.maxAdults + type.maxChildren),
              },
            ]),
          );
          return {
            id_room_type: String(type.id),
            base_price: type.pricePerNight,
            base_price_with_tax: round2(type.pricePerNight * (1 + hotel.taxRate)),
            total_price: round2(type.pricePerNight * stay),
            total_price_with_tax: round2(type.pricePerNight * stay * (1 + hotel.taxRate)),
            name: type.name,
            // PHP's json_encode renders an empty array as [] and a map keyed by room id as an object.
            rooms: { available: free.length ? rooms : [] },
          };
        });
      answer.total_rooms = total;
      answer.total_available_rooms = available;
    }
    return { status: 200, body: { hotel_ari: answer } };
  }

  // ----- bookings -----

  function bookingDetails(b: StandinBooking): unknown {
    const groups = new Map<string, Record<string, unknown> & { rooms: unknown[] }>();
    const type = (id: number) => hotels.find((h) => h.id === b.hotelId)?.roomTypes.find((t) => t.id === id);
    for (const room of b.rooms) {
      const key = `${room.roomTypeId}_${room.checkIn}_${room.checkOut}`;
      let group = groups.get(key);
      if (!group) {
        group = {
          id_room_type: room.roomTypeId,
          checkin_date: `${room.checkIn} 00:00:00`,
          checkout_date: `${room.checkOut} 00:00:00`,
          total_tax: 0,
          number_of_rooms: 0,
          name: type(room.roomTypeId)?.name ?? '',
          rooms: [],
        };
        groups.set(key, group);
      }
      group.total_tax = round2((group.total_tax as number) + room.tax);
      group.number_of_rooms = (group.number_of_rooms as number) + 1;
      group.rooms.push({
        id_room: room.roomId,
        id_hotel_booking: room.lineId,
        adults: room.adults,
        child: room.children,
        unit_price_without_tax: room.price,
        total_tax: room.tax,
      });
    }
    const price = round2(b.rooms.reduce((sum, r) => sum + r.price, 0));
    const tax = round2(b.rooms.reduce((sum, r) => sum + r.tax, 0));
    return {
      booking: {
        id: b.id,
        id_property: b.hotelId,
        currency: b.currency,
        source: b.source,
        booking_date: b.createdAt,
        id_language: 1,
        associations: {
          customer_detail: {
            id_customer: b.customer.id,
            firstname: b.customer.firstname,
            lastname: b.customer.lastname,
            email: b.customer.email,
            phone: b.customer.phone,
          },
          price_details: { total_paid: 0, total_price_without_tax: price, total_tax: tax },
          cart_rules: [],
          remarks: b.remarks,
          room_types: [...groups.values()],
        },
      },
    };
  }

  /** `{"booking": {…}}` with `associations` merged in, as QloApps' formatRequestData does. */
  function bookingParams(body: string): { params: Record<string, unknown> } | { refused: Reply } {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return { refused: errors(400, 127, 'This stand-in accepts JSON bodies only (QloApps also takes XML).') };
    }
    const booking = (parsed as { booking?: unknown } | null)?.booking;
    if (!booking || typeof booking !== 'object') return { refused: errors(500, 127, 'Invalid request.') };
    const { associations, ...fields } = booking as Record<string, unknown>;
    return { params: { ...fields, ...(associations && typeof associations === 'object' ? associations : {}) } };
  }

  interface RequestedRoom {
    roomTypeId: number;
    roomId: number | undefined;
    checkIn: string;
    checkOut: string;
    adults: number;
    children: number;
  }

  /** Validates room_types as validateRoomType does; answers the rooms asked for (id_room may be absent). */
  function requestedRooms(hotel: StandinHotel, value: unknown): RequestedRoom[] | Reply {
    const types = listOf(value, 'room_type');
    if (!types.length) return errors(400, 404, 'Rooms not found in the request.');
    const rooms: RequestedRoom[] = [];
    for (const t of types) {
      const typeId = int(t.id_room_type);
      if (typeId === undefined) return errors(400, 404, 'Id room type is missing');
      if (!validDate(t.checkin_date)) return errors(400, 404, 'Invalid check in date in the request');
      if (!validDate(t.checkout_date)) return errors(400, 404, 'Invalid check out date in the request');
      const count = int(t.number_of_rooms);
      if (count === undefined) return errors(400, 404, 'number of rooms is missing');
      const type = roomTypeOf(hotel, typeId);
      if (!type) return errors(400, 404, 'Invalid room type in the request');
      const listed = listOf(t.rooms, 'room');
      if (listed.length && listed.length !== count)
        return errors(400, 404, 'Room count does not matches with the number of rooms');
      const checkIn = t.checkin_date.slice(0, 10);
      const checkOut = t.checkout_date.slice(0, 10);
      if (checkIn >= checkOut) return errors(400, 404, 'Invalid check in and check out dates in the request');
      for (let i = 0; i < count; i++) {
        const room = listed[i] ?? {};
        rooms.push({
          roomTypeId: typeId,
          roomId: int(room.id_room),
          checkIn,
          checkOut,
          // The bookings schema names it `adults`; QloApps 1.6.x's formatOccupancyInRequestData reads `adult`.
          adults: int(room.adults) ?? int(room.adult) ?? type.maxAdults,
          children: int(room.child) ?? 0,
        });
      }
    }
    return rooms;
  }

  /** Assigns rooms (the asked ones, else the first free ones); undefined when any is not free. */
  function assignRooms(hotel: StandinHotel, wanted: RequestedRoom[], except?: StandinBooking): number[] | undefined {
    const assigned: number[] = [];
    for (const [i, want] of wanted.entries()) {
      const taken = takenRoomIds(hotel.id, want.checkIn, want.checkOut, except);
      // Rooms already given to an earlier line of the same request, for overlapping nights.
      for (let j = 0; j < i; j++) {
        const other = wanted[j]!;
        if (other.checkIn < want.checkOut && want.checkIn < other.checkOut) taken.add(assigned[j]!);
      }
      const type = roomTypeOf(hotel, want.roomTypeId)!;
      const room = type.rooms.find((r) => (want.roomId === undefined || r.id === want.roomId) && !taken.has(r.id));
      if (!room) return undefined;
      assigned.push(room.id);
    }
    return assigned;
  }

  function stateFor(bookingStatus: number, paymentStatus: number | undefined): number {
    if (bookingStatus === 3) return OrderState.cancelled;
    if (bookingStatus === 4) return OrderState.refunded;
    if (bookingStatus === 2 || paymentStatus === 1) return OrderState.paymentAccepted;
    return OrderState.awaitingPayment;
  }

  function createBooking(body: string): Reply {
    const parsed = bookingParams(body);
    if ('refused' in parsed) return parsed.refused;
    const p = parsed.params;
    const customer = (p.customer_detail ?? {}) as Record<string, unknown>;
    const hotel = hotels.find((h) => h.id === int(p.id_property));
    if (p.id !== undefined) return errors(400, 404, 'id is forbidden when adding a new resource');
    if (typeof p.currency !== 'string' || !/^[A-Z]{3}$/i.test(p.currency))
      return errors(400, 404, 'Please provide valid currency.');
    if (!p.customer_detail) return errors(400, 404, 'Customer details not found.');
    if (!hotel) return errors(400, 404, 'Please provide a valid id_property.');
    if (!str(customer.firstname).trim()) return errors(400, 404, 'Please provide a valid first name.');
    if (!str(customer.lastname).trim()) return errors(400, 404, 'Please provide a valid last name.');
    if (!str(customer.email).trim()) return errors(400, 404, 'Please provide a valid email.');
    const wanted = requestedRooms(hotel, p.room_types);
    if (!Array.isArray(wanted)) return wanted;
    const assigned = assignRooms(hotel, wanted);
    if (!assigned) return errors(400, 404, 'Requested room(s) not available.');
    const bookingStatus = p.booking_status === undefined ? 1 : int(p.booking_status);
    if (bookingStatus === undefined || bookingStatus < 1 || bookingStatus > 4)
      return errors(400, 404, 'Invalid booking status.');
    const paymentStatus = p.payment_status === undefined ? undefined : int(p.payment_status);
    if (paymentStatus !== undefined && (paymentStatus < 1 || paymentStatus > 3))
      return errors(400, 404, 'Invalid payment status.');

    const email = str(customer.email).trim().toLowerCase();
    let customerId = customers.get(email);
    if (customerId === undefined) {
      customerId = customers.size + 1;
      customers.set(email, customerId);
    }
    const now = sqlDateTime(new Date());
    const booking: StandinBooking = {
      id: nextBookingId++,
      hotelId: hotel.id,
      currency: p.currency.toUpperCase(),
      source: str(p.source) || 'Webservice',
      remarks: str(p.remark) ? [str(p.remark)] : [],
      customer: {
        id: customerId,
        firstname: str(customer.firstname),
        lastname: str(customer.lastname),
        email,
        phone: str(customer.phone),
      },
      rooms: wanted.map((w, i) => {
        const type = roomTypeOf(hotel, w.roomTypeId)!;
        const price = round2(type.pricePerNight * nights(w.checkIn, w.checkOut));
        return {
          lineId: nextLineId++,
          roomTypeId: w.roomTypeId,
          roomId: assigned[i]!,
          checkIn: w.checkIn,
          checkOut: w.checkOut,
          adults: w.adults,
          children: w.children,
          price,
          tax: round2(price * hotel.taxRate),
        };
      }),
      currentState: stateFor(bookingStatus, paymentStatus),
      createdAt: now,
      updatedAt: now,
    };
    standin.bookings.push(booking);
    return { status: 200, body: bookingDetails(booking) };
  }

  function updateBooking(id: number, body: string): Reply {
    const parsed = bookingParams(body);
    if ('refused' in parsed) return parsed.refused;
    const p = parsed.params;
    const booking = standin.bookings.find((b) => b.id === id);
    const customer = (p.customer_detail ?? {}) as Record<string, unknown>;
    if (p.id === undefined || int(p.id) === undefined) return errors(400, 404, 'id is required with PUT requests.');
    if (int(p.id) !== id) return errors(400, 90, 'id is invalid or not the same as the id in the URL');
    if (!booking) return errors(400, 404, 'Booking not found.');
    const bookingStatus = p.booking_status === undefined ? undefined : int(p.booking_status);
    if (p.booking_status !== undefined && (bookingStatus === undefined || bookingStatus < 1 || bookingStatus > 4))
      return errors(400, 404, 'Invalid booking status.');
    const hotel = hotels.find((h) => h.id === int(p.id_property));
    if (!hotel || hotel.id !== booking.hotelId) return errors(400, 404, 'Please provide a valid id_property.');
    if (str(customer.email).trim().toLowerCase() !== booking.customer.email)
      return errors(400, 404, 'Customer not found.');
    const wanted = requestedRooms(hotel, p.room_types);
    if (!Array.isArray(wanted)) return wanted;
    // QloApps adds and removes rooms to match room_types; this stand-in supports status changes only.
    const same =
      wanted.length === booking.rooms.length &&
      wanted.every((w) =>
        booking.rooms.some(
          (r) =>
            r.roomTypeId === w.roomTypeId &&
            r.checkIn === w.checkIn &&
            r.checkOut === w.checkOut &&
            (w.roomId === undefined || w.roomId === r.roomId),
        ),
      );
    if (!same) return errors(400, 404, 'This stand-in does not change the rooms of a booking; send them unchanged.');
    if (bookingStatus !== undefined) {
      const state = stateFor(bookingStatus, p.payment_status === undefined ? undefined : int(p.payment_status));
      if (!occupies(booking) && state !== OrderState.cancelled && state !== OrderState.refunded) {
        const taken = booking.rooms.some((r) => takenRoomIds(hotel.id, r.checkIn, r.checkOut, booking).has(r.roomId));
        if (taken) return errors(400, 404, 'Requested room(s) not available');
      }
      booking.currentState = state;
    }
    if (str(p.remark).trim()) booking.remarks.push(str(p.remark));
    booking.updatedAt = sqlDateTime(new Date());
    return { status: 200, body: bookingDetails(booking) };
  }

  // ----- orders (PrestaShop's generic resource, read only) -----

  function orderFields(b: StandinBooking): Record<string, unknown> {
    const paid = b.rooms.reduce((sum, r) => sum + r.price + r.tax, 0).toFixed(6);
    return {
      id: b.id,
      id_address_delivery: '0',
      id_address_invoice: '0',
      id_cart: String(b.id),
      id_currency: '1',
      id_lang: '1',
      id_customer: String(b.customer.id),
      current_state: String(b.currentState),
      module: 'wsorder',
      invoice_number: '0',
      invoice_date: '0000-00-00 00:00:00',
      valid: b.currentState === OrderState.paymentAccepted ? '1' : '0',
      date_add: b.createdAt,
      date_upd: b.updatedAt,
      payment: 'Webservice',
      source: b.source,
      reference: `STANDIN${String(b.id).padStart(2, '0')}`,
      total_paid: paid,
      total_paid_tax_incl: paid,
      total_paid_real: '0.000000',
    };
  }

  function orders(query: URLSearchParams, id: number | undefined): Reply {
    let list = standin.bookings;
    if (id !== undefined) {
      const found = list.find((b) => b.id === id);
      if (!found) return errors(404, 87, `Id(s) not exists: ${id}`);
      list = [found];
    }
    for (const [key, raw] of query) {
      const field = /^filter\[(\w+)\]$/.exec(key)?.[1];
      if (!field) continue;
      if (!['id', 'source', 'current_state', 'reference', 'id_customer'].includes(field))
        return errors(400, 32, `This filter does not exist for this linked table (${field})`);
      const values = /^\[(.*)\]$/.exec(raw)?.[1]?.split('|') ?? [raw];
      list = list.filter((b) => values.includes(str(orderFields(b)[field])));
    }
    const display = query.get('display');
    if (id !== undefined && display === null) return { status: 200, body: { order: orderFields(list[0]!) } };
    // An empty PrestaShop JSON list is rendered as [] rather than {"orders": []}.
    if (!list.length) return { status: 200, body: [] };
    const wanted = display === 'full' ? undefined : display ? display.replace(/^\[|\]$/g, '').split(',') : ['id'];
    return {
      status: 200,
      body: {
        orders: list.map((b) => {
          const fields = orderFields(b);
          return wanted ? Object.fromEntries(wanted.filter((k) => k in fields).map((k) => [k, fields[k]])) : fields;
        }),
      },
    };
  }

  function route(method: string, resource: string, id: number | undefined, query: URLSearchParams, body: string) {
    const notAllowed = () => errors(405, 23, `Method ${method} is not valid`);
    switch (resource) {
      case 'hotel_ari':
        return method === 'POST' && id === undefined ? hotelAri(body) : notAllowed();
      case 'bookings':
        if (method === 'GET' || method === 'HEAD') {
          if (id === undefined) return { status: 200, body: { bookings: standin.bookings.map((b) => ({ id: b.id })) } };
          const booking = standin.bookings.find((b) => b.id === id);
          // QloApps answers an unknown booking with a bare 404 (output disabled).
          return booking ? { status: 200, body: bookingDetails(booking) } : { status: 404, body: '' };
        }
        if (method === 'POST' && id === undefined) return createBooking(body);
        if (method === 'PUT' && id !== undefined) return updateBooking(id, body);
        return notAllowed();
      case 'orders':
        return method === 'GET' ? orders(query, id) : notAllowed();
      default:
        return errors(400, 26, `Resource of type "${resource}" does not exists. Did you mean: "bookings"?`);
    }
  }

  function send(res: ServerResponse, reply: Reply) {
    const raw = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
    res.writeHead(reply.status, {
      'content-type': 'application/json;charset=utf-8',
      'psws-version': '1.6.1.x',
      ...reply.headers,
    });
    res.end(raw);
  }

  async function handleApi(req: IncomingMessage, res: ServerResponse, url: URL) {
    const body = await readBody(req);
    const method = req.method ?? 'GET';
    const [, resource = '', rawId] = /^\/api\/([a-z_]+)(?:\/([^/]+))?\/?$/.exec(url.pathname) ?? [];
    standin.requests.push({
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      authorization: req.headers.authorization,
      contentType: req.headers['content-type'],
      body,
      at: Date.now(),
    });
    const fault = nextFault(method, resource);
    if (fault?.kind === 'timeout') return; // never answered; the socket closes when the client gives up
    if (fault?.kind === 'drop') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'latency') await new Promise((r) => setTimeout(r, fault.ms));
    if (fault?.kind === 'error') {
      const headers: Record<string, string> = fault.retryAfterSeconds
        ? { 'retry-after': String(fault.retryAfterSeconds) }
        : {};
      return send(res, errors(fault.status, 0, fault.message ?? `Injected HTTP ${fault.status}`, headers));
    }
    if (fault?.kind === 'huge') {
      const head = '{"hotel_ari": {"id_hotel": "1", "padding": "';
      const tail = '"}}';
      const padding = Math.max(0, fault.bytes - head.length - tail.length);
      res.writeHead(200, {
        'content-type': 'application/json;charset=utf-8',
        ...(fault.declareLength ? { 'content-length': String(head.length + padding + tail.length) } : {}),
      });
      const chunk = 'x'.repeat(64 * 1024);
      function* body() {
        yield head;
        for (let left = padding; left > 0; left -= chunk.length)
          yield left >= chunk.length ? chunk : chunk.slice(0, left);
        yield tail;
      }
      // A client that hangs up part-way (as it should) ends the stream; not an error here.
      await pipeline(Readable.from(body()), res).catch(() => undefined);
      return;
    }
    if (fault?.kind === 'malformed') {
      return send(res, { status: 200, body: fault.body ?? '{"hotel_ari": {"id_hotel": "1", "room_types": [' });
    }
    const denied = authorized(req, url.searchParams);
    if (denied) return send(res, denied);
    const format = (url.searchParams.get('output_format') ?? url.searchParams.get('io_format') ?? '').toUpperCase();
    if (format !== 'JSON') {
      res.writeHead(400, { 'content-type': 'text/xml;charset=utf-8' });
      res.end(
        '<?xml version="1.0" encoding="UTF-8"?>\n<qloapps xmlns:xlink="http://www.w3.org/1999/xlink">\n' +
          '<errors><error><code><![CDATA[0]]></code><message><![CDATA[This stand-in renders output_format=JSON only]]></message></error></errors>\n</qloapps>\n',
      );
      return;
    }
    const id = rawId === undefined ? undefined : int(rawId);
    if (rawId !== undefined && id === undefined) return send(res, errors(400, 90, `Id is invalid: ${rawId}`));
    const reply = route(method, resource, id, url.searchParams, body);
    if (fault?.kind === 'lostResponse') {
      req.socket.destroy();
      return;
    }
    send(res, reply);
  }

  async function handleControl(req: IncomingMessage, res: ServerResponse, url: URL) {
    const json = (status: number, body: unknown) => send(res, { status, body });
    if (req.method === 'GET' && url.pathname === '/_standin/bookings') return json(200, { bookings: standin.bookings });
    if (req.method === 'GET' && url.pathname === '/_standin/availability') {
      const hotelId = Number(url.searchParams.get('hotel') ?? '1');
      const from = url.searchParams.get('from') ?? '';
      const to = url.searchParams.get('to') ?? '';
      if (!isoDate.test(from) || !isoDate.test(to) || to <= from)
        return json(400, { error: 'from and to must be YYYY-MM-DD, to after from' });
      return json(200, { hotel: hotelId, from, to, free: Object.fromEntries(standin.freeRooms(hotelId, from, to)) });
    }
    if (req.method === 'GET' && url.pathname === '/_standin/requests')
      return json(200, { count: standin.requests.length, requests: standin.requests.slice(-100) });
    if (req.method === 'POST' && url.pathname === '/_standin/faults') {
      const { fault, times } = JSON.parse(await readBody(req)) as { fault: PmsFault; times?: number };
      standin.inject(fault, times);
      return json(200, { queued: faults.length });
    }
    if (req.method === 'DELETE' && url.pathname === '/_standin/faults') {
      faults.length = 0;
      return json(200, { queued: 0 });
    }
    if (req.method === 'POST' && url.pathname === '/_standin/reset') {
      standin.reset();
      return json(200, { reset: true });
    }
    return json(404, { error: 'unknown control endpoint' });
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://standin');
    const handle = url.pathname.startsWith('/_standin/')
      ? handleControl(req, res, url)
      : url.pathname.startsWith('/api/')
        ? handleApi(req, res, url)
        : Promise.resolve(send(res, errors(404, 0, 'Not found: the webservice lives under /api/')));
    handle.catch((err: unknown) => {
      if (!res.headersSent) send(res, errors(500, 0, String(err)));
    });
  });
  server.on('connection', () => standin.connections++);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return Object.assign(standin, {
    url: `http://127.0.0.1:${port}`,
    ...serverControls(server, { keepAliveTimeoutMs: options.keepAliveTimeoutMs }),
  });
}
