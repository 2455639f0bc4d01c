import { ApplicationFailure } from '@temporalio/common';
import { randomUUID } from 'node:crypto';
import type { Activities } from '../../activities';
import { waitFor } from '../../dev/process';
import {
  conversationWorkflowType,
  inboundMessageSignal,
  type ConversationInput,
  type ConversationWorkflow,
} from '../../lib/domain/conversation';
import { ErrorType } from '../../lib/domain/errors';
import type { RecordInteractionsInput } from '../../lib/domain/interactions';
import type { Understanding } from '../../lib/domain/intents';
import { type InboundMessage } from '../../lib/domain/messages';
import type { TenantProfile } from '../../lib/domain/tenants';
import { conversationIdFor } from '../helpers/webhooks';
import { Gate, useWorkflowEnvironment, withWorker } from './harness';

/**
 * The conversation's side of the interaction log, with stub activities: one `recordInteractions` per handled message,
 * started after the reply and never waited for.
 */
const workflowEnv = useWorkflowEnvironment();

const phoneNumberId = '100200301';
const hotel: TenantProfile = {
  id: 'hotel-log',
  name: 'Hotel Log',
  status: 'active',
  locale: 'en',
  timezone: 'Europe/Madrid',
  businessHours: {},
  info: {},
  whatsappTokenRef: null,
};

const meanings: Record<string, Understanding['intent']> = {
  hello: 'greeting',
  person: 'human',
  fail: 'greeting',
  thanks: 'thanks',
};

/** Stub activities; `record` decides what the interaction log does with each report. */
function world(record: (input: RecordInteractionsInput) => Promise<void>) {
  const sent: { text: string; replyTo: string | undefined }[] = [];
  const reports: RecordInteractionsInput[] = [];
  const activities = {
    resolveTenant: () => Promise.resolve({ kind: 'resolved', tenant: hotel }),
    understand: ({ text }) => Promise.resolve({ intent: meanings[text ?? ''] ?? 'unknown', language: 'en' }),
    sendMessage({ text, replyTo }) {
      // WhatsApp refuses the reply to "fail" for good.
      if (fails.has(replyTo ?? '')) {
        return Promise.reject(ApplicationFailure.nonRetryable('recipient refused', ErrorType.WhatsAppPermanentError));
      }
      sent.push({ text, replyTo });
      return Promise.resolve({ messageId: `wamid.out.${randomUUID()}` });
    },
    async recordInteractions(input) {
      reports.push(input);
      await record(input);
    },
  } satisfies Partial<Activities>;
  const fails = new Set<string>();
  return { sent, reports, activities, fails };
}

function guest(taskQueue: string) {
  const waId = `1555${Math.floor(Math.random() * 1e7)}`;
  const workflowId = conversationIdFor(phoneNumberId, waId);
  const input: ConversationInput = { phoneNumberId, waId, idleTimeoutSeconds: 600, seenIdsMax: 100 };
  const message = (text: string | undefined, overrides: Partial<InboundMessage> = {}): InboundMessage => ({
    id: `wamid.in.${randomUUID()}`,
    from: waId,
    timestamp: Math.floor(Date.now() / 1000),
    type: 'text',
    ...(text !== undefined ? { text } : {}),
    ...overrides,
  });
  return {
    waId,
    message,
    handle: () => workflowEnv().client.workflow.getHandle<ConversationWorkflow>(workflowId),
    async write(m: InboundMessage): Promise<InboundMessage> {
      await workflowEnv().client.workflow.signalWithStart<ConversationWorkflow, [InboundMessage]>(
        conversationWorkflowType,
        { workflowId, taskQueue, args: [input], signal: inboundMessageSignal, signalArgs: [m] },
      );
      return m;
    },
  };
}

