import Router from '@koa/router';
import type { Client } from '@temporalio/client';
import type { Context } from 'koa';
import type Redis from 'ioredis';
import type { Pool } from 'pg';
import type { Config } from '../../lib/config';
import { isDatabaseUnavailable, MissingTenantError, UniqueViolationError } from '../../lib/db/queries';
import type { Logger } from '../../lib/log';
import { BoundedSemaphore } from '../../lib/semaphore';
import { HttpError } from '../errors';
import { AuthFailureLimiter, authorize, createAuthenticator, createTokenVerifier, type AdminPrincipal } from './auth';
import { readJsonBody, validate } from './input';
import { buildOpenApiDocument, openApiRoute } from './openapi';
import type { AdminRoute } from './route';
import { noBody, noParams, noQuery } from './schemas';
import { tenantNotFound, tenantRoutes } from './tenants';
import { tokenRoutes } from './tokens';
import { mediaRoutes } from './media';
import { analyticsRoutes } from './analytics';
import { conversationRoutes } from './conversations';
import { guestRoutes } from './guests';

export interface AdminDeps {
  db: Pool;
  /** Temporal, for the conversation and guest routes. */
  temporal: Client;
  /** The media index; media routes answer 503 without it. */
  redis?: Redis | undefined;
  config: Config;
  log: Logger;
  /** Where a PMS base URL redirects (see `shopRedirect`), checked when a tenant's `pmsBaseUrl` is saved. */
  pmsRedirect: (baseUrl: string) => Promise<string | undefined>;
  /** Token checks shared with the codec endpoint (one failure limit per client); built here when absent. */
  auth?: AdminAuthentication | undefined;
}

/** How admin tokens are checked: one failure limiter and one cap on concurrent scrypt checks per API process. */
export interface AdminAuthentication {
  /** From `Authorization: Bearer`. */
  authenticate: (ctx: Context) => Promise<AdminPrincipal>;
  /** A token given some other way (the codec login form). */
  verifyToken: (ctx: Context, token: string) => Promise<AdminPrincipal>;
}

/** The token checks of one API process (see {@link AdminAuthentication}). */
export function adminAuthentication({
  db,
  config,
  log,
}: Pick<AdminDeps, 'db' | 'config' | 'log'>): AdminAuthentication {
  const limiter = new AuthFailureLimiter(config.admin.authFailureLimit, config.admin.authFailureWindowSeconds * 1000);
  const verifications = new BoundedSemaphore(
    config.admin.maxConcurrentVerifications,
    config.admin.maxQueuedVerifications,
  );
  const deps = { db, log, limiter, verifications };
  return { authenticate: createAuthenticator(deps), verifyToken: createTokenVerifier(deps) };
}

/** Every admin route (the OpenAPI route aside); the router and the OpenAPI document are both built from it. */
export function adminRoutes(deps: AdminDeps): AdminRoute[] {
  return [
    ...tenantRoutes(deps),
    ...tokenRoutes(deps),
    ...mediaRoutes({ redis: deps.redis }),
    ...conversationRoutes(deps),
    ...guestRoutes(deps),
    ...analyticsRoutes(deps),
  ];
}

const conflictMessages: Record<UniqueViolationError['resource'], string> = {
  tenant: 'A tenant with this id already exists',
  phone_number: 'This phone number id is already registered to a tenant',
  identifier: 'This identifier is already registered to a tenant',
  token: 'A token with this id already exists; try again',
};

/** Errors from below as the client should see them: 409 for a duplicate, 503 when Postgres is unreachable. */
function asHttpError(err: unknown, log: Logger): unknown {
  if (err instanceof HttpError) return err;
  // Which tenant holds the duplicate is not said: that would reveal another tenant's data.
  if (err instanceof UniqueViolationError) return new HttpError(409, 'conflict', conflictMessages[err.resource]);
  if (err instanceof MissingTenantError) return tenantNotFound();
  if (isDatabaseUnavailable(err)) {
    log.warn({ err }, 'admin request failed: Postgres unavailable');
    return new HttpError(503, 'database_unavailable', 'The database is unavailable; retry later');
  }
  return err;
}

/**
 * The admin API under `/admin`. Each request is authenticated (bearer token, failure rate limit),
 * authorized (scope, tenant restriction), and its path, query and body validated before the handler runs.
 * The OpenAPI document is served at `/admin/openapi.json` outside production.
 */
export function adminRouter(deps: AdminDeps): Router {
  const { config, log } = deps;
  const router = new Router();
  const routes = adminRoutes(deps);
  const { authenticate } = deps.auth ?? adminAuthentication(deps);

  if (config.env !== 'production') {
    const document = buildOpenApiDocument([openApiRoute, ...routes]);
    router.get(openApiRoute.path, (ctx) => {
      ctx.body = document;
    });
  }

  for (const route of routes) {
    router.register(route.path, [route.method], async (ctx) => {
      ctx.set('Cache-Control', 'no-store');
      try {
        const principal = await authenticate(ctx);
        authorize(principal, route.access);
        const params = validate(route.params ?? noParams, ctx.params, 'path') as { id?: unknown };
        // A token restricted to one tenant cannot tell another tenant from one that does not exist.
        if (route.tenantScoped && principal.tenantId !== null && params.id !== principal.tenantId) {
          throw tenantNotFound();
        }
        const query = validate(route.query ?? noQuery, ctx.query, 'query');
        const raw = await readJsonBody(ctx);
        if (route.body && raw === undefined) {
          throw new HttpError(400, 'validation_failed', 'The request body is not valid', {
            fields: [{ in: 'body', path: '', message: 'a JSON object body is required' }],
          });
        }
        const body = route.body
          ? validate(route.body, raw, 'body')
          : raw === undefined
            ? undefined
            : validate(noBody, raw, 'body');
        ctx.body = await route.handle({ params, query, body, principal, ctx });
        ctx.status = route.success.status;
      } catch (err) {
        throw asHttpError(err, log);
      }
    });
  }
  return router;
}
