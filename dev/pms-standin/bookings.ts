import {
  emptyFatal,
  errors,
  int,
  isName,
  isPhoneNumber,
  listOf,
  nights,
  occupies,
  phpWarning,
  phpWarnings,
  round2,
  sqlDateTime,
  str,
  takenRoomIds,
  validDate,
  type Reply,
  type Shop,
  type StandinBookedRoom,
  type StandinBookedService,
  type StandinBooking,
  type StandinCustomer,
  type StandinHotel,
} from './model';

/**
 * The `bookings` resource (classes/webservice/WebserviceSpecificManagementBookings.php, QloApps 1.6.1), with the
 * quirks a client meets on a real shop:
 *
 * - occupancy is read from `adult` and `child` (singular; the schema says `adults`), `adult` missing or 0 is the
 *   room type's base adults, and `child` becomes 0 unless `child_ages` is sent; without `rooms[]` a room gets the
 *   room type's base occupancy;
 * - a room (or service) sent without `total_tax` or `id_tax_rules_group` raises a PHP warning that turns the answer
 *   into a 500, after the booking was made (or changed);
 * - an empty phone is refused while `PS_ONE_PHONE_AT_LEAST` is on; a new customer whose name fails `isName` (or is
 *   longer than 32 characters) is a fatal error, an empty 500 with nothing created; an invalid phone is the same,
 *   after the customer was created; an existing customer keeps its name when the one sent is not valid;
 * - names are stored in utf8mb3 columns: a character beyond the Basic Multilingual Plane (an emoji) is stored as
 *   "????", which fails `isName` the next time the customer is saved (by any later POST or PUT for them): an empty
 *   500, nothing changed;
 * - auto-added services are dropped unless listed in the room's `services` (removeAutoAddedServicesFromCart);
 * - a PUT takes the order id from the body (the URL's is ignored), needs `room_types` and an existing customer's
 *   e-mail, removes the order's rooms that it does not list, and replaces the services of the rooms it keeps with
 *   the ones listed in their `rooms[]` entry (none without one);
 * - on a shop showing prices tax excluded, GET and the replies to POST and PUT are a 500 with PHP warnings, after
 *   the work is done;
 * - answers carry no status; POST answers 200, not 201.
 */

/** What a request asks for one room (id_room may be absent: QloApps picks a free one). */
interface RequestedRoom {
  roomTypeId: number;
  roomId: number | undefined;
  checkIn: string;
  checkOut: string;
  adults: number;
  children: number;
  childAges: number[];
  services: { id: number; quantity: number }[];
}

export function bookingDetails(shop: Shop, b: StandinBooking): unknown {
  const groups = new Map<string, Record<string, unknown> & { rooms: unknown[] }>();
  const type = (id: number) => shop.hotels.find((h) => h.id === b.hotelId)?.roomTypes.find((t) => t.id === id);
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
      ...(room.childAges.length ? { child_ages: room.childAges } : {}),
      unit_price_without_tax: room.price,
      total_tax: room.tax,
    });
  }
  // Auto-added services are left out of the rooms (getroomTypeServiceProducts with autoAddToCart 0) but counted here.
  const price = round2(b.rooms.reduce((sum, r) => sum + r.price + r.services.reduce((s, v) => s + v.price, 0), 0));
  const tax = round2(b.rooms.reduce((sum, r) => sum + r.tax + r.services.reduce((s, v) => s + v.tax, 0), 0));
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

/**
 * Reads `room_types` as formatRoomTypesInRequestData and validateRoomType do: the rooms asked for, or the refusal;
 * PHP warnings raised on the way (a room or service without tax fields) go to `warnings`.
 */
