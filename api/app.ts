import type { Tracer } from '@opentelemetry/api';
import type { Client } from '@temporalio/client';
import Koa from 'koa';
import type Redis from 'ioredis';
import type { Pool } from 'pg';
import { shopRedirect } from '../clients/qloapps/probe';
import type { Config } from '../lib/config';
import type { Logger } from '../lib/log';
import { adminAuthentication, adminRouter } from './admin/router';
import { codecRouter } from './codec/router';
import { errorHandler } from './errors';
import { healthRouter } from './health';
import { recordRequests, type ApiMetrics } from './metrics';
import { securityHeaders } from './security-headers';
import { webhookRouter } from './webhooks';

export interface AppDeps {
  temporal: Client;
  config: Config;
  log: Logger;
  /** Postgres, for the admin API only: the webhook path never touches it. */
  db: Pool;
  /** Redis, for the admin API's media routes only. */
  redis?: Redis;
  /** Where a PMS base URL redirects; by default an anonymous GET of its `/api/` (see `shopRedirect`). */
  pmsRedirect?: (baseUrl: string) => Promise<string | undefined>;
  /** Where requests are counted and timed; served on the internal metrics listener, never on this app. */
  metrics?: ApiMetrics;
  /** The webhook's server spans (lib/tracing.ts); the Temporal client carries the trace on. None by default. */
  tracer?: Tracer;
}

/**
 * How long saving a tenant's PMS base URL waits for the PMS to show whether it redirects: short, because the admin
 * API must answer even when the PMS is down (then the URL is saved unchecked).
 */
const pmsRedirectCheckMs = 2_000;

/** Builds the Koa app; tests drive `app.callback()` without opening a port. */
export function createApp(deps: AppDeps): Koa {
  const hops = deps.config.api.trustedProxyHops;
  // X-Forwarded-For is the client's to write: only the entries the N trusted proxies appended are believed
  // (`ctx.ip` is the leftmost of the last N), and with no proxy none is (the socket address).
  const app = new Koa({ proxy: hops > 0, maxIpsCount: hops });
  app.use(securityHeaders({ trustedProxyHops: hops }));
  if (deps.metrics) app.use(recordRequests(deps.metrics));
  app.use(errorHandler(deps.log));
  app.use(async (ctx, next) => {
    const started = performance.now();
    await next();
    deps.log.debug(
      { method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(performance.now() - started) },
      'request',
    );
  });
  const { temporal, config, log, db } = deps;
  // One failure limit per client address for the admin API and the codec login alike.
  const auth = adminAuthentication({ db, config, log });
  for (const router of [
    webhookRouter({ temporal, config, log, tracer: deps.tracer }),
    healthRouter({ temporal }),
    adminRouter({
      db,
      temporal,
      config,
      log,
      redis: deps.redis,
      auth,
      pmsRedirect:
        deps.pmsRedirect ??
        ((baseUrl) =>
          shopRedirect(baseUrl, {
            timeoutMs: pmsRedirectCheckMs,
            allowPrivateNetworks: config.pms.allowPrivateNetworks,
          })),
    }),
    codecRouter({ config, log, db, auth }),
  ]) {
    app.use(router.routes());
    app.use(router.allowedMethods());
  }
  return app;
}
