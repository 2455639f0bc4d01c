import { createModelUnderstander, type NluService } from '../../clients/nlu';
import { startNluStandin, type NluStandin, type NluStandinMode } from '../../dev/nlu-standin';
import { waitFor } from '../../dev/process';
import { stateQuery } from '../../lib/domain/conversation';
import { createRuleBasedUnderstander, type UnderstandInput } from '../../lib/domain/understanding';
import { createHttpAgent } from '../../lib/http';
import { startStack, type Stack } from '../helpers/stack';
import { conversationIdFor, postSigned, textWebhook, uniqueMessageId, uniqueWaId } from '../helpers/webhooks';

/**
 * Issue 12, point 5: the optional language-model understander against a local chat-completions stand-in, with its
 * failure modes (slow, 500, not JSON, JSON of the wrong shape); the rules answer whenever the model does not, and the
 * answer says which. Prints how often the fallback is used under each mode.
 */
let nlu: NluStandin;
const agent = createHttpAgent({ maxConnectionsPerOrigin: 4, addressPolicy: { allowPrivateNetworks: true } });

beforeAll(async () => {
  nlu = await startNluStandin();
  // One request first, so the figures below do not include the stand-in's (or the agent's) cold start.
  await createModelUnderstander(service(), agent, createRuleBasedUnderstander()).understand(input('Hello'));
  nlu.reset();
});

afterAll(async () => {
  await agent.close();
  await nlu?.close();
});

afterEach(() => nlu.reset());

const service = (): NluService => ({
  url: nlu.url,
  apiKey: 'sk-test-key',
  model: 'standin-model',
  timeoutMs: 1_000,
  breakerFailures: 5,
  breakerHalfOpenAfterMs: 60_000,
});

const input = (text: string): UnderstandInput => ({
  text,
  locale: 'en',
  timezone: 'Europe/Madrid',
  messageTimestamp: Math.floor(Date.now() / 1000),
  maxStayNights: 30,
  context: {
    hotel: 'Hotel Modelo',
    info: { checkIn: '15:00' },
    history: [{ from: 'guest', text: 'Hi, my number is +34 612 345 678' }],
  },
});

const modes: [string, NluStandinMode][] = [
  ['ok', { kind: 'ok' }],
  ['slow, within the timeout (150 ms)', { kind: 'slow', ms: 150 }],
  ['slow, past the timeout (2 s)', { kind: 'slow', ms: 2_000 }],
  ['500', { kind: 'error', status: 500 }],
  ['invalid JSON', { kind: 'invalidJson' }],
  ['JSON of the wrong shape', { kind: 'wrongShape' }],
];
const figures: string[] = [];

afterAll(() => {
  console.log(
    `Fallback to the rules, 20 messages per mode (timeout 1 s, breaker opens after 5 failures):\n${figures.join('\n')}`,
  );
});

it.each(modes)(
  'mode %s: the rules answer whenever the model does not, and the answer says which',
  async (name, mode) => {
    nlu.mode = mode;
    const understander = createModelUnderstander(service(), agent, createRuleBasedUnderstander());
    const started = Date.now();
    const answers = [];
    for (let i = 0; i < 20; i++) answers.push(await understander.understand(input('What time is check-in?')));
    const elapsed = Date.now() - started;
    const { stats } = understander;
    figures.push(
      `  ${name.padEnd(36)} fallback ${stats.rules}/20 (${
        Object.entries(stats.fallbacks)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ') || '-'
      }), model requests ${nlu.requests.length}, ${Math.round(elapsed / 20)} ms per message`,
    );
    // Whoever answered, the guest's question was understood.
    for (const a of answers) expect(a).toMatchObject({ intent: 'hotel_info', infoTopic: 'check_in' });
    if (mode.kind === 'ok' || (mode.kind === 'slow' && mode.ms < 1_000)) {
      expect(stats).toEqual({ model: 20, rules: 0, fallbacks: {} });
      expect(answers.every((a) => a.source === 'model')).toBe(true);
    } else {
      const reason = { slow: 'timeout', error: 'http_500', invalidJson: 'invalid_json', wrongShape: 'wrong_shape' }[
        mode.kind
      ];
      // Five failures open the breaker; the rest go straight to the rules without waiting on the model.
      expect(stats).toEqual({ model: 0, rules: 20, fallbacks: { [reason]: 5, breaker_open: 15 } });
      expect(nlu.requests).toHaveLength(5);
      expect(answers[0]).toMatchObject({ source: 'rules', fallbackReason: reason });
    }
  },
);

it('sends the hotel context and the last messages, with the key and model, and never a phone number', async () => {
  const understander = createModelUnderstander(service(), agent, createRuleBasedUnderstander());
  await understander.understand(input('Call me at 612345678 about a room'));
  const [request] = nlu.requests;
  expect(request).toMatchObject({ model: 'standin-model', authorization: 'Bearer sk-test-key' });
  const all = JSON.stringify(request!.messages);
  expect(all).toContain('Hotel Modelo');
  expect(all).toContain('my number is');
  expect(all).not.toMatch(/612 ?345 ?678/);
  expect(all).toContain('Call me at [phone] about a room');
  expect(request!.messages![0]!.role).toBe('system');
  expect(request!.messages!.at(-1)!.role).toBe('user');
});

it('refuses a private address unless NLU_ALLOW_PRIVATE_NETWORKS, and the rules answer', async () => {
  const strict = createHttpAgent({ maxConnectionsPerOrigin: 1, addressPolicy: { allowPrivateNetworks: false } });
  try {
    const understander = createModelUnderstander(service(), strict, createRuleBasedUnderstander());
    expect(await understander.understand(input('Hello'))).toMatchObject({
      intent: 'greeting',
      source: 'rules',
      fallbackReason: 'address_refused',
    });
    expect(nlu.requests).toHaveLength(0);
  } finally {
    await strict.close();
  }
});

describe('in a conversation', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({
      config: { NLU_URL: nlu.url, NLU_ALLOW_PRIVATE_NETWORKS: 'true', NLU_TIMEOUT_MS: '2000' },
    });
  });

  afterAll(() => stack?.stop());

  it('records which understander answered: the model, then the rules when the model fails', async () => {
    const hotel = await stack.tenant({ name: 'Hotel Modelo', locale: 'en', info: { checkIn: '15:00' } });
    const from = uniqueWaId();
    const handle = stack.temporal.workflow.getHandle(conversationIdFor(hotel.phoneNumberId, from));
    const say = async (body: string) => {
      const id = uniqueMessageId();
      await postSigned(stack.app, textWebhook({ phoneNumberId: hotel.phoneNumberId, from, id, body }));
      await waitFor('the reply', () => stack.whatsapp.sent.some((m) => m.replyTo === id), { timeoutMs: 30_000 });
      return stack.whatsapp.sent.find((m) => m.replyTo === id)!.text;
    };
    expect(await say('What time is check-in?')).toBe('Check-in is from 15:00.');
    expect((await handle.query(stateQuery)).understoodBy).toEqual({ source: 'model' });
    nlu.mode = { kind: 'error', status: 500 };
    expect(await say('What time is check-in?')).toBe('Check-in is from 15:00.');
    expect((await handle.query(stateQuery)).understoodBy).toEqual({ source: 'rules', fallbackReason: 'http_500' });
  });
});
