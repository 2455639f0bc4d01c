import type { Dispatcher } from 'undici';
import { createMediaActivities } from '../../activities/media';
import { createTranscriptionActivities } from '../../activities/transcription';
import { createTranscriber } from '../../clients/transcriber';
import type { Config } from '../../lib/config';
import type { Logger } from '../../lib/log';
import { createMediaIndex } from '../../lib/media-index';
import { createFileMediaStore, type MediaStore } from '../../lib/media-store';
import type { Redis } from '../../lib/redis';
import type { SecretResolver } from '../../lib/secrets';
import { graphClientFor } from '../../workers/resources';

/**
 * The media and transcription activities as the worker builds them, over the test's own agents: `http` for the Graph
 * API and media files, `transcriptionHttp` for `TRANSCRIPTION_URL` when the config sets one.
 */
export function mediaActivities(options: {
  config: Config;
  redis: Redis;
  http: Dispatcher;
  transcriptionHttp?: Dispatcher;
  secrets: SecretResolver;
  log: Logger;
  store?: MediaStore;
}) {
  const { config, redis, http, secrets, log } = options;
  const store = options.store ?? createFileMediaStore({ dir: config.media.dir });
  const index = createMediaIndex(redis, { ttlSeconds: config.media.indexTtlSeconds });
  const transcriber = createTranscriber(config.media.transcription, options.transcriptionHttp ?? http, {
    timeoutMs: config.media.downloadTimeoutMs,
  });
  return {
    ...createMediaActivities({ graph: graphClientFor(config, http), store, index, redis, config, secrets, log }),
    ...createTranscriptionActivities({ store, transcriber, log }),
  };
}
