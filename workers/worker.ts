import { Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import type { Pool } from 'pg';
import { createActivities } from '../activities';
import { configFailureInterceptor } from '../activities/config-failures';
import { logContextInterceptor } from '../activities/log-context';
import { metricsInterceptor } from '../activities/metrics-interceptor';
import { payloadDataConverter } from '../lib/codec';
import type { Config } from '../lib/config';
import type { Understander } from '../lib/domain/understanding';
import { createGuestRefs } from '../lib/guest-refs';
import type { Logger } from '../lib/log';
import { createLogContexts } from '../lib/log-context';
import type { Metrics } from '../lib/metrics';
import type { Redis } from '../lib/redis';
import type { SecretResolver } from '../lib/secrets';
import type { TenantCache } from '../lib/tenant-directory';
import { understanderFor } from './nlu';
import { openWorkerResources } from './resources';
import { workflowInterceptorModules } from './workflow-bundle';
import { disabledTracing, type Tracing } from '../lib/tracing';
import { workerTuning } from './tuning';

export interface ConversationWorkerDeps {
  config: Config;
  log: Logger;
  /** The Temporal connection; the caller closes it after {@link ConversationWorker.close}. */
  connection: NativeConnection;
  secrets: SecretResolver;
  /** Message understanding; by default what `NLU_*` asks for (the rule-based Spanish/English one unless NLU_URL). */
  nlu?: Understander;
  metrics?: Metrics;
  /** A prebuilt bundle (tests: once per run; the image: `npm run build`); without one the SDK bundles `workflows/`. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Names the worker's Postgres connections and Redis client (`worker` by default). */
  applicationName?: string;
  /** Traces (lib/tracing.ts); none by default. */
  tracing?: Tracing;
}

export interface ConversationWorker {
  worker: Worker;
  /** The worker's tenant directory; `reload()` is what the admin API's NOTIFY does. */
  tenants: TenantCache;
  /** The worker's Postgres pool. */
  db: Pool;
  /** The worker's Redis client (readiness pings it). */
  redis: Redis;
  /**
   * Closes every resource the worker opened (see `WorkerResources`), after a last flush of the outboxes: no
   * socket, Postgres connection or timer of the worker is left. Call once, after `worker.run()` has returned.
   */
  close: () => Promise<void>;
}

/** How long after the shutdown grace a worker whose activities ignore cancellation gives up on them. */
const shutdownForceMs = 5_000;

/**
 * Builds the worker for the `conversations` task queue: opens every long-lived resource it needs (it owns them),
 * builds the activities on them, and creates the `Worker`.
 */
export async function createConversationWorker(deps: ConversationWorkerDeps): Promise<ConversationWorker> {
  const { config, log, connection, secrets, metrics } = deps;
  const tracing = deps.tracing ?? disabledTracing();
  const resources = await openWorkerResources(config, {
    log,
    metrics,
    ...(tracing.enabled ? { tracer: tracing.tracer } : {}),
    ...(deps.applicationName ? { applicationName: deps.applicationName } : {}),
  });
  const understanding = deps.nlu ? { understander: deps.nlu, close: () => Promise.resolve() } : understanderFor(config);
  const close = async () => {
    await resources.close();
    await understanding.close();
  };
  try {
    const activities = createActivities({
      ...resources,
      secrets,
      config,
      log,
      nlu: understanding.understander,
      guestRefs: createGuestRefs(config.guestRefKey),
      ...(metrics ? { metrics } : {}),
    });
    // What each run is handling, for its activities' log lines (lib/log-context.ts).
    const logContexts = createLogContexts();
    const worker = await Worker.create({
      connection,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      ...(deps.workflowBundle
        ? { workflowBundle: deps.workflowBundle }
        : { workflowsPath: require.resolve('../workflows') }),
      activities,
      ...workerTuning(config.workerTuning),
      // Payloads encrypted (lib/codec.ts); a prebuilt bundle must have been built with the same failureConverterPath.
      dataConverter: payloadDataConverter(config.payloadKeys),
      interceptors: {
        // The activity's span is outermost, so all the rest runs in it (the Graph send's span is its child). The log
        // context is next, so every line logged by the others and the activity carries it; the metrics interceptor
        // wraps the config-failure one, so it sees the failure the bound turned it into.
        activity: [
          ...tracing.activityInterceptors,
          logContextInterceptor(logContexts),
          ...(metrics ? [metricsInterceptor(metrics)] : []),
          configFailureInterceptor({ boundSeconds: config.configFailureRetrySeconds, log, metrics }),
        ],
        // A prebuilt bundle has the workflow interceptors in it already (workers/workflow-bundle.ts).
        ...(deps.workflowBundle ? {} : { workflowModules: workflowInterceptorModules }),
      },
      // The workflow interceptors' spans leave the workflow through the `exporter` sink (no history event).
      sinks: {
        ...logContexts.sinks,
        ...tracing.workflowSinks,
        replyMetrics: {
          // Once per reconciliation: not again when a worker replays the run.
          reconciled: { fn: () => metrics?.replies.inc({ result: 'reconciled' }), callDuringReplay: false },
        },
      },
      // After SIGTERM (or shutdown()), activities in flight get this long to finish before they are cancelled. One
      // that still runs shutdownForceMs later is abandoned: run() rejects, the process exits, and Temporal hands the
      // activity to another worker when its timeout passes. Either way the process is gone before compose's SIGKILL.
      shutdownGraceTime: `${config.observability.workerShutdownGraceSeconds} seconds`,
      shutdownForceTime: config.observability.workerShutdownGraceSeconds * 1000 + shutdownForceMs,
    });
    return {
      worker,
      tenants: resources.tenants,
      db: resources.db,
      redis: resources.redis,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
