/**
 * An activity worker with the media activities, run as its own process by test/integration/media-worker.test.ts
 * so the test can SIGKILL it mid-download. Reads its configuration from the environment like workers/main.ts;
 * prints "ready" once it polls.
 */
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { mediaActivities } from '../helpers/media';
import { payloadDataConverter } from '../../lib/codec';
import { loadConfig } from '../../lib/config';
import { createHttpAgent } from '../../lib/http';
import { createLogger } from '../../lib/log';
import { createRedis } from '../../lib/redis';
import { createSecretResolver } from '../../lib/secrets';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const http = createHttpAgent({ maxConnectionsPerOrigin: 4 });
  const redis = createRedis(config.redisUrl);
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    activities: mediaActivities({
      http,
      redis,
      config,
      secrets: createSecretResolver(process.env),
      log: createLogger({ level: config.logLevel }),
    }),
    dataConverter: payloadDataConverter(config.payloadKeys),
  });
  const running = worker.run();
  process.stdout.write('ready\n');
  await running;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
