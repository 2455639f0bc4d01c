import { Client, Connection } from '@temporalio/client';
import { EncryptionCodec, payloadDataConverter } from '../../lib/codec';
import { defaultPayloadConverter } from '@temporalio/common';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createApp } from '../../api/app';
import { waitFor } from '../../dev/process';
import { startWhatsAppStandin, type WhatsAppStandin } from '../../dev/whatsapp-standin';
import { startTemporalDevServer, type DevServer } from '../../temporal/dev-server';
import { stateQuery, type ConversationInput } from '../../lib/domain/conversation';
import { createPool } from '../../lib/db/pool';
import { captureLogger, startWorker, testConfig, testSecrets } from '../helpers/env';
import { createTestTenant } from '../helpers/tenants';
import { textWebhook, uniqueMessageId, uniqueWaId, postSigned, conversationIdFor } from '../helpers/webhooks';

/**
 * Continue-as-new, on a dev server of its own whose dynamic config suggests continuing after a few
 * dozen events, so a short burst of messages crosses several runs.
 */
let server: DevServer;
let standin: WhatsAppStandin;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'hm-can-'));
  [server, standin] = await Promise.all([
    startTemporalDevServer({
      headless: true,
      logDir: dir,
      dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': 30 },
    }),
    startWhatsAppStandin({ accessToken: testSecrets.WHATSAPP_ACCESS_TOKEN }),
  ]);
});

afterAll(async () => {
  await Promise.allSettled([server?.stop(), standin?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

it('carries queued messages and the seen ids across continue-as-new: every message answered once', async () => {
  const config = testConfig({ TEMPORAL_ADDRESS: server.address, WHATSAPP_GRAPH_BASE_URL: standin.url });
  const connection = await Connection.connect({ address: server.address });
  const temporal = new Client({ connection, dataConverter: payloadDataConverter(config.payloadKeys) });
  const app = createApp({ temporal, config, log: captureLogger().log, db: createPool(config.databaseUrl) });
  const from = uniqueWaId();
  const db = createPool(config.databaseUrl, { max: 1 });
  const { phoneNumberId } = await createTestTenant(db, { locale: 'en' });
  await db.end();
  const post = async (payload: unknown) => {
    const raw = JSON.stringify(payload);
    await postSigned(app, raw);
  };

  // With no worker running, eight messages queue up in the workflow's history as signals.
  const payloads = Array.from({ length: 8 }, (_, i) =>
    textWebhook({ phoneNumberId, from, id: uniqueMessageId(), body: `Hello ${i}` }),
  );
  for (const p of payloads) await post(p);
  const handle = temporal.workflow.getHandle(conversationIdFor(phoneNumberId, from));
  const firstRunId = (await handle.describe()).runId;

  const worker = await startWorker(config);
  try {
    await waitFor('eight replies', () => standin.sent.filter((m) => m.to === from).length === 8, { timeoutMs: 30_000 });
    // The first run continued as new while messages were still queued.
    const firstRun = await temporal.workflow.getHandle(handle.workflowId, firstRunId).describe();
    expect(firstRun.status.name).toBe('CONTINUED_AS_NEW');
    const current = await handle.describe();
    expect(current.runId).not.toBe(firstRunId);

    // The first message again, delivered after continue-as-new: still recognised and dropped.
    await post(payloads[0]);
    await waitFor('the duplicate dropped', async () => (await handle.query(stateQuery)).duplicatesDropped === 1);
    const state = await handle.query(stateQuery);
    expect(state.received).toBe(8);
    const replies = standin.sent.filter((m) => m.to === from);
    expect(replies).toHaveLength(8);
    // Each message answered exactly once, in order.
    const inboundIds = payloads.map((p) => (p as any).entry[0].changes[0].value.messages[0].id as string);
    expect(replies.map((r) => r.replyTo)).toEqual(inboundIds);
  } finally {
    await worker.stop();
    await connection.close();
  }
});

it('carries at most 500 characters of each displayed message across continue-as-new, and queued messages whole', async () => {
  const config = testConfig({ TEMPORAL_ADDRESS: server.address, WHATSAPP_GRAPH_BASE_URL: standin.url });
  const connection = await Connection.connect({ address: server.address });
  const temporal = new Client({ connection, dataConverter: payloadDataConverter(config.payloadKeys) });
  const db = createPool(config.databaseUrl, { max: 1 });
  const app = createApp({ temporal, config, log: captureLogger().log, db });
  const from = uniqueWaId();
  const { phoneNumberId } = await createTestTenant(db, { locale: 'en' });
  // Long messages (WhatsApp allows 4096 characters), queued with no worker running, as in a burst.
  const long = (i: number) => `Hello ${i} ${'lorem ipsum '.repeat(300)}`;
  for (let i = 0; i < 8; i++) await postSigned(app, textWebhook({ phoneNumberId, from, body: long(i) }));
  const handle = temporal.workflow.getHandle(conversationIdFor(phoneNumberId, from));
  const firstRunId = (await handle.describe()).runId;
  const worker = await startWorker(config);
  try {
    await waitFor('eight replies', () => standin.sent.filter((m) => m.to === from).length === 8, { timeoutMs: 30_000 });
    const firstRun = await temporal.workflow.getHandle(handle.workflowId, firstRunId).fetchHistory();
    const next = firstRun.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
    expect(next).toBeDefined();
    const secondRun = await temporal.workflow.getHandle(handle.workflowId, next!).fetchHistory();
    const payload = secondRun.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    const [decoded] = await new EncryptionCodec(config.payloadKeys).decode([payload!]);
    const input = defaultPayloadConverter.fromPayload<ConversationInput>(decoded!);
    const carried = input.carryOver!;
    expect(carried.lastMessages.length).toBeGreaterThan(0);
    for (const m of carried.lastMessages) expect(m.text?.length ?? 0).toBeLessThanOrEqual(500);
    expect(carried.lastMessages.some((m) => m.direction === 'in' && m.text?.startsWith('Hello 0 lorem'))).toBe(true);
    // Queued messages keep every word: they have yet to be understood.
    expect(carried.pending.length).toBeGreaterThan(0);
    for (const m of carried.pending) expect(m.text).toBe(long(Number(/^Hello (\d)/.exec(m.text ?? '')![1])));
  } finally {
    await worker.stop();
    await db.end();
    await connection.close();
  }
});
