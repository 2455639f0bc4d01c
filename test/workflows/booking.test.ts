import { ApplicationFailure } from '@temporalio/workflow';
import { randomUUID } from 'node:crypto';
import type { Activities } from '../../activities';
import { bookingStatusQuery, cancelBookingSignal } from '../../lib/domain/booking';
import { ErrorType } from '../../lib/domain/errors';
import { bookingText } from '../../lib/domain/templates';
import { booking } from '../../workflows/booking';
import { eventKinds, Gate, sagaInput, signalProcessed, useWorkflowEnvironment, withWorker } from './harness';

/**
 * The booking saga alone, on the real dev server, with stub activities: the races and failures that the end-to-end
 * tests can reach only by luck, each made to happen at a chosen step.
 */
const workflowEnv = useWorkflowEnvironment();

const t = bookingText('en');

/** The saga's world: what each stub was asked, the texts sent to the guest, and the booking the PMS makes. */
function world() {
  const calls: string[] = [];
  const texts: string[] = [];
  const record = (reference: string) => ({
    bookingId: '501',
    reference,
    status: 'confirmed' as const,
    roomTypeId: '1',
    roomId: '11',
    checkIn: '2031-03-01',
    checkOut: '2031-03-03',
  });
  const activities = {
    acquireHold({ roomId }) {
      calls.push(`acquireHold ${roomId}`);
      return Promise.resolve({ kind: 'held', expiresAt: Date.now() + 900_000 });
    },
    extendHold({ roomId }) {
      calls.push(`extendHold ${roomId}`);
      return Promise.resolve({ kind: 'extended', expiresAt: Date.now() + 900_000, extensionsLeft: 1 });
    },
    releaseHold({ roomId }) {
      calls.push(`releaseHold ${roomId}`);
      return Promise.resolve({ kind: 'released' });
    },
    createBooking({ reference, roomId }) {
      calls.push(`createBooking ${roomId}`);
      return Promise.resolve({ kind: 'booked', booking: record(reference) });
    },
    cancelBookingsByReference({ reference }) {
      calls.push(`cancelBookingsByReference ${reference.slice(0, 8)}`);
      return Promise.resolve({ cancelled: ['501'] });
    },
    cancelBooking({ bookingId }) {
      calls.push(`cancelBooking ${bookingId}`);
      return Promise.resolve({ ...record('ref'), bookingId, status: 'cancelled' });
    },
    sendMessage({ text }) {
      texts.push(text);
      return Promise.resolve({ messageId: `wamid.out.${texts.length}` });
    },
  } satisfies Partial<Activities>;
  return { calls, texts, activities };
}

const reference = () => `booking-${randomUUID()}`;

it('confirms: holds, books, tells the guest, releases the hold', async () => {
  const { calls, texts, activities } = world();
  await withWorker(workflowEnv(), activities, async (taskQueue) => {
    const workflowId = reference();
    const outcome = await workflowEnv().client.workflow.execute(booking, {
      workflowId,
      taskQueue,
      args: [sagaInput()],
    });
    expect(outcome).toEqual({ kind: 'confirmed', reference: workflowId, bookingId: '501', roomId: '11' });
    expect(calls).toEqual(['acquireHold 11', 'createBooking 11', 'releaseHold 11']);
    expect(texts).toEqual([t.confirmed('Double room', '2031-03-01', '2031-03-03', workflowId)]);
  });
});

it('compensates in reverse when the PMS refuses the booking, and tells the guest it failed', async () => {
  const { calls, texts, activities } = world();
  const refusing = {
    ...activities,
    createBooking({ roomId }) {
      calls.push(`createBooking ${roomId}`);
      return Promise.reject(ApplicationFailure.nonRetryable('Room type not sold', ErrorType.PmsRejected));
    },
  } satisfies Partial<Activities>;
  await withWorker(workflowEnv(), refusing, async (taskQueue) => {
    const workflowId = reference();
    const outcome = await workflowEnv().client.workflow.execute(booking, {
      workflowId,
      taskQueue,
      args: [sagaInput()],
    });
    expect(outcome).toMatchObject({ kind: 'failed', reference: workflowId, reason: 'PmsRejected: Room type not sold' });
    // Undone most recent first: whatever the create may have booked, then the hold.
    expect(calls).toEqual([
      'acquireHold 11',
      'createBooking 11',
      `cancelBookingsByReference ${workflowId.slice(0, 8)}`,
      'releaseHold 11',
    ]);
    expect(texts).toEqual([t.failed()]);
    expect((await workflowEnv().client.workflow.getHandle(workflowId).query(bookingStatusQuery)).step).toBe('failed');
  });
});

