import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type LogLevel } from '@temporalio/worker';
import { payloadDataConverter } from '../lib/codec';
import { ConfigError, loadConfig } from '../lib/config';
import { createMetrics } from '../lib/metrics';
import { createLogger } from '../lib/log';
import { createSecretResolver } from '../lib/secrets';
import { temporalConnectionOptions } from '../lib/temporal';
import { serveMetrics } from './metrics-server';
import { ensureMediaCleanupSchedule } from './schedules';
import { createConversationWorker } from './worker';

const sdkLevels: Record<string, LogLevel> = {
  fatal: 'ERROR',
  error: 'ERROR',
  warn: 'WARN',
  info: 'INFO',
  debug: 'DEBUG',
  trace: 'TRACE',
  silent: 'ERROR',
};

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger({ level: config.logLevel, name: 'worker' });
  // The SDK's own log lines (workflow and activity logs included) go through our logger and its redaction.
  Runtime.install({
    logger: new DefaultLogger(sdkLevels[config.logLevel] ?? 'INFO', (entry) => {
      const level = entry.level.toLowerCase() as 'error' | 'warn' | 'info' | 'debug' | 'trace';
      log[level]({ ...entry.meta }, entry.message);
    }),
  });
  for (const deprecation of config.temporal.deprecations) log.warn(deprecation);
  const connection = await NativeConnection.connect(temporalConnectionOptions(config.temporal));
  const metrics = createMetrics({ defaultMetrics: true });
  const bundlePath = config.temporal.workflowBundlePath;
  const metricsServer =
    config.workerMetricsPort > 0
      ? await serveMetrics(metrics, { host: config.workerMetricsHost, port: config.workerMetricsPort })
      : undefined;
  const { worker, close } = await createConversationWorker({
    config,
    log,
    connection,
    metrics,
    // Per-tenant secrets are referenced as env:NAME and read from this process's environment.
    secrets: createSecretResolver(process.env),
    // The image's bundle, prebuilt by `npm run build`; without one the SDK bundles workflows/ now.
    ...(bundlePath ? { workflowBundle: { codePath: bundlePath } } : {}),
  });
  // Every worker makes sure the hourly media cleanup schedule exists; the first one creates it.
  const clientConnection = await Connection.connect(temporalConnectionOptions(config.temporal));
  await ensureMediaCleanupSchedule(
    new Client({
      connection: clientConnection,
      namespace: config.temporal.namespace,
      dataConverter: payloadDataConverter(config.payloadKeys),
    }),
    config,
  ).catch((err: unknown) => log.warn({ err }, 'media cleanup schedule not ensured; will try again at the next start'));
  log.info(
    {
      taskQueue: config.temporal.taskQueue,
      namespace: config.temporal.namespace,
      workflowBundle: bundlePath ?? 'bundled at start from workflows/',
    },
    'worker started',
  );
  // Worker.run() returns after SIGINT/SIGTERM once in-flight tasks are done (the Runtime's shutdown signals).
  await worker.run();
  await close();
  metricsServer?.close();
  await connection.close();
  await clientConnection.close();
  log.info('worker stopped');
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
