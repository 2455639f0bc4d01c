import Router from '@koa/router';
import type { Context } from 'koa';
import getRawBody from 'raw-body';
import type { Pool } from 'pg';
import { EncryptionCodec, PayloadCodecError } from '../../lib/codec';
import type { Config } from '../../lib/config';
import { closeCodecSession, findCodecSession, openCodecSession } from '../../lib/db/codec-sessions';
import { isDatabaseUnavailable } from '../../lib/db/queries';
import { createGuestRefs } from '../../lib/guest-refs';
import type { Logger } from '../../lib/log';
import type { AdminPrincipal } from '../admin/auth';
import { bearerToken } from '../admin/auth';
import { fieldProblems } from '../admin/input';
import type { AdminAuthentication } from '../admin/router';
import { HttpError } from '../errors';
import { loginPage } from './login-page';
import { fromWire, payloadsBody, toWire, withoutGuestNumbers } from './payloads';

export interface CodecDeps {
  config: Config;
  log: Logger;
  /** Postgres: login sessions and their audit rows. */
  db: Pool;
  /** The admin API's token checks, so a failed codec login counts against the same per-client limit. */
  auth: AdminAuthentication;
}

/** The session cookie: scoped to /codec, so no other path of this host (or another port of it) ever gets it. */
export const sessionCookie = 'hm_codec';
const allowedHeaders = 'Content-Type, X-Namespace, Authorization, Authorization-Extras';
const maxLoginBodyBytes = 4 * 1024;

/**
 * The payload codec endpoint, for the Temporal Web UI (its "Codec Server" setting, `--ui-codec-endpoint`,
 * `TEMPORAL_CODEC_ENDPOINT` = `<api>/codec`) and `temporal --codec-endpoint`:
 *
 * - `POST /codec/decode`, `POST /codec/encode`: the codec-server protocol (`{ "payloads": [...] }` in proto3 JSON,
 *   answered in the same order). Decoded payloads show guests by their reference, not their number.
 * - `OPTIONS` on both: the CORS preflight, answered without authentication, for the UI origins in
 *   `CODEC_CORS_ORIGINS` only, allowing `Content-Type`, `X-Namespace`, `Authorization`, `Authorization-Extras`,
 *   with credentials.
 * - `GET`/`POST /codec/login`, `POST /codec/logout`: a form that trades an admin token for an HttpOnly session cookie
 *   (`Path=/codec; SameSite=Strict`), which the UI sends with "include cross-origin credentials".
 *
 * Who may decode: an unrestricted `admin` token, as `Authorization: Bearer hm_...` (the CLI's `--codec-auth`) or
 * through a login session. The Web UI shows every conversation of the namespace, whichever hotel it belongs to, and a
 * codec request says nothing of whose payload it is; so a token restricted to one tenant, or a monitoring token, gets
 * 403: hotel staff use the tenant-scoped admin API instead.
 */
