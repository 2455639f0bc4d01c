import type { Client } from '@temporalio/client';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Pool } from 'pg';
import request from 'supertest';
import { createApp } from '../../api/app';
import { signBody } from '../../api/signature';
import { waitFor } from '../../dev/process';
import { startWhatsAppStandin, type WhatsAppStandin } from '../../dev/whatsapp-standin';
import { conversationWorkflowId } from '../../lib/domain/messages';
import { createGuestRefs } from '../../lib/guest-refs';
import { maskPhones } from '../../lib/log';
import { captureLogger, temporalClient, testConfig, testSecrets } from '../helpers/env';
import { removeCleanupSchedule, startWorkerProcess, type ProcessService } from '../helpers/processes';
import { createTestTenant, type TestTenant } from '../helpers/tenants';
import { textWebhook, uniqueMessageId, uniqueWaId } from '../helpers/webhooks';

/**
 * The worker's log output of one conversation, as an operator reads it: every line about the conversation names its
 * workflow, run, tenant and the guest's message, whether the workflow wrote it (the SDK's workflow logger), an
 * activity (our logger, the SDK's activity logger) or the SDK about either; and no line holds the guest's number or
 * words.
 */

const config = testConfig();
const dir = mkdtempSync(path.join(os.tmpdir(), 'logs-'));
let temporal: Client;
let db: Pool;
let whatsapp: WhatsAppStandin;
let tenant: TestTenant;
let worker: ProcessService | undefined;

beforeAll(async () => {
  whatsapp = await startWhatsAppStandin({ accessToken: testSecrets.WHATSAPP_ACCESS_TOKEN });
  temporal = await temporalClient(config);
  db = new Pool({ connectionString: config.databaseUrl, max: 2 });
  tenant = await createTestTenant(db);
  ({ worker } = await startWorkerProcess(config, dir, { WHATSAPP_GRAPH_BASE_URL: whatsapp.url, LOG_LEVEL: 'debug' }));
}, 90_000);

afterAll(async () => {
  await worker?.stop(15_000);
  await removeCleanupSchedule(temporal, config);
  await temporal?.connection.close();
  await db?.end();
  await whatsapp?.close();
  rmSync(dir, { recursive: true, force: true });
});

it("names the workflow, run, tenant and message on every line of a conversation, and never the guest's number or text", async () => {
  const app = createApp({ temporal, config, log: captureLogger().log, db });
  const guest = uniqueWaId();
  const wamid = uniqueMessageId();
  const text = 'Hola, me llamo Zacarías Quintanilla y quiero saber el horario del desayuno';
  const raw = JSON.stringify(textWebhook({ phoneNumberId: tenant.phoneNumberId, from: guest, id: wamid, body: text }));
  const deliver = () =>
    request(app.callback())
      .post('/webhooks/whatsapp')
      .set('content-type', 'application/json')
      .set('x-hub-signature-256', signBody(raw, testSecrets.WHATSAPP_APP_SECRET))
      .send(raw)
      .expect(200);
  await deliver();
  await waitFor('the reply', () => whatsapp.sent.some((m) => m.to === guest), { timeoutMs: 30_000 });
  // Meta delivers it again: the workflow logs the duplicate it drops.
  await deliver();
  const workflowId = conversationWorkflowId(tenant.phoneNumberId, createGuestRefs(config.guestRefKey).of(guest));
  const { runId } = await temporal.workflow.getHandle(workflowId).describe();
  const ours = () => worker!.logLines().filter((l) => l.workflowId === maskPhones(workflowId));
  await waitFor(
    'the send and the dropped duplicate to be logged',
    () =>
      ours().some((l) => l.activityType === 'sendMessage' && l.msg === 'Activity completed') &&
      ours().some((l) => l.msg === 'Dropped a duplicate delivery'),
    { timeoutMs: 10_000 },
  );
  const lines = ours();
  // As logged: a run of digits that could be a phone number is masked wherever it appears, even in an id.
  const messageId = maskPhones(wamid);
  // Lines of the workflow (its logger, through the SDK's sinks) and of activities (the SDK's activity logger).
  expect(lines.find((l) => l.msg === 'Dropped a duplicate delivery')).toMatchObject({
    runId,
    tenantId: tenant.id,
    messageId,
  });
  expect(lines.filter((l) => l.activityType === 'sendMessage' && l.msg === 'Activity completed')).toEqual([
    expect.objectContaining({ runId, tenantId: tenant.id, messageId }),
  ]);
  for (const line of lines) {
    expect(line.runId ?? line.workflowRunId).toBe(runId);
    // The run's start comes before any message; the tenant resolution before the tenant is known.
    if (line.msg === 'Workflow started') continue;
    expect(line).toMatchObject({ messageId });
    if (line.activityType !== 'resolveTenant') expect(line).toMatchObject({ tenantId: tenant.id });
  }
  const output = worker!.output();
  expect(output).not.toContain(guest);
  expect(output).not.toContain('Zacarías');
  expect(output).not.toContain('desayuno');
});
