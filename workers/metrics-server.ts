import http from 'node:http';
import type { Metrics } from '../lib/metrics';

/**
 * The worker's Prometheus scrape endpoint (PMS circuit breaker state, PMS calls, process metrics) on
 * `host:port`; every other path is 404. It has no authentication, so callers bind it to loopback unless the
 * network around it is private (WORKER_METRICS_HOST). Resolves once it listens; rejects if it cannot.
 */
export async function serveMetrics(
  metrics: Metrics,
  { host, port }: { host: string; port: number },
): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    metrics.registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body),
      () => res.writeHead(500).end(),
    );
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
