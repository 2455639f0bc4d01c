import { Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import type Redis from 'ioredis';
import type { Pool } from 'pg';
import type { Dispatcher } from 'undici';
import { createActivities } from '../activities';
import { configFailureInterceptor } from '../activities/config-failures';
import { holdAuditOutboxKey, startHoldAuditFlusher } from '../activities/hold-audit';
import { TenantCache } from '../lib/tenant-directory';
import type { Config } from '../lib/config';
import { createRuleBasedUnderstander, type Understander } from '../lib/domain/understanding';
import { createGuestRefs } from '../lib/guest-refs';
import type { Logger } from '../lib/log';
import type { Metrics } from '../lib/metrics';
import type { SecretResolver } from '../lib/secrets';
import { createMediaIndex } from '../lib/media-index';
import { createFileMediaStore } from '../lib/media-store';
import { graphClientFor, pmsOriginsFor, transcriberFor } from './resources';

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
  const graph = graphClientFor(config, http);
  const tenants = new TenantCache({
    db,
    databaseUrl: config.databaseUrl,
    log,
    refreshMs: config.tenants.cacheRefreshSeconds * 1000,
    maxStalenessMs: config.tenants.cacheMaxStalenessSeconds * 1000,
  });
  // Does not fail while Postgres is down: the first resolveTenant then retries until it is back.
  await tenants.start();
  const transcription = transcriberFor(config);
  const pmsOrigins = pmsOriginsFor(config, { log, metrics: deps.metrics, tenants });
  const activities = createActivities({
    graph,
    pmsOrigins,
    tenants,
    db,
    redis,
    secrets,
    config,
    log,
    nlu: deps.nlu ?? createRuleBasedUnderstander(),
    mediaStore: createFileMediaStore({ dir: config.media.dir }),
    mediaIndex: createMediaIndex(redis, { ttlSeconds: config.media.indexTtlSeconds }),
    transcriber: transcription.transcriber,
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
      await pmsOrigins.close();
      await transcription.close();
    },
  };
}
