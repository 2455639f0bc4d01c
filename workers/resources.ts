import { createTranscriber, noTranscriber, type Transcriber } from '../clients/transcriber';
import { createGraphClient, type GraphClient } from '../clients/whatsapp-graph';
import type { Config } from '../lib/config';
import { createHttpAgent } from '../lib/http';
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
