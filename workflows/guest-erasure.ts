import { proxyActivities, setCurrentDetails } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { ErrorType } from '../lib/domain/errors';
import type { GuestMediaErasure, GuestMediaErasureInput } from '../lib/domain/media';

const { eraseGuestMedia } = proxyActivities<Pick<Activities, 'eraseGuestMedia'>>({
  startToCloseTimeout: '5 minutes',
  // Redis or the store being down delays the erasure; the admin API answers 503 meanwhile and the run carries on.
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    nonRetryableErrorTypes: [ErrorType.MediaInvalidRequest],
  },
});

/**
 * Erases the media one guest sent to one tenant, on the worker that owns the media store. Started by the admin API's
 * `DELETE /admin/guests/:phone`, with the id `guest-media-erasure:<tenant>:<guest ref>`.
 */
export async function guestMediaErasure(input: GuestMediaErasureInput): Promise<GuestMediaErasure> {
  setCurrentDetails(`Erasing the media of guest ${input.guestRef} at tenant ${input.tenantId}`);
  const erased = await eraseGuestMedia(input);
  setCurrentDetails(
    `Erased ${erased.objectsDeleted} objects (${erased.bytesDeleted} bytes), kept ${erased.objectsShared} shared`,
  );
  return erased;
}
