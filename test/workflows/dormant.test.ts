import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { type ApplicationFailure } from '@temporalio/common';
import { randomUUID } from 'node:crypto';
import type { Activities } from '../../activities';
import { waitFor } from '../../dev/process';
import {
  closeUpdate,
  conversationWorkflowType,
  handoffUpdate,
  inboundMessageSignal,
  operatorReplyUpdate,
  stateQuery,
  type ConversationInput,
  type ConversationWorkflow,
} from '../../lib/domain/conversation';
import { ErrorType } from '../../lib/domain/errors';
import type { InboundMessage, SendTextInput } from '../../lib/domain/messages';
import { ConversationStatus } from '../../lib/domain/search-attributes';
import type { TenantProfile } from '../../lib/domain/tenants';
import { patchMarkers, useWorkflowEnvironment, withWorker } from './harness';

/**
 * A closed conversation remembers the message ids it saw for Meta's redelivery window: it continues as new into a
 * dormant run that drops a redelivery, wakes afresh for a new message, refuses operators' updates (close is a no-op)
 * and completes when the window after the last message ends. Real dev server, stub activities.
 */
const workflowEnv = useWorkflowEnvironment();

const phoneNumberId = '100200300';
const operator = { tokenId: '0123456789abcdef' };
const hotel: TenantProfile = {
  id: 'hotel-dormant',
  name: 'Hotel Dormant',
  status: 'active',
  locale: 'en',
  timezone: 'Europe/Madrid',
  businessHours: {},
  info: {},
  whatsappTokenRef: null,
};

function world() {
  const sent: SendTextInput[] = [];
  let resolutions = 0;
  const activities = {
    resolveTenant() {
      resolutions++;
      return Promise.resolve({ kind: 'resolved', tenant: hotel });
    },
    understand() {
      return Promise.resolve({ intent: 'greeting', language: 'en' });
    },
    sendMessage(input) {
      sent.push(input);
      return Promise.resolve({ messageId: `wamid.out.${randomUUID()}` });
    },
    recordInteractions() {
      return Promise.resolve();
    },
  } satisfies Partial<Activities>;
  return { sent, activities, resolutions: () => resolutions };
}

function guest(taskQueue: string, overrides: Partial<ConversationInput> = {}) {
  const waId = `1555${Math.floor(Math.random() * 1e7)}`;
  const workflowId = `wa:${phoneNumberId}:dormant-${randomUUID()}`;
  const input: ConversationInput = {
    phoneNumberId,
    waId,
    idleTimeoutSeconds: 600,
    seenIdsMax: 100,
    ...overrides,
  };
  const client = workflowEnv().client;
  return {
    handle: client.workflow.getHandle<ConversationWorkflow>(workflowId),
    message(text: string): InboundMessage {
      return {
        id: `wamid.in.${randomUUID()}`,
        from: waId,
        timestamp: Math.floor(Date.now() / 1000),
        type: 'text',
        text,
      };
    },
    /** Delivers a message as the API does (signal-with-start); answers the run it reached. */
    async deliver(message: InboundMessage): Promise<string> {
      const handle = await client.workflow.signalWithStart<ConversationWorkflow, [InboundMessage]>(
        conversationWorkflowType,
        { workflowId, taskQueue, args: [input], signal: inboundMessageSignal, signalArgs: [message] },
      );
      return handle.signaledRunId;
    },
  };
}

/** The run now current, once it is a dormant run (its input carries `dormant`). */
async function dormantRunOf(handle: WorkflowHandle): Promise<string> {
  let runId = '';
  await waitFor('the dormant run', async () => {
    const description = await handle.describe();
    if (description.status.name !== 'RUNNING') return false;
    const { events } = await workflowEnv()
      .client.workflow.getHandle(handle.workflowId, description.runId)
      .fetchHistory();
    const started = events?.[0]?.workflowExecutionStartedEventAttributes;
    const data = started?.input?.payloads?.[0]?.data;
    if (!data) return false;
    const input = JSON.parse(Buffer.from(data).toString('utf8')) as ConversationInput;
    runId = description.runId;
    return input.dormant !== undefined;
  });
  return runId;
}

async function expectRefusedClosed(update: Promise<unknown>): Promise<void> {
  const err: unknown = await update.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
  const cause = (err as WorkflowUpdateFailedError).cause as ApplicationFailure;
  expect(cause.type).toBe(ErrorType.OperatorActionRefused);
  expect(cause.details).toEqual([{ reason: 'closed' }]);
}