it('reports each handled message once, after its reply: outcome, intent, receipt time; duplicates with the next', async () => {
  const w = world(() => Promise.resolve());
  await withWorker(workflowEnv(), w.activities, async (taskQueue) => {
    const g = guest(taskQueue);
    const hello = await g.write(g.message('hello', { timestamp: 1_750_000_000 }));
    await waitFor('the first report', () => w.reports.length === 1);
    // Meta redelivers "hello": dropped, and reported with the next handled message.
    await g.write(hello);
    const fail = g.message('fail');
    w.fails.add(fail.id);
    await g.write(fail);
    await waitFor('the second report', () => w.reports.length === 2);
    const reaction = await g.write(g.message(undefined, { type: 'reaction' }));
    // Last: a guest who asks for a person hands the conversation to staff, and the bot answers nothing after it.
    const person = await g.write(g.message('person'));
    await waitFor('four reports', () => w.reports.length === 4);

    // Reports run concurrently: each found by the message it reports.
    const reportOf = (id: string) =>
      w.reports.find((r) => r.messages.some((m) => m.messageId === id && m.outcome !== 'duplicate_dropped'))!;
    const first = reportOf(hello.id);
    expect(first).toMatchObject({ tenantId: 'hotel-log', phoneNumberId, waId: g.waId });
    expect(first.messages).toEqual([
      {
        messageId: hello.id,
        type: 'text',
        intent: 'greeting',
        text: 'hello',
        at: 1_750_000_000_000,
        receivedAt: expect.any(Number),
        outcome: 'answered',
      },
    ]);
    // Taken in when the signal arrived, not when the guest wrote (Meta's timestamp): the first-response time starts here.
    expect(first.messages[0]!.receivedAt).toBeGreaterThan(Date.now() - 60_000);

    const second = reportOf(fail.id).messages;
    expect(second).toEqual([
      expect.objectContaining({ messageId: hello.id, outcome: 'duplicate_dropped' }),
      expect.objectContaining({ messageId: fail.id, outcome: 'failed' }),
    ]);
    const third = reportOf(reaction.id).messages;
    expect(third).toEqual([expect.objectContaining({ messageId: reaction.id, type: 'reaction', outcome: 'no_reply' })]);
    expect(third[0]).not.toHaveProperty('intent');
    expect(reportOf(person.id).messages).toEqual([
      expect.objectContaining({ messageId: person.id, intent: 'human', outcome: 'handed_off' }),
    ]);

    // One activity per handled message, each scheduled after that message's reply.
    const { events } = await g.handle().fetchHistory();
    const scheduled = (events ?? []).flatMap((e) => {
      const name = e.activityTaskScheduledEventAttributes?.activityType?.name;
      return name === 'sendMessage' || name === 'recordInteractions' ? [name] : [];
    });
    expect(scheduled).toEqual([
      'sendMessage',
      'recordInteractions',
      'sendMessage',
      'recordInteractions',
      'recordInteractions',
      'sendMessage',
      'recordInteractions',
    ]);
    await g.handle().terminate('test over');
  });
});

it('an interaction log that hangs or fails delays and fails no reply', async () => {
  const stuck = new Gate();
  let calls = 0;
  // The first report never returns (its attempts time out); every later one fails.
  const w = world(async () => {
    calls++;
    if (calls === 1) return stuck.pass();
    throw ApplicationFailure.retryable('Redis is down', ErrorType.InteractionLogUnavailable);
  });
  await withWorker(workflowEnv(), w.activities, async (taskQueue) => {
    const g = guest(taskQueue);
    try {
      const first = await g.write(g.message('hello'));
      await stuck.reached;
      const second = await g.write(g.message('thanks'));
      const third = await g.write(g.message('person'));
      // Answered while the first report is stuck and the others fail.
      await waitFor('three replies', () => w.sent.length === 3, { timeoutMs: 4_000 });
      expect(w.sent.map((s) => s.replyTo)).toEqual([first.id, second.id, third.id]);
      expect((await g.handle().describe()).status.name).toBe('RUNNING');
    } finally {
      stuck.release();
    }
    await g.handle().terminate('test over');
  });
});
