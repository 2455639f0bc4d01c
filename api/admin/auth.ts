import type { Context } from 'koa';
import type { Pool } from 'pg';
import { burnVerification, parseToken, verifySecret, type AdminScope } from '../../lib/admin-tokens';
import { findAdminTokenForAuth, touchAdminToken } from '../../lib/db/tokens';
import type { Logger } from '../../lib/log';
import { SemaphoreFullError, type BoundedSemaphore } from '../../lib/semaphore';
import { HttpError } from '../errors';

/** Who is calling: the token's id (the audit actor), its scope and the tenant it is restricted to. */
export interface AdminPrincipal {
  tokenId: string;
  scope: AdminScope;
  tenantId: string | null;
}

/**
 * What a route requires:
 * - `read`: any valid token;
 * - `guests`: an `admin` token, for a read that tells who a guest is (finding a conversation by phone number):
 *   monitoring tokens never see guest identities, so they get 403;
 * - `write`: an `admin` token (a `monitoring` token gets 403);
 * - `unrestricted`: an `admin` token not restricted to a tenant (403 otherwise): creating tenants,
 *   refreshing caches, managing tokens.
 * A tenant-restricted token is further kept to its own tenant by the router (404 for any other).
 */
export type Access = 'read' | 'guests' | 'write' | 'unrestricted';

/** 403 when `principal` may not use a route that requires `access`. */
export function authorize(principal: AdminPrincipal, access: Access): void {
  if (access === 'read') return;
  if (principal.scope !== 'admin') {
    throw new HttpError(
      403,
      'forbidden',
      access === 'guests'
        ? 'Monitoring tokens do not see who guests are: this needs an admin token'
        : 'This token has the monitoring scope: it may only read',
    );
  }
  if (access === 'unrestricted' && principal.tenantId !== null) {
    throw new HttpError(403, 'forbidden', 'This token is restricted to one tenant; this needs an unrestricted token');
  }
}

/**
 * Counts failed authentications per client IP in fixed windows: the first failure opens a window of
 * `windowMs`; once `limit` failures fall in it, the IP is refused (even with a good token) until it ends.
 * In memory, so per API process; entries are dropped when their window ends.
 */
export class AuthFailureLimiter {
  private readonly failures = new Map<string, { count: number; resetAt: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
    private readonly maxEntries = 10_000,
  ) {}

  /** Milliseconds until `ip` may try again; 0 when it is not blocked. */
  blockedFor(ip: string): number {
    const entry = this.failures.get(ip);
    if (!entry) return 0;
    const left = entry.resetAt - this.now();
    if (left <= 0) {
      this.failures.delete(ip);
      return 0;
    }
    return entry.count >= this.limit ? left : 0;
  }

  recordFailure(ip: string): void {
    const now = this.now();
    const entry = this.failures.get(ip);
    if (entry && entry.resetAt > now) {
      entry.count += 1;
      return;
    }
    this.failures.delete(ip);
    this.failures.set(ip, { count: 1, resetAt: now + this.windowMs });
    if (this.failures.size > this.maxEntries) this.prune(now);
  }

  /** Drops ended windows, then (if still too many) the oldest, so a flood of addresses cannot grow memory. */
  private prune(now: number): void {
    for (const [ip, entry] of this.failures) if (entry.resetAt <= now) this.failures.delete(ip);
    for (const ip of this.failures.keys()) {
      if (this.failures.size <= this.maxEntries) break;
      this.failures.delete(ip);
    }
  }
}

export interface AuthenticatorDeps {
  db: Pool;
  log: Logger;
  limiter: AuthFailureLimiter;
  /**
   * Caps concurrent scrypt verifications: each takes 16 MiB and a libuv thread (shared with DNS and file I/O), so
   * a flood of bad tokens must not run them all at once.
   */
  verifications: BoundedSemaphore;
}

/**
 * Returns the function that checks an admin token (`hm_<id>_<secret>`) for a request: 429 while the client's IP is
 * over the failure limit, 401 with `WWW-Authenticate: Bearer` when the token is malformed, wrong or revoked (counted
 * as a failure), 503 `auth_busy` when every verification slot and its wait queue are taken (nothing verified, nothing
 * counted). The admin API takes the token from `Authorization`; the codec login from its form.
 */
export function createTokenVerifier({
  db,
  log,
  limiter,
  verifications,
}: AuthenticatorDeps): (ctx: Context, token: string) => Promise<AdminPrincipal> {
  const failed = (ctx: Context): HttpError => {
    limiter.recordFailure(ctx.ip);
    return unauthorized(ctx, 'The admin token is malformed, wrong or revoked', 'invalid_token');
  };

  return async (ctx, candidate) => {
    refuseBlocked(ctx, limiter);
    const parsed = parseToken(candidate);
    if (!parsed) throw failed(ctx);

    const token = await findAdminTokenForAuth(db, parsed.id);
    let valid: boolean;
    try {
      valid = await verifications.run(async () => {
        if (!token) {
          await burnVerification(parsed.secret);
          return false;
        }
        return verifySecret(parsed.secret, token.secretHash);
      });
    } catch (err) {
      if (err instanceof SemaphoreFullError) {
        throw new HttpError(503, 'auth_busy', 'Too many token checks are running; retry shortly');
      }
      throw err;
    }
    if (!token || !valid || token.revoked) throw failed(ctx);

    // Not awaited: recording the use must neither slow down nor fail the request.
    touchAdminToken(db, token.id).catch((err: unknown) => log.warn({ err }, 'could not record admin token use'));
    return { tokenId: token.id, scope: token.scope, tenantId: token.tenantId };
  };
}

function unauthorized(ctx: Context, message: string, error?: 'invalid_token'): HttpError {
  ctx.set('WWW-Authenticate', error ? `Bearer realm="admin", error="${error}"` : 'Bearer realm="admin"');
  return new HttpError(401, 'unauthorized', message);
}

/** 429 with `Retry-After` while the client's IP is over the failure limit. */
function refuseBlocked(ctx: Context, limiter: AuthFailureLimiter): void {
  const waitMs = limiter.blockedFor(ctx.ip);
  if (waitMs > 0) {
    ctx.set('Retry-After', String(Math.ceil(waitMs / 1000)));
    throw new HttpError(429, 'too_many_requests', 'Too many failed authentication attempts; try again later');
  }
}

/** The bearer token of `Authorization: Bearer <token>`; undefined when the header is absent or not a bearer. */
export function bearerToken(ctx: Context): string | undefined {
  const header = ctx.get('authorization');
  return header ? (/^Bearer +(\S+) *$/i.exec(header)?.[1] ?? '') : undefined;
}

/**
 * Returns the function that authenticates an admin request from `Authorization: Bearer hm_<id>_<secret>`
 * (see {@link createTokenVerifier}); a request with no token gets 401 and does not count as a failure.
 */
export function createAuthenticator(deps: AuthenticatorDeps): (ctx: Context) => Promise<AdminPrincipal> {
  const verify = createTokenVerifier(deps);
  return async (ctx) => {
    refuseBlocked(ctx, deps.limiter);
    const token = bearerToken(ctx);
    if (token === undefined) throw unauthorized(ctx, 'Authorization: Bearer <admin token> is required');
    return verify(ctx, token);
  };
}
