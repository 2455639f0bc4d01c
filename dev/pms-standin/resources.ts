import {
  errors,
  int,
  money,
  nights,
  orderTotals,
  round2,
  takenRoomIds,
  validDate,
  withRoomFeesPerNight,
  type Reply,
  type Shop,
  type StandinBooking,
  type StandinHotel,
} from './model';

/**
 * The stand-in's read side: `hotel_ari` (availability and rates) and the generic resources QloApps serves through
 * PrestaShop's ObjectModel webservice (`orders`, `room_bookings`, `customers`, `configurations`, `room_types`), with
 * their list syntax: `filter[field]=[a|b]`, `display=[a,b]` or `full`, ids only by default, `[]` when empty.
 */

/** The text of the first `<tag>`, with or without CDATA; enough XML for the hotel_ari request. */
function xmlText(xml: string, tag: string): string | undefined {
  const match = new RegExp(`<${tag}>\\s*(?:<!\\[CDATA\\[([\\s\\S]*?)\\]\\]>|([^<]*))\\s*</${tag}>`).exec(xml);
  if (!match) return undefined;
  return (match[1] ?? match[2] ?? '').trim();
}

/**
 * POST hotel_ari (modules/hotelreservationsystem/classes/WebserviceSpecificManagementHotelAri.php). Like QloApps
 * 1.6.1 it does not filter by occupancy (it stores the occupancies under `room_occupancy` and HotelBookingDetail
 * reads `occupancy`): every free room is listed with its `max_adult`, `max_children` and `max_occupancy`, and the
 * occupancies only count rooms (the totals are multiplied by their number). Prices include the auto-added
 * "with room" fees; independent (per booking) fees are not quoted.
 */
export function hotelAri(shop: Shop, body: string): Reply {
  const xml = body.startsWith('xml=') ? body.slice(4) : body;
  const ari = /<hotel_ari>([\s\S]*)<\/hotel_ari>/.exec(xml)?.[1];
  if (!ari) return errors(400, 85, 'Validation error: Invalid ARI search parameters found.');
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
  const roomCount = Math.max(1, occupancies.length);
  const hotel = shop.hotels.find((h) => h.id === hotelId);
  const onlyType = int(xmlText(ari, 'id_room_type'));
  const answer: Record<string, unknown> = {
    id_hotel: String(xmlText(ari, 'id_hotel')),
    date_from: from,
    date_to: to,
    currency: hotel?.currency ?? 'EUR',
  };
  if (hotel) {
    const taken = takenRoomIds(shop, hotel.id, from, to);
    const stay = nights(from, to);
    let total = 0;
    let available = 0;
    const roomTypes = hotel.roomTypes
      .filter((type) => onlyType === undefined || onlyType === 0 || type.id === onlyType)
      .map((type) => {
        total += type.rooms.length;
        const free = type.rooms.filter((r) => !taken.has(r.id));
        available += free.length;
        const rooms = Object.fromEntries(
          free.map((r) => [
            String(r.id),
            {
              id_room: r.id,
              id_product: type.id,
              id_hotel: hotel.id,
              room_num: r.number,
              room_comment: '',
              max_adult: type.maxAdults,
              max_children: type.maxChildren,
              max_occupancy: type.maxOccupancy ?? type.maxAdults + type.maxChildren,
            },
          ]),
        );
        const perNight = type.pricePerNight + withRoomFeesPerNight(hotel, type, stay);
        return {
          id_room_type: type.id,
          base_price: round2(perNight),
          base_price_with_tax: round2(perNight * (1 + hotel.taxRate)),
          total_price: round2(perNight * stay * roomCount),
          total_price_with_tax: round2(perNight * stay * roomCount * (1 + hotel.taxRate)),
          name: type.name,
          // PHP's json_encode renders an empty array as [] and a map keyed by room id as an object.
          rooms: { available: free.length ? rooms : [] },
        };
      });
    answer.total_rooms = total;
    answer.total_available_rooms = available;
    // QloApps leaves room_types out when the hotel has none to show.
    if (roomTypes.length) answer.room_types = roomTypes;
  }
  return { status: 200, body: { hotel_ari: answer } };
}

/**
 * A PrestaShop resource list: `filter[field]=[v1|v2]` (exact, case-insensitive), `display=full` or `[a,b]` (ids
 * only by default), `{"<nodes>": […]}`, or a bare `[]` when nothing matched.
 */
