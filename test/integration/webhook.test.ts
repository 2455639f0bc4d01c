import { WorkflowNotFoundError, type Client, Connection, Client as TemporalClient } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { createHash } from 'node:crypto';
import request from 'supertest';
import { createApp } from '../../api/app';
import { signBody } from '../../api/signature';
import { getFreePort } from '../../dev/process';
import { EncryptionCodec } from '../../lib/codec';
import { createPool } from '../../lib/db/pool';
import { createGuestRefs } from '../../lib/guest-refs';
import { type DeliveryStatusUpdate, type InboundMessage } from '../../lib/domain/messages';
import { deliveryStatusSignal, inboundMessageSignal } from '../../lib/domain/conversation';
import { captureLogger, temporalClient, testConfig, testSecrets } from '../helpers/env';
import {
  fixtureNames,
  loadFixture,
  textWebhook,
  uniqueMessageId,
  uniqueWaId,
  conversationIdFor,
} from '../helpers/webhooks';

const config = testConfig();
const secret = testSecrets.WHATSAPP_APP_SECRET;
let temporal: Client;
let app: ReturnType<typeof createApp>;
const logs = captureLogger();
// The webhook never touches Postgres: every test here passes with a database that cannot be reached.
const unreachableDb = createPool('postgres://hotel@127.0.0.1:1/hotel', { max: 1 });

beforeAll(async () => {
  temporal = await temporalClient(config);
  app = createApp({ temporal, config, log: logs.log, db: unreachableDb });
});

afterAll(async () => {
  await temporal.connection.close();
  await unreachableDb.end();
});

function post(body: string | Buffer, headers: Record<string, string> = {}) {
  return (
    request(app.callback())
      .post('/webhooks/whatsapp')
      .set('content-type', 'application/json')
      .set(headers)
      // A string, not a Buffer: superagent would JSON-encode a Buffer sent as application/json.
      .send(Buffer.isBuffer(body) ? body.toString('utf8') : body)
  );
}

function signedPost(payload: unknown) {
  const raw = JSON.stringify(payload);
  return post(raw, { 'x-hub-signature-256': signBody(raw, secret) });
}

async function exists(workflowId: string): Promise<boolean> {
  try {
    await temporal.workflow.getHandle(workflowId).describe();
    return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

describe('GET /webhooks/whatsapp (verification handshake)', () => {
  it('echoes the challenge as plain text when the verify token is right', async () => {
    const res = await request(app.callback()).get('/webhooks/whatsapp').query({
      'hub.mode': 'subscribe',
      'hub.verify_token': testSecrets.WHATSAPP_VERIFY_TOKEN,
      'hub.challenge': '1158201444',
    });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.text).toBe('1158201444');
  });

  it('answers 403 when the verify token is wrong or the mode is not subscribe', async () => {
    const wrongToken = await request(app.callback())
      .get('/webhooks/whatsapp')
      .query({ 'hub.mode': 'subscribe', 'hub.verify_token': 'nope', 'hub.challenge': '1' });
    expect(wrongToken.status).toBe(403);
    expect(wrongToken.text).not.toContain('1');
    const wrongMode = await request(app.callback()).get('/webhooks/whatsapp').query({
      'hub.mode': 'unsubscribe',
      'hub.verify_token': testSecrets.WHATSAPP_VERIFY_TOKEN,
      'hub.challenge': '1',
    });
    expect(wrongMode.status).toBe(403);
  });
});

describe('POST /webhooks/whatsapp signature', () => {
  it('accepts a valid signature and starts the conversation', async () => {
    const payload = textWebhook();
    const res = await signedPost(payload);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ received: { messages: 1, statuses: 0 } });
    const from = (payload as any).entry[0].changes[0].value.messages[0].from as string;
    expect(await exists(conversationIdFor('106540352242922', from))).toBe(true);
  });

  it('names the guest in the conversation summary by a keyed reference, never the number or its plain hash', async () => {
    const from = uniqueWaId();
    expect((await signedPost(textWebhook({ from }))).status).toBe(200);
    const description = await temporal.workflow.getHandle(conversationIdFor('106540352242922', from)).describe();
    const details = (await description.staticDetails()) ?? '';
    expect(details).toContain(`Guest ref ${createGuestRefs(config.guestRefKey).of(from)}`);
    expect(details).not.toContain(from);
    expect(details).not.toContain(createHash('sha256').update(from).digest('hex').slice(0, 12));
  });

  it.each([
    ['missing', undefined],
    ['not sha256=', 'sha1=abc'],
    ['wrong secret', 'other-secret'],
    ['not hex', 'sha256=zzzz'],
  ])('answers 401 and starts nothing when the signature is %s', async (_name, signature) => {
    const payload = textWebhook();
    const raw = JSON.stringify(payload);
    const header = signature === 'other-secret' ? signBody(raw, 'other-secret-123') : signature;
    const res = await post(raw, header ? { 'x-hub-signature-256': header } : {});
    expect(res.status).toBe(401);
    const from = (payload as any).entry[0].changes[0].value.messages[0].from as string;
    expect(await exists(conversationIdFor('106540352242922', from))).toBe(false);
  });

  it('answers 401 when one byte of the signed body was altered', async () => {
    const raw = Buffer.from(JSON.stringify(textWebhook({ body: 'room for two' })));
    const signature = signBody(raw, secret);
    const altered = Buffer.from(raw);
    const at = altered.indexOf('room');
    altered[at] = 'b'.charCodeAt(0); // "boom for two"
    expect((await post(altered, { 'x-hub-signature-256': signature })).status).toBe(401);
  });

  it('verifies the exact bytes, so the same JSON re-serialised differently does not pass', async () => {
    const payload = textWebhook();
    const compact = JSON.stringify(payload);
    const pretty = JSON.stringify(payload, null, 2);
    const res = await post(pretty, { 'x-hub-signature-256': signBody(compact, secret) });
    expect(res.status).toBe(401);
    // ...while the pretty bytes, signed as sent, are accepted.
    expect((await post(pretty, { 'x-hub-signature-256': signBody(pretty, secret) })).status).toBe(200);
  });
});

