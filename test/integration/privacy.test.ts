import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import request from 'supertest';
import { waitFor } from '../../dev/process';
import { resumeUpdate, stateQuery } from '../../lib/domain/conversation';
import { createAdminToken } from '../../lib/db/tokens';
import { createTracing, traceHeader } from '../../lib/tracing';
import { auditRows } from '../helpers/admin';
import { startStack, type Stack } from '../helpers/stack';
import { createTestTenant, uniquePhoneNumberId, type TestTenant } from '../helpers/tenants';
import {
  conversationIdFor,
  postSigned,
  testGuestRefs,
  textWebhook,
  uniqueMessageId,
  uniqueWaId,
} from '../helpers/webhooks';
import { temporalBinary } from '../../temporal/dev-server';
import { readableText } from '../helpers/histories';
import { testEnv } from '../helpers/env';

/**
 * What Temporal holds of a guest, read without the codec (as anyone with `temporal` on the cluster, or a dump of its
 * database, reads it): ciphertext, and the guest by keyed reference only. And how operators still find a guest's
 * conversation by number: `GET /admin/conversations?phone=`.
 */

let stack: Stack;
let hotel: TestTenant;
/** The hotel's second business number. */
let secondNumber: string;
let root: string;

/** Traced like a deployment with OTEL_EXPORTER_OTLP_ENDPOINT set, so the trace header is in the histories read here. */
const tracing = createTracing({
  spanProcessor: new SimpleSpanProcessor(new InMemorySpanExporter()),
  serviceName: 'privacy',
});

beforeAll(async () => {
  stack = await startStack({ tracing });
  hotel = await stack.tenant({ locale: 'es' });
  secondNumber = uniquePhoneNumberId();
  await stack.worker.db.query('INSERT INTO tenant_phone_numbers (phone_number_id, tenant_id) VALUES ($1, $2)', [
    secondNumber,
    hotel.id,
  ]);
  await stack.worker.tenants.reload();
  root = (await createAdminToken(stack.worker.db, { name: 'privacy-root', scope: 'admin' }, 'test')).token;
});

afterAll(async () => {
  await stack?.stop();
  await tracing.shutdown();
});

const repliesTo = (waId: string) => stack.whatsapp.sent.filter((m) => m.to === waId);

