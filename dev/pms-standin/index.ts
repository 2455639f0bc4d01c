import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { serverControls } from '../process';
import { bookingsResource } from './bookings';
import {
  defaultSettings,
  demoHotels,
  errors,
  int,
  phpWarnings,
  takenRoomIds,
  type Method,
  type Reply,
  type Shop,
  type ShopSettings,
  type StandinBooking,
  type StandinCustomer,
  type StandinHotel,
} from './model';
import { hotelAri, readResource } from './resources';

export {
  demoHotels,
  OrderState,
  type ShopSettings,
  type StandinBookedRoom,
  type StandinBooking,
  type StandinCustomer,
  type StandinHotel,
  type StandinRoomType,
  type StandinService,
} from './model';

/**
 * A local stand-in for a QloApps 1.6.1 shop that speaks the part of its webservice this project uses, with the wire
 * shapes and the quirks of the real one (github.com/Qloapps/QloApps, tag v1.6.1, run and driven on this project's
 * lab machine):
 *
 * - `POST /api/hotel_ari` (resources.ts): an XML body; every free room listed with its maximum occupancy (no
 *   occupancy filtering), prices with the auto-added "with room" fees;
 * - `/api/bookings` (bookings.ts): JSON bodies `{"booking": {…}}`; POST books, PUT changes or cancels, GET reads;
 *   the quirks are listed there;
 * - `GET /api/orders`, `room_bookings`, `customers`, `configurations`, `room_types` (resources.ts): PrestaShop's
 *   generic resources with `filter[field]=[a|b]` and `display`;
 * - the webservice around them: Basic auth with the key as user name, QloApps' 401 codes; a key's permissions per
 *   resource and method (401 for a resource it lacks, 405 for a method); a 302 to the shop's domain when the Host is
 *   another; `{"errors": [{code, message}]}` refusals, where `code` is QloApps' own, not the HTTP status.
 *
 * Settings (`settings`, also `PATCH /_standin/settings`) switch the shop's own quirks: the phone requirement, tax
 * excluded display, the domain, the order state ids and the key's permissions. Faults (`inject`) add what a
 * network and a struggling server do. JSON output only; no taxes rules, cart rules or payments beyond the above.
 * For tests and the demo only.
 */

export interface StandinRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  authorization: string | undefined;
  contentType: string | undefined;
  host: string | undefined;
  body: string;
  at: number;
}

/** Which requests a fault applies to; all API requests when absent. */
export interface FaultMatch {
  method?: string;
  /** `hotel_ari`, `bookings`, `orders`, … */
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
  /**
   * Do the work, then answer 500 with a PHP warning, as QloApps' error handler does with a notice raised after (or
   * on the way to) a booking it still makes: `message` is the warning (an undefined `total_tax` by default).
   */
  | { kind: 'phpWarning'; message?: string }
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
  customers: StandinCustomer[];
  /** The shop's settings; change them to switch a quirk on or off. */
  settings: ShopSettings;
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
  /** Forgets bookings, customers, requests and queued faults and restores the settings (ids keep counting up). */
  reset(): void;
  close(): Promise<void>;
}

type QueuedFault = PmsFault | { kind: 'none'; match?: FaultMatch };

const authRealm =
  'Basic realm="Welcome to QloApps Webservice, please enter the authentication key as the login. No password required."';
