import { type Client } from '@temporalio/client';
import { createApp } from '../../api/app';
import type { WhatsAppStandin } from '../../dev/whatsapp-standin';
import { waitFor } from '../../dev/process';
import type { Config } from '../../lib/config';
import { ConversationStatus, LastIntent } from '../../lib/domain/search-attributes';
import { stateQuery, type ConversationState } from '../../lib/domain/conversation';
import { captureLogger, type RunningWorker } from '../helpers/env';
import { startStack, type Stack } from '../helpers/stack';
import {
  loadFixture,
  textWebhook,
  uniqueMessageId,
  uniqueWaId,
  postSigned,
  conversationIdFor,
} from '../helpers/webhooks';

let phoneNumberId: string;
let stack: Stack;
let standin: WhatsAppStandin;
let config: Config;
let temporal: Client;
let worker: RunningWorker;
let app: Stack['app'];

beforeAll(async () => {
  stack = await startStack({ config: { CONVERSATION_IDLE_TIMEOUT_SECONDS: '60' } });
  ({ whatsapp: standin, config, temporal, worker, app } = stack);
  ({ phoneNumberId } = await stack.tenant({ locale: 'es' }));
});

afterAll(() => stack?.stop());

/** Meta's text example, addressed to this file's tenant. */
const text = (overrides: Parameters<typeof textWebhook>[0]) => textWebhook({ phoneNumberId, ...overrides });

async function deliver(payload: unknown): Promise<void> {
  await postSigned(app, payload);
}

const repliesTo = (waId: string) => standin.sent.filter((m) => m.to === waId);

async function state(waId: string): Promise<ConversationState> {
  return temporal.workflow.getHandle(conversationIdFor(phoneNumberId, waId)).query(stateQuery);
}

