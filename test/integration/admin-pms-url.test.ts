import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { startPmsStandin, type PmsStandin } from '../../dev/pms-standin';
import { adminTestApp, uniqueTenantId, type AdminTestApp } from '../helpers/admin';

/**
 * Saving a tenant's PMS base URL asks the PMS whether it answers there: QloApps redirects every request whose host
 * is not the shop's own domain (a 302 to its front office), so such a URL could never work and is refused. A PMS
 * that cannot be reached is not a reason to refuse, and must not hold the request up.
 */
let t: AdminTestApp;
let admin: ReturnType<AdminTestApp['as']>;
let shop: PmsStandin;
/** Accepts connections and never answers: a PMS that hangs. */
let blackHole: net.Server;
const held: net.Socket[] = [];

beforeAll(async () => {
  t = adminTestApp();
  admin = t.as((await t.token('admin')).token);
  shop = await startPmsStandin({ webserviceKey: 'QLOTESTKEY0123456789ABCDEFGHIJKL' });
  blackHole = net.createServer((socket) => held.push(socket));
  await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  for (const socket of held) socket.destroy();
  await new Promise((resolve) => blackHole.close(resolve));
  await shop.close();
  await t.close();
});

const port = () => new URL(shop.url).port;

it('refuses a pmsBaseUrl the PMS redirects away from, naming where to, and changes nothing', async () => {
  const id = uniqueTenantId();
  // The shop's domain is 127.0.0.1:<port>; the same shop through "localhost" is sent there.
  const created = await admin.post('/admin/tenants', {
    id,
    name: 'Hotel Rojo',
    pmsBaseUrl: `http://localhost:${port()}`,
  });
  expect(created.status).toBe(400);
  expect(created.body.error.details.fields).toEqual([
    {
      in: 'body',
      path: 'pmsBaseUrl',
      message: `the PMS redirects to 127.0.0.1:${port()}: set pmsBaseUrl to the shop's own domain`,
    },
  ]);
  expect((await admin.get(`/admin/tenants/${id}`)).status).toBe(404);

  expect((await admin.post('/admin/tenants', { id, name: 'Hotel Rojo', pmsBaseUrl: shop.url })).status).toBe(201);
  const patched = await admin.patch(`/admin/tenants/${id}`, { pmsBaseUrl: `http://localhost:${port()}/` });
  expect(patched.status).toBe(400);
  expect(patched.body.error.details.fields[0].message).toContain(`redirects to 127.0.0.1:${port()}`);
  expect((await admin.get(`/admin/tenants/${id}`)).body.pmsBaseUrl).toBe(shop.url);
  // The check is anonymous: the stand-in saw requests without a key.
  expect(shop.requests.every((r) => r.authorization === undefined)).toBe(true);
});

it('saves the URL of a PMS that is down or does not answer, without waiting long', async () => {
  const id = uniqueTenantId();
  const closed = net.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const closedPort = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  expect(
    (await admin.post('/admin/tenants', { id, name: 'Hotel Azul', pmsBaseUrl: `http://127.0.0.1:${closedPort}` }))
      .status,
  ).toBe(201);

  const started = Date.now();
  const hanging = `http://127.0.0.1:${(blackHole.address() as AddressInfo).port}`;
  const res = await admin.patch(`/admin/tenants/${id}`, { pmsBaseUrl: hanging });
  expect(res.status).toBe(200);
  expect(res.body.pmsBaseUrl).toBe(hanging);
  expect(Date.now() - started).toBeLessThan(5_000);
});
