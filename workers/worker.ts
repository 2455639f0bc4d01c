import { Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import type Redis from 'ioredis';
import type { Pool } from 'pg';
import type { Dispatcher } from 'undici';
import { createActivities } from '../activities';
import { configFailureInterceptor } from '../activities/config-failures';
import { holdAuditOutboxKey, startHoldAuditFlusher } from '../activities/hold-audit';
import { createRuleBasedUnderstander, type Understander } from '../activities/nlu';
import { closePmsActivities } from '../activities/pms';
import { TenantCache } from '../activities/tenants';
import { createWhatsAppClient } from '../activities/whatsapp';
import type { Config } from '../lib/config';
import { createHttpAgent } from '../lib/http';
import { createGuestRefs } from '../lib/guest-refs';
import type { Logger } from '../lib/log';
import type { Metrics } from '../lib/metrics';
import type { SecretResolver } from '../lib/secrets';

export interface ConversationWorkerDeps {
  config: Config;
  log: Logger;
  connection: NativeConnection;
  http: Dispatcher;
  db: Pool;
  redis: Redis;
  secrets: SecretResolver;
  /** Message understanding; the rule-based Spanish/English one by default. */
  nlu?: Understander;
  metrics?: Metrics;
  /** Tests pass a bundle built once per run; the entry point lets the SDK bundle `workflows/`. */
  workflowBundle?: WorkerOptions['workflowBundle'];
}

export interface ConversationWorker {
  worker: Worker;
  tenants: TenantCache;
  /**
   * Closes what the activities hold open (the PMS connection pools) after a last flush of the hold audit; call after
   * the worker stopped, before closing Postgres and Redis.
   */
  close: () => Promise<void>;
}

/** Builds the clients, the activities and the worker for the `conversations` task queue. */
export async function createConversationWorker(deps: ConversationWorkerDeps): Promise<ConversationWorker> {
  const { config, log, connection, http, db, redis, secrets } = deps;
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
  // The transcription URL is operator settings, but it gets the same address rule as a tenant's PMS (its own flag).
  const transcriptionHttp = config.media.transcription
    ? createHttpAgent({
        maxConnectionsPerOrigin: config.http.maxConnectionsPerOrigin,
        addressPolicy: { allowPrivateNetworks: config.media.transcription.allowPrivateNetworks },
      })
    : undefined;
  const activities = createActivities({
    whatsapp,
    tenants,
    db,
    redis,
    secrets,
    config,
    log,
    nlu: deps.nlu ?? createRuleBasedUnderstander(),
    http,
    ...(transcriptionHttp ? { transcriptionHttp } : {}),
    guestRefs: createGuestRefs(config.guestRefKey),
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
  });
  // Moves the hold audit from its Redis outbox into Postgres, retrying while Postgres is down.
  const holdAudit = startHoldAuditFlusher({ redis, db, log, outboxKey: holdAuditOutboxKey(config.databaseUrl) });
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    ...(deps.workflowBundle
      ? { workflowBundle: deps.workflowBundle }
      : { workflowsPath: require.resolve('../workflows') }),
    activities,
    interceptors: {
      activity: [
        configFailureInterceptor({ boundSeconds: config.configFailureRetrySeconds, log, metrics: deps.metrics }),
      ],
    },
  });
  return {
    worker,
    tenants,
    close: async () => {
      await holdAudit.stop();
      await closePmsActivities(activities);
      await transcriptionHttp?.close();
    },
  };
}