export function codecRouter({ config, log, db, auth }: CodecDeps): Router {
  const router = new Router({ prefix: '/codec' });
  const codec = new EncryptionCodec(config.payloadKeys);
  const guestRefs = createGuestRefs(config.guestRefKey);
  const origins = new Set(config.codec.corsOrigins);

  /** CORS headers for an allowed UI origin; a request from any other browser origin is refused outright. */
  const corsFor = (ctx: Context): void => {
    const origin = ctx.get('origin');
    ctx.vary('Origin');
    if (!origin) return;
    if (!origins.has(origin)) {
      throw new HttpError(403, 'origin_not_allowed', 'This origin may not use the codec endpoint (CODEC_CORS_ORIGINS)');
    }
    ctx.set('Access-Control-Allow-Origin', origin);
    ctx.set('Access-Control-Allow-Credentials', 'true');
  };

  const preflight = (ctx: Context) => {
    corsFor(ctx);
    ctx.set('Access-Control-Allow-Methods', 'POST');
    ctx.set('Access-Control-Allow-Headers', allowedHeaders);
    ctx.set('Access-Control-Max-Age', '600');
    ctx.status = 204;
  };

  /** Who is asking: a bearer admin token, or a login session (only from an allowed UI origin: no CSRF). */
  const principalOf = async (ctx: Context): Promise<AdminPrincipal> => {
    const bearer = bearerToken(ctx);
    // With "pass access token" the UI sends its OIDC provider's token, which is not ours: the session decides.
    if (bearer?.startsWith('hm_')) return auth.verifyToken(ctx, bearer);
    const session = ctx.cookies.get(sessionCookie);
    if (session) {
      if (!ctx.get('origin')) {
        throw new HttpError(403, 'forbidden', 'A codec session is used from the Web UI only (a request with Origin)');
      }
      const owner = await findCodecSession(db, session);
      if (owner) return owner;
    }
    ctx.set('WWW-Authenticate', 'Bearer realm="codec"');
    throw new HttpError(
      401,
      'unauthorized',
      `Log in at ${ownOrigin(ctx)}/codec/login (an unrestricted admin token), or send Authorization: Bearer <token>`,
    );
  };

  const requireUnrestricted = (principal: AdminPrincipal): void => {
    if (principal.scope !== 'admin' || principal.tenantId !== null) {
      throw new HttpError(
        403,
        'forbidden',
        'The codec decodes for unrestricted admin tokens only: the Temporal Web UI shows the conversations of every ' +
          'hotel, and a codec request does not say whose payload it is. Hotel staff use the admin API, which is ' +
          'scoped to their hotel.',
      );
    }
  };

  const readPayloads = async (ctx: Context) => {
    if (!ctx.is('application/json')) {
      throw new HttpError(415, 'unsupported_media_type', 'Content-Type must be application/json');
    }
    const namespace = ctx.get('x-namespace');
    if (namespace !== config.temporal.namespace) {
      throw new HttpError(
        400,
        'wrong_namespace',
        `X-Namespace must name this codec's namespace, ${config.temporal.namespace}`,
      );
    }
    let raw: Buffer;
    try {
      raw = await getRawBody(ctx.req, { limit: config.codec.maxBodyBytes });
    } catch (err) {
      if ((err as { type?: string }).type === 'entity.too.large') {
        throw new HttpError(413, 'payload_too_large', `Body exceeds ${config.codec.maxBodyBytes} bytes`);
      }
      throw new HttpError(400, 'unreadable_body', 'Could not read the request body');
    }
    let json: unknown;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch {
      throw new HttpError(400, 'invalid_json', 'Body is not valid JSON');
    }
    const parsed = payloadsBody.safeParse(json);
    if (!parsed.success) {
      throw new HttpError(400, 'validation_failed', 'The request body is not valid', {
        fields: fieldProblems(parsed.error, 'body').slice(0, 20),
      });
    }
    return fromWire(parsed.data);
  };

  for (const operation of ['decode', 'encode'] as const) {
    router.options(`/${operation}`, preflight);
    router.post(`/${operation}`, async (ctx) => {
      ctx.set('Cache-Control', 'no-store');
      corsFor(ctx);
      const principal = await guard(ctx, () => principalOf(ctx));
      requireUnrestricted(principal);
      const payloads = await readPayloads(ctx);
      try {
        const result =
          operation === 'decode'
            ? withoutGuestNumbers(await codec.decode(payloads), guestRefs)
            : await codec.encode(payloads);
        ctx.body = toWire(result);
      } catch (err) {
        if (err instanceof PayloadCodecError) throw new HttpError(400, 'undecodable_payload', err.message);
        throw err;
      }
      // Counts and who, never the payloads.
      log.debug({ tokenId: principal.tokenId, operation, payloads: payloads.length }, 'codec request');
    });
  }

  router.get('/login', async (ctx) => {
    const session = ctx.cookies.get(sessionCookie);
    const owner = session ? await guard(ctx, () => findCodecSession(db, session)) : undefined;
    html(ctx, 200, loginPage({ loggedInAs: owner?.tokenId, uiOrigins: config.codec.corsOrigins }));
  });

  router.post('/login', async (ctx) => {
    try {
      sameOrigin(ctx);
      if (!ctx.is('application/x-www-form-urlencoded')) {
        throw new HttpError(415, 'unsupported_media_type', 'Send the login form');
      }
      const form = new URLSearchParams(
        (
          await getRawBody(ctx.req, { limit: maxLoginBodyBytes }).catch(() => {
            throw new HttpError(400, 'unreadable_body', 'Could not read the form');
          })
        ).toString('utf8'),
      );
      const token = form.get('token')?.trim() ?? '';
      if (!token) throw new HttpError(400, 'validation_failed', 'Paste an admin token');
      const principal = await guard(ctx, () => auth.verifyToken(ctx, token));
      requireUnrestricted(principal);
      const sessionId = await guard(ctx, () => openCodecSession(db, principal.tokenId, config.codec.sessionTtlSeconds));
      ctx.set('Set-Cookie', cookie(sessionId, config.codec.sessionTtlSeconds, config.codec.cookieSecure));
      log.info({ tokenId: principal.tokenId }, 'codec login');
      html(
        ctx,
        200,
        loginPage({ loggedInAs: principal.tokenId, uiOrigins: config.codec.corsOrigins, justLoggedIn: true }),
      );
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      html(ctx, err.status, loginPage({ error: err.message, uiOrigins: config.codec.corsOrigins }));
    }
  });

  router.post('/logout', async (ctx) => {
    sameOrigin(ctx);
    const session = ctx.cookies.get(sessionCookie);
    if (session) await guard(ctx, () => closeCodecSession(db, session));
    ctx.set('Set-Cookie', cookie('', 0, config.codec.cookieSecure));
    html(ctx, 200, loginPage({ loggedOut: true, uiOrigins: config.codec.corsOrigins }));
  });

  return router;
}

