import { waitFor } from '../../dev/process';
import { closeUpdate, stateQuery, type ConversationWorkflow } from '../../lib/domain/conversation';
import { ConversationStatus } from '../../lib/domain/search-attributes';
import { conversationIdFor, textWebhook, uniqueMessageId, uniqueWaId } from '../helpers/webhooks';
import { finalChecks, startChaosStack, type ChaosStack } from './harness';

/**
 * Meta's redeliveries: the same webhook bytes 5 times at once and 5 times spaced out, then once more after the
 * conversation closed (idle) and after an operator `close`. Each guest gets one reply.
 */
let stack: ChaosStack;

beforeAll(async () => {
  stack = await startChaosStack({ config: { CONVERSATION_IDLE_TIMEOUT_SECONDS: '3' } });
  await stack.inProcessWorker();
});

afterAll(async () => {
  await stack?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function guest() {
  const from = uniqueWaId();
  const id = uniqueMessageId();
  const payload = textWebhook({ phoneNumberId: stack.tenant.phoneNumberId, from, id, body: 'Hello' });
  const handle = stack.temporal.workflow.getHandle<ConversationWorkflow>(
    conversationIdFor(stack.tenant.phoneNumberId, from),
  );
  return { from, id, payload, handle };
}

async function closedRun(handle: ReturnType<typeof guest>['handle'], firstRunId: string): Promise<void> {
  await waitFor('the conversation closed and dormant', async () => {
    const description = await handle.describe();
    return (
      description.runId !== firstRunId &&
      description.status.name === 'RUNNING' &&
      description.typedSearchAttributes.get(ConversationStatus) === 'closed'
    );
  });
}

it('5 concurrent and 5 spaced deliveries, then one after the idle close: one reply', async () => {
  const g = guest();
  await Promise.all(Array.from({ length: 5 }, () => stack.deliver(g.payload)));
  for (let i = 0; i < 5; i++) {
    await sleep(200);
    await stack.deliver(g.payload);
  }
  await waitFor('the reply', () => stack.whatsapp.sent.some((m) => m.replyTo === g.id));
  const firstRun = (await g.handle.describe()).runId;
  await closedRun(g.handle, firstRun);

  await stack.deliver(g.payload);
  await waitFor('the late redelivery dropped', async () => (await g.handle.query(stateQuery)).duplicatesDropped === 10);
  expect((await g.handle.query(stateQuery)).status).toBe('closed');
  await finalChecks(stack, 'same webhook ×5 concurrent, ×5 spaced, ×1 after idle close', { inbound: [g.id] });
});

it('a redelivery after an operator close is dropped; a new message afterwards is answered once', async () => {
  const g = guest();
  await stack.deliver(g.payload);
  await waitFor('the reply', () => stack.whatsapp.sent.some((m) => m.replyTo === g.id));
  const firstRun = (await g.handle.describe()).runId;
  await g.handle.executeUpdate(closeUpdate, { args: [{ operator: { tokenId: 'cli:chaos' } }] });
  await closedRun(g.handle, firstRun);

  await stack.deliver(g.payload);
  await waitFor('the redelivery dropped', async () => (await g.handle.query(stateQuery)).duplicatesDropped === 1);

  const later = uniqueMessageId();
  await stack.deliver(textWebhook({ phoneNumberId: stack.tenant.phoneNumberId, from: g.from, id: later, body: 'Hi' }));
  await waitFor('the new message answered', () => stack.whatsapp.sent.some((m) => m.replyTo === later));
  await finalChecks(stack, 'redelivery after operator close, then a new message', { inbound: [g.id, later] });
});
