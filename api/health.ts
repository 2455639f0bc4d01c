import Router from '@koa/router';
import type { Client } from '@temporalio/client';

/** Liveness (the process answers) and readiness (Temporal answers: the webhook can do its job). */
export function healthRouter({ temporal, timeoutMs = 2_000 }: { temporal: Client; timeoutMs?: number }): Router {
  const router = new Router();
  router.get('/health/live', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/health/ready', async (ctx) => {
    try {
      await temporal.connection.withDeadline(Date.now() + timeoutMs, () => temporal.workflowService.getSystemInfo({}));
      ctx.body = { status: 'ready', temporal: 'ok' };
    } catch {
      ctx.status = 503;
      ctx.body = { status: 'not_ready', temporal: 'unreachable' };
    }
  });
  return router;
}