function list(nodes: string, rows: Record<string, unknown>[], query: URLSearchParams): Reply {
  let matched = rows;
  for (const [key, raw] of query) {
    const field = /^filter\[(\w+)\]$/.exec(key)?.[1];
    if (!field) continue;
    if (rows.length && !(field in rows[0]!))
      return errors(400, 32, `This filter does not exist for this linked table (${field})`);
    const values = (/^\[(.*)\]$/.exec(raw)?.[1]?.split('|') ?? [raw]).map((v) => v.toLowerCase());
    const text = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : '');
    matched = matched.filter((row) => values.includes(text(row[field]).toLowerCase()));
  }
  if (!matched.length) return { status: 200, body: [] };
  const display = query.get('display');
  const wanted = display === 'full' ? undefined : display ? display.replace(/^\[|\]$/g, '').split(',') : ['id'];
  return {
    status: 200,
    body: {
      [nodes]: matched.map((row) =>
        wanted ? Object.fromEntries(wanted.filter((k) => k in row).map((k) => [k, row[k]])) : row,
      ),
    },
  };
}

/** One resource by id: `{"<node>": {…}}`, or a 404 with an empty body. */
function one(node: string, row: Record<string, unknown> | undefined): Reply {
  return row ? { status: 200, body: { [node]: row } } : { status: 404, headers: { 'content-type': '' }, body: '' };
}

function orderRow(b: StandinBooking): Record<string, unknown> {
  const totals = orderTotals(b);
  const roomsExcl = b.rooms.reduce((sum, r) => sum + r.price + r.services.reduce((s, v) => s + v.price, 0), 0);
  return {
    id: b.id,
    id_address_delivery: 0,
    id_address_invoice: 0,
    id_address_tax: 0,
    id_cart: b.id,
    id_currency: 1,
    id_lang: 1,
    id_customer: b.customer.id,
    current_state: b.currentState,
    module: 'wsorder',
    invoice_number: 0,
    invoice_date: '0000-00-00 00:00:00',
    valid: 0,
    date_add: b.createdAt,
    date_upd: b.updatedAt,
    transaction_id: null,
    payment: 'Order from API',
    payment_type: 1,
    total_discounts: money(0),
    total_paid: money(totals.incl),
    total_paid_tax_incl: money(totals.incl),
    total_paid_tax_excl: money(totals.excl),
    total_paid_real: money(0),
    total_products: money(round2(roomsExcl)),
    total_products_wt: money(totals.incl),
    conversion_rate: money(1),
    source: b.source,
    reference: `STANDIN${String(b.id).padStart(2, '0')}`,
    is_advance_payment: 0,
    advance_paid_amount: money(totals.incl),
    with_occupancy: 0,
    associations: { bookings: b.rooms.map((r) => ({ id: r.lineId })) },
  };
}

function roomBookingRows(shop: Shop): Record<string, unknown>[] {
  return shop.bookings.flatMap((b) => {
    const hotel = shop.hotels.find((h) => h.id === b.hotelId);
    const { canceled, refund } = shop.settings.orderStates;
    return b.rooms.map((r) => {
      const type = hotel?.roomTypes.find((t) => t.id === r.roomTypeId);
      return {
        id: r.lineId,
        id_product: r.roomTypeId,
        id_order: b.id,
        id_room: r.roomId,
        id_hotel: b.hotelId,
        id_customer: b.customer.id,
        date_from: `${r.checkIn} 00:00:00`,
        date_to: `${r.checkOut} 00:00:00`,
        total_price_tax_excl: money(r.price),
        total_price_tax_incl: money(round2(r.price + r.tax)),
        is_refunded: b.currentState === canceled || b.currentState === refund ? 1 : 0,
        is_cancelled: b.currentState === canceled ? 1 : 0,
        room_num: type?.rooms.find((x) => x.id === r.roomId)?.number ?? '',
        room_type_name: type?.name ?? '',
        hotel_name: hotel?.name ?? '',
        adults: r.adults,
        children: r.children,
        child_ages: JSON.stringify(r.childAges),
      };
    });
  });
}

function customerRows(shop: Shop): Record<string, unknown>[] {
  return shop.customers.map((c) => ({
    id: c.id,
    id_default_group: 3,
    lastname: c.lastname,
    firstname: c.firstname,
    email: c.email,
    active: 1,
    date_add: c.createdAt,
    date_upd: c.createdAt,
  }));
}