function requestedRooms(hotel: StandinHotel, value: unknown, warnings: string[]): RequestedRoom[] | Reply {
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
    const type = hotel.roomTypes.find((x) => x.id === typeId);
    if (!type) return errors(400, 404, 'Invalid room type in the request');
    const listed = listOf(t.rooms, 'room');
    if (listed.length && listed.length !== count)
      return errors(400, 404, 'Room count does not matches with the number of rooms');
    const checkIn = t.checkin_date.slice(0, 10);
    const checkOut = t.checkout_date.slice(0, 10);
    if (checkIn >= checkOut) return errors(400, 404, 'Invalid check in and check out dates in the request');
    const baseAdults = type.baseAdults ?? 2;
    const baseChildren = type.baseChildren ?? 0;
    for (let i = 0; i < count; i++) {
      const room = listed[i];
      if (!room) {
        rooms.push({
          roomTypeId: typeId,
          roomId: undefined,
          checkIn,
          checkOut,
          adults: baseAdults,
          children: baseChildren,
          childAges: [],
          services: [],
        });
        continue;
      }
      if (room.id_tax_rules_group === undefined && !('total_tax' in room))
        warnings.push(phpWarning.undefinedTotalTax(504));
      const services: RequestedRoom['services'] = [];
      for (const s of listOf(room.services, 'service')) {
        const id = int(s.id_service);
        if (id === undefined) continue;
        if (!type.serviceIds?.includes(id)) return errors(400, 404, `Invalid service id ${id} for the room type`);
        if (s.id_tax_rules_group === undefined && !('total_tax' in s)) warnings.push(phpWarning.undefinedTotalTax(580));
        services.push({ id, quantity: int(s.quantity) ?? 1 });
      }
      // formatOccupancyInRequestData: child_ages or no children; `adult`, never `adults`.
      const ages = Array.isArray(room.child_ages) ? room.child_ages.map(int).filter((a) => a !== undefined) : undefined;
      const adult = int(room.adult);
      const child = ages === undefined ? 0 : (int(room.child) ?? baseChildren);
      rooms.push({
        roomTypeId: typeId,
        roomId: int(room.id_room),
        checkIn,
        checkOut,
        adults: adult ? adult : baseAdults,
        children: child,
        childAges: child ? (ages ?? []) : [],
        services,
      });
    }
  }
  return rooms;
}

/** Assigns rooms (the asked ones, else the first free ones); undefined when any is not free. */
function assignRooms(
  shop: Shop,
  hotel: StandinHotel,
  wanted: RequestedRoom[],
  except?: StandinBooking,
): number[] | undefined {
  const assigned: number[] = [];
  for (const [i, want] of wanted.entries()) {
    const taken = takenRoomIds(shop, hotel.id, want.checkIn, want.checkOut, except);
    // Rooms already given to an earlier line of the same request, for overlapping nights.
    for (let j = 0; j < i; j++) {
      const other = wanted[j]!;
      if (other.checkIn < want.checkOut && want.checkIn < other.checkOut) taken.add(assigned[j]!);
    }
    const type = hotel.roomTypes.find((t) => t.id === want.roomTypeId)!;
    const room = type.rooms.find((r) => (want.roomId === undefined || r.id === want.roomId) && !taken.has(r.id));
    if (!room) return undefined;
    assigned.push(room.id);
  }
  return assigned;
}

/** A booked room priced as QloApps does: the room for every night, and the services listed with it. */
function bookedRoom(
  shop: Shop,
  hotel: StandinHotel,
  want: RequestedRoom,
  roomId: number,
  newLine = true,
): StandinBookedRoom {
  const type = hotel.roomTypes.find((t) => t.id === want.roomTypeId)!;
  const stay = nights(want.checkIn, want.checkOut);
  const price = round2(type.pricePerNight * stay);
  const services: StandinBookedService[] = want.services.map(({ id, quantity }) => {
    const service = hotel.services!.find((s) => s.id === id)!;
    const servicePrice = round2(service.price * quantity * (service.perNight ? stay : 1));
    return { id, name: service.name, price: servicePrice, tax: round2(servicePrice * hotel.taxRate) };
  });
  return {
    lineId: newLine ? shop.next.line++ : 0,
    roomTypeId: want.roomTypeId,
    roomId,
    checkIn: want.checkIn,
    checkOut: want.checkOut,
    adults: want.adults,
    children: want.children,
    childAges: want.childAges,
    price,
    tax: round2(price * hotel.taxRate),
    services,
  };
}

function stateFor(shop: Shop, bookingStatus: number, paymentStatus: number | undefined): number {
  const states = shop.settings.orderStates;
  if (bookingStatus === 3) return states.canceled;
  if (bookingStatus === 4) return states.refund;
  if (bookingStatus === 2 || paymentStatus === 1) return states.paymentAccepted;
  return states.awaitingPayment;
}

/** The answer once the work is done: the booking, or the 500 the PHP warnings raised on the way make of it. */
function doneReply(shop: Shop, booking: StandinBooking, warnings: string[]): Reply {
  const all = [...warnings, ...(shop.settings.taxExcludedDisplay ? phpWarning.undefinedUseTax : [])];
  return all.length ? phpWarnings(all) : { status: 200, body: bookingDetails(shop, booking) };
}

/** What a utf8mb3 column keeps of a string: each character beyond the Basic Multilingual Plane becomes "????". */
function utf8mb3(value: string): string {
  return value.replace(/[\u{10000}-\u{10FFFF}]/gu, '????');
}

const validName = (name: string) => isName(name) && [...name].length <= 32;

/**
 * processCustomer for a known customer: names and phone change only when valid, then the customer is saved, which
 * validates every field again: a name stored invalid (see {@link utf8mb3}) is then a fatal error.
 */
