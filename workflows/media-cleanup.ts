import { proxyActivities, setCurrentDetails } from '@temporalio/workflow';

/**
 * The one activity this workflow calls. `createMediaActivities` (activities/media.ts) implements it; a unit test
 * checks that the two agree. (Workflows may import only `activities/index` types, which do not list the media
 * activities until the worker merges them in.)
 */
export interface MediaCleanupActivities {
  deleteExpiredMedia(): Promise<{ deleted: number; partialsDeleted?: number }>;
}

const { deleteExpiredMedia } = proxyActivities<MediaCleanupActivities>({
  startToCloseTimeout: '30 minutes',
  // It heartbeats while it walks the store: a killed worker's attempt is retried within a minute.
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 5 },
});

/** Started by the `media-cleanup` schedule: deletes media past `MEDIA_INDEX_TTL_SECONDS` and stale partial files. */
export async function mediaCleanup(): Promise<{ deleted: number; partialsDeleted: number }> {
  setCurrentDetails('Deleting expired media');
  const { deleted, partialsDeleted = 0 } = await deleteExpiredMedia();
  setCurrentDetails(`Deleted ${deleted} expired media objects and ${partialsDeleted} partial files`);
  return { deleted, partialsDeleted };
}
