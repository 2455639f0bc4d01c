import { Client, Connection } from '@temporalio/client';
import type { Socket } from 'node:net';
import { payloadDataConverter } from '../lib/codec';
import { ConfigError, loadConfig } from '../lib/config';
import { createPool } from '../lib/db/pool';
import { serveMetrics } from '../lib/metrics-server';
import { createRedis } from '../lib/redis';
import { createLogger } from '../lib/log';
import { temporalConnectionOptions } from '../lib/temporal';
import { tracingFromConfig } from '../lib/tracing';
import { createApp } from './app';
import { createApiMetrics } from './metrics';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger({ level: config.logLevel, name: 'api' });
  for (const deprecation of config.temporal.deprecations) log.warn(deprecation);
  // OTLP export when OTEL_EXPORTER_OTLP_ENDPOINT is set: the webhook's span, and the client's, whose context Temporal
  // carries to the worker in a header.
  const tracing = tracingFromConfig(config.tracing, 'api');
  // Lazy: the API starts (and answers 503 on the webhook) even while Temporal is down.
  const connection = Connection.lazy(temporalConnectionOptions(config.temporal));
  const temporal = new Client({
    connection,
    namespace: config.temporal.namespace,
    dataConverter: payloadDataConverter(config.payloadKeys),
    interceptors: { workflow: tracing.clientInterceptors },
  });
  // Also lazy: the admin API answers 503 while Postgres is down; the webhook never uses it.
  const db = createPool(config.databaseUrl, { applicationName: 'api' });
  // Only the admin API's media routes use Redis; the client reconnects on its own while Redis is down.
  const redis = createRedis(config.redisUrl, { connectionName: 'api' });
  const metrics = createApiMetrics({ defaultMetrics: true });
  const { apiMetricsHost, apiMetricsPort, apiShutdownGraceSeconds } = config.observability;
  // /metrics is on a listener of its own (loopback unless API_METRICS_HOST says otherwise), never on the public port.
  const metricsServer =
    apiMetricsPort > 0 ? await serveMetrics(metrics, { host: apiMetricsHost, port: apiMetricsPort }) : undefined;
  const app = createApp({ temporal, config, log, db, redis, metrics, tracer: tracing.tracer });
  let stopping = false;
  // While draining, every answer closes its connection, so no keep-alive connection carries a new request.
  app.middleware.unshift(async (ctx, next) => {
    if (stopping) ctx.set('Connection', 'close');
    await next();
  });
  const server = app.listen(config.api.port, config.api.host, () => {
    log.info({ port: config.api.port }, `API listening on http://${config.api.host}:${config.api.port}`);
  });
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  /**
   * SIGTERM: stop accepting (a new connection is refused, so Meta retries), let every request already being read or
   * answered finish (each is answered 200, or 503 if Temporal refuses), close idle keep-alive connections as they
   * become idle, then close Temporal, Postgres and Redis and exit 0. Past API_SHUTDOWN_GRACE_SECONDS the rest is cut.
   */
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, connections: sockets.size }, 'shutting down: draining in-flight requests');
    const idle = setInterval(() => server.closeIdleConnections(), 50);
    const cut = setTimeout(() => {
      log.warn({ connections: sockets.size }, 'shutdown grace over: closing the connections left');
      server.closeAllConnections();
    }, apiShutdownGraceSeconds * 1000);
    cut.unref();
    server.close(() => {
      clearInterval(idle);
      clearTimeout(cut);
      metricsServer?.close();
      void Promise.allSettled([connection.close(), db.end(), redis.quit(), tracing.shutdown()]).finally(() => {
        log.info('API stopped');
        process.exit(0);
      });
    });
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
