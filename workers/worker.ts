import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Dispatcher } from 'undici';
import { createActivities } from '../activities';
import { createWhatsAppClient } from '../activities/whatsapp';
import type { Config } from '../lib/config';
import type { Logger } from '../lib/log';

export interface ConversationWorkerDeps {
  config: Config;
  log: Logger;
  connection: NativeConnection;
  http: Dispatcher;
  /** Tests pass a bundle built once per run; the entry point lets the SDK bundle `workflows/`. */
  workflowBundle?: WorkerOptions['workflowBundle'];
}

/** Builds the clients, the activities and the worker for the `conversations` task queue. */
export async function createConversationWorker(deps: ConversationWorkerDeps): Promise<Worker> {
  const { config, log, connection, http } = deps;
  const whatsapp = createWhatsAppClient({
    baseUrl: config.whatsapp.graphBaseUrl,
    apiVersion: config.whatsapp.graphApiVersion,
    accessToken: config.whatsapp.accessToken,
    timeoutMs: config.whatsapp.httpTimeoutMs,
    dispatcher: http,
  });
  return Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    ...(deps.workflowBundle
      ? { workflowBundle: deps.workflowBundle }
      : { workflowsPath: require.resolve('../workflows') }),
    activities: createActivities({ whatsapp, log }),
  });
}
