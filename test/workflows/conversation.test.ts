import type { WorkflowHandle } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import type { Activities } from '../../activities';
import { waitFor } from '../../dev/process';
import {
  conversationWorkflowType,
  inboundMessageSignal,
  stateQuery,
  type ConversationInput,
  type ConversationWorkflow,
} from '../../lib/domain/conversation';
import type { Understanding } from '../../lib/domain/intents';
import { type InboundMessage } from '../../lib/domain/messages';
import { bookingText } from '../../lib/domain/templates';
import type { TenantProfile } from '../../lib/domain/tenants';
import { eventKinds, Gate, patchMarkers, useWorkflowEnvironment, withWorker } from './harness';
import { conversationIdFor } from '../helpers/webhooks';

/**
 * The conversation on the real dev server with stub activities: a booking saga as its child, cancellation, and
 * continue-as-new while a booking runs.
 */
const workflowEnv = useWorkflowEnvironment();

const t = bookingText('en');
const phoneNumberId = '100200300';
const hotel: TenantProfile = {
  id: 'hotel-test',
  name: 'Hotel Test',
  status: 'active',
  locale: 'en',
  timezone: 'Europe/Madrid',
  businessHours: {},
  info: {},
  whatsappTokenRef: null,
};

/** What the stub understander makes of each text the tests send. */
const meanings: Record<string, Omit<Understanding, 'language'>> = {
  rooms: { intent: 'availability', stay: { checkIn: '2031-03-01', checkOut: '2031-03-03', adults: 2 } },
  '1': { intent: 'book', choice: 1 },
  cancel: { intent: 'cancel_booking' },
};

/** The conversation's world: the calls the stubs saw and the texts sent to the guest. */
function world() {
  const calls: string[] = [];
  const texts: string[] = [];
  const creating = new Gate();
  let holdCreate = false;
  const activities = {
    resolveTenant() {
      return Promise.resolve({ kind: 'resolved', tenant: hotel });
    },
    understand({ text }) {
      return Promise.resolve({ intent: 'greeting', ...meanings[text ?? ''], language: 'en' });
    },
    checkAvailability() {
      const room = {
        roomTypeId: '1',
        roomTypeName: 'Double room',
        roomIds: ['11'],
        pricePerNight: 90,
        currency: 'EUR',
      };
      return Promise.resolve({ rooms: [room], provisional: false, checkedAt: '2031-01-01T00:00:00.000Z' });
    },
    sendMessage({ text }) {
      texts.push(text);
      return Promise.resolve({ messageId: `wamid.out.${randomUUID()}` });
    },
    acquireHold() {
      return Promise.resolve({ kind: 'held', expiresAt: Date.now() + 900_000 });
    },
    releaseHold({ roomId }) {
      calls.push(`releaseHold ${roomId}`);
      return Promise.resolve({ kind: 'released' });
    },
    async createBooking({ reference, roomId, checkIn, checkOut, roomTypeId }) {
      calls.push(`createBooking ${roomId}`);
      if (holdCreate) await creating.pass();
      const booking = {
        bookingId: '501',
        reference,
        status: 'confirmed',
        roomTypeId,
        roomId,
        checkIn,
        checkOut,
      } as const;
      return { kind: 'booked', booking };
    },
    cancelBookingsByReference() {
      calls.push('cancelBookingsByReference');
      return Promise.resolve({ cancelled: ['501'] });
    },
    recordInteractions() {
      return Promise.resolve();
    },
    cancelBooking({ bookingId }) {
      calls.push(`cancelBooking ${bookingId}`);
      return Promise.resolve({
        bookingId,
        reference: 'ref',
        status: 'cancelled',
        roomTypeId: '1',
        roomId: '11',
        checkIn: '2031-03-01',
        checkOut: '2031-03-03',
      });
    },
  } satisfies Partial<Activities>;
  return {
    calls,
    texts,
    activities,
    /** Makes the PMS's create wait at `creating` until released. */
    holdCreateBooking() {
      holdCreate = true;
      return creating;
    },
  };
}

/** A guest of their own, and how to write to them as the API would. */
function guest(taskQueue: string, overrides: Partial<ConversationInput> = {}) {
  const waId = `1555${Math.floor(Math.random() * 1e7)}`;
  const workflowId = conversationIdFor(phoneNumberId, waId);
  const input: ConversationInput = {
    phoneNumberId,
    waId,
    idleTimeoutSeconds: 600,
    seenIdsMax: 100,
    booking: { maxStayNights: 30, holdTtlSeconds: 900, holdMaxExtensions: 2, pmsTimeoutSeconds: 60 },
    ...overrides,
  };
  const message = (text: string): InboundMessage => ({
    id: `wamid.in.${randomUUID()}`,
    from: waId,
    timestamp: Math.floor(Date.now() / 1000),
    type: 'text',
    text,
  });
  return {
    handle: workflowEnv().client.workflow.getHandle<ConversationWorkflow>(workflowId),
    message,
    async write(text: string | InboundMessage): Promise<InboundMessage> {
      const m = typeof text === 'string' ? message(text) : text;
      await workflowEnv().client.workflow.signalWithStart<ConversationWorkflow, [InboundMessage]>(
        conversationWorkflowType,
        {
          workflowId,
          taskQueue,
          args: [input],
          signal: inboundMessageSignal,
          signalArgs: [m],
        },
      );
      return m;
    },
  };
}

async function runOf(handle: WorkflowHandle): Promise<string> {
  return (await handle.describe()).runId;
}

