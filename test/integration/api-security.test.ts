import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { adminTestApp, type AdminTestApp } from '../helpers/admin';
import { testSecrets } from '../helpers/env';

/**
 * The security review's findings on the HTTP surface as a whole: which client address the failure limiter
 * counts (4), a cap on concurrent scrypt verifications (4), the webhook verify token compared in constant
 * time (12), and security headers on every route, errors included (19).
 */

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A real TCP request from `localAddress` (any of 127.0.0.0/8 is this machine), so the socket address varies. */
function requestFrom(
  port: number,
  localAddress: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, localAddress, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
  });
}

/** The app listening on a free loopback port. */
async function listening(app: AdminTestApp): Promise<{ port: number; close(): Promise<void> }> {
  const server = app.app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const wrongToken = `hm_0123456789abcdef_${'W'.repeat(43)}`;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('which address the failed-authentication limiter counts (finding 4)', () => {
  describe('with TRUSTED_PROXY_HOPS unset (0): the socket address, X-Forwarded-For ignored', () => {
    let t: AdminTestApp;
    let server: Awaited<ReturnType<typeof listening>>;
    let good: string;

    beforeAll(async () => {
      t = adminTestApp({ ADMIN_AUTH_FAILURE_LIMIT: '3', ADMIN_AUTH_FAILURE_WINDOW_SECONDS: '60' });
      server = await listening(t);
      good = (await t.token('admin')).token;
    });
    afterAll(async () => {
      await server?.close();
      await t?.close();
    });

    it('cannot be dodged by sending a new X-Forwarded-For with each try', async () => {
      for (let i = 0; i < 3; i++) {
        const res = await requestFrom(server.port, '127.0.0.11', '/admin/tenants?limit=1', {
          ...bearer(wrongToken),
          'x-forwarded-for': `198.51.100.${i + 1}`,
        });
        expect(res.status).toBe(401);
      }
      const fresh = await requestFrom(server.port, '127.0.0.11', '/admin/tenants?limit=1', {
        ...bearer(good),
        'x-forwarded-for': '198.51.100.200',
      });
      expect(fresh.status).toBe(429);
    });

    it("cannot lock out another address by sending failures under that address's name", async () => {
      for (let i = 0; i < 5; i++) {
        await requestFrom(server.port, '127.0.0.12', '/admin/tenants?limit=1', {
          ...bearer(wrongToken),
          'x-forwarded-for': '127.0.0.13',
        });
      }
      const victim = await requestFrom(server.port, '127.0.0.13', '/admin/tenants?limit=1', bearer(good));
      expect(victim.status).toBe(200);
      const attacker = await requestFrom(server.port, '127.0.0.12', '/admin/tenants?limit=1', bearer(good));
      expect(attacker.status).toBe(429);
    });
  });

  describe('with TRUSTED_PROXY_HOPS=1: the address the one trusted proxy appended', () => {
    let t: AdminTestApp;
    let server: Awaited<ReturnType<typeof listening>>;
    let good: string;

    beforeAll(async () => {
      t = adminTestApp({
        ADMIN_AUTH_FAILURE_LIMIT: '3',
        ADMIN_AUTH_FAILURE_WINDOW_SECONDS: '60',
        TRUSTED_PROXY_HOPS: '1',
      });
      server = await listening(t);
      good = (await t.token('admin')).token;
    });
    afterAll(async () => {
      await server?.close();
      await t?.close();
    });

    /** The client's own (forged) X-Forwarded-For, with the proxy's entry for the real client appended. */
    const viaProxy = (forged: string, client: string, token: string) =>
      requestFrom(server.port, '127.0.0.21', '/admin/tenants?limit=1', {
        ...bearer(token),
        'x-forwarded-for': `${forged}, ${client}`,
      });

    it('counts the appended address, whatever the client put before it', async () => {
      for (let i = 0; i < 3; i++) expect((await viaProxy(`203.0.113.${i}`, '192.0.2.10', wrongToken)).status).toBe(401);
      expect((await viaProxy('203.0.113.99', '192.0.2.10', good)).status).toBe(429);
      // Another client behind the same proxy is not affected, even if it forges the blocked address first.
      expect((await viaProxy('192.0.2.10', '192.0.2.11', good)).status).toBe(200);
    });
  });
});

describe('concurrent token verifications are capped (finding 4)', () => {
  it('never runs more scrypt verifications at once than ADMIN_AUTH_MAX_CONCURRENT', async () => {
    const t = adminTestApp({ ADMIN_AUTH_MAX_CONCURRENT: '2' });
    const original = crypto.scrypt;
    let inFlight = 0;
    let most = 0;
    const spy = jest.spyOn(crypto, 'scrypt').mockImplementation((...args: unknown[]) => {
      const callback = args.pop() as (err: Error | null, key: Buffer) => void;
      inFlight += 1;
      most = Math.max(most, inFlight);
      (original as (...a: unknown[]) => void)(...args, (err: Error | null, key: Buffer) => {
        inFlight -= 1;
        callback(err, key);
      });
    });
    try {
      const { id, token: good } = await t.token('admin');
      most = 0;
      const flood = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          t.as(`hm_${i % 2 === 0 ? id : '0123456789abcdef'}_${'F'.repeat(43)}`).get('/admin/tenants?limit=1'),
        ),
      );
      expect(most).toBeGreaterThan(0);
      expect(most).toBeLessThanOrEqual(2);
      for (const res of flood) expect([401, 503]).toContain(res.status);
      expect((await t.as(good).get('/admin/tenants?limit=1')).status).toBe(200);
    } finally {
      spy.mockRestore();
      await t.close();
    }
  });

  it('answers 503 with Retry-After, without verifying, once the wait queue is full', async () => {
    const t = adminTestApp({
      ADMIN_AUTH_MAX_CONCURRENT: '1',
      ADMIN_AUTH_MAX_WAITING: '2',
    });
    try {
      const { id, token: good } = await t.token('admin');
      const flood = await Promise.all(
        Array.from({ length: 20 }, () => t.as(`hm_${id}_${'G'.repeat(43)}`).get('/admin/tenants?limit=1')),
      );
      const busy = flood.filter((r) => r.status === 503);
      expect(busy.length).toBeGreaterThan(0);
      expect(flood.filter((r) => r.status === 401).length).toBeGreaterThanOrEqual(3);
      expect(flood.every((r) => r.status === 401 || r.status === 503)).toBe(true);
      expect(busy[0]!.body.error.code).toBe('auth_busy');
      expect(busy[0]!.headers['retry-after']).toBeDefined();
      expect((await t.as(good).get('/admin/tenants?limit=1')).status).toBe(200);
    } finally {
      await t.close();
    }
  });
});