/** 503 while Postgres is down, as the admin API answers. */
async function guard<T>(ctx: Context, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isDatabaseUnavailable(err)) {
      throw new HttpError(503, 'database_unavailable', 'The database is unavailable; retry later');
    }
    throw err;
  }
}

/** This server's origin as the client addressed it (Koa 3's `ctx.origin` is the request's `Origin` header). */
function ownOrigin(ctx: Context): string {
  return `${ctx.protocol}://${ctx.host}`;
}

/**
 * A form posted from another site (login CSRF) is refused: the form is this origin's own. Browsers say where a request
 * comes from in `Sec-Fetch-Site`, which no page can forge; without it (an older browser), by `Origin`.
 */
function sameOrigin(ctx: Context): void {
  const site = ctx.get('sec-fetch-site');
  const origin = ctx.get('origin');
  if (site ? site !== 'same-origin' : origin && origin !== ownOrigin(ctx)) {
    throw new HttpError(403, 'forbidden', 'The login form must be sent from this page');
  }
}

function cookie(value: string, maxAgeSeconds: number, secure: boolean): string {
  return [
    `${sessionCookie}=${value}`,
    'Path=/codec',
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${maxAgeSeconds}`,
    ...(secure ? ['Secure'] : []),
  ].join('; ');
}

function html(ctx: Context, status: number, body: string): void {
  ctx.status = status;
  ctx.type = 'text/html; charset=utf-8';
  ctx.set('Cache-Control', 'no-store');
  // The API's policy is `default-src 'none'`; this page also posts its own form, and nothing else.
  ctx.set('Content-Security-Policy', "default-src 'none'; form-action 'self'; frame-ancestors 'none'");
  // With the API's `no-referrer`, a browser posts the form with `Origin: null`; its own origin is no secret.
  ctx.set('Referrer-Policy', 'same-origin');
  ctx.body = body;
}