function configurationRows(shop: Shop): Record<string, unknown>[] {
  const s = shop.settings;
  const values: [string, string][] = [
    ['PS_OS_AWAITING_PAYMENT', String(s.orderStates.awaitingPayment)],
    ['PS_OS_PAYMENT_ACCEPTED', String(s.orderStates.paymentAccepted)],
    ['PS_OS_CANCELED', String(s.orderStates.canceled)],
    ['PS_OS_REFUND', String(s.orderStates.refund)],
    ['PS_OS_ERROR', String(s.orderStates.error)],
    ['PS_CURRENCY_DEFAULT', '1'],
    ['PS_ONE_PHONE_AT_LEAST', s.requirePhone ? '1' : '0'],
    ['PRICE_DISPLAY_METHOD', s.taxExcludedDisplay ? '1' : '0'],
    ['PS_SHOP_DOMAIN', s.domain ?? ''],
  ];
  return values.map(([name, value], i) => ({
    id: 100 + i,
    value,
    name,
    id_shop_group: '',
    id_shop: '',
    date_add: '0000-00-00 00:00:00',
    date_upd: '0000-00-00 00:00:00',
  }));
}

/** A room type or a service product, as the `room_types` resource (class Product) renders either. */
function productRow(hotel: StandinHotel, id: number): Record<string, unknown> | undefined {
  const group = hotel.taxRulesGroupId ?? 1;
  const type = hotel.roomTypes.find((t) => t.id === id);
  if (type) {
    return {
      id: type.id,
      id_hotel: hotel.id,
      adults: type.baseAdults ?? 2,
      children: type.baseChildren ?? 0,
      id_tax_rules_group: group,
      type: 'virtual',
      price: money(type.pricePerNight),
      auto_add_to_cart: 0,
      price_addition_type: 0,
      name: type.name,
      associations: {
        hotel_rooms: type.rooms.map((r) => ({ id: r.id })),
        // A price or tax group set for this room type only would be here; the stand-in has none.
        services: (type.serviceIds ?? []).map((s) => ({ id: s, price: null, id_tax_rules_group: null })),
      },
    };
  }
  const service = hotel.services?.find((s) => s.id === id);
  if (!service) return undefined;
  return {
    id: service.id,
    id_hotel: false,
    adults: false,
    children: false,
    id_tax_rules_group: group,
    type: 'virtual',
    price: money(service.price),
    auto_add_to_cart: service.autoAdd ? 1 : 0,
    price_addition_type: service.addition === 'with_room' ? 1 : 2,
    price_calculation_method: service.perNight ? 2 : 1,
    name: service.name,
    associations: { categories: [], images: [] },
  };
}

/** GET on the generic resources; undefined for a resource this module does not serve. */
export function readResource(
  shop: Shop,
  resource: string,
  id: number | undefined,
  query: URLSearchParams,
): Reply | undefined {
  switch (resource) {
    case 'orders': {
      const rows = shop.bookings.map(orderRow);
      return id === undefined
        ? list('orders', rows, query)
        : one(
            'order',
            rows.find((r) => r.id === id),
          );
    }
    case 'room_bookings': {
      // HotelBookingDetail's objectsNodeName is "bookings".
      const rows = roomBookingRows(shop);
      return id === undefined
        ? list('bookings', rows, query)
        : one(
            'booking',
            rows.find((r) => r.id === id),
          );
    }
    case 'customers': {
      const rows = customerRows(shop);
      return id === undefined
        ? list('customers', rows, query)
        : one(
            'customer',
            rows.find((r) => r.id === id),
          );
    }
    case 'configurations': {
      const rows = configurationRows(shop);
      return id === undefined
        ? list('configurations', rows, query)
        : one(
            'configuration',
            rows.find((r) => r.id === id),
          );
    }
    case 'room_types': {
      if (id === undefined) {
        // The list shows booking products (room types) only; services are reachable by id.
        const rows = shop.hotels.flatMap((h) => h.roomTypes.map((t) => productRow(h, t.id)!));
        return list('room_types', rows, query);
      }
      const hotel = shop.hotels.find((h) => productRow(h, id) !== undefined);
      return one('room_type', hotel ? productRow(hotel, id) : undefined);
    }
    default:
      return undefined;
  }
}
