import { once } from 'node:events';
import { waitFor } from '../../dev/process';
import { stateQuery, type ConversationWorkflow } from '../../lib/domain/conversation';
import { conversationIdFor, textWebhook, uniqueMessageId, uniqueWaId } from '../helpers/webhooks';
import { finalChecks, startChaosStack, type ChaosStack } from './harness';

/**
 * The worker SIGKILLed in the middle of a send, after the Graph API stand-in recorded the message (it holds the answer
 * until the worker is dead). The attempt outlives its start-to-close timeout (30 s); a new worker runs the
 * conversation, which reconciles the send by the status webhook carrying its key, or sends again when none came.
 */
let stack: ChaosStack;

beforeAll(async () => {
  stack = await startChaosStack({ config: { SEND_RECONCILE_WAIT_SECONDS: '5' } });
});

afterAll(async () => {
  await stack?.stop();
});

async function killedMidSend(): Promise<{ messageId: string; workflowId: string }> {
  // The child is the only worker on the queue, so it is the one running the send.
  await stack.stopWorkers();
  const child = await stack.workerProcess();
  stack.whatsapp.inject({ kind: 'acceptThenHold' });
  const before = stack.whatsapp.sent.length;
  const from = uniqueWaId();
  const messageId = uniqueMessageId();
  await stack.deliver(textWebhook({ phoneNumberId: stack.tenant.phoneNumberId, from, id: messageId, body: 'Hello' }));
  await waitFor('the reply recorded by the stand-in', () => stack.whatsapp.sent.length === before + 1);
  child.kill('SIGKILL');
  await once(child, 'exit');
  return { messageId, workflowId: conversationIdFor(stack.tenant.phoneNumberId, from) };
}

async function recordedReply(workflowId: string) {
  const handle = stack.temporal.workflow.getHandle<ConversationWorkflow>(workflowId);
  let status: string | undefined;
  await waitFor(
    'the reply settled',
    async () => {
      status = (await handle.query(stateQuery)).lastMessages[1]?.status;
      return status !== undefined && status !== 'pending';
    },
    { timeoutMs: 90_000, intervalMs: 500 },
  );
  return (await handle.query(stateQuery)).lastMessages[1]!;
}

it('worker killed after the stand-in recorded the reply: the status webhook reconciles it, the guest gets one reply', async () => {
  const { messageId, workflowId } = await killedMidSend();
  await stack.inProcessWorker();
  const reply = await recordedReply(workflowId);
  // Recorded from the status webhook (the send's own answer never came), with the id Meta gave the message.
  expect(reply.id).toBe(stack.whatsapp.sent.at(-1)!.id);
  expect(['sent', 'delivered', 'read']).toContain(reply.status);
  const row = await finalChecks(stack, 'worker SIGKILLed mid-send, after the stand-in recorded it', {
    inbound: [messageId],
  });
  expect(row).toMatchObject({ replies: 1, holdsLeft: 0 });
}, 150_000);

it('the same with every status webhook lost: sent again once after the wait (the documented edge)', async () => {
  stack.whatsapp.statusWebhook = { ...stack.whatsapp.statusWebhook!, lossRate: 1 };
  try {
    const sentBefore = stack.whatsapp.sent.length;
    const { messageId, workflowId } = await killedMidSend();
    await stack.inProcessWorker();
    const reply = await recordedReply(workflowId);
    expect(reply.status).toBe('sent');
    const replies = stack.whatsapp.sent.slice(sentBefore);
    // Two messages, one idempotency key: the guest saw the reply twice. Only a status can tell that Meta had it.
    expect(replies.map((m) => m.replyTo)).toEqual([messageId, messageId]);
    expect(new Set(replies.map((m) => m.key)).size).toBe(1);
    await finalChecks(stack, 'worker SIGKILLed mid-send, every status lost (edge)', {
      inbound: [messageId],
      repliesPer: () => 2,
      allowResentKeys: 1,
    });
  } finally {
    stack.whatsapp.statusWebhook = { ...stack.whatsapp.statusWebhook, lossRate: 0 };
  }
}, 150_000);
