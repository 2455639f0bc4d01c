import { AuthFailureLimiter } from '../../api/admin/auth';
import type { AdminRoute } from '../../api/admin/route';
import { adminRoutes } from '../../api/admin/router';
import { getFreePort, waitFor } from '../../dev/process';
import { getTenant } from '../../lib/db/admin';
import { createLogger } from '../../lib/log';
import { adminTestApp, auditRows, uniqueTenantId, type AdminTestApp } from '../helpers/admin';
import { uniquePhoneNumberId } from '../helpers/tenants';

/** Authentication, scopes and the tenant restriction, for every admin route; the failure rate limit. */

let t: AdminTestApp;
let routes: AdminRoute[];
let rootToken: string;
/** Tenant B: every test below tries to read or change it without the right to. */
let b: { id: string; phoneNumberId: string; identifier: string };
let revokedToken: string;

beforeAll(async () => {
  t = adminTestApp();
  routes = adminRoutes({
    db: t.db,
    config: t.config,
    log: createLogger({ level: 'silent' }),
    pmsRedirect: () => Promise.resolve(undefined),
  });
  rootToken = (await t.token('admin')).token;
  b = { id: uniqueTenantId(), phoneNumberId: uniquePhoneNumberId(), identifier: '+34611000001' };
  await t
    .as(rootToken)
    .post('/admin/tenants', {
      id: b.id,
      name: 'Hotel B',
      phoneNumberIds: [b.phoneNumberId],
      identifiers: [b.identifier],
    })
    .expect(201);
  const revoked = await t.token('admin');
  await t.as(rootToken).post(`/admin/tokens/${revoked.id}/revoke`).expect(200);
  revokedToken = revoked.token;
});

afterAll(async () => {
  await t?.close();
});

const label = (r: AdminRoute) => `${r.method} ${r.path}`;

/** The route's path with real values: tenant B's id, number and identifier, or a well-formed token id. */
function pathFor(route: AdminRoute, tenantId = b.id): string {
  return route.path
    .replace('/admin/tokens/:id', '/admin/tokens/0123456789abcdef')
    .replace(':id', tenantId)
    .replace(':phoneNumberId', b.phoneNumberId)
    .replace(':identifier', encodeURIComponent(b.identifier));
}

/** A body the route would accept, so only the token decides the answer. */
function bodyFor(route: AdminRoute): unknown {
  switch (route.operationId) {
    case 'createTenant':
      return { id: uniqueTenantId(), name: 'Sneaky' };
    case 'updateTenant':
      return { name: 'Hacked' };
    case 'addPhoneNumber':
      return { phoneNumberId: uniquePhoneNumberId() };
    case 'addIdentifier':
      return { identifier: '+34611999999' };
    case 'createToken':
      return { name: 'sneaky', scope: 'admin' };
    default:
      return undefined;
  }
}

function call(route: AdminRoute, token: string | undefined, path = pathFor(route)) {
  const api = t.as(token);
  if (route.method === 'GET') return api.get(path);
  if (route.method === 'PATCH') return api.patch(path, bodyFor(route));
  if (route.method === 'DELETE') return api.delete(path);
  return api.post(path, bodyFor(route));
}

/**
 * What a refused request must not have changed: tenant B, its audit trail, and the tenants and tokens that
 * `bodyFor` would create (counted by name: other test files create tenants and tokens at the same time).
 */
async function snapshot(): Promise<string> {
  const created = await t.db.query(
    `SELECT (SELECT count(*) FROM tenants WHERE name = 'Sneaky') AS tenants,
            (SELECT count(*) FROM admin_tokens WHERE name = 'sneaky') AS tokens`,
  );
  return JSON.stringify([await getTenant(t.db, b.id), await auditRows(t.db, { tenantId: b.id }), created.rows]);
}

