import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { randomUUID } from 'node:crypto';
import type { Activities } from '../../activities';
import { waitFor } from '../../dev/process';
import {
  closeUpdate,
  conversationWorkflowType,
  handoffUpdate,
  inboundMessageSignal,
  operatorReplyUpdate,
  operatorTextMax,
  resumeUpdate,
  stateQuery,
  type ConversationInput,
  type ConversationWorkflow,
} from '../../lib/domain/conversation';
import { retryAbortedUpdate } from '../../lib/temporal-updates';
import { ErrorType } from '../../lib/domain/errors';
import type { Understanding } from '../../lib/domain/intents';
import type { DownloadMediaInput } from '../../lib/domain/media';
import type { InboundMessage, SendTextInput } from '../../lib/domain/messages';
import { ConversationStatus, GuestRef } from '../../lib/domain/search-attributes';
import type { TenantProfile } from '../../lib/domain/tenants';
import { acceptedUpdates } from '../helpers/conversations';
import { eventKinds, Gate, patchMarkers, useWorkflowEnvironment, withWorker } from './harness';

/**
 * What operators do to a conversation, on the real dev server with stub activities: the four updates, each valid and
 * refused by its validator (nothing recorded), handoff silencing the bot and resume bringing it back, a guest asking
 * for a person, close ending the run.
 */
const workflowEnv = useWorkflowEnvironment();

const phoneNumberId = '100200300';
const operator = { tokenId: '0123456789abcdef' };
const hotel: TenantProfile = {
  id: 'hotel-ops',
  name: 'Hotel Ops',
  status: 'active',
  locale: 'en',
  timezone: 'Europe/Madrid',
  businessHours: {},
  info: {},
  whatsappTokenRef: null,
};

const meanings: Record<string, Omit<Understanding, 'language'>> = {
  person: { intent: 'human' },
  rooms: { intent: 'availability', stay: { checkIn: '2031-03-01', checkOut: '2031-03-03', adults: 2 } },
  '1': { intent: 'book', choice: 1 },
};

