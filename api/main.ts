import { Client, Connection } from '@temporalio/client';
import { payloadDataConverter } from '../lib/codec';
import { ConfigError, loadConfig } from '../lib/config';
import { createPool } from '../lib/db/pool';
import { createRedis } from '../lib/redis';
import { createLogger } from '../lib/log';
import { temporalConnectionOptions } from '../lib/temporal';
import { createApp } from './app';

function main(): void {
  const config = loadConfig();
  const log = createLogger({ level: config.logLevel, name: 'api' });
  for (const deprecation of config.temporal.deprecations) log.warn(deprecation);
  // Lazy: the API starts (and answers 503 on the webhook) even while Temporal is down.
  const connection = Connection.lazy(temporalConnectionOptions(config.temporal));
  const temporal = new Client({
    connection,
    namespace: config.temporal.namespace,
    dataConverter: payloadDataConverter(config.payloadKeys),
  });
  // Also lazy: the admin API answers 503 while Postgres is down; the webhook never uses it.
  const db = createPool(config.databaseUrl, { applicationName: 'api' });
  // Only the admin API's media routes use Redis; the client reconnects on its own while Redis is down.
  const redis = createRedis(config.redisUrl, { connectionName: 'api' });
  const app = createApp({ temporal, config, log, db, redis });
  const server = app.listen(config.api.port, config.api.host, () => {
    log.info({ port: config.api.port }, `API listening on http://${config.api.host}:${config.api.port}`);
  });
  const shutdown = (signal: string) => {
    log.info({ signal }, 'shutting down');
    server.close(() => {
      void Promise.allSettled([connection.close(), db.end(), redis.quit()]).finally(() => process.exit(0));
    });
    setTimeout(() => process.exit(0), 10_000).unref();
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

try {
  main();
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
}
