import { Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import type { Pool } from 'pg';
import type { Dispatcher } from 'undici';
import { createActivities } from '../activities';
import { TenantCache } from '../activities/tenants';
import { createWhatsAppClient } from '../activities/whatsapp';
import type { Config } from '../lib/config';
import type { Logger } from '../lib/log';
import type { SecretResolver } from '../lib/secrets';

export interface ConversationWorkerDeps {
  config: Config;
  log: Logger;
  connection: NativeConnection;
  http: Dispatcher;
  db: Pool;
  secrets: SecretResolver;
  /** Tests pass a bundle built once per run; the entry point lets the SDK bundle `workflows/`. */
  workflowBundle?: WorkerOptions['workflowBundle'];
}

export interface ConversationWorker {
  worker: Worker;
  tenants: TenantCache;
}

/** Builds the clients, the activities and the worker for the `conversations` task queue. */
export async function createConversationWorker(deps: ConversationWorkerDeps): Promise<ConversationWorker> {
  const { config, log, connection, http, db, secrets } = deps;
  const whatsapp = createWhatsAppClient({
    baseUrl: config.whatsapp.graphBaseUrl,
    apiVersion: config.whatsapp.graphApiVersion,
    accessToken: config.whatsapp.accessToken,
    timeoutMs: config.whatsapp.httpTimeoutMs,
    dispatcher: http,
  });
  const tenants = new TenantCache({
    db,
    databaseUrl: config.databaseUrl,
    log,
    refreshMs: config.tenants.cacheRefreshSeconds * 1000,
    maxStalenessMs: config.tenants.cacheMaxStalenessSeconds * 1000,
  });
  // Does not fail while Postgres is down: the first resolveTenant then retries until it is back.
  await tenants.start();
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    ...(deps.workflowBundle ? { workflowBundle: deps.workflowBundle } : { workflowsPath: require.resolve('../workflows') }),
    activities: createActivities({ whatsapp, tenants, db, secrets, log }),
  });
  return { worker, tenants };
}