it('runs every compensation step even when one fails, and tells the guest a person will follow up', async () => {
  const { calls, texts, activities } = world();
  const failing = {
    ...activities,
    createBooking() {
      calls.push('createBooking 11');
      return Promise.reject(ApplicationFailure.nonRetryable('Room type not sold', ErrorType.PmsRejected));
    },
    cancelBookingsByReference() {
      calls.push('cancelBookingsByReference');
      return Promise.reject(ApplicationFailure.nonRetryable('Order locked', ErrorType.PmsRejected));
    },
  } satisfies Partial<Activities>;
  await withWorker(workflowEnv(), failing, async (taskQueue) => {
    const workflowId = reference();
    const outcome = await workflowEnv().client.workflow.execute(booking, {
      workflowId,
      taskQueue,
      args: [sagaInput()],
    });
    expect(outcome.kind).toBe('failed');
    expect(calls).toEqual(['acquireHold 11', 'createBooking 11', 'cancelBookingsByReference', 'releaseHold 11']);
    expect(texts).toEqual([t.cancelFailed(workflowId)]);
  });
});

it('cancel while acquiring: the hold that may have been taken is released, nothing is booked', async () => {
  const { calls, texts, activities } = world();
  const acquiring = new Gate();
  const slowHold = {
    ...activities,
    async acquireHold({ roomId }) {
      calls.push(`acquireHold ${roomId}`);
      await acquiring.pass();
      return { kind: 'held', expiresAt: Date.now() + 900_000 };
    },
  } satisfies Partial<Activities>;
  await withWorker(workflowEnv(), slowHold, async (taskQueue) => {
    const workflowId = reference();
    const handle = await workflowEnv().client.workflow.start(booking, { workflowId, taskQueue, args: [sagaInput()] });
    await acquiring.reached;
    await handle.signal(cancelBookingSignal);
    const outcome = await handle.result().finally(() => acquiring.release());
    expect(outcome).toEqual({ kind: 'cancelled', reference: workflowId });
    // The release was registered before asking for the hold: the acquire may have taken it as the cancel arrived.
    expect(calls).toEqual(['acquireHold 11', 'releaseHold 11']);
    expect(texts).toEqual([t.cancelled()]);
    expect(await eventKinds(handle)).toContain('activityTaskCancelRequested');
  });
});

it('cancel racing the end of the saga: a booking confirmed as the guest cancelled is cancelled at the PMS', async () => {
  const { calls, texts, activities } = world();
  const releasing = new Gate();
  const slowRelease = {
    ...activities,
    async releaseHold({ roomId }) {
      calls.push(`releaseHold ${roomId}`);
      // The happy path's release (the last step, not cancellable) waits until the guest's cancel is in.
      if (calls.filter((c) => c.startsWith('releaseHold')).length === 1) await releasing.pass();
      return { kind: 'released' };
    },
  } satisfies Partial<Activities>;
  await withWorker(workflowEnv(), slowRelease, async (taskQueue) => {
    const workflowId = reference();
    const handle = await workflowEnv().client.workflow.start(booking, { workflowId, taskQueue, args: [sagaInput()] });
    try {
      await releasing.reached;
      expect((await handle.query(bookingStatusQuery)).step).toBe('releasing');
      await handle.signal(cancelBookingSignal);
      await signalProcessed(handle, 'cancelBooking');
    } finally {
      releasing.release();
    }
    const outcome = await handle.result();
    expect(outcome).toEqual({ kind: 'cancelled', reference: workflowId });
    expect(calls).toEqual(['acquireHold 11', 'createBooking 11', 'releaseHold 11', 'cancelBooking 501']);
    expect(texts).toEqual([t.confirmed('Double room', '2031-03-01', '2031-03-03', workflowId), t.cancelled()]);
  });
});

it('tries the next room when one is held by someone else, and is unavailable when none can be held', async () => {
  const { calls, texts, activities } = world();
  const taken = {
    ...activities,
    acquireHold({ roomId }) {
      calls.push(`acquireHold ${roomId}`);
      return Promise.resolve({ kind: 'conflict' });
    },
  } satisfies Partial<Activities>;
  await withWorker(workflowEnv(), taken, async (taskQueue) => {
    const workflowId = reference();
    const outcome = await workflowEnv().client.workflow.execute(booking, {
      workflowId,
      taskQueue,
      args: [sagaInput()],
    });
    expect(outcome).toEqual({ kind: 'unavailable', reference: workflowId });
    // Neither hold was taken, so none is released.
    expect(calls).toEqual(['acquireHold 11', 'acquireHold 12']);
    expect(texts).toEqual([t.unavailable('Double room')]);
  });
});
