import { request } from 'undici';
import { startPmsStandin, type PmsStandin } from '../../dev/pms-standin';

/**
 * The stand-in's own protocol, spoken raw: what a QloApps client other than ours (or the demo, by hand) sees. Each
 * behaviour here is one that QloApps 1.6.1 itself showed when driven on the lab machine (its webservice source and
 * the recorded answers are cited in dev/pms-standin/). The client's behaviour against it is in pms.test.ts.
 */
const webserviceKey = 'QLOTESTKEY0123456789ABCDEFGHIJKL';
const auth = `Basic ${Buffer.from(`${webserviceKey}:`).toString('base64')}`;
let standin: PmsStandin;

beforeAll(async () => {
  standin = await startPmsStandin({ webserviceKey });
});
afterEach(() => standin.reset());
afterAll(() => standin.close());

async function api(
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH',
  path: string,
  body?: string,
  headers: Record<string, string> = { authorization: auth },
) {
  const res = await request(`${standin.url}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text, json: text ? JSON.parse(text) : undefined };
}

const ari = (from: string, to: string, occupancies: [number, number][] = [[2, 0]], roomType?: number) =>
  `<?xml version="1.0" encoding="UTF-8"?><qloapps><hotel_ari><id_hotel><![CDATA[1]]></id_hotel>` +
  (roomType ? `<id_room_type>${roomType}</id_room_type>` : '') +
  `<date_from>${from}</date_from><date_to>${to}</date_to><associations><room_occupancies>` +
  occupancies
    .map(([a, c]) => `<room_occupancy><adults>${a}</adults><children>${c}</children></room_occupancy>`)
    .join('') +
  `</room_occupancies></associations></hotel_ari></qloapps>`;

interface BookingOptions {
  rooms?: object[];
  numberOfRooms?: number;
  customer?: object;
  source?: string;
  roomTypeId?: number;
  checkIn?: string;
  checkOut?: string;
}

/** A booking body; its room carries the tax group (QloApps answers 500 without one) unless `rooms` says otherwise. */
const newBooking = (o: BookingOptions = {}) =>
  JSON.stringify({
    booking: {
      id_property: 1,
      currency: 'EUR',
      booking_status: 1,
      payment_status: 3,
      source: o.source ?? 'ref-1',
      associations: {
        customer_detail: {
          firstname: 'Ana',
          lastname: 'López',
          email: 'ana@example.invalid',
          phone: '+34600111222',
          ...o.customer,
        },
        room_types: [
          {
            id_room_type: o.roomTypeId ?? 1,
            checkin_date: o.checkIn ?? '2031-05-01',
            checkout_date: o.checkOut ?? '2031-05-03',
            number_of_rooms: o.numberOfRooms ?? o.rooms?.length ?? 1,
            rooms: o.rooms ?? [{ adult: 2, child: 0, id_tax_rules_group: 1 }],
          },
        ],
      },
    },
  });

const cancel = (id: number, o: { urlId?: number; roomTypes?: object[]; email?: string } = {}) =>
  api(
    'PUT',
    `/api/bookings/${o.urlId ?? id}?output_format=JSON`,
    JSON.stringify({
      booking: {
        id,
        id_property: 1,
        booking_status: 3,
        associations: {
          customer_detail: { email: o.email ?? 'ana@example.invalid' },
          room_types: o.roomTypes ?? [
            { id_room_type: 1, checkin_date: '2031-05-01', checkout_date: '2031-05-03', number_of_rooms: 1 },
          ],
        },
      },
    }),
  );

const post = (body: string) => api('POST', '/api/bookings?output_format=JSON', body);
const orderOf = async (id: number) =>
  (
    await api(
      'GET',
      `/api/orders?output_format=JSON&filter[id]=[${id}]&display=[id,current_state,total_paid_tax_incl,id_customer]`,
    )
  ).json;

describe('QloApps stand-in: the webservice around the resources', () => {
  it('refuses requests without the webservice key, as QloApps does, and accepts it as ws_key too', async () => {
    const anonymous = await api('GET', '/api/bookings?output_format=JSON', undefined, {});
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['www-authenticate']).toMatch(/^Basic realm=/);
    expect(anonymous.json).toEqual({ errors: [{ code: 16, message: expect.stringContaining('authentication key') }] });
    const byQuery = await api('GET', `/api/bookings?output_format=JSON&ws_key=${webserviceKey}`, undefined, {});
    expect(byQuery.status).toBe(200);
    const unknown = await api('GET', '/api/orders?output_format=JSON', undefined, {
      authorization: `Basic ${Buffer.from('BADKEY00000000000000000000000000:').toString('base64')}`,
    });
    expect(unknown.status).toBe(401);
    expect(unknown.json.errors.map((e: { code: number }) => e.code)).toEqual([20, 21]);
  });

  it("answers a key's missing resource with 401 (code 26) and a missing method with 405 (code 25)", async () => {
    standin.settings.permissions = { hotel_ari: ['POST'], bookings: ['GET'] };
    const noOrders = await api('GET', '/api/orders?output_format=JSON');
    expect(noOrders.status).toBe(401);
    expect(noOrders.json).toEqual({
      errors: [{ code: 26, message: 'Resource of type "orders" is not allowed with this authentication key' }],
    });
    expect(noOrders.headers['www-authenticate']).toBeUndefined();
    const noPost = await post(newBooking());
    expect(noPost.status).toBe(405);
    expect(noPost.json).toEqual({
      errors: [
        { code: 25, message: 'Method POST is not allowed for the resource bookings with this authentication key' },
      ],
    });
    expect(standin.bookings).toHaveLength(0);
    // DELETE is forbidden on bookings for every key.
    standin.settings.permissions = undefined;
    const del = await api('DELETE', '/api/bookings/1?output_format=JSON');
    expect(del).toMatchObject({ status: 405, json: { errors: [{ code: 101 }] } });
  });

  it("redirects a request whose Host is not the shop's domain to the front office there (302, before auth)", async () => {
    const port = new URL(standin.url).port;
    const viaLocalhost = await request(`http://localhost:${port}/api/bookings/2?output_format=JSON`, {
      headers: { authorization: auth },
    });
    expect(viaLocalhost.statusCode).toBe(302);
    expect(viaLocalhost.headers.location).toBe(
      `http://127.0.0.1:${port}/index.php?url=bookings%2F2&output_format=JSON`,
    );
    expect(await viaLocalhost.body.text()).toBe('');
    const anonymous = await request(`http://localhost:${port}/api/?output_format=JSON`);
    expect(anonymous.statusCode).toBe(302);
    await anonymous.body.dump();

    standin.settings.domain = null;
    const anyHost = await request(`http://localhost:${port}/api/orders?output_format=JSON`, {
      headers: { authorization: auth },
    });
    expect(anyHost.statusCode).toBe(200);
    await anyHost.body.dump();
  });

  it('takes faults, settings and answers inventory through its control endpoints', async () => {
    const queued = await api(
      'POST',
      '/_standin/faults',
      JSON.stringify({ fault: { kind: 'error', status: 502 }, times: 2 }),
    );
    expect(queued.json).toEqual({ queued: 2 });
    expect((await api('GET', '/api/bookings?output_format=JSON')).status).toBe(502);
    expect((await api('DELETE', '/_standin/faults')).json).toEqual({ queued: 0 });
    expect((await api('GET', '/api/bookings?output_format=JSON')).status).toBe(200);

    await post(newBooking({ rooms: [{ id_room: 3, adult: 2, id_tax_rules_group: 1 }] }));
    const free = await api('GET', '/_standin/availability?hotel=1&from=2031-05-02&to=2031-05-04');
    expect(free.json.free).toEqual({ '1': [1, 2], '2': [4, 5], '3': [6, 7] });

    const patched = await api('PATCH', '/_standin/settings', JSON.stringify({ taxExcludedDisplay: true }));
    expect(patched.json).toMatchObject({ taxExcludedDisplay: true, requirePhone: true });
    standin.reset();
    expect(standin.settings.taxExcludedDisplay).toBe(false);
  });
});

