import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type LogLevel } from '@temporalio/worker';
import net from 'node:net';
import { payloadDataConverter } from '../lib/codec';
import { ConfigError, loadConfig } from '../lib/config';
import { createMetrics } from '../lib/metrics';
import { createLogger } from '../lib/log';
import { createSecretResolver } from '../lib/secrets';
import { temporalConnectionOptions } from '../lib/temporal';
import { tracingFromConfig } from '../lib/tracing';
import { countConversations } from './conversation-counts';
import { serveMetrics } from '../lib/metrics-server';
import { workerPolling, workerReadiness } from './readiness';
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

/** A free TCP port on loopback, for the SDK's exporter when WORKER_SDK_METRICS_PORT is 0. */
async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger({ level: config.logLevel, name: 'worker' });
  const sdkMetricsPort = config.observability.workerSdkMetricsPort || (await freeLoopbackPort());
  // Once per process, before any connection. The SDK's own log lines (workflow and activity logs included) go
  // through our logger and its redaction; its metrics (workflow-task schedule-to-start latency, sticky cache, polls)
  // are served on loopback and appended to our /metrics.
  Runtime.install({
    logger: new DefaultLogger(sdkLevels[config.logLevel] ?? 'INFO', (entry) => {
      const level = entry.level.toLowerCase() as 'error' | 'warn' | 'info' | 'debug' | 'trace';
      log[level]({ ...entry.meta }, entry.message);
    }),
    telemetryOptions: { metrics: { prometheus: { bindAddress: `127.0.0.1:${sdkMetricsPort}` } } },
  });
  for (const deprecation of config.temporal.deprecations) log.warn(deprecation);
  const connection = await NativeConnection.connect(temporalConnectionOptions(config.temporal));
  const metrics = createMetrics({ defaultMetrics: true });
  // OTLP export when OTEL_EXPORTER_OTLP_ENDPOINT is set: workflow, activity and Graph send spans.
  const tracing = tracingFromConfig(config.tracing, 'worker');
  const bundlePath = config.temporal.workflowBundlePath;
  const { worker, close, db, redis } = await createConversationWorker({
    config,
    log,
    connection,
    metrics,
    // Per-tenant secrets are referenced as env:NAME and read from this process's environment.
    secrets: createSecretResolver(process.env),
    tracing,
    // The image's bundle, prebuilt by `npm run build`; without one the SDK bundles workflows/ now.
    ...(bundlePath ? { workflowBundle: { codePath: bundlePath } } : {}),
  });
  const readiness = workerReadiness({
    connection,
    db,
    redis,
    worker: () => worker,
    timeoutMs: {
      temporal: config.observability.workerReadyTimeoutMs,
      postgres: config.observability.workerReadyTimeoutMs,
      redis: config.observability.workerReadyTimeoutMs,
    },
  });
  const metricsServer =
    config.workerMetricsPort > 0
      ? await serveMetrics(metrics, {
          host: config.workerMetricsHost,
          port: config.workerMetricsPort,
          sdkMetricsUrl: `http://127.0.0.1:${sdkMetricsPort}/metrics`,
          readiness,
        })
      : undefined;
  // Every worker makes sure the hourly media cleanup schedule exists; the first one creates it.
  const clientConnection = await Connection.connect(temporalConnectionOptions(config.temporal));
  const client = new Client({
    connection: clientConnection,
    namespace: config.temporal.namespace,
    dataConverter: payloadDataConverter(config.payloadKeys),
  });
  const stopCounting = countConversations(
    { client, metrics, log, taskQueue: config.temporal.taskQueue },
    config.observability.conversationCountIntervalSeconds * 1000,
  );
  await ensureMediaCleanupSchedule(client, config).catch((err: unknown) =>
    log.warn({ err }, 'media cleanup schedule not ensured; will try again at the next start'),
  );
  log.info(
    {
      taskQueue: config.temporal.taskQueue,
      namespace: config.temporal.namespace,
      workflowBundle: bundlePath ?? 'bundled at start from workflows/',
    },
    'worker started',
  );
  // Worker.run() returns after SIGINT/SIGTERM (the Runtime's shutdown signals): polling stops, and activities in
  // flight finish within WORKER_SHUTDOWN_GRACE_SECONDS or are cancelled and handed back to Temporal.
  let stopRequested = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => (stopRequested = true));
  const done = worker.run();
  // "worker polling" is what the start command and operators wait for: tasks are being taken, not only connected.
  const polling = workerPolling(() => worker);
  const announce = setInterval(() => {
    const state = polling();
    if (state === 'starting') return;
    clearInterval(announce);
    if (state === 'polling') log.info({ taskQueue: config.temporal.taskQueue }, 'worker polling');
  }, 100);
  try {
    await done;
  } catch (err) {
    // Past shutdownForceTime the SDK gives up on activities that ignore their cancellation (it then fails with
    // GracefulShutdownPeriodExpiredError, or with the worker still in use): they are left to Temporal, which
    // retries them on another worker once their timeout passes.
    if (!stopRequested) throw err;
    log.error(
      { err, graceSeconds: config.observability.workerShutdownGraceSeconds },
      'shutdown grace over: activities abandoned',
    );
    process.exit(1);
  }
  clearInterval(announce);
  stopCounting();
  await close();
  metricsServer?.close();
  await connection.close();
  await clientConnection.close();
  await tracing.shutdown();
  log.info('worker stopped');
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
