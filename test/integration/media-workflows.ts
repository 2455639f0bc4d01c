/**
 * A workflow for the media worker tests only: runs `downloadMedia` the way a conversation would, with a heartbeat
 * timeout so a killed worker's attempt is retried promptly. Bundled by test/integration/media-worker.test.ts.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { MediaActivities } from '../../activities/media';
import type { DownloadMediaInput, DownloadMediaResult } from '../../lib/domain/media';

const { downloadMedia } = proxyActivities<MediaActivities>({
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: '2 seconds',
  retry: { initialInterval: '200 ms', maximumInterval: '1 second', nonRetryableErrorTypes: ['MediaInvalidRequest'] },
});

export async function downloadMediaForTest(input: DownloadMediaInput): Promise<DownloadMediaResult> {
  return downloadMedia(input);
}
