/**
 * The real conversation worker as a process of its own, so a chaos scenario can SIGKILL it mid-task. Configured from
 * its environment (the scenario's); the workflow bundle is this test run's. Prints "ready" once it runs.
 */
import { loadConfig } from '../../lib/config';
import { startWorker } from '../helpers/env';

async function main(): Promise<void> {
  const env = process.env as Record<string, string>;
  await startWorker(loadConfig(env), { secrets: env });
  process.stdout.write('ready\n');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
