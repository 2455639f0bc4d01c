import { createGraphMedia } from './media';
import type { GraphClientOptions } from './options';
import { createGraphReader } from './read';
import { createGraphSender } from './send';

export { classifyGraphError, type GraphError, type GraphRateLimit } from './errors';
export { isAllowedMediaHost, mediaUnavailable, sha256Hex, type MediaFileAnswer, type MediaMetadata } from './media';
export type { GraphClientOptions } from './options';

/**
 * The WhatsApp Cloud API (Graph API) client of a worker: sends, read receipts with the typing indicator, and the two-step media download, through one
 * pooled dispatcher, every error read by the one classifier (`classifyGraphError`). Errors are Temporal
 * `ApplicationFailure`s that say whether retrying can help.
 */
export function createGraphClient(options: GraphClientOptions) {
  return {
    sendText: createGraphSender(options),
    markRead: createGraphReader(options),
    media: createGraphMedia(options),
  };
}

export type GraphClient = ReturnType<typeof createGraphClient>;