/** The methods each resource allows at all (WebserviceRequest::getResources `forbidden_method`). */
const forbidden: Partial<Record<string, Method[]>> = { bookings: ['DELETE'] };
const resources = ['hotel_ari', 'bookings', 'orders', 'room_bookings', 'customers', 'configurations', 'room_types'];

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
  /** Settings to start with (see {@link ShopSettings}); `reset()` goes back to these. */
  settings?: Partial<ShopSettings>;
  /** How long an idle keep-alive connection is kept (Node's 5 s by default). */
  keepAliveTimeoutMs?: number;
}): Promise<PmsStandin> {
  const faults: QueuedFault[] = [];
  const server = http.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  const initialSettings = (): ShopSettings => ({ ...defaultSettings(`127.0.0.1:${port}`), ...options.settings });
  const shop: Shop = {
    hotels: options.hotels ?? demoHotels(),
    bookings: [],
    customers: [],
    settings: initialSettings(),
    next: { booking: 1, line: 1, customer: 1 },
  };

  const standin: Omit<PmsStandin, 'url' | 'close' | 'openConnections'> = {
    hotels: shop.hotels,
    bookings: shop.bookings,
    customers: shop.customers,
    settings: shop.settings,
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
      const hotel = shop.hotels.find((h) => h.id === hotelId);
      const free = new Map<number, number[]>();
      if (!hotel) return free;
      const taken = takenRoomIds(shop, hotelId, checkIn, checkOut);
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
      shop.bookings.length = 0;
      shop.customers.length = 0;
      // In place: callers hold `settings`.
      Object.assign(shop.settings, initialSettings());
      standin.requests.length = 0;
      standin.connections = 0;
    },
  };

  function nextFault(method: string, resource: string): QueuedFault | undefined {
    const index = faults.findIndex(
      (f) => (!f.match?.method || f.match.method === method) && (!f.match?.resource || f.match.resource === resource),
    );
    return index < 0 ? undefined : faults.splice(index, 1)[0];
  }

  /** Shop::initialize: a Host that is not the shop's domain is sent to the front office there (302, no auth). */
  function wrongHost(req: IncomingMessage, url: URL): Reply | undefined {
    const domain = shop.settings.domain;
    if (domain === null || req.headers.host === domain) return undefined;
    const query = new URLSearchParams({ url: url.pathname.replace(/^\/api\/?/, '') });
    for (const [k, v] of url.searchParams) query.append(k, v);
    return {
      status: 302,
      headers: {
        location: `http://${domain}/index.php?${query.toString()}`,
        'content-type': 'text/html; charset=utf-8',
      },
      body: '',
    };
  }

  /** WebserviceRequest::authenticate and the key's permissions (WebserviceRequest.php:740-880). */
  function authorized(req: IncomingMessage, query: URLSearchParams, method: string, resource: string) {
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
    if (key !== options.webserviceKey)
      return {
        status: 401,
        headers: challenge,
        body: {
          errors: [
            { code: 20, message: 'Authentification key is not active' },
            { code: 21, message: 'No permission for this authentication key' },
          ],
        },
      };
    if (!resource) return undefined;
    if (!resources.includes(resource))
      return errors(400, 26, `Resource of type "${resource}" does not exists. Did you mean: "bookings"?`);
    if (forbidden[resource]?.includes(method as Method))
      return errors(405, 101, `Method ${method} is not allowed for the resource ${resource}`);
    const allowed = shop.settings.permissions;
    if (allowed === undefined) return undefined;
    const methods = allowed[resource];
    if (!methods) return errors(401, 26, `Resource of type "${resource}" is not allowed with this authentication key`);
    if (!methods.includes(method === 'HEAD' ? 'GET' : (method as Method)))
      return errors(
        405,
        25,
        `Method ${method} is not allowed for the resource ${resource} with this authentication key`,
      );
    return undefined;
  }

  function route(method: string, resource: string, id: number | undefined, query: URLSearchParams, body: string) {
    if (resource === 'hotel_ari')
      return method === 'POST' && id === undefined
        ? hotelAri(shop, body)
        : errors(405, 100, `Method ${method} is not valid`);
    if (resource === 'bookings') return bookingsResource(shop, method, id, body);
    if (method !== 'GET' && method !== 'HEAD') return errors(405, 100, `Method ${method} is not valid`);
    return readResource(shop, resource, id, query) ?? errors(400, 26, `Resource of type "${resource}" does not exists`);
  }

  function send(res: ServerResponse, reply: Reply) {
    const raw = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
    const content = reply.headers?.['content-type'] ?? 'application/json';
    const headers: Record<string, string> = { ...reply.headers, 'content-type': content };
    // QloApps' webservice headers; a redirect or a fatal error comes before (or instead of) the webservice.
    if (reply.status !== 302 && !(reply.status === 500 && raw === ''))
      Object.assign(headers, { 'x-powered-by': 'PrestaShop Webservice', 'psws-version': '1.6.1.23' });
    res.writeHead(reply.status, headers);
    res.end(raw);
  }

  async function handleApi(req: IncomingMessage, res: ServerResponse, url: URL) {
    const body = await readBody(req);
    const method = req.method ?? 'GET';
    const [, resource = '', rawId] = /^\/api\/([a-z_]+)?(?:\/([^/]+))?\/?$/.exec(url.pathname) ?? [];
    standin.requests.push({
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      authorization: req.headers.authorization,
      contentType: req.headers['content-type'],
      host: req.headers.host,
      body,
      at: Date.now(),
    });
    const redirect = wrongHost(req, url);
    if (redirect) return send(res, redirect);
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
    const denied = authorized(req, url.searchParams, method, resource);
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
    if (!resource) return send(res, { status: 200, body: resources });
    const id = rawId === undefined ? undefined : int(rawId);
    if (rawId !== undefined && id === undefined) return send(res, errors(400, 90, `Id is invalid: ${rawId}`));
    const reply = route(method, resource, id, url.searchParams, body);
    if (fault?.kind === 'lostResponse') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'phpWarning') {
      const message =
        fault.message ??
        '[PHP Warning #2] Undefined array key "total_tax" (/var/www/qloapps/classes/webservice/WebserviceSpecificManagementBookings.php, line 504)';
      return send(res, phpWarnings([message]));
    }
    send(res, reply);
  }

  async function handleControl(req: IncomingMessage, res: ServerResponse, url: URL) {
    const json = (status: number, body: unknown) => send(res, { status, body });
    if (req.method === 'GET' && url.pathname === '/_standin/bookings') return json(200, { bookings: shop.bookings });
    if (req.method === 'GET' && url.pathname === '/_standin/availability') {
      const hotelId = Number(url.searchParams.get('hotel') ?? '1');
      const from = url.searchParams.get('from') ?? '';
      const to = url.searchParams.get('to') ?? '';
      if (!/^\d{4}-\d{2}-\d{2}$/.test(from) || !/^\d{4}-\d{2}-\d{2}$/.test(to) || to <= from)
        return json(400, { error: 'from and to must be YYYY-MM-DD, to after from' });
      return json(200, { hotel: hotelId, from, to, free: Object.fromEntries(standin.freeRooms(hotelId, from, to)) });
    }
    if (req.method === 'GET' && url.pathname === '/_standin/requests')
      return json(200, { count: standin.requests.length, requests: standin.requests.slice(-100) });
    if (req.method === 'GET' && url.pathname === '/_standin/settings') return json(200, shop.settings);
    if (req.method === 'PATCH' && url.pathname === '/_standin/settings') {
      Object.assign(shop.settings, JSON.parse(await readBody(req)) as Partial<ShopSettings>);
      return json(200, shop.settings);
    }
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

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://standin');
    const handle = url.pathname.startsWith('/_standin/')
      ? handleControl(req, res, url)
      : url.pathname === '/api' || url.pathname.startsWith('/api/')
        ? handleApi(req, res, url)
        : Promise.resolve(send(res, errors(404, 0, 'Not found: the webservice lives under /api/')));
    handle.catch((err: unknown) => {
      if (!res.headersSent) send(res, errors(500, 0, String(err)));
    });
  });
  server.on('connection', () => standin.connections++);
  return Object.assign(standin, {
    url,
    ...serverControls(server, { keepAliveTimeoutMs: options.keepAliveTimeoutMs }),
  });
}