describe('POST /webhooks/whatsapp bad input', () => {
  it('answers 415 for a body that is not JSON, and starts nothing', async () => {
    const payload = textWebhook();
    const raw = JSON.stringify(payload);
    const res = await request(app.callback())
      .post('/webhooks/whatsapp')
      .set('content-type', 'text/plain')
      .set('x-hub-signature-256', signBody(raw, secret))
      .send(raw);
    expect(res.status).toBe(415);
    const from = (payload as any).entry[0].changes[0].value.messages[0].from as string;
    expect(await exists(conversationIdFor('106540352242922', from))).toBe(false);
  });

  it('answers 413 for a body over the limit, and starts nothing', async () => {
    const payload = textWebhook({ body: 'x'.repeat(config.webhook.maxBodyBytes) });
    const raw = JSON.stringify(payload);
    const res = await post(raw, { 'x-hub-signature-256': signBody(raw, secret) });
    expect(res.status).toBe(413);
    const from = (payload as any).entry[0].changes[0].value.messages[0].from as string;
    expect(await exists(conversationIdFor('106540352242922', from))).toBe(false);
  });

  it('answers 400 with a clear message for malformed JSON', async () => {
    const raw = '{"object": "whatsapp_business_account", "entry": [';
    const res = await post(raw, { 'x-hub-signature-256': signBody(raw, secret) });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_json');
  });

  it('answers 400 naming the bad field for a payload of the wrong shape, and starts nothing', async () => {
    const payload = textWebhook();
    const value = (payload as any).entry[0].changes[0].value;
    const from = value.messages[0].from as string;
    delete value.messages[0].id;
    const res = await signedPost(payload);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_payload');
    expect(res.body.error.details.issues).toEqual(
      expect.arrayContaining([expect.objectContaining({ path: 'entry.0.changes.0.value.messages.0.id' })]),
    );
    expect(await exists(conversationIdFor('106540352242922', from))).toBe(false);
  });

  // Found by the property test (webhook-property.test.ts): each answered 500 or 503 before, so Meta would
  // have retried it for a week, and the first two sent back an error of 100 kB and more.
  it('answers 400 with a short error for a payload of many bad elements, and starts nothing', async () => {
    for (const count of [1_000, 31_067]) {
      const payload = textWebhook() as any;
      const from = payload.entry[0].changes[0].value.messages[0].from as string;
      payload.entry[0].changes[0].value.messages.push(...Array.from({ length: count }, () => ({})));
      const res = await signedPost(payload);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_payload');
      expect(res.text.length).toBeLessThan(16 * 1024);
      expect(await exists(conversationIdFor('106540352242922', from))).toBe(false);
    }
  });

  it.each([
    ['a business number id too long for a workflow id', { phoneNumberId: '1'.repeat(1_100) }],
    ['a sender that is not UTF-8 (a lone surrogate)', { from: '\ud800' }],
    ['a sender with a ":" that would make another conversation\'s id', { from: '34600:1' }],
  ])('answers 400 and starts nothing for %s', async (_name, fields) => {
    const payload = textWebhook() as any;
    const value = payload.entry[0].changes[0].value;
    if ('phoneNumberId' in fields) value.metadata.phone_number_id = fields.phoneNumberId;
    if ('from' in fields) value.messages[0].from = value.contacts[0].wa_id = fields.from;
    const res = await signedPost(payload);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_payload');
  });

  it('answers 413 for a message too large for Temporal, and starts nothing', async () => {
    const payload = textWebhook({ body: 'x'.repeat(2_200_000) }) as any;
    const from = payload.entry[0].changes[0].value.messages[0].from as string;
    const res = await signedPost(payload);
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('message_too_large');
    expect(await exists(conversationIdFor('106540352242922', from))).toBe(false);
  });

  it('answers 400 for an object that is not a WhatsApp Business Account', async () => {
    const res = await signedPost({ object: 'page', entry: [] });
    expect(res.status).toBe(400);
  });
});