describe('QloApps stand-in: hotel_ari', () => {
  it('lists every free room keyed by id with its maximum occupancy, and does not filter by the party', async () => {
    const res = await api('POST', '/api/hotel_ari?output_format=JSON', ari('2031-05-01', '2031-05-03', [[5, 3]]));
    expect(res.status).toBe(200);
    expect(res.json.hotel_ari).toMatchObject({ id_hotel: '1', currency: 'EUR', total_rooms: 7 });
    const types = res.json.hotel_ari.room_types;
    // Five adults and three children fit in none of them; QloApps 1.6.1 lists them all the same.
    expect(types.map((t: { id_room_type: number }) => t.id_room_type)).toEqual([1, 2, 3]);
    expect(types[0].rooms.available['1']).toEqual({
      id_room: 1,
      id_product: 1,
      id_hotel: 1,
      room_num: '101',
      room_comment: '',
      max_adult: 2,
      max_children: 1,
      max_occupancy: 3,
    });
    expect(res.json.hotel_ari.total_available_rooms).toBe(7);

    const backwards = await api('POST', '/api/hotel_ari?output_format=JSON', ari('2031-05-03', '2031-05-01'));
    expect(backwards.status).toBe(400);
    expect(backwards.json.errors[0]).toEqual({ code: 85, message: expect.stringContaining('must be after') });
  });

  it('quotes prices with the auto-added "with room" fees, and totals times the rooms asked for', async () => {
    // Standard Double: 90 a night, plus the 5 cleaning fee; 10 % tax. The 3 booking fee is not quoted.
    const one = await api('POST', '/api/hotel_ari?output_format=JSON', ari('2031-05-01', '2031-05-03', [[2, 0]], 1));
    expect(one.json.hotel_ari.room_types).toEqual([
      expect.objectContaining({
        id_room_type: 1,
        base_price: 95,
        base_price_with_tax: 104.5,
        total_price: 190,
        total_price_with_tax: 209,
      }),
    ]);
    const two = await api(
      'POST',
      '/api/hotel_ari?output_format=JSON',
      ari(
        '2031-05-01',
        '2031-05-03',
        [
          [2, 0],
          [1, 0],
        ],
        1,
      ),
    );
    expect(two.json.hotel_ari.room_types[0]).toMatchObject({ base_price: 95, total_price: 380 });
  });
});

