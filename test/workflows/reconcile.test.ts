import { ApplicationFailure } from '@temporalio/common';
import { randomUUID } from 'node:crypto';
import type { Activities } from '../../activities';
import { waitFor } from '../../dev/process';
import {
  conversationWorkflowType,
  deliveryStatusSignal,
  inboundMessageSignal,
  stateQuery,
  type ConversationInput,
  type ConversationWorkflow,
} from '../../lib/domain/conversation';
import { ErrorType } from '../../lib/domain/errors';
import type { InboundMessage, SendTextInput } from '../../lib/domain/messages';
import type { TenantProfile } from '../../lib/domain/tenants';
import { patchMarkers, reconciledSends, useWorkflowEnvironment, withWorker } from './harness';

/**
 * A send whose outcome is unknown is reconciled by the conversation, not retried blindly: it waits for a status
 * webhook carrying the reply's idempotency key; one that arrives means the reply is sent (not sent again); without
 * one the reply is sent again with the same key. Unambiguous failures keep Temporal's retry. Real dev server, stubs.
 */
const workflowEnv = useWorkflowEnvironment();

const phoneNumberId = '100200300';
const hotel: TenantProfile = {
  id: 'hotel-reconcile',
  name: 'Hotel Reconcile',
  status: 'active',
  locale: 'en',
  timezone: 'Europe/Madrid',
  businessHours: {},
  info: {},
  whatsappTokenRef: null,
};

/** A stub WhatsApp whose first `failures` sends fail with `failure` (after "reaching Meta", for the ambiguous kind). */
function world(failure: () => Error, failures = 1) {
  const calls: SendTextInput[] = [];
  const activities = {
    resolveTenant() {
      return Promise.resolve({ kind: 'resolved', tenant: hotel });
    },
    understand() {
      return Promise.resolve({ intent: 'greeting', language: 'en' });
    },
    sendMessage(input) {
      calls.push(input);
      if (calls.length <= failures) return Promise.reject(failure());
      return Promise.resolve({ messageId: `wamid.out.${calls.length}` });
    },
    recordInteractions() {
      return Promise.resolve();
    },
  } satisfies Partial<Activities>;
  return { calls, activities };
}

const unknownOutcome = () =>
  ApplicationFailure.retryable(
    'WhatsApp send outcome unknown: SocketError: other side closed',
    ErrorType.SendOutcomeUnknown,
  );

async function startGuest(taskQueue: string, overrides: Partial<ConversationInput> = {}) {
  const workflowId = `wa:${phoneNumberId}:reconcile-${randomUUID()}`;
  const input: ConversationInput = {
    phoneNumberId,
    waId: '15550002222',
    idleTimeoutSeconds: 600,
    seenIdsMax: 100,
    reconcileWaitSeconds: 3,
    ...overrides,
  };
  const message: InboundMessage = {
    id: `wamid.in.${randomUUID()}`,
    from: input.waId,
    timestamp: Math.floor(Date.now() / 1000),
    type: 'text',
    text: 'hello',
  };
  const handle = await workflowEnv().client.workflow.signalWithStart<ConversationWorkflow, [InboundMessage]>(
    conversationWorkflowType,
    { workflowId, taskQueue, args: [input], signal: inboundMessageSignal, signalArgs: [message] },
  );
  return { handle, key: `${workflowId}#1` };
}

it('a send in doubt whose status webhook arrives counts as sent: not sent again, recorded with the status’s id', async () => {
  const reconciled = reconciledSends.count;
  const w = world(unknownOutcome);
  await withWorker(workflowEnv(), w.activities, async (taskQueue) => {
    const { handle, key } = await startGuest(taskQueue, { reconcileWaitSeconds: 60 });
    await waitFor('the first attempt', () => w.calls.length === 1);
    expect(w.calls[0]!.idempotencyKey).toBe(key);
    // Meta had it: its `sent` status echoes the key.
    await handle.signal(deliveryStatusSignal, { messageId: 'wamid.meta.1', status: 'sent', timestamp: 1, key });
    await waitFor('the reply recorded', async () => (await handle.query(stateQuery)).lastMessages[1]?.id !== undefined);
    expect((await handle.query(stateQuery)).lastMessages[1]).toMatchObject({ id: 'wamid.meta.1', status: 'sent' });
    expect(w.calls).toHaveLength(1);
    expect(await patchMarkers(handle)).toContain('exactly-once-reconcile-send');
    // The worker's metrics count it as reconciled.
    expect(reconciledSends.count).toBe(reconciled + 1);
    await handle.terminate('test over');
  });
});