function updateCustomer(customer: StandinCustomer, detail: Record<string, unknown>): Reply | undefined {
  const firstname = str(detail.firstname);
  const lastname = str(detail.lastname);
  const phone = str(detail.phone);
  if (firstname && validName(firstname)) customer.firstname = utf8mb3(firstname);
  if (lastname && validName(lastname)) customer.lastname = utf8mb3(lastname);
  if (phone && isPhoneNumber(phone)) customer.phone = phone;
  return validName(customer.firstname) && validName(customer.lastname) ? undefined : emptyFatal;
}

function createBooking(shop: Shop, body: string): Reply {
  const parsed = bookingParams(body);
  if ('refused' in parsed) return parsed.refused;
  const p = parsed.params;
  const detail = (p.customer_detail ?? {}) as Record<string, unknown>;
  const hotel = shop.hotels.find((h) => h.id === int(p.id_property));
  const warnings: string[] = [];
  if (p.id !== undefined) return errors(400, 404, 'id is forbidden when adding a new resource');
  if (typeof p.currency !== 'string' || !/^[A-Z]{3}$/i.test(p.currency))
    return errors(400, 404, 'Please provide valid currency.');
  if (!p.customer_detail) return errors(400, 404, 'Customer details not found.');
  if (!hotel) return errors(400, 404, 'Please provide a valid id_property.');
  const idCustomer = int(detail.id_customer);
  if (idCustomer && !shop.customers.some((c) => c.id === idCustomer))
    return errors(400, 404, 'Please provide a valid id_customer.');
  if (!str(detail.firstname).trim()) return errors(400, 404, 'Please provide a valid first name.');
  if (!str(detail.lastname).trim()) return errors(400, 404, 'Please provide a valid last name.');
  if (!str(detail.email).trim()) return errors(400, 404, 'Please provide a valid email.');
  if (shop.settings.requirePhone && !str(detail.phone).trim())
    return errors(400, 404, 'Please provide a valid phone number.');
  const wanted = requestedRooms(hotel, p.room_types, warnings);
  if (!Array.isArray(wanted)) return wanted;
  const assigned = assignRooms(shop, hotel, wanted);
  if (!assigned) return errors(400, 404, 'Requested room(s) not available.');
  const paymentType = (p.payment_detail as Record<string, unknown> | undefined)?.payment_type;
  if (paymentType !== undefined && !['online', 'remote', 'pay at hotel'].includes(str(paymentType)))
    return errors(400, 404, 'Invalid payment type.');
  const bookingStatus = p.booking_status === undefined ? 1 : int(p.booking_status);
  if (bookingStatus === undefined || bookingStatus < 1 || bookingStatus > 4)
    return errors(400, 404, 'Invalid booking status.');
  const paymentStatus = p.payment_status === undefined ? undefined : int(p.payment_status);
  if (paymentStatus !== undefined && (paymentStatus < 1 || paymentStatus > 3))
    return errors(400, 404, 'Invalid payment status.');

  const email = str(detail.email).trim();
  const now = sqlDateTime(new Date());
  let customer =
    shop.customers.find((c) => c.id === idCustomer) ??
    shop.customers.find((c) => c.email.toLowerCase() === email.toLowerCase());
  if (customer) {
    const fatal = updateCustomer(customer, detail);
    if (fatal) return fatal;
  } else {
    const firstname = str(detail.firstname);
    const lastname = str(detail.lastname);
    // Customer::add() validates each field (isName, size 32) and throws; nothing catches it.
    if (!validName(firstname) || !validName(lastname)) return emptyFatal;
    customer = {
      id: shop.next.customer++,
      firstname: utf8mb3(firstname),
      lastname: utf8mb3(lastname),
      email,
      phone: '',
      createdAt: now,
    };
    shop.customers.push(customer);
  }
  const phone = str(detail.phone);
  // CartCustomerGuestDetail validates the phone after the customer was saved.
  if (phone && (!isPhoneNumber(phone) || phone.length > 32)) return emptyFatal;
  if (phone) customer.phone = phone;

  const booking: StandinBooking = {
    id: shop.next.booking++,
    hotelId: hotel.id,
    currency: p.currency.toUpperCase(),
    source: str(p.source) || 'Webservice',
    remarks: str(p.remark).trim() ? [str(p.remark)] : [],
    customer: { ...customer },
    rooms: wanted.map((w, i) => bookedRoom(shop, hotel, w, assigned[i]!)),
    currentState: stateFor(shop, bookingStatus, paymentStatus),
    createdAt: now,
    updatedAt: now,
  };
  shop.bookings.push(booking);
  return doneReply(shop, booking, warnings);
}

