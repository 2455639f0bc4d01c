import { waitFor } from '../../dev/process';
import { stateQuery, type ConversationWorkflow } from '../../lib/domain/conversation';
import { conversationIdFor, textWebhook, uniqueMessageId, uniqueWaId } from '../helpers/webhooks';
import { finalChecks, startChaosStack, type ChaosStack } from './harness';

/**
 * Status webhooks as Meta's really behave: lost, late (past the reconcile wait), and ahead of the send's own answer;
 * with sends whose outcome is unknown (the connection cut after the stand-in recorded the message).
 */
let stack: ChaosStack;

beforeAll(async () => {
  stack = await startChaosStack({ config: { SEND_RECONCILE_WAIT_SECONDS: '2' } });
  await stack.inProcessWorker();
});

afterAll(async () => {
  await stack?.stop();
});

afterEach(() => {
  stack.whatsapp.statusWebhook = { ...stack.whatsapp.statusWebhook!, lossRate: 0, delayMs: 50 };
  stack.whatsapp.clearFaults();
});

/** A guest writes once; answers the message id and the recorded reply once it has settled. */
async function writeOnce() {
  const from = uniqueWaId();
  const id = uniqueMessageId();
  await stack.deliver(textWebhook({ phoneNumberId: stack.tenant.phoneNumberId, from, id, body: 'Hello' }));
  const handle = stack.temporal.workflow.getHandle<ConversationWorkflow>(
    conversationIdFor(stack.tenant.phoneNumberId, from),
  );
  await waitFor(
    'the reply settled',
    async () => {
      const status = (await handle.query(stateQuery)).lastMessages[1]?.status;
      return status !== undefined && status !== 'pending';
    },
    { timeoutMs: 30_000, intervalMs: 200 },
  );
  return { id, reply: (await handle.query(stateQuery)).lastMessages[1]! };
}

it('every status lost: replies go out once each (no status is needed when the send answers)', async () => {
  stack.whatsapp.statusWebhook = { ...stack.whatsapp.statusWebhook!, lossRate: 1 };
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) ids.push((await writeOnce()).id);
  await finalChecks(stack, 'status webhooks lost', { inbound: ids });
});

it('a send cut after Meta recorded it, its status in time: reconciled, one reply', async () => {
  stack.whatsapp.inject({ kind: 'acceptThenDrop' });
  const { id, reply } = await writeOnce();
  expect(reply.id).toBe(stack.whatsapp.sent.find((m) => m.replyTo === id)!.id);
  await finalChecks(stack, 'send cut after recording, status in time', { inbound: [id] });
});

it('a send cut after Meta recorded it, its status later than the wait: sent again (the documented edge)', async () => {
  stack.whatsapp.statusWebhook = { ...stack.whatsapp.statusWebhook!, delayMs: 5_000 };
  stack.whatsapp.inject({ kind: 'acceptThenDrop' });
  const { id } = await writeOnce();
  await stack.whatsapp.statusesSettled();
  await finalChecks(stack, 'send cut after recording, status later than the wait (edge)', {
    inbound: [id],
    repliesPer: () => 2,
    allowResentKeys: 1,
  });
});

it('statuses that arrive before the send’s own answer are kept and applied: one reply, its status shown', async () => {
  stack.whatsapp.statusWebhook = { ...stack.whatsapp.statusWebhook!, delayMs: 0 };
  stack.whatsapp.inject({ kind: 'acceptThenHold', ms: 2_000 });
  const { id, reply } = await writeOnce();
  await stack.whatsapp.statusesSettled();
  // The send answered last, yet the record shows what the statuses said.
  expect(['delivered', 'read']).toContain(reply.status);
  await finalChecks(stack, 'statuses before the send’s own answer', { inbound: [id] });
});
