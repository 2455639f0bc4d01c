import type { Tracer } from '@opentelemetry/api';
import { createPmsOrigins, type PmsOrigins } from '../clients/qloapps';
import type { Pool } from 'pg';
import type { Dispatcher } from 'undici';
import { createTranscriber, noTranscriber, type Transcriber } from '../clients/transcriber';
import { createGraphClient, type GraphClient } from '../clients/whatsapp-graph';
import type { Config } from '../lib/config';
import { createPool } from '../lib/db/pool';
import { holdAuditOutboxKey, startHoldAuditFlusher, type HoldAuditFlusher } from '../lib/hold-audit';
import { createHttpAgent } from '../lib/http';
import { interactionsOutboxKey, startInteractionsFlusher } from '../lib/interactions';
import type { Logger } from '../lib/log';
import { createMediaIndex, type MediaIndex } from '../lib/media-index';
import { createFileMediaStore, type MediaStore } from '../lib/media-store';
import type { Metrics } from '../lib/metrics';
import { serviceUrlProblem } from '../lib/network-policy';
import type { OutboxFlusher } from '../lib/outbox';
import { createRedis, type Redis } from '../lib/redis';
import { TenantCache, type TenantDirectory } from '../lib/tenant-directory';

/**
 * Every long-lived resource of a worker, built once from the configuration and closed once on shutdown: the Postgres
 * pool and the Redis client, the tenant directory with its LISTEN connection, the Graph API client and its pool, the
 * PMS pools and breakers, the media store and index, the transcriber and its pool, and the outbox flushers (hold
 * audit, interaction log).
 * Nothing below builds one of its own: the activities get these.
 */
export interface WorkerResources {
  db: Pool;
  redis: Redis;
  tenants: TenantCache;
  graph: GraphClient;
  pmsOrigins: PmsOrigins;
  mediaStore: MediaStore;
  mediaIndex: MediaIndex;
  transcriber: Transcriber;
  holdAudit: HoldAuditFlusher;
  /** Moves the interaction log from its Redis outbox into Postgres. */
  interactionLog: OutboxFlusher;
  /** Closes each of them, users before what they use: call once the worker has stopped. */
  close: () => Promise<void>;
}

/**
 * Opens the worker's resources. `applicationName` names its Postgres connections (`pg_stat_activity`) and its Redis
 * client (`CLIENT LIST`). Does not fail while Postgres is down: the first `resolveTenant` then retries until it is
 * back.
 */
export async function openWorkerResources(
  config: Config,
  {
    log,
    metrics,
    applicationName = 'worker',
    tracer,
  }: { log: Logger; metrics?: Metrics | undefined; applicationName?: string; tracer?: Tracer | undefined },
): Promise<WorkerResources> {
  const db = createPool(config.databaseUrl, { applicationName });
  const redis = createRedis(config.redisUrl, { connectionName: applicationName });
  const graphHttp = createHttpAgent({ maxConnectionsPerOrigin: config.http.maxConnectionsPerOrigin });
  const tenants = new TenantCache({
    db,
    databaseUrl: config.databaseUrl,
    applicationName,
    log,
    refreshMs: config.tenants.cacheRefreshSeconds * 1000,
    maxStalenessMs: config.tenants.cacheMaxStalenessSeconds * 1000,
  });
  await tenants.start();
  const transcription = transcriberFor(config);
  const pmsOrigins = pmsOriginsFor(config, { log, metrics, tenants });
  // Moves the hold audit from its Redis outbox into Postgres, retrying while Postgres is down.
  const holdAudit = startHoldAuditFlusher({ redis, db, log, outboxKey: holdAuditOutboxKey(config.databaseUrl) });
  // And the interaction log, the same way (lib/outbox.ts).
  const interactionLog = startInteractionsFlusher({
    redis,
    db,
    log,
    outboxKey: interactionsOutboxKey(config.databaseUrl),
  });
  return {
    db,
    redis,
    tenants,
    graph: graphClientFor(config, graphHttp, tracer),
    pmsOrigins,
    mediaStore: createFileMediaStore({ dir: config.media.dir }),
    mediaIndex: createMediaIndex(redis, { ttlSeconds: config.media.indexTtlSeconds }),
    transcriber: transcription.transcriber,
    holdAudit,
    interactionLog,
    close: async () => {
      // The last flushes need Postgres and Redis; the directory's reloads drop PMS origins: both go first.
      await Promise.all([holdAudit.stop(), interactionLog.stop()]);
      await tenants.stop();
      await Promise.all([pmsOrigins.close(), transcription.close(), graphHttp.close()]);
      await db.end();
      redis.disconnect();
    },
  };
}

