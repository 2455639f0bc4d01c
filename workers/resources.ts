import { createPmsOrigins, type PmsOrigins } from '../clients/qloapps';
import { createTranscriber, noTranscriber, type Transcriber } from '../clients/transcriber';
import { createGraphClient, type GraphClient } from '../clients/whatsapp-graph';
import type { Config } from '../lib/config';
import { createHttpAgent } from '../lib/http';
import type { Logger } from '../lib/log';
import type { Metrics } from '../lib/metrics';
import type { TenantCache, TenantDirectory } from '../lib/tenant-directory';
import { serviceUrlProblem } from '../lib/network-policy';
import type { Dispatcher } from 'undici';

/** The worker's Graph API client, as `WHATSAPP_*` and `MEDIA_*` say, over `dispatcher` (which the caller closes). */
export function graphClientFor(config: Config, dispatcher: Dispatcher): GraphClient {
  return createGraphClient({
    baseUrl: config.whatsapp.graphBaseUrl,
    apiVersion: config.whatsapp.graphApiVersion,
    accessToken: config.whatsapp.accessToken,
    timeoutMs: config.whatsapp.httpTimeoutMs,
    downloadTimeoutMs: config.media.downloadTimeoutMs,
    allowedMediaHosts: config.media.allowedHosts,
    dispatcher,
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