/** The stubs' world: what was understood, sent and downloaded. */
function world(options: { tenant?: 'resolved' | 'unknown' } = {}) {
  const understood: string[] = [];
  const sent: SendTextInput[] = [];
  const downloads: DownloadMediaInput[] = [];
  const creating = new Gate();
  const activities = {
    resolveTenant() {
      return Promise.resolve(options.tenant === 'unknown' ? { kind: 'unknown' } : { kind: 'resolved', tenant: hotel });
    },
    understand({ text }) {
      understood.push(text ?? '');
      return Promise.resolve({ intent: 'greeting', ...meanings[text ?? ''], language: 'en' });
    },
    sendMessage(input) {
      sent.push(input);
      return Promise.resolve({ messageId: `wamid.out.${randomUUID()}` });
    },
    downloadMedia(input) {
      downloads.push(input);
      return Promise.resolve({
        kind: 'stored',
        mediaId: input.mediaId,
        sha256: 'a'.repeat(64),
        size: 10,
        mimeType: 'image/jpeg',
        ref: `media/${input.tenantId}/${'a'.repeat(64)}`,
      });
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
    acquireHold() {
      return Promise.resolve({ kind: 'held', expiresAt: Date.now() + 900_000 });
    },
    releaseHold() {
      return Promise.resolve({ kind: 'released' });
    },
    async createBooking({ reference, roomId, checkIn, checkOut, roomTypeId }) {
      await creating.pass();
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
    recordInteractions() {
      return Promise.resolve();
    },
  } satisfies Partial<Activities>;
  return { understood, sent, downloads, creating, activities, texts: () => sent.map((s) => s.text) };
}

function guest(taskQueue: string, overrides: Partial<ConversationInput> = {}) {
  const waId = `1555${Math.floor(Math.random() * 1e7)}`;
  const workflowId = `wa:${phoneNumberId}:ops-${randomUUID()}`;
  const input: ConversationInput = {
    phoneNumberId,
    waId,
    guestRef: '0123456789abcdef0123',
    idleTimeoutSeconds: 600,
    seenIdsMax: 100,
    ...overrides,
  };
  const handle = workflowEnv().client.workflow.getHandle<ConversationWorkflow>(workflowId);
  let lastRun = '';
  return {
    handle,
    /** The run the last `write` signalled. */
    lastRun: () => lastRun,
    async write(text: string, extra: Partial<InboundMessage> = {}): Promise<InboundMessage> {
      const message: InboundMessage = {
        id: `wamid.in.${randomUUID()}`,
        from: waId,
        timestamp: Math.floor(Date.now() / 1000),
        type: 'text',
        text,
        ...extra,
      };
      const signalled = await workflowEnv().client.workflow.signalWithStart<ConversationWorkflow, [InboundMessage]>(
        conversationWorkflowType,
        { workflowId, taskQueue, args: [input], signal: inboundMessageSignal, signalArgs: [message] },
      );
      lastRun = signalled.signaledRunId;
      return message;
    },
  };
}

/** The updates the run accepted, with their arguments, as its history records them. */
const updateEvents = (handle: WorkflowHandle) => acceptedUpdates(workflowEnv().client, handle);

/** Expects the update to be refused by its validator for `reason`, and nothing of it to reach the history. */
async function expectRefused(handle: WorkflowHandle, update: Promise<unknown>, reason: string): Promise<void> {
  const updateEventKinds = async () =>
    (await eventKinds(handle)).filter((k) => k.startsWith('workflowExecutionUpdate'));
  const before = await updateEventKinds();
  const err: unknown = await update.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
  const cause = (err as WorkflowUpdateFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  expect((cause as ApplicationFailure).type).toBe(ErrorType.OperatorActionRefused);
  expect((cause as ApplicationFailure).details).toEqual([{ reason }]);
  // A validator's refusal is not recorded: no update event reached the history.
  expect(await updateEventKinds()).toEqual(before);
}

async function statusAttribute(handle: WorkflowHandle): Promise<unknown> {
  return (await handle.describe()).typedSearchAttributes.get(ConversationStatus);
}

it('handoff silences the bot: later messages are recorded and their media kept, not answered; resume brings it back', async () => {
  const w = world();
  await withWorker(workflowEnv(), w.activities, async (taskQueue) => {
    const g = guest(taskQueue);
    await g.write('hello');
    await waitFor('the greeting', () => w.sent.length === 1);

    const state = await g.handle.executeUpdate(handoffUpdate, { args: [{ operator }] });
    expect(state).toMatchObject({ status: 'handoff', handoff: { by: 'operator', tokenId: operator.tokenId } });
    expect(await statusAttribute(g.handle)).toBe('handoff');
    expect(await updateEvents(g.handle)).toEqual([{ name: 'handoff', args: [{ operator }] }]);

    await g.write('is anyone there?');
    await g.write('my passport', { type: 'image', media: { id: 'media-1', mimeType: 'image/jpeg', sha256: 'c2hh' } });
    await waitFor('both kept', async () => (await g.handle.query(stateQuery)).lastMessages[3]?.media !== undefined);
    const during = await g.handle.query(stateQuery);
    expect(during.lastMessages.slice(2)).toEqual([
      expect.objectContaining({ direction: 'in', text: 'is anyone there?' }),
      expect.objectContaining({ direction: 'in', type: 'image', media: expect.objectContaining({ size: 10 }) }),
    ]);
    // Downloaded (tagged with the guest's reference), but neither understood nor answered.
    expect(w.downloads).toEqual([expect.objectContaining({ mediaId: 'media-1', guestRef: '0123456789abcdef0123' })]);
    expect(w.understood).toEqual(['hello']);
    expect(w.sent).toHaveLength(1);

    const resumed = await g.handle.executeUpdate(resumeUpdate, { args: [{ operator }] });
    expect(resumed.status).toBe('active');
    expect(resumed.handoff).toBeUndefined();
    expect(await statusAttribute(g.handle)).toBe('active');
    await g.write('thanks');
    await waitFor('the bot answers again', () => w.sent.length === 2);
    expect(w.understood).toEqual(['hello', 'thanks']);
    await g.handle.terminate('test over');
  });
});

it('refuses a handoff with no operator id, or of a conversation already in handoff, and records neither', async () => {
  const w = world();
  await withWorker(workflowEnv(), w.activities, async (taskQueue) => {
    const g = guest(taskQueue);
    await g.write('hello');
    await waitFor('the greeting', () => w.sent.length === 1);
    await expectRefused(
      g.handle,
      g.handle.executeUpdate(handoffUpdate, { args: [{ operator: { tokenId: '' } }] }),
      'invalid_request',
    );
    await g.handle.executeUpdate(handoffUpdate, { args: [{ operator }] });
    await expectRefused(
      g.handle,
      g.handle.executeUpdate(handoffUpdate, { args: [{ operator }] }),
      'already_in_handoff',
    );
    expect(await updateEvents(g.handle)).toEqual([{ name: 'handoff', args: [{ operator }] }]);
    await g.handle.terminate('test over');
  });
});

it('an operator reply goes out through the send path, is recorded with the token id, and hands the conversation off', async () => {
  const w = world();
  await withWorker(workflowEnv(), w.activities, async (taskQueue) => {
    const g = guest(taskQueue);
    await g.write('hello');
    await waitFor('the greeting', () => w.sent.length === 1);
    const text = 'Hi, this is Ana from reception. How can I help?';
    const record = await g.handle.executeUpdate(operatorReplyUpdate, { args: [{ operator, text }] });
    expect(record).toMatchObject({
      direction: 'out',
      text,
      operator: operator.tokenId,
      status: 'sent',
      id: expect.stringMatching(/^wamid\.out\./),
    });
    // The same activity as the bot's replies, from the conversation's number to the guest, quoting nothing.
    // Its idempotency key is the conversation's next: the greeting was #1.
    expect(w.sent[1]).toEqual({
      phoneNumberId,
      to: expect.any(String),
      text,
      tokenRef: null,
      tenantId: hotel.id,
      idempotencyKey: `${g.handle.workflowId}#2`,
    });
    const state = await g.handle.query(stateQuery);
    expect(state.status).toBe('handoff');
    expect(state.lastMessages.at(-1)).toEqual(record);
    expect(await statusAttribute(g.handle)).toBe('handoff');
    expect(await updateEvents(g.handle)).toEqual([{ name: 'operatorReply', args: [{ operator, text }] }]);
    await g.handle.terminate('test over');
  });
});

it('refuses an operator reply that is empty or too long, or in a conversation no hotel answers for', async () => {
  const w = world();
  await withWorker(workflowEnv(), w.activities, async (taskQueue) => {
    const g = guest(taskQueue);
    await g.write('hello');
    await waitFor('the greeting', () => w.sent.length === 1);
    for (const text of ['   ', 'x'.repeat(operatorTextMax + 1)]) {
      await expectRefused(
        g.handle,
        g.handle.executeUpdate(operatorReplyUpdate, { args: [{ operator, text }] }),
        'invalid_request',
      );
    }
    expect(w.sent).toHaveLength(1);
    await g.handle.terminate('test over');
  });
  const unknown = world({ tenant: 'unknown' });
  await withWorker(workflowEnv(), unknown.activities, async (taskQueue) => {
    const g = guest(taskQueue);
    await g.write('hello');
    await waitFor('the tenant resolved', async () => (await g.handle.query(stateQuery)).tenant.kind === 'unknown');
    await expectRefused(
      g.handle,
      g.handle.executeUpdate(operatorReplyUpdate, { args: [{ operator, text: 'Hello' }] }),
      'no_tenant',
    );
    expect(unknown.sent).toEqual([]);
    await g.handle.terminate('test over');
  });
});

it('refuses to resume a conversation that is not in handoff', async () => {
  const w = world();
  await withWorker(workflowEnv(), w.activities, async (taskQueue) => {
    const g = guest(taskQueue);
    await g.write('hello');
    await waitFor('the greeting', () => w.sent.length === 1);
    await expectRefused(g.handle, g.handle.executeUpdate(resumeUpdate, { args: [{ operator }] }), 'not_in_handoff');
    await expectRefused(
      g.handle,
      g.handle.executeUpdate(resumeUpdate, { args: [{ operator: { tokenId: 'bad id' } }] }),
      'invalid_request',
    );
    expect(await updateEvents(g.handle)).toEqual([]);
    await g.handle.terminate('test over');
  });
});

it('close ends the run at once, recorded with the operator and the reason; a bad reason is refused', async () => {
  const w = world();
  await withWorker(workflowEnv(), w.activities, async (taskQueue) => {
    // A dedup window already over: the dormant run after the close completes at once (see dormant.test.ts).
    const g = guest(taskQueue, { dedupWindowSeconds: 1 });
    await g.write('hello');
    await waitFor('the greeting', () => w.sent.length === 1);
    await expectRefused(
      g.handle,
      g.handle.executeUpdate(closeUpdate, { args: [{ operator, reason: 'later' as 'operator' }] }),
      'invalid_request',
    );
    // A client sends the close again if the server aborted it with its workflow task (see lib/temporal-updates.ts).
    const closed = await retryAbortedUpdate(() =>
      g.handle.executeUpdate(closeUpdate, { args: [{ operator, reason: 'erasure' }] }),
    );
    expect(closed.status).toBe('closed');
    expect(await g.handle.result()).toEqual({
      status: 'closed',
      received: 1,
      duplicatesDropped: 0,
      closedBy: { tokenId: operator.tokenId, reason: 'erasure' },
    });
    expect(await statusAttribute(g.handle)).toBe('closed');
    expect(await updateEvents(g.handle)).toEqual([{ name: 'close', args: [{ operator, reason: 'erasure' }] }]);
  });
});

it('refuses to close while a booking runs, and shows `booking` until the saga ends', async () => {
  const w = world();
  await withWorker(workflowEnv(), w.activities, async (taskQueue) => {
    const g = guest(taskQueue);
    await g.write('rooms');
    await waitFor('the offer', () => w.sent.length === 1);
    await g.write('1');
    await w.creating.reached;
    try {
      await waitFor('booking shown', async () => (await statusAttribute(g.handle)) === 'booking');
      expect((await g.handle.query(stateQuery)).status).toBe('booking');
      await expectRefused(
        g.handle,
        g.handle.executeUpdate(closeUpdate, { args: [{ operator }] }),
        'booking_in_progress',
      );
    } finally {
      w.creating.release();
    }
    await waitFor('active again', async () => (await statusAttribute(g.handle)) === 'active');
    expect((await g.handle.query(stateQuery)).booking?.status).toBe('confirmed');
    // The saga carries the guest's reference, so the guest's bookings can be found without the number.
    const reference = (await g.handle.query(stateQuery)).booking!.reference;
    const saga = await workflowEnv().client.workflow.getHandle(reference).describe();
    expect(saga.typedSearchAttributes.get(GuestRef)).toBe('0123456789abcdef0123');
    expect(await patchMarkers(g.handle)).toEqual([
      'perf-local-steps',
      'guest-ux-read-typing',
      'interaction-log',
      'conversation-status-booking',
    ]);
    await g.handle.terminate('test over');
  });
});

it('a guest who asks for a person is handed off: told so once, then the bot keeps quiet', async () => {
  const w = world();
  await withWorker(workflowEnv(), w.activities, async (taskQueue) => {
    const g = guest(taskQueue);
    await g.write('person');
    await waitFor('the staff reply', () => w.sent.length === 1);
    expect(w.texts()[0]).toMatch(/A person will answer|staff|team/);
    await waitFor('handoff shown', async () => (await statusAttribute(g.handle)) === 'handoff');
    expect((await g.handle.query(stateQuery)).handoff).toMatchObject({ by: 'guest' });
    expect(await patchMarkers(g.handle)).toEqual([
      'perf-local-steps',
      'guest-ux-read-typing',
      'guest-asks-for-person-handoff',
      'interaction-log',
    ]);
    await g.write('hello?');
    await waitFor('the message kept', async () => (await g.handle.query(stateQuery)).lastMessages.length === 3);
    expect(w.sent).toHaveLength(1);
    // Staff answer from here; a second handoff is refused, resume hands it back.
    await expectRefused(
      g.handle,
      g.handle.executeUpdate(handoffUpdate, { args: [{ operator }] }),
      'already_in_handoff',
    );
    await g.handle.executeUpdate(resumeUpdate, { args: [{ operator }] });
    await g.handle.terminate('test over');
  });
});

it('stays in handoff across continue-as-new', async () => {
  const w = world();
  await withWorker(workflowEnv(), w.activities, async (taskQueue) => {
    const g = guest(taskQueue, { historyBound: { events: 1, bytes: 1024 * 1024 } });
    const firstRun = await g.write('hello').then(() => g.lastRun());
    await waitFor('the greeting', () => w.sent.length === 1);
    await waitFor('continued as new', async () => (await g.handle.describe()).runId !== firstRun);
    await g.handle.executeUpdate(handoffUpdate, { args: [{ operator }] });
    const secondRun = (await g.handle.describe()).runId;
    await g.write('still there?');
    await waitFor('a third run', async () => (await g.handle.describe()).runId !== secondRun);
    const state = await g.handle.query(stateQuery);
    expect(state).toMatchObject({ status: 'handoff', handoff: { by: 'operator', tokenId: operator.tokenId } });
    expect(await statusAttribute(g.handle)).toBe('handoff');
    expect(w.sent).toHaveLength(1);
    await g.handle.terminate('test over');
  });
});