describe('QloApps stand-in: bookings', () => {
  it('books with 200 (not 201), assigns distinct rooms, refuses what is taken, and lists orders', async () => {
    expect((await api('GET', '/api/orders?output_format=JSON&filter[source]=[ref-1]&display=full')).json).toEqual([]);
    const two = await post(
      newBooking({
        rooms: [
          { adult: 2, id_tax_rules_group: 1 },
          { adult: 1, id_tax_rules_group: 1 },
        ],
      }),
    );
    expect(two.status).toBe(200);
    const rooms = two.json.booking.associations.room_types[0].rooms.map((r: { id_room: number }) => r.id_room);
    expect(rooms).toEqual([1, 2]);
    // The answer carries no status (QloApps leaves current_status commented out).
    expect(two.json.booking.booking_status).toBeUndefined();

    const taken = await post(newBooking({ rooms: [{ id_room: 2, adult: 2, id_tax_rules_group: 1 }] }));
    expect(taken.status).toBe(400);
    expect(taken.json).toEqual({ errors: [{ code: 404, message: 'Requested room(s) not available.' }] });

    const orders = await api(
      'GET',
      '/api/orders?output_format=JSON&filter[source]=[ref-1|other]&display=[id,current_state]',
    );
    expect(orders.json).toEqual({ orders: [{ id: two.json.booking.id, current_state: 1 }] });
    const missing = await api('GET', '/api/bookings/9999?output_format=JSON');
    expect(missing).toMatchObject({ status: 404, text: '' });
  });

  it('refuses a booking without a phone while PS_ONE_PHONE_AT_LEAST is on, as QloApps does', async () => {
    const res = await post(newBooking({ customer: { phone: '' } }));
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ errors: [{ code: 404, message: 'Please provide a valid phone number.' }] });
    expect(standin.bookings).toHaveLength(0);
    const settings = await api('GET', '/api/configurations?output_format=JSON&filter[name]=[PS_ONE_PHONE_AT_LEAST]');
    expect(settings.status).toBe(200);

    standin.settings.requirePhone = false;
    expect((await post(newBooking({ customer: { phone: '' } }))).status).toBe(200);
  });

  it('reads adult and child (singular), sets child to 0 without child_ages, and uses the base occupancy', async () => {
    await post(
      newBooking({
        rooms: [
          { adults: 1, child: 1, id_tax_rules_group: 1 },
          { adult: 1, child: 1, child_ages: [7], id_tax_rules_group: 1 },
        ],
      }),
    );
    await post(newBooking({ rooms: [], numberOfRooms: 1, roomTypeId: 2, source: 'ref-2' }));
    const [first, second] = standin.bookings;
    // `adults` is not read: the base 2 adults; no child_ages: no children.
    expect(first!.rooms.map((r) => [r.adults, r.children, r.childAges])).toEqual([
      [2, 0, []],
      [1, 1, [7]],
    ]);
    // Without rooms[]: the room type's base occupancy (2 adults, 0 children here).
    expect(second!.rooms.map((r) => [r.adults, r.children])).toEqual([[2, 0]]);
    const rows = await api(
      'GET',
      `/api/room_bookings?output_format=JSON&filter[id_order]=[${first!.id}]&display=[id,adults,children]`,
    );
    expect(rows.json.bookings.map((r: { adults: number; children: number }) => [r.adults, r.children])).toEqual([
      [2, 0],
      [1, 1],
    ]);
  });

  it('books a room without total_tax or id_tax_rules_group, then answers 500 with the PHP warning', async () => {
    const res = await post(newBooking({ rooms: [{ adult: 2, child: 0 }], source: 'no-tax' }));
    expect(res.status).toBe(500);
    expect(res.json).toEqual({
      errors: [
        { code: 3, message: expect.stringMatching(/^\[PHP Warning #2\] Undefined array key "total_tax" .*504/) },
      ],
    });
    // The booking was made all the same.
    const orders = await api('GET', '/api/orders?output_format=JSON&filter[source]=[no-tax]&display=[id,source]');
    expect(orders.json.orders).toHaveLength(1);
    expect(
      (
        await post(
          newBooking({
            rooms: [{ adult: 2, total_tax: 18 }],
            source: 'x',
            checkIn: '2031-06-01',
            checkOut: '2031-06-02',
          }),
        )
      ).status,
    ).toBe(200);
  });

  it("fails a new customer's booking with an empty 500 when a name fails isName or is too long", async () => {
    for (const customer of [
      { firstname: 'Ana2' },
      { lastname: 'L@pez' },
      { firstname: 'Ana,()' },
      { lastname: 'x'.repeat(33) },
    ]) {
      const res = await post(newBooking({ customer: { email: `n${Math.random()}@example.invalid`, ...customer } }));
      expect(res.status).toBe(500);
      expect(res.text).toBe('');
      expect(res.headers['content-type']).toMatch(/text\/html/);
    }
    expect(standin.customers).toHaveLength(0);
    expect(standin.bookings).toHaveLength(0);
  });

  it('creates the customer, then fails with an empty 500, for an invalid phone', async () => {
    const res = await post(newBooking({ customer: { phone: 'call me maybe' } }));
    expect(res).toMatchObject({ status: 500, text: '' });
    expect(standin.customers).toHaveLength(1);
    expect(standin.bookings).toHaveLength(0);
    // The same e-mail with a valid phone books for that customer.
    expect((await post(newBooking())).status).toBe(200);
    expect(standin.bookings[0]!.customer.id).toBe(standin.customers[0]!.id);
  });

  it('ignores invalid names of an existing customer; stores an emoji as ????, which breaks the next save', async () => {
    expect((await post(newBooking({ customer: { lastname: 'López 🙂' } }))).status).toBe(200);
    expect(standin.customers[0]!.lastname).toBe('López ????');
    // The customer is saved again by the next booking (or cancellation) made for them: QloApps throws.
    const again = await post(
      newBooking({ customer: { lastname: 'L@pez' }, checkIn: '2031-07-01', checkOut: '2031-07-02' }),
    );
    expect(again).toMatchObject({ status: 500, text: '' });

    const other = { email: 'bea@example.invalid', firstname: 'Bea', lastname: 'Ruiz' };
    expect(
      (await post(newBooking({ customer: other, source: 'b1', checkIn: '2031-08-01', checkOut: '2031-08-02' }))).status,
    ).toBe(200);
    const renamed = await post(
      newBooking({
        customer: { ...other, firstname: 'B3a' },
        source: 'b2',
        checkIn: '2031-08-03',
        checkOut: '2031-08-04',
      }),
    );
    expect(renamed.status).toBe(200);
    expect(standin.customers.find((c) => c.email === other.email)!.firstname).toBe('Bea');
  });

  it('drops auto-added fees a booking does not list; lists them and the order costs what hotel_ari quoted', async () => {
    const quote = await api('POST', '/api/hotel_ari?output_format=JSON', ari('2031-05-01', '2031-05-03', [[2, 0]], 1));
    const quoted = quote.json.hotel_ari.room_types[0].total_price_with_tax;
    const plain = await post(newBooking({ rooms: [{ id_room: 1, adult: 2, id_tax_rules_group: 1 }] }));
    const withFee = await post(
      newBooking({
        rooms: [
          {
            id_room: 2,
            adult: 2,
            id_tax_rules_group: 1,
            services: [{ id_service: 11, quantity: 1, id_tax_rules_group: 1 }],
          },
        ],
      }),
    );
    // 2 nights × 90 + 10 % = 198 without the fee; with it, 2 × (90 + 5) + 10 % = 209: the quote.
    expect((await orderOf(plain.json.booking.id)).orders[0].total_paid_tax_incl).toBe('198.000000');
    expect((await orderOf(withFee.json.booking.id)).orders[0].total_paid_tax_incl).toBe('209.000000');
    expect(quoted).toBe(209);
    // A listed fee without a tax field: booked, then QloApps' undefined-index 500 (line 580).
    const noTax = await post(
      newBooking({
        rooms: [{ id_room: 3, adult: 2, id_tax_rules_group: 1, services: [{ id_service: 11, quantity: 1 }] }],
      }),
    );
    expect(noTax.status).toBe(500);
    expect(noTax.json.errors[0].message).toMatch(/line 580/);
  });

  it('cancels with PUT: takes the id from the body, needs room_types and a known e-mail, frees the rooms', async () => {
    const { id } = (await post(newBooking())).json.booking;
    expect((await cancel(id, { roomTypes: [] })).json).toEqual({
      errors: [{ code: 404, message: 'Rooms not found in the request.' }],
    });
    expect((await cancel(id, { email: 'nobody@example.invalid' })).json.errors[0].message).toBe('Customer not found.');
    // The id in the URL is ignored; the body's order is the one changed.
    const res = await cancel(id, { urlId: 999 });
    expect(res.status).toBe(200);
    expect((await orderOf(id)).orders[0].current_state).toBe(4);
    expect(standin.freeRooms(1, '2031-05-01', '2031-05-03').get(1)).toEqual([1, 2, 3]);
    const rows = await api(
      'GET',
      `/api/room_bookings?output_format=JSON&filter[id_order]=[${id}]&display=[id,is_cancelled,is_refunded]`,
    );
    expect(rows.json.bookings[0]).toMatchObject({ is_cancelled: 1, is_refunded: 1 });
  });

  it('removes the rooms a PUT leaves out, and the services of rooms it keeps without listing them', async () => {
    const { id } = (
      await post(
        newBooking({
          rooms: [
            {
              adult: 2,
              id_tax_rules_group: 1,
              services: [{ id_service: 11, quantity: 1, id_tax_rules_group: 1 }],
            },
          ],
        }),
      )
    ).json.booking;
    expect((await orderOf(id)).orders[0].total_paid_tax_incl).toBe('209.000000');
    // Cancelling without rooms[] keeps the room but drops its fee, as QloApps does.
    await cancel(id);
    expect((await orderOf(id)).orders[0].total_paid_tax_incl).toBe('198.000000');

    const other = (
      await post(
        newBooking({
          source: 'two',
          checkIn: '2031-09-01',
          checkOut: '2031-09-03',
          rooms: [
            { adult: 2, id_tax_rules_group: 1 },
            { adult: 2, id_tax_rules_group: 1 },
          ],
        }),
      )
    ).json.booking.id;
    const res = await cancel(other, {
      roomTypes: [{ id_room_type: 1, checkin_date: '2031-09-01', checkout_date: '2031-09-03', number_of_rooms: 1 }],
    });
    expect(res.status).toBe(200);
    expect(standin.bookings.find((b) => b.id === other)!.rooms).toHaveLength(1);
  });

  it('on a shop showing prices tax excluded, answers reads and the replies to writes with PHP-warning 500s', async () => {
    standin.settings.taxExcludedDisplay = true;
    const created = await post(newBooking({ source: 'excl' }));
    expect(created.status).toBe(500);
    expect(created.json.errors).toEqual([
      { code: 3, message: expect.stringMatching(/Undefined variable \$useTax .*line 3463/) },
      { code: 3, message: expect.stringMatching(/Undefined variable \$useTax .*line 3494/) },
    ]);
    const [order] = (
      await api('GET', '/api/orders?output_format=JSON&filter[source]=[excl]&display=[id,current_state]')
    ).json.orders;
    expect(order.current_state).toBe(1);
    expect((await api('GET', `/api/bookings/${order.id}?output_format=JSON`)).status).toBe(500);
    const cancelled = await cancel(order.id);
    expect(cancelled.status).toBe(500);
    expect((await orderOf(order.id)).orders[0].current_state).toBe(4);
    const quote = await api('POST', '/api/hotel_ari?output_format=JSON', ari('2031-05-01', '2031-05-03'));
    expect(quote.status).toBe(200);
  });

  it('a phpWarning fault does the work of a POST or PUT, then answers 500', async () => {
    standin.inject({ kind: 'phpWarning', match: { method: 'POST', resource: 'bookings' } });
    expect((await post(newBooking())).status).toBe(500);
    expect(standin.bookings).toHaveLength(1);
    standin.inject({ kind: 'phpWarning', match: { method: 'PUT', resource: 'bookings' } });
    expect((await cancel(standin.bookings[0]!.id)).status).toBe(500);
    expect(standin.bookings[0]!.currentState).toBe(4);
  });
});

describe('QloApps stand-in: generic resources', () => {
  it('names the order states in configurations; a shop that renumbers them frees rooms in its own states', async () => {
    const res = await api(
      'GET',
      '/api/configurations?output_format=JSON&filter[name]=[PS_OS_CANCELED|PS_OS_REFUND|PS_OS_ERROR]&display=[name,value]',
    );
    expect(res.json).toEqual({
      configurations: [
        { name: 'PS_OS_CANCELED', value: '4' },
        { name: 'PS_OS_REFUND', value: '5' },
        { name: 'PS_OS_ERROR', value: '6' },
      ],
    });
    standin.settings.orderStates = { ...standin.settings.orderStates, canceled: 14 };
    const { id } = (await post(newBooking())).json.booking;
    await cancel(id);
    expect((await orderOf(id)).orders[0].current_state).toBe(14);
    expect(standin.freeRooms(1, '2031-05-01', '2031-05-03').get(1)).toEqual([1, 2, 3]);
  });

  it('serves room types and services by id (tax group, fees), customers and room bookings as lists', async () => {
    const type = await api('GET', '/api/room_types/1?output_format=JSON');
    expect(type.json.room_type).toMatchObject({
      id: 1,
      id_tax_rules_group: 1,
      adults: 2,
      auto_add_to_cart: 0,
      associations: { services: [{ id: 11 }, { id: 12 }, { id: 13 }] },
    });
    const fee = await api('GET', '/api/room_types/11?output_format=JSON');
    expect(fee.json.room_type).toMatchObject({ id: 11, auto_add_to_cart: 1, price_addition_type: 1, id_hotel: false });
    expect((await api('GET', '/api/room_types/12?output_format=JSON')).json.room_type.price_addition_type).toBe(2);
    expect(await api('GET', '/api/room_types/999?output_format=JSON')).toMatchObject({ status: 404, text: '' });
    // The list holds room types only.
    expect((await api('GET', '/api/room_types?output_format=JSON')).json.room_types).toEqual([
      { id: 1 },
      { id: 2 },
      { id: 3 },
    ]);

    const { id } = (await post(newBooking())).json.booking;
    const customers = await api('GET', '/api/customers?output_format=JSON&display=[id,email]');
    expect(customers.json).toEqual({ customers: [{ id: standin.customers[0]!.id, email: 'ana@example.invalid' }] });
    expect((await api('GET', '/api/customers?output_format=JSON&filter[id]=[9999]')).json).toEqual([]);
    const rows = await api(
      'GET',
      `/api/room_bookings?output_format=JSON&filter[id_order]=[${id}]&display=[id_order,id_product,id_room,date_from,date_to]`,
    );
    expect(rows.json).toEqual({
      bookings: [
        { id_order: id, id_product: 1, id_room: 1, date_from: '2031-05-01 00:00:00', date_to: '2031-05-03 00:00:00' },
      ],
    });
  });
});
