import type { Middleware } from 'koa';
import type { Logger } from '../lib/log';

/** An error with the HTTP status and stable code the client sees. */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** Turns every error into `{ error: { code, message, details } }`; never leaks internals on a 500. */
export function errorHandler(log: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        ctx.status = 404;
        ctx.body = { error: { code: 'not_found', message: `No route for ${ctx.method} ${ctx.path}` } };
      }
      // The router answers a method a path lacks with 405, or 501 when no route at all has it (TRACE, ...):
      // both are "not allowed here", with the methods that are in `Allow`.
      if ((ctx.status === 405 || ctx.status === 501) && ctx.body === undefined) {
        ctx.status = 405;
        ctx.body = {
          error: {
            code: 'method_not_allowed',
            message: `${ctx.method} is not allowed here; allowed: ${ctx.response.get('Allow')}`,
          },
        };
      }
    } catch (err) {
      if (err instanceof HttpError) {
        ctx.status = err.status;
        ctx.body = {
          error: { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) },
        };
        if (err.status === 503) ctx.set('Retry-After', '30');
        return;
      }
      log.error({ err, method: ctx.method, path: ctx.path }, 'unhandled error');
      ctx.status = 500;
      ctx.body = { error: { code: 'internal_error', message: 'Internal server error' } };
    }
  };
}
