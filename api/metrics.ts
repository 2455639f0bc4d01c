import type { Middleware } from 'koa';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * `api_webhook_requests_total{outcome}`: `accepted` (200, every signal taken by Temporal), `refused` (a 4xx: bad
 * signature, body or type; Meta's retries will not help), `unavailable` (503: Temporal did not take the signals, Meta
 * retries), `error` (any other status).
 */
export type WebhookOutcome = 'accepted' | 'refused' | 'unavailable' | 'error';

/** The API's Prometheus metrics, served on its internal metrics listener (API_METRICS_HOST:API_METRICS_PORT). */
export interface ApiMetrics {
  registry: Registry;
  /** Webhook notifications (POST /webhooks/whatsapp) by outcome and HTTP status. */
  webhookRequests: Counter<'outcome' | 'status'>;
  /** Webhook POSTs refused for their `X-Hub-Signature-256`: `missing` or `invalid`. */
  signatureFailures: Counter<'reason'>;
  /** Request latency in seconds by route pattern (never the raw path), method and status. */
  requestDuration: Histogram<'route' | 'method' | 'status'>;
  /** Calls to Temporal that failed, by operation (`signal`: a webhook's signals; `health`: the readiness probe). */
  temporalErrors: Counter<'operation'>;
  /** Admin API requests by route pattern (e.g. `/admin/tenants/:id`), method and status. */
  adminRequests: Counter<'route' | 'method' | 'status'>;
}

/** Builds the API's registry; `defaultMetrics` adds Node's process metrics. */
export function createApiMetrics(options: { defaultMetrics?: boolean } = {}): ApiMetrics {
  const registry = new Registry();
  const metrics: ApiMetrics = {
    registry,
    webhookRequests: new Counter({
      name: 'api_webhook_requests_total',
      help: 'Webhook notifications by outcome (accepted, refused, unavailable, error) and HTTP status',
      labelNames: ['outcome', 'status'] as const,
      registers: [registry],
    }),
    signatureFailures: new Counter({
      name: 'api_webhook_signature_failures_total',
      help: 'Webhook notifications refused for their X-Hub-Signature-256 (missing, invalid)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    requestDuration: new Histogram({
      name: 'api_request_duration_seconds',
      help: 'API request latency in seconds by route pattern, method and status',
      labelNames: ['route', 'method', 'status'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    temporalErrors: new Counter({
      name: 'api_temporal_errors_total',
      help: 'Calls from the API to Temporal that failed, by operation (signal, health)',
      labelNames: ['operation'] as const,
      registers: [registry],
    }),
    adminRequests: new Counter({
      name: 'api_admin_requests_total',
      help: 'Admin API requests by route pattern, method and status',
      labelNames: ['route', 'method', 'status'] as const,
      registers: [registry],
    }),
  };
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry });
  return metrics;
}

function webhookOutcome(status: number): WebhookOutcome {
  if (status === 200) return 'accepted';
  if (status === 503) return 'unavailable';
  if (status >= 400 && status < 500) return 'refused';
  return 'error';
}

/** The stable error code the error handler put in the body (`{ error: { code } }`), if any. */
function errorCode(body: unknown): string | undefined {
  const code = (body as { error?: { code?: unknown } } | null | undefined)?.error?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Records every request into `metrics`; mount it outside the error handler, so it sees the status and error code
 * each request was answered with. Labels use the router's route pattern (`unmatched` when no route matched), so a
 * scanner's random paths cannot blow up the series count.
 */
export function recordRequests(metrics: ApiMetrics): Middleware {
  return async (ctx, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      const matched = (ctx as { _matchedRoute?: unknown })._matchedRoute;
      const route = typeof matched === 'string' ? matched : 'unmatched';
      const labels = { route, method: ctx.method, status: String(ctx.status) };
      metrics.requestDuration.observe(labels, (performance.now() - started) / 1000);
      if (route.startsWith('/admin')) metrics.adminRequests.inc(labels);
      if (route === '/webhooks/whatsapp' && ctx.method === 'POST') {
        metrics.webhookRequests.inc({ outcome: webhookOutcome(ctx.status), status: String(ctx.status) });
        const code = errorCode(ctx.body);
        if (code === 'missing_signature') metrics.signatureFailures.inc({ reason: 'missing' });
        if (code === 'invalid_signature') metrics.signatureFailures.inc({ reason: 'invalid' });
        if (code === 'temporal_unavailable') metrics.temporalErrors.inc({ operation: 'signal' });
      }
      if (route === '/health/ready' && ctx.status === 503) metrics.temporalErrors.inc({ operation: 'health' });
    }
  };
}