describe('POST /webhooks/whatsapp delivery', () => {
  it('signals every message of every entry and change to its own conversation', async () => {
    const a = textWebhook();
    const b = textWebhook({ phoneNumberId: '200000000000001' });
    const c = textWebhook();
    const combined = a as any;
    combined.entry.push((b as any).entry[0]);
    combined.entry[0].changes.push((c as any).entry[0].changes[0]);
    // and a second message from the same guest in the first change
    const firstValue = combined.entry[0].changes[0].value;
    firstValue.messages.push({ ...firstValue.messages[0], id: uniqueMessageId() });

    const res = await signedPost(combined);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ received: { messages: 4, statuses: 0 } });
    const ids = [
      conversationIdFor('106540352242922', (a as any).entry[0].changes[0].value.messages[0].from),
      conversationIdFor('200000000000001', (b as any).entry[0].changes[0].value.messages[0].from),
      conversationIdFor('106540352242922', (c as any).entry[0].changes[0].value.messages[0].from),
    ];
    for (const id of ids) expect(await exists(id)).toBe(true);
    const history = await temporal.workflow.getHandle(ids[0]!).fetchHistory();
    const signals = history.events?.filter((e) => e.workflowExecutionSignaledEventAttributes) ?? [];
    expect(signals).toHaveLength(2);
  });

  it.each(fixtureNames())('accepts Meta example %s with 200', async (name) => {
    const payload = loadFixture(name) as any;
    // Unique senders and ids, so each run starts fresh conversations.
    const from = uniqueWaId();
    for (const entry of payload.entry) {
      for (const change of entry.changes) {
        for (const m of change.value.messages ?? []) {
          m.from = from;
          m.id = uniqueMessageId();
        }
        for (const c of change.value.contacts ?? []) c.wa_id = from;
      }
    }
    const res = await signedPost(payload);
    expect(res.status).toBe(200);
    const expected = (payload.entry as any[]).flatMap((e) => e.changes).flatMap((c) => c.value.messages ?? []).length;
    expect(res.body.received.messages).toBe(expected);
  });

  it('never logs the guest phone number or the signature', async () => {
    const payload = textWebhook({ from: '34600123456' });
    await signedPost(payload);
    const text = logs.lines().join('\n');
    expect(text).not.toContain('34600123456');
    expect(text).not.toContain(secret);
  });
});