describe('the webhook verify token is compared in constant time (finding 12)', () => {
  let t: AdminTestApp;
  beforeAll(() => {
    t = adminTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  const handshake = (token: string) =>
    t
      .as()
      .get(
        `/webhooks/whatsapp?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=${encodeURIComponent(token)}`,
      );

  it('echoes the challenge for the right token', async () => {
    const res = await handshake(testSecrets.WHATSAPP_VERIFY_TOKEN);
    expect(res.status).toBe(200);
    expect(res.text).toBe('1158201444');
  });

  it('refuses wrong tokens of every length, each through one fixed-length timing-safe comparison', async () => {
    const right = testSecrets.WHATSAPP_VERIFY_TOKEN;
    const spy = jest.spyOn(crypto, 'timingSafeEqual');
    try {
      const wrong = [
        ...Array.from({ length: right.length + 5 }, (_, n) => 'x'.repeat(n)),
        ...Array.from({ length: right.length }, (_, n) => right.slice(0, n)),
        `${right.slice(0, -1)}X`,
        `X${right.slice(1)}`,
        `${right} `,
        `${right}${right}`,
      ];
      for (const token of wrong) {
        spy.mockClear();
        const res = await handshake(token);
        expect([token, res.status]).toEqual([token, 403]);
        expect(res.text).not.toContain('1158201444');
        // The comparison runs on fixed-length digests, so its time does not depend on where or how the token differs.
        expect(spy).toHaveBeenCalledTimes(1);
        const [a, b] = spy.mock.calls[0]! as [Buffer, Buffer];
        expect([a.length, b.length]).toEqual([32, 32]);
      }
    } finally {
      spy.mockRestore();
    }
  });
});

describe('security headers on every route, errors included (finding 19)', () => {
  const routes: [string, (t: AdminTestApp, token: string) => Promise<{ status: number; headers: any }>, number][] = [
    ['GET /health/live', (t) => t.as().get('/health/live'), 200],
    ['GET /webhooks/whatsapp (wrong token)', (t) => t.as().get('/webhooks/whatsapp?hub.mode=subscribe'), 403],
    [
      'POST /webhooks/whatsapp (no signature)',
      (t) => t.as().post('/webhooks/whatsapp', { object: 'whatsapp_business_account', entry: [] }),
      401,
    ],
    ['GET /admin/tenants (no token)', (t) => t.as().get('/admin/tenants'), 401],
    ['GET /admin/tenants', (t, token) => t.as(token).get('/admin/tenants?limit=1'), 200],
    ['GET /admin/tenants/:id (unknown)', (t, token) => t.as(token).get('/admin/tenants/no-such-hotel'), 404],
    ['GET /no-such-route', (t) => t.as().get('/no-such-route'), 404],
  ];

  it.each([
    ['0', false],
    ['1', true],
  ])('with TRUSTED_PROXY_HOPS=%s (HSTS: %s)', async (hops, hsts) => {
    const t = adminTestApp({ TRUSTED_PROXY_HOPS: hops });
    try {
      const { token } = await t.token('admin');
      for (const [name, call, status] of routes) {
        const res = await call(t, token);
        const h = res.headers as Record<string, string | undefined>;
        expect([name, res.status]).toEqual([name, status]);
        expect([name, h['x-content-type-options']]).toEqual([name, 'nosniff']);
        expect([name, h['x-frame-options']]).toEqual([name, 'DENY']);
        expect([name, h['content-security-policy']]).toEqual([name, expect.stringContaining("frame-ancestors 'none'")]);
        expect([name, h['content-security-policy']]).toEqual([name, expect.stringContaining("default-src 'none'")]);
        expect([name, h['referrer-policy']]).toEqual([name, 'no-referrer']);
        expect([name, h['x-powered-by']]).toEqual([name, undefined]);
        if (hsts) expect([name, h['strict-transport-security']]).toEqual([name, expect.stringMatching(/max-age=\d+/)]);
        else expect([name, h['strict-transport-security']]).toEqual([name, undefined]);
      }
    } finally {
      await t.close();
    }
  });
});