it('after the idle close a redelivery is dropped, a new message wakes it afresh, and it completes after the window', async () => {
  const w = world();
  await withWorker(workflowEnv(), w.activities, async (taskQueue) => {
    const g = guest(taskQueue, { idleTimeoutSeconds: 2, dedupWindowSeconds: 12 });
    const hello = g.message('hello');
    const firstRun = await g.deliver(hello);
    await waitFor('the greeting', () => w.sent.length === 1);
    const dormant = await dormantRunOf(g.handle);
    expect(dormant).not.toBe(firstRun);
    expect(await patchMarkers(workflowEnv().client.workflow.getHandle(g.handle.workflowId, firstRun))).toContain(
      'exactly-once-dormant-run',
    );
    // Operators see no difference: closed, as before.
    expect((await g.handle.describe()).typedSearchAttributes.get(ConversationStatus)).toBe('closed');
    expect(await g.handle.query(stateQuery)).toMatchObject({ status: 'closed', received: 1 });

    // Meta redelivers the same bytes: the dormant run drops it, nothing is sent.
    expect(await g.deliver(hello)).toBe(dormant);
    await waitFor('the redelivery dropped', async () => (await g.handle.query(stateQuery)).duplicatesDropped === 1);
    expect(w.sent).toHaveLength(1);

    // A new message wakes the conversation: a new run resolves the tenant again and answers it, once.
    const resolutionsBefore = w.resolutions();
    await g.deliver(g.message('hello again'));
    await waitFor('the second greeting', () => w.sent.length === 2);
    expect(w.resolutions()).toBe(resolutionsBefore + 1);
    expect((await g.handle.describe()).runId).not.toBe(dormant);
    // Its idempotency keys go on from the first run's: never repeated in one conversation.
    expect(w.sent.map((s) => s.idempotencyKey)).toEqual([`${g.handle.workflowId}#1`, `${g.handle.workflowId}#2`]);

    // Idle again, dormant again; the window counts from the last message and then the workflow completes.
    await dormantRunOf(g.handle);
    const result = await g.handle.result();
    expect(result).toMatchObject({ status: 'closed', received: 2, duplicatesDropped: 1 });
    expect(w.sent).toHaveLength(2);
  });
});

it('after an operator close: updates are refused as closed, close again is a no-op, a redelivery is dropped', async () => {
  const w = world();
  await withWorker(workflowEnv(), w.activities, async (taskQueue) => {
    const g = guest(taskQueue, { dedupWindowSeconds: 600 });
    const hello = g.message('hello');
    await g.deliver(hello);
    await waitFor('the greeting', () => w.sent.length === 1);
    const closing = await g.handle.executeUpdate(closeUpdate, { args: [{ operator }] });
    expect(closing.status).toBe('closed');
    await dormantRunOf(g.handle);

    await expectRefusedClosed(g.handle.executeUpdate(handoffUpdate, { args: [{ operator }] }));
    await expectRefusedClosed(g.handle.executeUpdate(operatorReplyUpdate, { args: [{ operator, text: 'hi' }] }));
    expect(await g.handle.executeUpdate(closeUpdate, { args: [{ operator }] })).toMatchObject({ status: 'closed' });

    await g.deliver(hello);
    await waitFor('the redelivery dropped', async () => (await g.handle.query(stateQuery)).duplicatesDropped === 1);
    expect(w.sent).toHaveLength(1);
    expect((await g.handle.describe()).typedSearchAttributes.get(ConversationStatus)).toBe('closed');
    await g.handle.terminate('test over');
  });
});

it('costs a handful of events: a dormant run holding 1,000 seen ids, from start to completion', async () => {
  const w = world();
  await withWorker(workflowEnv(), w.activities, async (taskQueue) => {
    // Meta's message ids are about 60 characters (wamid. and base64).
    const seenIds = Array.from(
      { length: 1000 },
      (_, i) => `wamid.HBgLMTU1NTAwMDExMTEVAgASGBQzQTk${String(i).padStart(20, '0')}`,
    );
    const workflowId = `wa:${phoneNumberId}:cost-${randomUUID()}`;
    const input: ConversationInput = {
      phoneNumberId,
      waId: '15550001111',
      idleTimeoutSeconds: 600,
      seenIdsMax: 1000,
      dormant: { seenIds, replySeq: 12, until: Date.now() + 3_000, pending: [], received: 9, duplicatesDropped: 1 },
    };
    const handle = await workflowEnv().client.workflow.start<ConversationWorkflow>(conversationWorkflowType, {
      workflowId,
      taskQueue,
      args: [input],
    });
    expect(await handle.result()).toEqual({ status: 'closed', received: 9, duplicatesDropped: 1 });
    const info = (await handle.describe()).raw.workflowExecutionInfo!;
    const events = Number(info.historyLength);
    const bytes = Number(info.historySizeBytes);
    // Started, one workflow task, a timer, its firing, a second task, completed: the seen ids are in the input once.
    expect(events).toBeLessThanOrEqual(12);
    expect(bytes).toBeLessThan(120_000);
    expect(w.sent).toHaveLength(0);
  });
});