describe('authentication, on every route', () => {
  it('covers every admin route', () => {
    expect(routes.length).toBeGreaterThanOrEqual(13);
  });

  it.each([
    ['missing', undefined],
    ['not a token', 'nope'],
    ['of an unknown id', 'hm_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
  ])('answers 401 with WWW-Authenticate when the token is %s', async (_name, token) => {
    const before = await snapshot();
    for (const route of routes) {
      const res = await call(route, token);
      expect([label(route), res.status, res.body.error?.code]).toEqual([label(route), 401, 'unauthorized']);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="admin"/);
    }
    expect(await snapshot()).toBe(before);
  });

  it('answers 401 for the right id with the wrong secret, and for a revoked token', async () => {
    const before = await snapshot();
    const good = await t.token('admin');
    const wrongSecret = `hm_${good.id}_${'B'.repeat(43)}`;
    for (const route of routes) {
      for (const token of [wrongSecret, revokedToken, `Basic ${good.token}`]) {
        const res = await call(route, token);
        expect([label(route), res.status]).toEqual([label(route), 401]);
        expect(res.headers['www-authenticate']).toBe('Bearer realm="admin", error="invalid_token"');
      }
    }
    expect(await snapshot()).toBe(before);
    // The real token still works.
    expect((await t.as(good.token).get('/admin/tenants?limit=1')).status).toBe(200);
  });

  it('records when a token was last used', async () => {
    const { token, id } = await t.token('monitoring');
    const lastUsed = async () =>
      (await t.db.query('SELECT last_used_at FROM admin_tokens WHERE id = $1', [id])).rows[0]
        .last_used_at as Date | null;
    expect(await lastUsed()).toBeNull();
    await t.as(token).get('/admin/tenants?limit=1').expect(200);
    await waitFor('last_used_at', async () => (await lastUsed()) !== null, { timeoutMs: 5_000 });
  });
});

describe('scopes', () => {
  it('lets a monitoring token read tenants and media but change nothing (403), not see tokens nor find guests', async () => {
    const before = await snapshot();
    const { token } = await t.token('monitoring');
    for (const route of routes) {
      const res = await call(route, token);
      const mayRead = route.method === 'GET' && route.tag === 'tenants';
      // Media routes are readable too; this app has no Redis, so they answer 503 rather than 200.
      if (route.tag === 'media') expect([label(route), res.status]).toEqual([label(route), 503]);
      else if (mayRead) expect([label(route), res.status]).toEqual([label(route), 200]);
      else expect([label(route), res.status, res.body.error?.code]).toEqual([label(route), 403, 'forbidden']);
    }
    expect(await snapshot()).toBe(before);
  });
});

describe('a token restricted to one tenant', () => {
  let a: string;
  let restricted: string;

  beforeAll(async () => {
    a = uniqueTenantId();
    await t.as(rootToken).post('/admin/tenants', { id: a, name: 'Hotel A' }).expect(201);
    restricted = (await t.token('admin', a)).token;
  });

  it('lists only its own tenant', async () => {
    const res = await t.as(restricted).get('/admin/tenants?limit=500');
    expect(res.status).toBe(200);
    expect(res.body.tenants.map((x: { id: string }) => x.id)).toEqual([a]);
  });

  it('gets 404 for another tenant on every tenant route, the same as for a tenant that does not exist', async () => {
    const before = await snapshot();
    // Routes no restricted token may use answer 403 whatever the tenant (covered below).
    for (const route of routes.filter((r) => r.tenantScoped && r.access !== 'unrestricted')) {
      const other = await call(route, restricted, pathFor(route, b.id));
      const missing = await call(route, restricted, pathFor(route, uniqueTenantId()));
      expect([label(route), other.status]).toEqual([label(route), 404]);
      expect(other.body).toEqual(missing.body);
      expect(other.body.error.code).toBe('not_found');
    }
    expect(await snapshot()).toBe(before);
  });

  it('may read and change its own tenant', async () => {
    const api = t.as(restricted);
    expect((await api.get(`/admin/tenants/${a}`)).status).toBe(200);
    expect((await api.patch(`/admin/tenants/${a}`, { name: 'Hotel A2' })).status).toBe(200);
    // Numbers and identifiers are added by unrestricted admins (admin-security.test.ts); removing its own is fine.
    expect(
      (await t.as(rootToken).post(`/admin/tenants/${a}/identifiers`, { identifier: 'a@example.com' })).status,
    ).toBe(201);
    expect((await api.delete(`/admin/tenants/${a}/identifiers/a@example.com`)).status).toBe(200);
    expect((await api.post(`/admin/tenants/${a}/suspend`)).status).toBe(200);
    expect((await api.post(`/admin/tenants/${a}/activate`)).status).toBe(200);
  });

  it('may not create tenants, refresh caches, manage tokens, numbers or add identifiers (403)', async () => {
    const before = await snapshot();
    for (const route of routes.filter((r) => r.access === 'unrestricted')) {
      const res = await call(route, restricted);
      expect([label(route), res.status, res.body.error?.code]).toEqual([label(route), 403, 'forbidden']);
    }
    expect(await snapshot()).toBe(before);
  });

  it('as a monitoring token, reads its own tenant only', async () => {
    const { token } = await t.token('monitoring', a);
    expect((await t.as(token).get(`/admin/tenants/${a}`)).status).toBe(200);
    expect((await t.as(token).get(`/admin/tenants/${b.id}`)).status).toBe(404);
    expect((await t.as(token).patch(`/admin/tenants/${a}`, { name: 'x' })).status).toBe(403);
  });
});