describe('conversation workflow', () => {
  it('answers a Spanish text once, in Spanish, quoting the guest message', async () => {
    const from = uniqueWaId();
    const id = uniqueMessageId();
    await deliver(text({ from, id, body: 'Hola, buenos días' }));
    await waitFor('the reply', () => repliesTo(from).length === 1);
    const [reply] = repliesTo(from);
    expect(reply!.text).toContain('Hemos recibido tu mensaje');
    expect(reply!.replyTo).toBe(id);
    expect(reply!.phoneNumberId).toBe(phoneNumberId);
  });

  it('answers in English when the guest writes English', async () => {
    const from = uniqueWaId();
    await deliver(text({ from, body: 'Hello, good morning' }));
    await waitFor('the reply', () => repliesTo(from).length === 1);
    expect(repliesTo(from)[0]!.text).toContain('We have received your message');
  });

  it('drops the same message delivered twice: one reply, the duplicate counted', async () => {
    const from = uniqueWaId();
    const payload = text({ from, body: 'Hello' });
    await deliver(payload);
    await waitFor('the first reply', () => repliesTo(from).length === 1);
    await deliver(payload);
    await deliver(payload);
    await waitFor('both duplicates dropped', async () => (await state(from)).duplicatesDropped === 2);
    // A later, different message is still answered, and only then do we look: no second reply slipped in.
    await deliver(text({ from, body: 'Thanks' }));
    await waitFor('the second reply', () => repliesTo(from).length === 2);
    const s = await state(from);
    expect(s.received).toBe(2);
    expect(repliesTo(from)).toHaveLength(2);
  });

  it('shows the last messages and delivery statuses in the state query and search attributes', async () => {
    const from = uniqueWaId();
    await deliver(text({ from, body: 'Hello there' }));
    await waitFor('the reply', () => repliesTo(from).length === 1);
    const replyId = repliesTo(from)[0]!.id;
    const status = loadFixture('status_read_group') as any;
    const s0 = status.entry[0].changes[0].value;
    s0.metadata.phone_number_id = phoneNumberId;
    s0.statuses = [{ ...s0.statuses[0], id: replyId, recipient_id: from, status: 'read', timestamp: '1750263773' }];
    await deliver(status);
    await waitFor('the read status', async () => (await state(from)).lastMessages.some((m) => m.status === 'read'));
    const s = await state(from);
    expect(s.status).toBe('active');
    expect(s.lastMessages.map((m) => [m.direction, m.type])).toEqual([
      ['in', 'text'],
      ['out', 'text'],
    ]);
    const description = await temporal.workflow.getHandle(conversationIdFor(phoneNumberId, from)).describe();
    expect(description.typedSearchAttributes.get(ConversationStatus)).toBe('active');
    expect(description.typedSearchAttributes.get(LastIntent)).toBe('greeting');
  });

  it('retries a failing WhatsApp send and replies exactly once when it recovers', async () => {
    const from = uniqueWaId();
    standin.inject({ kind: 'error', status: 503, code: 131016, message: 'Service unavailable' }, 2);
    await deliver(text({ from, body: 'Hello' }));
    await waitFor('the reply after retries', () => repliesTo(from).length === 1, { timeoutMs: 20_000 });
    const history = await temporal.workflow.getHandle(conversationIdFor(phoneNumberId, from)).fetchHistory();
    const scheduled = history.events?.find(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'sendMessage',
    );
    const started = history.events?.find(
      (e) => e.activityTaskStartedEventAttributes?.scheduledEventId?.toString() === scheduled?.eventId?.toString(),
    );
    expect(started?.activityTaskStartedEventAttributes?.attempt).toBe(3);
    expect(repliesTo(from)).toHaveLength(1);
  });

  it('records a reply WhatsApp refuses for good and keeps answering later messages', async () => {
    const from = uniqueWaId();
    standin.undeliverable.add(from);
    await deliver(text({ from, body: 'Hello' }));
    await waitFor('the failure recorded', async () =>
      (await state(from)).lastMessages.some((m) => m.direction === 'out' && m.status === 'failed'),
    );
    const failed = (await state(from)).lastMessages.find((m) => m.status === 'failed');
    expect(failed?.error).toContain('WhatsAppPermanentError');
    standin.undeliverable.delete(from);
    await deliver(text({ from, body: 'Hello again' }));
    await waitFor('the next reply', () => repliesTo(from).length === 1);
  });

  it('takes a 2xx without a message id as delivered: recorded as sent with an unknown id, never sent again', async () => {
    const from = uniqueWaId();
    standin.inject({ kind: 'acceptedWithoutId' });
    await deliver(text({ from, body: 'Hello' }));
    await waitFor('the reply recorded', async () =>
      (await state(from)).lastMessages.some((m) => m.direction === 'out' && m.status !== 'pending'),
    );
    const reply = (await state(from)).lastMessages.find((m) => m.direction === 'out');
    expect(reply).toMatchObject({ status: 'sent' });
    expect(reply?.id ?? undefined).toBeUndefined();
    // The send activity completed on its first attempt: Meta had the message, so the guest got it once.
    const history = await temporal.workflow.getHandle(conversationIdFor(phoneNumberId, from)).fetchHistory();
    const attempts = history.events
      ?.filter((e) => e.activityTaskStartedEventAttributes)
      .map((e) => e.activityTaskStartedEventAttributes!.attempt);
    expect(attempts?.every((a) => a === 1)).toBe(true);
    expect(repliesTo(from)).toHaveLength(1);
  });

  it('records a reply WhatsApp has not accepted within WHATSAPP_SEND_TIMEOUT_SECONDS as undeliverable, and goes on', async () => {
    const shortConfig: Config = { ...config, whatsapp: { ...config.whatsapp, sendTimeoutSeconds: 3 } };
    const shortApp = createApp({ temporal, config: shortConfig, log: captureLogger().log, db: worker.db });
    const from = uniqueWaId();
    standin.inject({ kind: 'error', status: 503, code: 131016, message: 'Service unavailable' }, 1000);
    try {
      await postSigned(shortApp, text({ from, body: 'Hello' }));
      await waitFor(
        'the reply recorded as undeliverable',
        async () => (await state(from)).lastMessages.some((m) => m.direction === 'out' && m.status === 'failed'),
        { timeoutMs: 20_000 },
      );
    } finally {
      standin.clearFaults();
    }
    const failed = (await state(from)).lastMessages.find((m) => m.status === 'failed');
    expect(failed?.error).toMatch(/undeliverable: WhatsApp did not accept it within 3 s/);
    await postSigned(shortApp, text({ from, body: 'Hello again' }));
    await waitFor('the next reply', () => repliesTo(from).length === 1);
    expect((await state(from)).lastMessages.at(-1)).toMatchObject({ direction: 'out', status: 'sent' });
  });

  it('does not answer reactions', async () => {
    const from = uniqueWaId();
    const reaction = loadFixture('reaction') as any;
    const value = reaction.entry[0].changes[0].value;
    value.metadata.phone_number_id = phoneNumberId;
    value.messages[0].from = from;
    value.messages[0].id = uniqueMessageId();
    await deliver(reaction);
    await waitFor('the reaction recorded', async () => (await state(from)).received === 1);
    await deliver(text({ from, body: 'Hello' }));
    await waitFor('the text reply', () => repliesTo(from).length === 1);
    expect(repliesTo(from)).toHaveLength(1);
  });
});

describe('idle close', () => {
  it('closes the conversation after the idle period and marks it closed', async () => {
    // A dedup window that is over by the close: the dormant run completes at once (test/workflows/dormant.test.ts).
    const shortConfig: Config = {
      ...config,
      conversation: { ...config.conversation, idleTimeoutSeconds: 2, dedupWindowSeconds: 1 },
    };
    const shortApp = createApp({ temporal, config: shortConfig, log: captureLogger().log, db: worker.db });
    const from = uniqueWaId();
    const raw = JSON.stringify(text({ from, body: 'Hello' }));
    await postSigned(shortApp, raw);
    const handle = temporal.workflow.getHandle(conversationIdFor(phoneNumberId, from));
    const result = await handle.result();
    expect(result).toEqual({ status: 'closed', received: 1, duplicatesDropped: 0 });
    const description = await handle.describe();
    expect(description.status.name).toBe('COMPLETED');
    expect(description.typedSearchAttributes.get(ConversationStatus)).toBe('closed');
    expect(repliesTo(from)).toHaveLength(1);
  });
});