/** `temporal <args> --output json` against the run's server, with no codec: what the cluster itself stores. */
async function cli(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(
    temporalBinary,
    [...args, '--address', testEnv().temporalAddress, '--output', 'json'],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  return stdout;
}

/** The path of the trace-context header (lib/tracing.ts) in a history's JSON: in a workflow's or an activity's header. */
const traceHeaderPath = new RegExp(`\\.header\\.fields\\.${traceHeader}$`);

/**
 * Every payload in a history (by its JSON path), with its encoding; search attributes and SDK markers left out, and
 * the trace-context header, which the payload codec does not encode (headers are not payloads of ours): it holds a
 * W3C `traceparent`, trace and span ids only, which the test below checks.
 */
function payloadEncodings(value: unknown, path = ''): { path: string; encoding: string }[] {
  if (value === null || typeof value !== 'object') return [];
  if (/searchAttributes|markerRecordedEventAttributes/.test(path) || traceHeaderPath.test(path)) return [];
  const { metadata } = value as { metadata?: { encoding?: string } };
  if (typeof metadata?.encoding === 'string') {
    return [{ path, encoding: Buffer.from(metadata.encoding, 'base64').toString('utf8') }];
  }
  return Object.entries(value).flatMap(([k, v]) => payloadEncodings(v, `${path}.${k}`));
}

/** The decoded trace-context headers of a history. */
function traceContexts(value: unknown, path = ''): Record<string, string>[] {
  if (value === null || typeof value !== 'object') return [];
  if (traceHeaderPath.test(path)) {
    const { data } = value as { data: string };
    return [JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as Record<string, string>];
  }
  return Object.entries(value).flatMap(([k, v]) => traceContexts(v, `${path}.${k}`));
}

describe('what Temporal stores of a conversation', () => {
  it('is ciphertext: no text, no reply, no number in the history, the description or a failure message', async () => {
    const from = uniqueWaId();
    const words = 'Quiero hablar con una persona sobre mi alergia al marisco';
    await postSigned(stack.app, textWebhook({ phoneNumberId: hotel.phoneNumberId, from, body: words }));
    await waitFor('the reply', () => repliesTo(from).length === 1);
    const workflowId = conversationIdFor(hotel.phoneNumberId, from);
    const handle = stack.temporal.workflow.getHandle(workflowId);
    expect((await handle.query(stateQuery)).staffRequested).toBe(true);
    // Staff hand it back to the bot, so the next message is answered.
    await handle.executeUpdate(resumeUpdate, { args: [{ operator: { tokenId: 'privacy-test' } }] });
    // A reply WhatsApp refuses for good: its failure message must not be in clear either.
    stack.whatsapp.undeliverable.add(from);
    await postSigned(
      stack.app,
      textWebhook({ phoneNumberId: hotel.phoneNumberId, from, body: 'Hola otra vez', id: uniqueMessageId() }),
    );
    await waitFor('the refusal recorded', async () =>
      (await handle.query(stateQuery)).lastMessages.some((m) => m.status === 'failed'),
    );
    const state = await handle.query(stateQuery);
    // Through the codec (the API's client) the operator's view is whole.
    expect(state.lastMessages.map((m) => m.text)).toContain(words);
    const reply = repliesTo(from)[0]!.text!;

    expect(workflowId).toBe(`wa:${hotel.phoneNumberId}:${testGuestRefs.of(from)}`);
    const history = await cli('workflow', 'show', '--workflow-id', workflowId);
    const describe = await cli('workflow', 'describe', '--workflow-id', workflowId);
    for (const stored of [readableText(history), readableText(describe)]) {
      expect(stored).not.toContain(from);
      expect(stored).not.toContain(words);
      expect(stored).not.toContain('alergia');
      expect(stored).not.toContain(reply.slice(0, 30));
    }
    // Every payload is encrypted: inputs, signals, activity inputs and results, summaries, failures' attributes.
    // Only search attributes (the tenant, statuses, intents: never the guest) and SDK markers stay in clear.
    const encodings = payloadEncodings(JSON.parse(history));
    expect(encodings.filter((p) => p.encoding !== 'binary/encrypted')).toEqual([]);
    expect(encodings.length).toBeGreaterThan(10);
    // The one header in clear carries the trace context and nothing else: the start's, the signals', each activity's.
    const contexts = traceContexts(JSON.parse(history));
    expect(contexts.length).toBeGreaterThan(3);
    for (const context of contexts) {
      expect(Object.keys(context)).toEqual(['traceparent']);
      expect(context.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
    }
    // Failures keep only a placeholder in clear; their message and stack are in the encrypted attributes.
    expect(history).toContain('"message": "Encoded failure"');
    expect(history).not.toMatch(/WhatsApp refused|not a valid WhatsApp|131026/);
    // Search attributes: the tenant and statuses, nothing about the guest.
    const attributes = JSON.stringify(JSON.parse(describe).executionInfo?.searchAttributes ?? {});
    expect(attributes).not.toContain(from);
  });
});

describe('GET /admin/conversations?phone=', () => {
  const lookup = (token: string, query: Record<string, string>) =>
    request(stack.app.callback()).get('/admin/conversations').query(query).set('authorization', `Bearer ${token}`);

  it("finds the guest's conversation on each of the hotel's numbers, by the number however it is written", async () => {
    const from = uniqueWaId();
    await postSigned(stack.app, textWebhook({ phoneNumberId: hotel.phoneNumberId, from, body: 'Hola' }));
    await postSigned(stack.app, textWebhook({ phoneNumberId: secondNumber, from, body: 'Hola' }));
    await waitFor('both replies', () => repliesTo(from).length === 2);
    const spaced = `+${from.slice(0, 1)} ${from.slice(1, 4)}-${from.slice(4, 7)} ${from.slice(7)}`;
    for (const phone of [`+${from}`, spaced, `00${from}`]) {
      const res = await lookup(root, { phone, tenantId: hotel.id });
      expect(res.status).toBe(200);
      expect(res.body.guestRef).toBe(testGuestRefs.of(from));
      expect(res.body.conversations.map((c: { workflowId: string }) => c.workflowId).sort()).toEqual(
        [conversationIdFor(hotel.phoneNumberId, from), conversationIdFor(secondNumber, from)].sort(),
      );
      expect(res.body.conversations[0]).toMatchObject({
        tenantId: hotel.id,
        status: 'active',
        executionStatus: 'RUNNING',
        closedAt: null,
      });
      expect(JSON.stringify(res.body)).not.toContain(from);
    }
    // Audited by reference: who looked for which guest, never the number.
    const rows = (await auditRows(stack.worker.db, { tenantId: hotel.id })).filter(
      (r) => r.action === 'conversation.lookup',
    );
    expect(rows.at(-1)?.details).toEqual({ guest: testGuestRefs.of(from), found: 2 });
    expect(JSON.stringify(rows)).not.toContain(from);
  });

  it('answers an empty list for a guest who never wrote', async () => {
    const res = await lookup(root, { phone: `+${uniqueWaId()}`, tenantId: hotel.id });
    expect(res.status).toBe(200);
    expect(res.body.conversations).toEqual([]);
  });

  it("keeps a hotel's token to its own guests, and monitoring tokens away from guests", async () => {
    const from = uniqueWaId();
    await postSigned(stack.app, textWebhook({ phoneNumberId: hotel.phoneNumberId, from, body: 'Hola' }));
    await waitFor('the reply', () => repliesTo(from).length === 1);
    const other = await createTestTenant(stack.worker.db);
    const db = stack.worker.db;
    const own = (await createAdminToken(db, { name: 'front-desk', scope: 'admin', tenantId: hotel.id }, 't')).token;
    const foreign = (await createAdminToken(db, { name: 'other-desk', scope: 'admin', tenantId: other.id }, 't')).token;
    const monitoring = (await createAdminToken(db, { name: 'grafana', scope: 'monitoring' }, 't')).token;

    const mine = await lookup(own, { phone: `+${from}`, tenantId: hotel.id });
    expect(mine.status).toBe(200);
    expect(mine.body.conversations).toHaveLength(1);
    // Another hotel's token sees nothing of this guest: not through its own tenant, and not by naming this one.
    expect((await lookup(foreign, { phone: `+${from}`, tenantId: other.id })).body.conversations).toEqual([]);
    const named = await lookup(foreign, { phone: `+${from}`, tenantId: hotel.id });
    expect(named.status).toBe(404);
    expect(named.body.error.code).toBe('not_found');
    const watching = await lookup(monitoring, { phone: `+${from}`, tenantId: hotel.id });
    expect(watching.status).toBe(403);
    expect(watching.body.error.message).toContain('Monitoring tokens do not see who guests are');
  });

  it('refuses a malformed number, an unknown field, a lookup that names no hotel', async () => {
    for (const [query, path] of [
      [{ phone: 'call me', tenantId: hotel.id }, 'phone'],
      [{ phone: 'guest@example.com', tenantId: hotel.id }, 'phone'],
      [{ phone: '+34600123456', tenantId: hotel.id, waId: '1' }, 'waId'],
      [{ phone: '+34600123456' }, 'tenantId'],
    ] as const) {
      const res = await lookup(root, query);
      expect(res.status).toBe(400);
      expect(res.body.error.details.fields).toEqual([expect.objectContaining({ in: 'query', path })]);
    }
    expect((await lookup(root, { phone: '+34600123456', tenantId: 'no-such-hotel' })).status).toBe(404);
  });

  it('leaves out a conversation another hotel had on a number that has since changed hands', async () => {
    const from = uniqueWaId();
    const before = await createTestTenant(stack.worker.db);
    await stack.worker.tenants.reload();
    await postSigned(stack.app, textWebhook({ phoneNumberId: before.phoneNumberId, from, body: 'Hola' }));
    await waitFor('the reply', () => repliesTo(from).length === 1);
    await stack.worker.db.query('UPDATE tenant_phone_numbers SET tenant_id = $1 WHERE phone_number_id = $2', [
      hotel.id,
      before.phoneNumberId,
    ]);
    const res = await lookup(root, { phone: `+${from}`, tenantId: hotel.id });
    expect(res.status).toBe(200);
    expect(res.body.conversations).toEqual([]);
  });
});