describe('failed authentication rate limit', () => {
  let limited: AdminTestApp;
  let token: string;

  beforeAll(async () => {
    // Behind one trusted proxy, so each request can say which client address it comes from.
    limited = adminTestApp({
      ADMIN_AUTH_FAILURE_LIMIT: '3',
      ADMIN_AUTH_FAILURE_WINDOW_SECONDS: '60',
      TRUSTED_PROXY_HOPS: '1',
    });
    token = (await limited.token('admin')).token;
  });

  afterAll(async () => {
    await limited?.close();
  });

  const from = (ip: string, bearer?: string) => {
    const test = limited.as(bearer).get('/admin/tenants?limit=1');
    return test.set('x-forwarded-for', ip);
  };

  it('refuses an address after the limit with 429 and Retry-After, even with a good token; other addresses go on', async () => {
    const wrong = `hm_0123456789abcdef_${'C'.repeat(43)}`;
    for (let i = 0; i < 3; i++) expect((await from('203.0.113.1', wrong)).status).toBe(401);
    const blocked = await from('203.0.113.1', token);
    expect(blocked.status).toBe(429);
    expect(blocked.body.error.code).toBe('too_many_requests');
    const retryAfter = Number(blocked.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect((await from('203.0.113.1', 'garbage')).status).toBe(429);
    // Another address is not affected, and its success does not unblock the first.
    expect((await from('203.0.113.2', token)).status).toBe(200);
    expect((await from('203.0.113.1', token)).status).toBe(429);
  });

  it('does not count requests that present no token', async () => {
    for (let i = 0; i < 5; i++) expect((await from('203.0.113.3')).status).toBe(401);
    expect((await from('203.0.113.3', token)).status).toBe(200);
  });

  it('lets the address in again once the window has passed', async () => {
    const short = adminTestApp({
      ADMIN_AUTH_FAILURE_LIMIT: '2',
      ADMIN_AUTH_FAILURE_WINDOW_SECONDS: '1',
      TRUSTED_PROXY_HOPS: '1',
    });
    try {
      const good = (await short.token('admin')).token;
      const get = (bearer: string) =>
        short.as(bearer).get('/admin/tenants?limit=1').set('x-forwarded-for', '198.51.100.7');
      expect((await get('bad')).status).toBe(401);
      expect((await get('bad')).status).toBe(401);
      expect((await get(good)).status).toBe(429);
      await waitFor('the window to pass', async () => (await get(good)).status === 200, { timeoutMs: 5_000 });
    } finally {
      await short.close();
    }
  });

  it('counts in fixed windows per address (limiter on a fake clock)', () => {
    let now = 0;
    const limiter = new AuthFailureLimiter(2, 1_000, () => now, 3);
    limiter.recordFailure('x');
    expect(limiter.blockedFor('x')).toBe(0);
    now = 400;
    limiter.recordFailure('x');
    expect(limiter.blockedFor('x')).toBe(600);
    expect(limiter.blockedFor('y')).toBe(0);
    now = 1_000;
    expect(limiter.blockedFor('x')).toBe(0);
    limiter.recordFailure('x');
    expect(limiter.blockedFor('x')).toBe(0);
    // Bounded memory: past maxEntries, ended windows and then the oldest entries go.
    for (const ip of ['a', 'b', 'c', 'd']) limiter.recordFailure(ip);
    limiter.recordFailure('d');
    expect(limiter.blockedFor('d')).toBe(1_000);
    expect((limiter as unknown as { failures: Map<string, unknown> }).failures.size).toBeLessThanOrEqual(3);
  });
});

describe('when Postgres is unreachable', () => {
  it('answers 503 database_unavailable with Retry-After, not 500', async () => {
    const port = await getFreePort();
    const down = adminTestApp({}, { databaseUrl: `postgres://hotel@127.0.0.1:${port}/hotel` });
    try {
      const token = `hm_0123456789abcdef_${'D'.repeat(43)}`;
      for (const res of [
        await down.as(token).get('/admin/tenants'),
        await down.as(token).post('/admin/tenants', { id: uniqueTenantId(), name: 'Down' }),
      ]) {
        expect(res.status).toBe(503);
        expect(res.body.error.code).toBe('database_unavailable');
        expect(res.headers['retry-after']).toBeDefined();
      }
    } finally {
      await down.close();
    }
  });
});
