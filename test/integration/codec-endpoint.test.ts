import { Client as TemporalClient, Connection } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import type Koa from 'koa';
import request from 'supertest';
import { createApp } from '../../api/app';
import { toWire } from '../../api/codec/payloads';
import { waitFor } from '../../dev/process';
import { EncryptionCodec, generatePayloadKey, PayloadKeyRing } from '../../lib/codec';
import type { Config } from '../../lib/config';
import { createPool } from '../../lib/db/pool';
import { createAdminToken, revokeAdminToken } from '../../lib/db/tokens';
import { createGuestRefs } from '../../lib/guest-refs';
import { auditRows } from '../helpers/admin';
import { captureLogger, testConfig } from '../helpers/env';
import { createTestTenant } from '../helpers/tenants';

/**
 * The codec endpoint the Temporal Web UI and `temporal --codec-endpoint` decode through: the protocol, CORS for the
 * UI's origin only, who may decode (unrestricted admin tokens, by bearer or login session), and what never leaves it.
 */

const ui = 'http://localhost:8233';
const guestNumber = '34600123456';
const guestText = 'Necesito una cuna para el bebé';

let config: Config;
let app: Koa;
let logs: ReturnType<typeof captureLogger>;
const db = createPool(testConfig().databaseUrl, { max: 4 });
let connection: Connection;
let root: string;
let rootId: string;
let restricted: string;
let monitoring: string;

function build(overrides: Record<string, string> = {}) {
  const c = testConfig({ ADMIN_AUTH_FAILURE_LIMIT: '1000', ...overrides });
  const l = captureLogger();
  const temporal = new TemporalClient({ connection, namespace: c.temporal.namespace });
  return { config: c, logs: l, app: createApp({ temporal, config: c, log: l.log, db }) };
}

beforeAll(async () => {
  connection = Connection.lazy({ address: testConfig().temporal.address });
  ({ config, app, logs } = build());
  const tenant = await createTestTenant(db);
  const made = await createAdminToken(db, { name: 'codec-root', scope: 'admin' }, 'test');
  [root, rootId] = [made.token, made.id];
  restricted = (await createAdminToken(db, { name: 'codec-hotel', scope: 'admin', tenantId: tenant.id }, 'test')).token;
  monitoring = (await createAdminToken(db, { name: 'codec-grafana', scope: 'monitoring' }, 'test')).token;
});

afterAll(async () => {
  await Promise.allSettled([db.end(), connection.close()]);
});

/** What the worker stores: a guest's message, encrypted under the config's current key. */
async function storedMessage(keys = config.payloadKeys): Promise<Payload[]> {
  const value = { id: 'wamid.x', from: guestNumber, type: 'text', text: `${guestText} (call me on +${guestNumber})` };
  return new EncryptionCodec(keys).encode([defaultPayloadConverter.toPayload(value)]);
}

const decode = (target: Koa, body: unknown) =>
  request(target.callback())
    .post('/codec/decode')
    .set('content-type', 'application/json')
    .set('x-namespace', config.temporal.namespace)
    .send(JSON.stringify(body));

const shown = (res: request.Response) =>
  res.body.payloads.map((p: { data: string }) => JSON.parse(Buffer.from(p.data, 'base64').toString('utf8')));