it('a status that arrived before the send failed in doubt is kept and applied at once', async () => {
  const w = world(unknownOutcome);
  const workflowId = `wa:${phoneNumberId}:early-${randomUUID()}`;
  const key = `${workflowId}#1`;
  const handle = workflowEnv().client.workflow.getHandle(workflowId);
  const early = { messageId: 'wamid.meta.early', status: 'delivered', timestamp: 1, key };
  // Meta's status reaches the conversation while the send is still out; then the send fails in doubt.
  const activities = {
    ...w.activities,
    async sendMessage(input: SendTextInput) {
      await handle.signal(deliveryStatusSignal, early);
      return w.activities.sendMessage(input);
    },
  } satisfies Partial<Activities>;
  await withWorker(workflowEnv(), activities, async (taskQueue) => {
    const input: ConversationInput = {
      phoneNumberId,
      waId: '15550003333',
      idleTimeoutSeconds: 600,
      seenIdsMax: 100,
      reconcileWaitSeconds: 600,
    };
    const message: InboundMessage = { id: `wamid.in.${randomUUID()}`, from: input.waId, timestamp: 1, type: 'text' };
    await workflowEnv().client.workflow.signalWithStart<ConversationWorkflow, [InboundMessage]>(
      conversationWorkflowType,
      { workflowId, taskQueue, args: [input], signal: inboundMessageSignal, signalArgs: [{ ...message, text: 'hi' }] },
    );
    // Within seconds, though the wait is 10 minutes: the status was already there.
    await waitFor(
      'the reply recorded',
      async () => (await handle.query(stateQuery)).lastMessages[1]?.id !== undefined,
      {
        timeoutMs: 10_000,
      },
    );
    expect((await handle.query(stateQuery)).lastMessages[1]).toMatchObject({
      id: 'wamid.meta.early',
      status: 'delivered',
    });
    expect(w.calls).toHaveLength(1);
    await handle.terminate('test over');
  });
});

it('a send in doubt with no status within the wait is sent again, with the same key, once', async () => {
  const w = world(unknownOutcome);
  await withWorker(workflowEnv(), w.activities, async (taskQueue) => {
    const { handle, key } = await startGuest(taskQueue, { reconcileWaitSeconds: 2 });
    await waitFor(
      'the reply recorded',
      async () => (await handle.query(stateQuery)).lastMessages[1]?.status === 'sent',
      {
        timeoutMs: 20_000,
      },
    );
    expect(w.calls.map((c) => c.idempotencyKey)).toEqual([key, key]);
    expect((await handle.query(stateQuery)).lastMessages[1]).toMatchObject({ id: 'wamid.out.2' });
    await handle.terminate('test over');
  });
});

it('an unambiguous failure (refused before sending) keeps Temporal’s retry: no wait, no marker', async () => {
  const w = world(() =>
    ApplicationFailure.retryable('WhatsApp unreachable: ECONNREFUSED', ErrorType.WhatsAppUnavailable),
  );
  await withWorker(workflowEnv(), w.activities, async (taskQueue) => {
    // A wait far longer than the test: had it waited, the reply would not be sent in time.
    const { handle } = await startGuest(taskQueue, { reconcileWaitSeconds: 600 });
    await waitFor(
      'the reply recorded',
      async () => (await handle.query(stateQuery)).lastMessages[1]?.status === 'sent',
      {
        timeoutMs: 20_000,
      },
    );
    expect(w.calls).toHaveLength(2);
    expect(await patchMarkers(handle)).not.toContain('exactly-once-reconcile-send');
    await handle.terminate('test over');
  });
});
