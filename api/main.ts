import { Client, Connection } from '@temporalio/client';
import { ConfigError, loadConfig } from '../lib/config';
import { createLogger } from '../lib/log';
import { temporalConnectionOptions } from '../lib/temporal';
import { createApp } from './app';

function main(): void {
  const config = loadConfig();
  const log = createLogger({ level: config.logLevel, name: 'api' });
  // Lazy: the API starts (and answers 503 on the webhook) even while Temporal is down.
  const connection = Connection.lazy(temporalConnectionOptions(config.temporal));
  const temporal = new Client({ connection, namespace: config.temporal.namespace });
  const app = createApp({ temporal, config, log });
  const server = app.listen(config.api.port, config.api.host, () => {
    log.info({ port: config.api.port }, `API listening on http://${config.api.host}:${config.api.port}`);
  });
  const shutdown = (signal: string) => {
    log.info({ signal }, 'shutting down');
    server.close(() => {
      void connection.close().finally(() => process.exit(0));
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