describe('the protocol', () => {
  it('decodes with an unrestricted token: the text as the guest wrote it, the guest by reference, not by number', async () => {
    const res = await decode(app, toWire(await storedMessage())).set('authorization', `Bearer ${root}`);
    expect(res.status).toBe(200);
    const ref = `guest:${createGuestRefs(config.guestRefKey).of(guestNumber)}`;
    expect(shown(res)).toEqual([{ id: 'wamid.x', from: ref, type: 'text', text: `${guestText} (call me on ${ref})` }]);
    expect(Buffer.from(res.body.payloads[0].metadata.encoding, 'base64').toString()).toBe('json/plain');
    expect(JSON.stringify(res.body)).not.toContain(guestNumber);
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('answers the payloads in order, passing through those that are not encrypted', async () => {
    const plain = defaultPayloadConverter.toPayload({ note: 'written before the codec' });
    const [a, b] = [await storedMessage(), [plain]];
    const res = await decode(app, toWire([...a, ...b])).set('authorization', `Bearer ${root}`);
    expect(shown(res)).toEqual([
      expect.objectContaining({ text: expect.stringContaining(guestText) }),
      { note: 'written before the codec' },
    ]);
  });

  it('encodes what the UI sends (a signal typed in it) under the current key', async () => {
    const value = defaultPayloadConverter.toPayload({ cancel: true });
    const res = await request(app.callback())
      .post('/codec/encode')
      .set('authorization', `Bearer ${root}`)
      .set('content-type', 'application/json')
      .set('x-namespace', config.temporal.namespace)
      .send(toWire([value]));
    expect(res.status).toBe(200);
    const meta = res.body.payloads[0].metadata;
    expect(Buffer.from(meta.encoding, 'base64').toString()).toBe('binary/encrypted');
    expect(Buffer.from(meta['encryption-key-id'], 'base64').toString()).toBe(config.payloadKeys.currentId);
    const back = await new EncryptionCodec(config.payloadKeys).decode([
      {
        metadata: Object.fromEntries(Object.entries(meta).map(([k, v]) => [k, Buffer.from(v as string, 'base64')])),
        data: Buffer.from(res.body.payloads[0].data, 'base64'),
      },
    ]);
    expect(defaultPayloadConverter.fromPayload(back[0]!)).toEqual({ cancel: true });
  });

  it('fails closed, saying which key is missing, for a payload written with a key this server lacks', async () => {
    const other = PayloadKeyRing.parse(generatePayloadKey('retired-1')) as PayloadKeyRing;
    const res = await decode(app, toWire(await storedMessage(other))).set('authorization', `Bearer ${root}`);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'undecodable_payload' });
    expect(res.body.error.message).toContain('"retired-1"');
  });

  it.each([
    ['no X-Namespace', (t: request.Test) => t.unset('x-namespace'), 400, 'wrong_namespace'],
    ['another namespace', (t: request.Test) => t.set('x-namespace', 'other'), 400, 'wrong_namespace'],
    ['not JSON', (t: request.Test) => t.set('content-type', 'text/plain'), 415, 'unsupported_media_type'],
  ])('refuses a request with %s', async (_label, change, status, code) => {
    const res = await change(decode(app, toWire(await storedMessage())).set('authorization', `Bearer ${root}`));
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(code);
  });

  it('refuses a malformed body and one over the size bound, field by field', async () => {
    const bad = await decode(app, { payloads: [{ data: 'not base64!' }] }).set('authorization', `Bearer ${root}`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.fields[0]).toMatchObject({ in: 'body', path: 'payloads.0.data' });
    const small = build({ CODEC_MAX_BODY_BYTES: '200' });
    const big = await decode(small.app, toWire(await storedMessage())).set('authorization', `Bearer ${root}`);
    expect(big.status).toBe(413);
  });

  it('never logs a payload, a text or a number', async () => {
    await decode(app, toWire(await storedMessage()))
      .set('authorization', `Bearer ${root}`)
      .expect(200);
    const lines = logs.lines().join('\n');
    expect(lines).not.toContain(guestText);
    expect(lines).not.toContain(guestNumber);
  });
});

