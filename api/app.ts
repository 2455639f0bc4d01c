import type { Client } from '@temporalio/client';
import Koa from 'koa';
import type { Config } from '../lib/config';
import type { Logger } from '../lib/log';
import { errorHandler } from './errors';
import { healthRouter } from './health';
import { webhookRouter } from './webhooks';

export interface AppDeps {
  temporal: Client;
  config: Config;
  log: Logger;
}

/** Builds the Koa app; tests drive `app.callback()` without opening a port. */
export function createApp(deps: AppDeps): Koa {
  const app = new Koa({ proxy: true });
  app.use(errorHandler(deps.log));
  app.use(async (ctx, next) => {
    const started = performance.now();
    await next();
    deps.log.debug(
      { method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(performance.now() - started) },
      'request',
    );
  });
  for (const router of [webhookRouter(deps), healthRouter({ temporal: deps.temporal })]) {
    app.use(router.routes());
    app.use(router.allowedMethods());
  }
  return app;
}