it('continue-as-new in the middle of a booking: the run that started the saga stays until its outcome arrives', async () => {
  const w = world();
  const creating = w.holdCreateBooking();
  await withWorker(workflowEnv(), w.activities, async (taskQueue) => {
    // A bound every run reaches at its first message: each message would end its run but for a running booking.
    const g = guest(taskQueue, { historyBound: { events: 1, bytes: 1024 * 1024 } });
    const first = await g.write('rooms');
    const firstRun = await runOf(g.handle);
    await waitFor('the offer', () => w.texts.length === 1);
    await waitFor('the first run continued as new', async () => (await runOf(g.handle)) !== firstRun);
    expect(await patchMarkers(workflowEnv().client.workflow.getHandle(g.handle.workflowId, firstRun))).toEqual([
      'perf-local-steps',
      'guest-ux-read-typing',
      'interaction-log',
      'continue-as-new-history-bound',
    ]);
    // The offer crossed over: "1" books its first room.
    expect((await g.handle.query(stateQuery)).offer?.rooms).toHaveLength(1);

    const bookingRun = await runOf(g.handle);
    await g.write('1');
    await creating.reached;
    await g.write('hello');
    try {
      await waitFor('the answer during the booking', () => w.texts.length === 2);
      const during = await g.handle.query(stateQuery);
      expect(during.booking?.status).toBe('in_progress');
      // Past its bound, but its saga is running: the run did not continue as new.
      expect(await runOf(g.handle)).toBe(bookingRun);
      expect((await g.handle.describe()).status.name).toBe('RUNNING');
    } finally {
      creating.release();
    }
    await waitFor('the outcome in the conversation', async () => {
      return (await g.handle.query(stateQuery)).booking?.status === 'confirmed';
    });
    expect(await runOf(g.handle)).toBe(bookingRun);
    const reference = (await g.handle.query(stateQuery)).booking!.reference;
    const saga = await workflowEnv().client.workflow.getHandle(reference).describe();
    expect(saga.parentExecution).toEqual({ workflowId: g.handle.workflowId, runId: bookingRun });

    // The next message is answered, and then the run continues as new, carrying the booking along.
    await g.write('thanks');
    await waitFor('a third run', async () => (await runOf(g.handle)) !== bookingRun);
    const previous = workflowEnv().client.workflow.getHandle(g.handle.workflowId, bookingRun);
    expect((await previous.describe()).status.name).toBe('CONTINUED_AS_NEW');
    const kinds = await eventKinds(previous);
    expect(kinds.indexOf('childWorkflowExecutionCompleted')).toBeLessThan(
      kinds.indexOf('workflowExecutionContinuedAsNew'),
    );
    // The run showed `booking` while the saga ran, and continued on the project's bound (the dev server suggests it
    // only at 4,096 events): the patch markers of both changes.
    expect(await patchMarkers(previous)).toEqual([
      'perf-local-steps',
      'guest-ux-read-typing',
      'conversation-status-booking',
      'interaction-log',
      'continue-as-new-history-bound',
    ]);

    const after = await g.handle.query(stateQuery);
    expect(after.booking).toMatchObject({ reference, status: 'confirmed', bookingId: '501' });
    expect(after.received).toBe(4);
    expect(w.texts).toHaveLength(4);
    expect(w.texts[2]).toBe(t.confirmed('Double room', '2031-03-01', '2031-03-03', reference));
    // The seen ids crossed both continue-as-new: Meta redelivering the first message is dropped.
    await g.write(first);
    await waitFor('the duplicate dropped', async () => (await g.handle.query(stateQuery)).duplicatesDropped === 1);
    expect(w.texts).toHaveLength(4);
    await g.handle.terminate('test over');
  });
});

it('a guest who cancels while the saga books: the saga undoes what it did and tells them', async () => {
  const w = world();
  const creating = w.holdCreateBooking();
  await withWorker(workflowEnv(), w.activities, async (taskQueue) => {
    const g = guest(taskQueue);
    await g.write('rooms');
    await waitFor('the offer', () => w.texts.length === 1);
    await g.write('1');
    await creating.reached;
    const reference = (await g.handle.query(stateQuery)).booking!.reference;
    await g.write('cancel');
    try {
      await waitFor('the saga told to cancel', async () => {
        const { events } = await workflowEnv().client.workflow.getHandle(reference).fetchHistory();
        return (events ?? []).some((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'cancelBooking');
      });
    } finally {
      creating.release();
    }
    await waitFor('the cancellation', async () => (await g.handle.query(stateQuery)).booking?.status === 'cancelled');
    expect(w.calls).toEqual(['createBooking 11', 'cancelBookingsByReference', 'releaseHold 11']);
    expect(w.texts).toEqual([expect.stringContaining('Double room'), t.cancelled()]);
    await g.handle.terminate('test over');
  });
});

it('a guest who cancels after the saga finished: the confirmed booking is cancelled at the PMS', async () => {
  const w = world();
  await withWorker(workflowEnv(), w.activities, async (taskQueue) => {
    const g = guest(taskQueue);
    await g.write('rooms');
    await waitFor('the offer', () => w.texts.length === 1);
    await g.write('1');
    await waitFor('the confirmation', async () => (await g.handle.query(stateQuery)).booking?.status === 'confirmed');
    await g.write('cancel');
    await waitFor('the cancellation told', () => w.texts.at(-1) === t.cancelled());
    expect((await g.handle.query(stateQuery)).booking?.status).toBe('cancelled');
    expect(w.calls).toEqual(['createBooking 11', 'releaseHold 11', 'cancelBooking 501']);
    await g.handle.terminate('test over');
  });
});
