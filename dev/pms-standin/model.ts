/**
 * What the QloApps stand-in keeps: hotels with their room types, rooms and service products, the shop's settings
 * (the QloApps configuration values the webservice's behaviour depends on), customers and orders. Plus the small
 * helpers every resource uses: QloApps' error envelope, its date and money formats, its name and phone rules.
 */

/** A service product (QloApps' "extra services"): a fee or an option sold with a room. */
export interface StandinService {
  /** A product id, in the same id space as the room types (QloApps keeps both in its products table). */
  id: number;
  name: string;
  /** Tax excluded: per night when `perNight`, else per stay. */
  price: number;
  /** `auto_add_to_cart`: added to every booking of the room types it is linked to (on the website). */
  autoAdd: boolean;
  /**
   * `price_addition_type`: `with_room` (1) fees are part of the room price hotel_ari quotes; `independent` (2) ones
   * are charged once per booking and not quoted there.
   */
  addition: 'with_room' | 'independent';
  perNight: boolean;
}

export interface StandinRoomType {
  id: number;
  name: string;
  /** Per night, tax excluded. */
  pricePerNight: number;
  maxAdults: number;
  maxChildren: number;
  /** `max_guests`; maxAdults + maxChildren when absent. */
  maxOccupancy?: number;
  /** The base occupancy (`adults`/`children` of the room type) a booking gets when it names none; 2 and 0. */
  baseAdults?: number;
  baseChildren?: number;
  /** Service products linked to this room type (ids of the hotel's `services`). */
  serviceIds?: number[];
  rooms: { id: number; number: string }[];
}

export interface StandinHotel {
  id: number;
  name: string;
  currency: string;
  /** VAT on rooms and services, e.g. 0.1. */
  taxRate: number;
  /** The id of the tax rules group that rate belongs to (1 when absent). */
  taxRulesGroupId?: number;
  services?: StandinService[];
  roomTypes: StandinRoomType[];
}

/** QloApps' default order state ids (install/data/xml/configuration.xml, PS_OS_*). */
export const OrderState = { awaitingPayment: 1, paymentAccepted: 2, cancelled: 4, refunded: 5, error: 6 } as const;

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'HEAD';

/**
 * The shop's settings, as a QloApps back office would set them; tests change them on a running stand-in.
 */
export interface ShopSettings {
  /**
   * `PS_ONE_PHONE_AT_LEAST` (on in a default install): a booking without a customer phone is refused with 400
   * "Please provide a valid phone number.".
   */
  requirePhone: boolean;
  /**
   * The customer group shows prices tax excluded (what the US, CA and IR localisation packs set): QloApps 1.6.1 then
   * answers every booking read, and the replies to POST and PUT (after doing the work), with a 500 carrying PHP
   * warnings about an undefined `$useTax`.
   */
  taxExcludedDisplay: boolean;
  /**
   * The shop's domain (`PS_SHOP_DOMAIN`, host:port): a request with another Host header gets QloApps' 302 to the
   * front office on this domain. null accepts any Host.
   */
  domain: string | null;
  /** The order states a shop can renumber (PS_OS_*); the cancelled, refunded and error ones free the rooms. */
  orderStates: { awaitingPayment: number; paymentAccepted: number; canceled: number; refund: number; error: number };
  /** What the webservice key may do, per resource; undefined: everything. */
  permissions: Partial<Record<string, Method[]>> | undefined;
}

export function defaultSettings(domain: string | null): ShopSettings {
  return {
    requirePhone: true,
    taxExcludedDisplay: false,
    domain,
    orderStates: {
      awaitingPayment: OrderState.awaitingPayment,
      paymentAccepted: OrderState.paymentAccepted,
      canceled: OrderState.cancelled,
      refund: OrderState.refunded,
      error: OrderState.error,
    },
    permissions: undefined,
  };
}

export interface StandinBookedService {
  id: number;
  name: string;
  /** Tax excluded, for the whole stay. */
  price: number;
  tax: number;
}

export interface StandinBookedRoom {
  /** QloApps' id_hotel_booking (`room_bookings` id): one row per room and stay. */
  lineId: number;
  roomTypeId: number;
  roomId: number;
  checkIn: string;
  checkOut: string;
  adults: number;
  children: number;
  childAges: number[];
  /** Tax excluded, for the whole stay. */
  price: number;
  tax: number;
  services: StandinBookedService[];
}

