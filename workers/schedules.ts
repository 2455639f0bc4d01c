import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client, type ScheduleHandle } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import type { Config } from '../lib/config';
import type { mediaCleanup } from '../workflows/media-cleanup';

export const mediaCleanupScheduleId = 'media-cleanup';
/** The name `workflows/media-cleanup.ts` exports (a unit test checks it). */
export const mediaCleanupWorkflowType = 'mediaCleanup';

export interface MediaCleanupScheduleOptions {
  /** Tests use an id of their own; `media-cleanup` otherwise. */
  scheduleId?: string;
  /** How often the cleanup runs; hourly by default. */
  every?: Duration;
}

/**
 * Creates the Temporal schedule that runs the `mediaCleanup` workflow on the worker's task queue (hourly by
 * default), or leaves it as it is when it already exists, so every worker can call this at start. Overlapping
 * runs are skipped; runs missed while Temporal was down are caught up within an hour. Returns its handle.
 */
export async function ensureMediaCleanupSchedule(
  client: Client,
  config: Config,
  options: MediaCleanupScheduleOptions = {},
): Promise<ScheduleHandle> {
  const scheduleId = options.scheduleId ?? mediaCleanupScheduleId;
  try {
    await client.schedule.create({
      scheduleId,
      spec: { intervals: [{ every: options.every ?? '1 hour' }] },
      action: {
        type: 'startWorkflow',
        workflowType: mediaCleanupWorkflowType,
        args: [] satisfies Parameters<typeof mediaCleanup>,
        taskQueue: config.temporal.taskQueue,
        workflowId: scheduleId,
        workflowRunTimeout: '1 hour',
      },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' },
      state: { note: 'Deletes media past MEDIA_INDEX_TTL_SECONDS and partial downloads a killed worker left.' },
    });
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  return client.schedule.getHandle(scheduleId);
}