/**
 * The worker's Graph API client, as `WHATSAPP_*` and `MEDIA_*` say, over `dispatcher` (which the caller closes); with a
 * tracer each send is a span.
 */
export function graphClientFor(config: Config, dispatcher: Dispatcher, tracer?: Tracer): GraphClient {
  return createGraphClient({
    baseUrl: config.whatsapp.graphBaseUrl,
    apiVersion: config.whatsapp.graphApiVersion,
    accessToken: config.whatsapp.accessToken,
    timeoutMs: config.whatsapp.httpTimeoutMs,
    downloadTimeoutMs: config.media.downloadTimeoutMs,
    allowedMediaHosts: config.media.allowedHosts,
    dispatcher,
    ...(tracer ? { tracer } : {}),
  });
}

/**
 * The transcriber `TRANSCRIPTION_*` asks for, with an agent of its own: the transcription URL is operator settings,
 * but it gets the same address rule as a tenant's PMS (its own flag). `close()` closes that agent.
 */
export function transcriberFor(
  config: Config,
  options: { maxConnectionsPerOrigin?: number } = {},
): { transcriber: Transcriber; close: () => Promise<void> } {
  const service = config.media.transcription;
  if (!service) return { transcriber: noTranscriber, close: () => Promise.resolve() };
  const agent = createHttpAgent({
    maxConnectionsPerOrigin: options.maxConnectionsPerOrigin ?? config.http.maxConnectionsPerOrigin,
    addressPolicy: { allowPrivateNetworks: service.allowPrivateNetworks },
  });
  return {
    transcriber: createTranscriber(service, agent, { timeoutMs: config.media.downloadTimeoutMs }),
    close: () => agent.close(),
  };
}

/** The origins of every usable PMS URL in the directory: the ones whose pools and breakers are kept. */
export function pmsOriginsIn(directory: TenantDirectory): Set<string> {
  const inUse = new Set<string>();
  for (const { baseUrl } of directory.pms.values()) {
    if (baseUrl && serviceUrlProblem(baseUrl) === undefined) inUse.add(new URL(baseUrl).origin);
  }
  return inUse;
}

/**
 * The worker's PMS pools and breakers, as `PMS_*` and `HTTP_MAX_CONNECTIONS_PER_ORIGIN` say. Each reload of the tenant
 * directory drops the origins no tenant points at any more (a changed or removed PMS URL), so a worker that has seen
 * many URLs does not keep a pool, a breaker and metric series for each forever. `close()` stops that and closes every
 * pool.
 */
export function pmsOriginsFor(
  config: Config,
  { log, metrics, tenants }: { log: Logger; metrics?: Metrics | undefined; tenants: TenantCache },
): PmsOrigins {
  const origins = createPmsOrigins({
    maxConnectionsPerOrigin: config.http.maxConnectionsPerOrigin,
    connectTimeoutMs: config.pms.httpTimeoutMs,
    allowPrivateNetworks: config.pms.allowPrivateNetworks,
    breaker: {
      consecutiveFailures: config.pms.breakerConsecutiveFailures,
      failureRatio: config.pms.breakerFailureRatio,
      minRequests: config.pms.breakerMinRequests,
      halfOpenAfterMs: config.pms.breakerHalfOpenAfterMs,
      halfOpenMaxMs: config.pms.breakerHalfOpenMaxMs,
    },
    log,
    metrics,
  });
  const unsubscribe = tenants.onReload((directory) => origins.retain(pmsOriginsIn(directory)));
  return {
    ...origins,
    close: async () => {
      unsubscribe();
      await origins.close();
    },
  };
}
