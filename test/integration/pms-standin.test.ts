import { request } from 'undici';
import { startPmsStandin, type PmsStandin } from '../../dev/pms-standin';

/**
 * The stand-in's own protocol, spoken raw: what a QloApps client other than ours (or the demo, by hand) sees.
 * The client's behaviour against it is in pms.test.ts.
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
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  body?: string,
  headers: Record<string, string> = { authorization: auth },
) {
  const res = await request(`${standin.url}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text, json: text ? JSON.parse(text) : undefined };
}

const ari = (from: string, to: string, adults = 2, children = 0) =>
  `<?xml version="1.0" encoding="UTF-8"?><qloapps><hotel_ari><id_hotel><![CDATA[1]]></id_hotel>` +
  `<date_from>${from}</date_from><date_to>${to}</date_to><associations><room_occupancies><room_occupancy>` +
  `<adults>${adults}</adults><children>${children}</children></room_occupancy></room_occupancies></associations>` +
  `</hotel_ari></qloapps>`;

const newBooking = (rooms: object, numberOfRooms = 1) =>
  JSON.stringify({
    booking: {
      id_property: 1,
      currency: 'EUR',
      booking_status: 1,
      source: 'ref-1',
      associations: {
        customer_detail: { firstname: 'Ana', lastname: 'López', email: 'ana@example.invalid', phone: '' },
        room_types: [
          {
            id_room_type: 1,
            checkin_date: '2031-05-01',
            checkout_date: '2031-05-03',
            number_of_rooms: numberOfRooms,
            ...rooms,
          },
        ],
      },
    },
  });

describe('QloApps stand-in', () => {
  it('refuses requests without the webservice key, as QloApps does, and accepts it as ws_key too', async () => {
    const anonymous = await api('GET', '/api/bookings?output_format=JSON', undefined, {});
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['www-authenticate']).toMatch(/^Basic realm=/);
    expect(anonymous.json).toEqual({ errors: [{ code: 16, message: expect.stringContaining('authentication key') }] });
    const byQuery = await api('GET', `/api/bookings?output_format=JSON&ws_key=${webserviceKey}`, undefined, {});
    expect(byQuery.status).toBe(200);
  });

  it('answers hotel_ari with the rooms keyed by id, [] for a type with none free, and validates the XML', async () => {
    const res = await api('POST', '/api/hotel_ari?output_format=JSON', ari('2031-05-01', '2031-05-03', 3, 1));
    expect(res.status).toBe(200);
    const types = res.json.hotel_ari.room_types;
    expect(res.json.hotel_ari).toMatchObject({ id_hotel: '1', currency: 'EUR', total_rooms: 7 });
    expect(types.find((t: any) => t.id_room_type === '1').rooms.available).toEqual([]);
    expect(Object.keys(types.find((t: any) => t.id_room_type === '3').rooms.available)).toEqual(['6', '7']);

    const backwards = await api('POST', '/api/hotel_ari?output_format=JSON', ari('2031-05-03', '2031-05-01'));
    expect(backwards.status).toBe(400);
    expect(backwards.json.errors[0]).toEqual({ code: 85, message: expect.stringContaining('must be after') });
  });

  it('books, assigns distinct rooms, refuses what is taken, and lists orders ([] when none match)', async () => {
    expect((await api('GET', '/api/orders?output_format=JSON&filter[source]=[ref-1]&display=full')).json).toEqual([]);
    const two = await api('POST', '/api/bookings?output_format=JSON', newBooking({}, 2));
    expect(two.status).toBe(200);
    const rooms = two.json.booking.associations.room_types[0].rooms.map((r: any) => r.id_room);
    expect(rooms).toEqual([1, 2]);

    const taken = await api('POST', '/api/bookings?output_format=JSON', newBooking({ rooms: [{ id_room: 2 }] }));
    expect(taken.status).toBe(400);
    expect(taken.json).toEqual({ errors: [{ code: 404, message: 'Requested room(s) not available.' }] });

    const orders = await api(
      'GET',
      '/api/orders?output_format=JSON&filter[source]=[ref-1|other]&display=[id,current_state]',
    );
    expect(orders.json).toEqual({ orders: [{ id: two.json.booking.id, current_state: '1' }] });
    expect((await api('GET', '/api/bookings/9999?output_format=JSON')).status).toBe(404);
  });

  it('takes faults and answers inventory through its control endpoints', async () => {
    const queued = await api(
      'POST',
      '/_standin/faults',
      JSON.stringify({ fault: { kind: 'error', status: 502 }, times: 2 }),
    );
    expect(queued.json).toEqual({ queued: 2 });
    expect((await api('GET', '/api/bookings?output_format=JSON')).status).toBe(502);
    expect((await api('DELETE', '/_standin/faults')).json).toEqual({ queued: 0 });
    expect((await api('GET', '/api/bookings?output_format=JSON')).status).toBe(200);

    await api('POST', '/api/bookings?output_format=JSON', newBooking({ rooms: [{ id_room: 3 }] }));
    const free = await api('GET', '/_standin/availability?hotel=1&from=2031-05-02&to=2031-05-04');
    expect(free.json.free).toEqual({ '1': [1, 2], '2': [4, 5], '3': [6, 7] });
  });
});
