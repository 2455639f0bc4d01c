import { proxyActivities, setCurrentDetails } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { DeletedMedia } from '../lib/domain/media';

const { deleteExpiredMedia } = proxyActivities<Pick<Activities, 'deleteExpiredMedia'>>({
  startToCloseTimeout: '30 minutes',
  // It heartbeats while it walks the store: a killed worker's attempt is retried within a minute.
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 5 },
});

/** Started by the `media-cleanup` schedule: deletes media past `MEDIA_INDEX_TTL_SECONDS` and stale partial files. */
export async function mediaCleanup(): Promise<DeletedMedia> {
  setCurrentDetails('Deleting expired media');
  // A result recorded before partial files were counted has no partialsDeleted.
  const { deleted, partialsDeleted = 0 } = await deleteExpiredMedia();
  setCurrentDetails(`Deleted ${deleted} expired media objects and ${partialsDeleted} partial files`);
  return { deleted, partialsDeleted };
}
