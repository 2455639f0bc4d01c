/**
 * The conversation worker as the benchmark runs it: the same `createConversationWorker` as `workers/main.ts`, in
 * its own process, configured by the same environment, plus the SDK's own metrics (task schedule-to-start and
 * execution latencies, request latencies, sticky cache size) on Prometheus at `BENCH_SDK_METRICS_PORT`, which
 * `workers/main.ts` does not expose. No media-cleanup schedule: the benchmark has no use for it.
 */
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { loadConfig } from '../lib/config';
import { createLogger } from '../lib/log';
import { createMetrics } from '../lib/metrics';
import { createSecretResolver } from '../lib/secrets';
import { temporalConnectionOptions } from '../lib/temporal';
import { createConversationWorker } from '../workers/worker';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger({ level: config.logLevel, name: 'worker' });
  Runtime.install({
    logger: new DefaultLogger('WARN', (entry) => log.warn({ ...entry.meta }, entry.message)),
    telemetryOptions: {
      metrics: { prometheus: { bindAddress: `127.0.0.1:${process.env.BENCH_SDK_METRICS_PORT ?? '0'}` } },
    },
  });
  const connection = await NativeConnection.connect(temporalConnectionOptions(config.temporal));
  const { worker, close } = await createConversationWorker({
    config,
    log,
    connection,
    metrics: createMetrics({ defaultMetrics: true }),
    secrets: createSecretResolver(process.env),
  });
  console.log('bench worker running');
  await worker.run();
  await close();
  await connection.close();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