export interface StandinCustomer {
  id: number;
  firstname: string;
  lastname: string;
  email: string;
  phone: string;
  createdAt: string;
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

/** The demo hotel: id 1, three room types, seven rooms, a cleaning fee added to every room and a booking fee. */
export function demoHotels(): StandinHotel[] {
  return [
    {
      id: 1,
      name: 'Hotel Demo Sol',
      currency: 'EUR',
      taxRate: 0.1,
      taxRulesGroupId: 1,
      services: [
        { id: 11, name: 'Cleaning fee', price: 5, autoAdd: true, addition: 'with_room', perNight: true },
        { id: 12, name: 'Booking fee', price: 3, autoAdd: true, addition: 'independent', perNight: false },
        { id: 13, name: 'Breakfast', price: 12, autoAdd: false, addition: 'with_room', perNight: true },
      ],
      roomTypes: [
        {
          id: 1,
          name: 'Standard Double',
          pricePerNight: 90,
          maxAdults: 2,
          maxChildren: 1,
          serviceIds: [11, 12, 13],
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
          serviceIds: [11, 12, 13],
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
          serviceIds: [11, 12, 13],
          rooms: [
            { id: 6, number: '301' },
            { id: 7, number: '302' },
          ],
        },
      ],
    },
  ];
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  /** A JSON value, or a raw string sent as is. */
  body?: unknown;
}

/** QloApps' error envelope; `code` is its internal error code, not the HTTP status. */
export function errors(status: number, code: number, message: string, headers: Record<string, string> = {}): Reply {
  return { status, headers, body: { errors: [{ code, message }] } };
}

/** The 500 QloApps' webservice error handler makes of PHP warnings (WebserviceRequest.php:655-724, E_WARNING). */
export function phpWarnings(messages: string[]): Reply {
  return { status: 500, body: { errors: messages.map((message) => ({ code: 3, message })) } };
}

const bookingsFile = '/var/www/qloapps/classes/webservice/WebserviceSpecificManagementBookings.php';
/** The warnings QloApps 1.6.1 raises, as PHP 8 words them. */
export const phpWarning = {
  /** formatRoomInRequestData reads `$room['total_tax']` unguarded (line 504), services too (line 580). */
  undefinedTotalTax: (line: 504 | 580) =>
    `[PHP Warning #2] Undefined array key "total_tax" (${bookingsFile}, line ${line})`,
  /** getBookingDetails sets `$useTax` only for tax-included customer groups (lines 3463 and 3494). */
  undefinedUseTax: [3463, 3494].map(
    (line) => `[PHP Warning #2] Undefined variable $useTax (${bookingsFile}, line ${line})`,
  ),
};

/**
 * The fatal error QloApps answers when ObjectModel refuses a new customer's field (an uncaught PrestaShopException
 * with display_errors off): HTTP 500, an empty body, text/html.
 */
export const emptyFatal: Reply = { status: 500, headers: { 'content-type': 'text/html; charset=utf-8' }, body: '' };

/** Validate::isName (classes/Validate.php:157-160) after stripslashes. */
export function isName(value: string): boolean {
  return /^[^0-9!<>,;?=+()@#"°{}_$%:]*$/u.test(value.replace(/\\(.?)/g, '$1'));
}

/** Validate::isPhoneNumber (classes/Validate.php:535-538). */
export function isPhoneNumber(value: string): boolean {
  return /^\+?[\s\d.()-]*\d+$/.test(value);
}

const isoDate = /^\d{4}-\d{2}-\d{2}$/;

export function validDate(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const day = value.slice(0, 10);
  return isoDate.test(day) && !Number.isNaN(Date.parse(`${day}T00:00:00Z`));
}

export function nights(checkIn: string, checkOut: string): number {
  return Math.round((Date.parse(`${checkOut}T00:00:00Z`) - Date.parse(`${checkIn}T00:00:00Z`)) / 86_400_000);
}

export function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

/** Money as QloApps' generic resources render it: a string with six decimals. */
export function money(n: number): string {
  return n.toFixed(6);
}

export function sqlDateTime(date: Date): string {
  return date.toISOString().slice(0, 19).replace('T', ' ');
}

/** QloApps accepts a list as `[…]`, `{item: {…}}` or `{item: […]}` (what XML turns into); normalise to an array. */
export function listOf(value: unknown, item: string): Record<string, unknown>[] {
  if (Array.isArray(value)) return value as Record<string, unknown>[];
  if (value && typeof value === 'object') {
    const inner = (value as Record<string, unknown>)[item];
    if (Array.isArray(inner)) return inner as Record<string, unknown>[];
    if (inner && typeof inner === 'object') return [inner as Record<string, unknown>];
  }
  return [];
}

export function int(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  return Number.isInteger(n) ? n : undefined;
}

export function str(value: unknown): string {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '';
}

/** A room type's with-room fees that hotel_ari adds to its price: auto-added, per night. */
export function withRoomFeesPerNight(hotel: StandinHotel, type: StandinRoomType, stayNights: number): number {
  return (type.serviceIds ?? [])
    .map((id) => hotel.services?.find((s) => s.id === id))
    .filter((s): s is StandinService => s !== undefined && s.autoAdd && s.addition === 'with_room')
    .reduce((sum, s) => sum + (s.perNight ? s.price : s.price / stayNights), 0);
}

/** Everything the stand-in's shop holds; the resources read and change it. */
export interface Shop {
  hotels: StandinHotel[];
  bookings: StandinBooking[];
  customers: StandinCustomer[];
  settings: ShopSettings;
  /** The next ids to hand out; they keep counting up across resets, as a database's would. */
  next: { booking: number; line: number; customer: number };
}

/** Whether a booking holds its rooms: not in a cancelled, refunded or error state (HotelBookingDetail). */
export function occupies(shop: Shop, booking: StandinBooking): boolean {
  const { canceled, refund, error } = shop.settings.orderStates;
  return ![canceled, refund, error].includes(booking.currentState);
}

/** Rooms of a hotel taken by live bookings for any night of [checkIn, checkOut). */
export function takenRoomIds(
  shop: Shop,
  hotelId: number,
  checkIn: string,
  checkOut: string,
  except?: StandinBooking,
): Set<number> {
  const taken = new Set<number>();
  for (const booking of shop.bookings) {
    if (booking.hotelId !== hotelId || booking === except || !occupies(shop, booking)) continue;
    for (const room of booking.rooms) {
      if (room.checkIn < checkOut && checkIn < room.checkOut) taken.add(room.roomId);
    }
  }
  return taken;
}

/** An order's totals (tax excluded and included): its rooms and the services booked with them. */
export function orderTotals(booking: StandinBooking): { excl: number; incl: number } {
  let excl = 0;
  let tax = 0;
  for (const room of booking.rooms) {
    excl += room.price + room.services.reduce((s, v) => s + v.price, 0);
    tax += room.tax + room.services.reduce((s, v) => s + v.tax, 0);
  }
  return { excl: round2(excl), incl: round2(excl + tax) };
}
