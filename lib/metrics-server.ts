import http from 'node:http';
import type { Registry } from 'prom-client';

/** What a readiness probe reports: whether the process is ready, and each check's state. */
export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, string>;
}

export interface MetricsServerOptions {
  host: string;
  port: number;
  /**
   * The Temporal SDK's own Prometheus exporter (`Runtime.install`'s `bindAddress`, on loopback): its text is appended
   * to ours, so Prometheus scrapes one target per worker. Unreachable, only our series are served.
   */
  sdkMetricsUrl?: string | undefined;
  /** Serves `/health/ready` (200 when ready, else 503, with each check's state) and `/health/live`. */
  readiness?: (() => Promise<ReadinessReport>) | undefined;
}

async function sdkMetrics(url: string | undefined): Promise<string> {
  if (!url) return '';
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    return res.ok ? await res.text() : '';
  } catch {
    return '';
  }
}

/**
 * A process's internal endpoint on `host:port`: `/metrics` (the registry, and the SDK's metrics on the worker), and
 * with `readiness` the `/health/live` and `/health/ready` probes; every other path is 404. It has no authentication,
 * so callers bind it to loopback unless the network around it is private (WORKER_METRICS_HOST, API_METRICS_HOST).
 * Resolves once it listens; rejects if it cannot.
 */
export async function serveMetrics(
  metrics: { registry: Registry },
  options: MetricsServerOptions,
): Promise<http.Server> {
  const { host, port, sdkMetricsUrl, readiness } = options;
  const json = (res: http.ServerResponse, status: number, body: unknown) =>
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const server = http.createServer((req, res) => {
    if (req.url === '/metrics') {
      Promise.all([metrics.registry.metrics(), sdkMetrics(sdkMetricsUrl)]).then(
        ([ours, sdk]) =>
          res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(sdk ? `${ours}\n${sdk}` : ours),
        () => res.writeHead(500).end(),
      );
      return;
    }
    if (readiness && req.url === '/health/live') {
      json(res, 200, { status: 'ok' });
      return;
    }
    if (readiness && req.url === '/health/ready') {
      readiness().then(
        ({ ready, checks }) => json(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not_ready', ...checks }),
        () => json(res, 503, { status: 'not_ready' }),
      );
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