function updateBooking(shop: Shop, body: string): Reply {
  const parsed = bookingParams(body);
  if ('refused' in parsed) return parsed.refused;
  const p = parsed.params;
  const detail = (p.customer_detail ?? {}) as Record<string, unknown>;
  const warnings: string[] = [];
  // The order is the body's `id`; QloApps ignores the id in the URL.
  const id = int(p.id);
  if (!id) return errors(400, 404, 'id is required with PUT requests.');
  const booking = shop.bookings.find((b) => b.id === id);
  if (!booking) return errors(400, 404, 'Booking not found.');
  const bookingStatus = p.booking_status === undefined ? undefined : int(p.booking_status);
  if (p.booking_status !== undefined && (bookingStatus === undefined || bookingStatus < 0 || bookingStatus > 4))
    return errors(400, 404, 'Invalid booking status.');
  if (!listOf(p.room_types, 'room_type').length) return errors(400, 404, 'Rooms not found in the request.');
  const idCustomer = int(detail.id_customer);
  if (idCustomer !== undefined && !shop.customers.some((c) => c.id === idCustomer))
    return errors(400, 404, 'Invalid ID customer.');
  const hotel = shop.hotels.find((h) => h.id === int(p.id_property));
  if (!hotel || hotel.id !== booking.hotelId) return errors(400, 404, 'Please provide a valid id_property.');
  const email = str(detail.email).trim().toLowerCase();
  const customer =
    shop.customers.find((c) => c.id === idCustomer) ?? shop.customers.find((c) => c.email.toLowerCase() === email);
  if (!email || !shop.customers.some((c) => c.email.toLowerCase() === email))
    return errors(400, 404, 'Customer not found.');
  if (bookingStatus !== undefined && bookingStatus < 1) return errors(400, 404, 'Invalid booking status.');
  const wanted = requestedRooms(hotel, p.room_types, warnings);
  if (!Array.isArray(wanted)) return wanted;

  // handlePutRequest: rooms of the order matched by room type and dates stay; the others are removed; what is asked
  // for beyond them is added.
  const kept: { room: StandinBookedRoom; services: StandinBookedService[] }[] = [];
  const toAdd: RequestedRoom[] = [];
  const remaining = [...booking.rooms];
  for (const want of wanted) {
    const index = remaining.findIndex(
      (r) =>
        r.roomTypeId === want.roomTypeId &&
        r.checkIn === want.checkIn &&
        r.checkOut === want.checkOut &&
        (want.roomId === undefined || want.roomId === r.roomId),
    );
    if (index < 0) {
      toAdd.push(want);
      continue;
    }
    const room = remaining.splice(index, 1)[0]!;
    // The room's services become the ones its rooms[] entry lists: none when it has no entry.
    kept.push({ room, services: bookedRoom(shop, hotel, want, room.roomId, false).services });
  }
  const added = toAdd.length ? assignRooms(shop, hotel, toAdd, booking) : [];
  if (!added) return errors(400, 404, 'Requested room(s) not available');
  const state =
    bookingStatus === undefined
      ? booking.currentState
      : stateFor(shop, bookingStatus, p.payment_status === undefined ? undefined : int(p.payment_status));
  const reopening = !occupies(shop, booking) && occupies(shop, { ...booking, currentState: state });
  if (
    reopening &&
    kept.some(({ room }) => takenRoomIds(shop, hotel.id, room.checkIn, room.checkOut, booking).has(room.roomId))
  )
    return errors(400, 404, 'Requested room(s) not available');
  if (customer) {
    const fatal = updateCustomer(customer, detail);
    if (fatal) return fatal;
  }

  booking.rooms = [
    ...kept.map(({ room, services }) => ({ ...room, services })),
    ...toAdd.map((w, i) => bookedRoom(shop, hotel, w, added[i]!)),
  ];
  booking.currentState = state;
  if (str(p.remark).trim()) booking.remarks.push(str(p.remark));
  booking.updatedAt = sqlDateTime(new Date());
  return doneReply(shop, booking, warnings);
}

/** GET, POST and PUT on `bookings` (QloApps forbids DELETE). */
export function bookingsResource(shop: Shop, method: string, id: number | undefined, body: string): Reply {
  if (method === 'GET' || method === 'HEAD') {
    if (id === undefined) return { status: 200, body: { bookings: shop.bookings.map((b) => ({ id: b.id })) } };
    const booking = shop.bookings.find((b) => b.id === id);
    // QloApps answers an unknown booking with a bare 404 (output disabled).
    if (!booking) return { status: 404, headers: { 'content-type': '' }, body: '' };
    return shop.settings.taxExcludedDisplay
      ? phpWarnings(phpWarning.undefinedUseTax)
      : { status: 200, body: bookingDetails(shop, booking) };
  }
  if (method === 'POST' && id === undefined) return createBooking(shop, body);
  if (method === 'PUT') return updateBooking(shop, body);
  return errors(405, 100, `Method ${method} is not valid`);
}