describe('CORS', () => {
  it('answers the preflight without authentication, for the UI origin, with the headers the UI sends', async () => {
    const res = await request(app.callback())
      .options('/codec/decode')
      .set('origin', ui)
      .set('access-control-request-method', 'POST')
      .set('access-control-request-headers', 'authorization,authorization-extras,content-type,x-namespace');
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(ui);
    expect(res.headers['access-control-allow-credentials']).toBe('true');
    expect(res.headers['access-control-allow-methods']).toBe('POST');
    for (const header of ['Content-Type', 'X-Namespace', 'Authorization', 'Authorization-Extras']) {
      expect(res.headers['access-control-allow-headers']).toContain(header);
    }
    expect(res.headers.vary).toContain('Origin');
  });

  it('allows no other origin, neither in the preflight nor in the request itself', async () => {
    const preflight = await request(app.callback())
      .options('/codec/encode')
      .set('origin', 'http://localhost:3999')
      .set('access-control-request-method', 'POST');
    expect(preflight.status).toBe(403);
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    const post = await decode(app, toWire(await storedMessage()))
      .set('authorization', `Bearer ${root}`)
      .set('origin', 'https://evil.example');
    expect(post.status).toBe(403);
    expect(post.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('who may decode', () => {
  it('nobody without a token or session: 401 saying where to log in', async () => {
    const res = await decode(app, toWire(await storedMessage()));
    expect(res.status).toBe(401);
    expect(res.body.error.message).toContain('/codec/login');
  });

  it.each([
    ['a token restricted to one hotel', () => restricted],
    ['a monitoring token', () => monitoring],
  ])('not %s: 403 saying why (the UI shows every hotel)', async (_label, token) => {
    const res = await decode(app, toWire(await storedMessage())).set('authorization', `Bearer ${token()}`);
    expect(res.status).toBe(403);
    expect(res.body.error.message).toMatch(/unrestricted admin tokens only.*every hotel/);
    expect(JSON.stringify(res.body)).not.toContain(guestText);
  });

  it('a wrong token is a counted failure: 401, then 429 past the limit', async () => {
    const limited = build({ ADMIN_AUTH_FAILURE_LIMIT: '2' });
    const wrong = `hm_${rootId}_${'x'.repeat(43)}`;
    for (const status of [401, 401, 429]) {
      await decode(limited.app, toWire(await storedMessage()))
        .set('authorization', `Bearer ${wrong}`)
        .expect(status);
    }
  });
});

describe('the login session', () => {
  const agent = (target: Koa = app) => request(target.callback());
  const login = (token: string, target: Koa = app, origin = 'http://127.0.0.1') =>
    agent(target).post('/codec/login').set('origin', origin).type('form').send({ token });
  const sessionOf = (res: request.Response) => /hm_codec=([^;]*)/.exec(String(res.headers['set-cookie']))?.[1] ?? '';
  const withSession = (session: string, target: Koa = app, origin = ui) =>
    decode(target, toWire([])).set('cookie', `hm_codec=${session}`).set('origin', origin);

  it('serves a login form whose page may post only to itself', async () => {
    const res = await agent().get('/codec/login');
    expect(res.status).toBe(200);
    expect(res.type).toBe('text/html');
    expect(res.text).toContain('<form method="post" action="/codec/login">');
    expect(res.headers['content-security-policy']).toBe(
      "default-src 'none'; form-action 'self'; frame-ancestors 'none'",
    );
  });

  it('trades an unrestricted token for an HttpOnly, SameSite=Strict cookie on /codec, audited, the UI then decodes', async () => {
    const res = await login(root).set('host', '127.0.0.1');
    expect(res.status).toBe(200);
    const cookie = String(res.headers['set-cookie']);
    expect(cookie).toMatch(/^hm_codec=[A-Za-z0-9_-]{43}; Path=\/codec; HttpOnly; SameSite=Strict; Max-Age=28800$/);
    expect(res.text).toContain(rootId);
    expect(res.text).not.toContain(root);
    expect((await auditRows(db, { actor: rootId })).map((r) => r.action)).toContain('codec.login');
    const decoded = await withSession(sessionOf(res));
    expect(decoded.status).toBe(200);
    expect(decoded.headers['access-control-allow-origin']).toBe(ui);
    expect(decoded.headers['access-control-allow-credentials']).toBe('true');
    // Only a hash of the session id is kept.
    const { rows } = await db.query<{ id_hash: string }>('SELECT id_hash FROM codec_sessions WHERE token_id = $1', [
      rootId,
    ]);
    expect(JSON.stringify(rows)).not.toContain(sessionOf(res));
  });

  it('is used from the UI only: a session without Origin or from another origin is refused', async () => {
    const session = sessionOf(await login(root).set('host', '127.0.0.1'));
    expect((await decode(app, toWire([])).set('cookie', `hm_codec=${session}`)).status).toBe(403);
    expect((await withSession(session, app, 'http://localhost:4000')).status).toBe(403);
  });

  it('refuses restricted and monitoring tokens, a wrong token and a form posted from another site', async () => {
    for (const token of [restricted, monitoring]) {
      const res = await login(token).set('host', '127.0.0.1');
      expect(res.status).toBe(403);
      expect(res.headers['set-cookie']).toBeUndefined();
      expect(res.text).toContain('unrestricted admin tokens only');
    }
    expect((await login('hm_0123456789abcdef_nope').set('host', '127.0.0.1')).status).toBe(401);
    const crossSite = await login(root, app, 'https://evil.example').set('host', '127.0.0.1');
    expect(crossSite.status).toBe(403);
    expect(crossSite.headers['set-cookie']).toBeUndefined();
    // What a browser says of a form another site posts, whatever its Origin.
    const fetchMetadata = await login(root).set('host', '127.0.0.1').set('sec-fetch-site', 'cross-site');
    expect(fetchMetadata.status).toBe(403);
    expect(fetchMetadata.headers['set-cookie']).toBeUndefined();
  });

  it('ends at logout, when its token is revoked, and when it expires', async () => {
    const loggedOut = sessionOf(await login(root).set('host', '127.0.0.1'));
    const out = await agent().post('/codec/logout').set('cookie', `hm_codec=${loggedOut}`);
    expect(String(out.headers['set-cookie'])).toMatch(/^hm_codec=; Path=\/codec; .*Max-Age=0/);
    expect((await withSession(loggedOut)).status).toBe(401);

    const revocable = await createAdminToken(db, { name: 'codec-revoked', scope: 'admin' }, 'test');
    const revokedSession = sessionOf(await login(revocable.token).set('host', '127.0.0.1'));
    expect((await withSession(revokedSession)).status).toBe(200);
    await revokeAdminToken(db, revocable.id);
    expect((await withSession(revokedSession)).status).toBe(401);

    const short = build({ CODEC_SESSION_TTL_SECONDS: '1' });
    const expiring = sessionOf(await login(root, short.app).set('host', '127.0.0.1'));
    expect((await withSession(expiring, short.app)).status).toBe(200);
    await waitFor('the session to expire', async () => (await withSession(expiring, short.app)).status === 401, {
      timeoutMs: 5_000,
      intervalMs: 200,
    });
  });

  it('marks the cookie Secure when CODEC_COOKIE_SECURE is on (the default in production)', async () => {
    const secure = build({ CODEC_COOKIE_SECURE: 'true', ADMIN_AUTH_FAILURE_LIMIT: '1000' });
    expect(String((await login(root, secure.app).set('host', '127.0.0.1')).headers['set-cookie'])).toMatch(/; Secure$/);
  });
});