/** The signals a conversation received, in the order Temporal recorded them: `m:<text>` or `s:<status>`. */
async function signalsOf(workflowId: string): Promise<string[]> {
  const history = await temporal.workflow.getHandle(workflowId).fetchHistory();
  const codec = new EncryptionCodec(config.payloadKeys);
  const signals = (history.events ?? []).flatMap((e) => e.workflowExecutionSignaledEventAttributes ?? []);
  const args = await Promise.all(signals.map(async (s) => (await codec.decode([s.input!.payloads![0]!]))[0]!));
  return signals.flatMap((signal, i) => {
    const arg = defaultPayloadConverter.fromPayload(args[i]!);
    if (signal.signalName === inboundMessageSignal.name) return [`m:${(arg as InboundMessage).text ?? ''}`];
    if (signal.signalName === deliveryStatusSignal.name) return [`s:${(arg as DeliveryStatusUpdate).status}`];
    return [`?:${signal.signalName ?? ''}`];
  });
}

describe('POST /webhooks/whatsapp ordering', () => {
  it("signals each guest's messages in timestamp order, one after another, then that guest's statuses", async () => {
    const a = uniqueWaId();
    const b = uniqueWaId();
    const base = 1_750_000_000;
    const payload = textWebhook({ from: a }) as any;
    const change = payload.entry[0].changes[0];
    const template = change.value.messages[0];
    const message = (from: string, label: string, at: number) => ({
      ...template,
      from,
      id: uniqueMessageId(),
      timestamp: String(base + at),
      text: { body: label },
    });
    // Guest a: six messages shuffled over two changes. Guest b: a tie (b1 and b2 share a second), kept in
    // payload order. A status for each guest comes first in the payload, but belongs after their messages.
    change.value.contacts = [{ wa_id: a }, { wa_id: b }];
    change.value.statuses = [
      { id: uniqueMessageId(), status: 'delivered', timestamp: String(base + 1), recipient_id: a },
      { id: uniqueMessageId(), status: 'read', timestamp: String(base + 2), recipient_id: b },
    ];
    change.value.messages = [message(a, 'a3', 3), message(a, 'a0', 0), message(b, 'b1', 1), message(a, 'a4', 4)];
    const second = structuredClone(change);
    second.value.statuses = [];
    second.value.messages = [message(a, 'a1', 1), message(b, 'b2', 1), message(a, 'a5', 5)];
    second.value.messages.push(message(b, 'b0', 0), message(a, 'a2', 2));
    payload.entry[0].changes.push(second);

    const res = await signedPost(payload);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ received: { messages: 9, statuses: 2 } });
    expect(await signalsOf(conversationIdFor('106540352242922', a))).toEqual([
      'm:a0',
      'm:a1',
      'm:a2',
      'm:a3',
      'm:a4',
      'm:a5',
      's:delivered',
    ]);
    expect(await signalsOf(conversationIdFor('106540352242922', b))).toEqual(['m:b0', 'm:b1', 'm:b2', 's:read']);
  });
});

describe('when Temporal is unreachable', () => {
  it('answers 503 so Meta retries, and /health/ready says not ready', async () => {
    const port = await getFreePort();
    const down = testConfig({ WEBHOOK_TEMPORAL_TIMEOUT_MS: '1500' });
    const connection = Connection.lazy({ address: `127.0.0.1:${port}` });
    const client = new TemporalClient({ connection });
    const downApp = createApp({ temporal: client, config: down, log: captureLogger().log, db: unreachableDb });
    const raw = JSON.stringify(textWebhook());
    const res = await request(downApp.callback())
      .post('/webhooks/whatsapp')
      .set('content-type', 'application/json')
      .set('x-hub-signature-256', signBody(raw, secret))
      .send(raw);
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBeDefined();
    expect(res.body.error.code).toBe('temporal_unavailable');
    const ready = await request(downApp.callback()).get('/health/ready');
    expect(ready.status).toBe(503);
    expect((await request(downApp.callback()).get('/health/live')).status).toBe(200);
    await connection.close().catch(() => undefined);
  });

  it('reports ready when Temporal answers', async () => {
    expect((await request(app.callback()).get('/health/ready')).body).toEqual({ status: 'ready', temporal: 'ok' });
  });
});
