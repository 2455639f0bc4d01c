/**
 * Records the workflow histories that the replay test replays: `npm run record-histories`.
 * Runs each scenario for real (its own Temporal dev server, the WhatsApp stand-in, the real worker and
 * API) and writes `test/histories/<scenario>.json`. Re-record after an intended workflow change, and
 * commit the files together with the change.
 */
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { createApp } from '../api/app';
import { signBody } from '../api/signature';
import { waitFor } from '../dev/process';
import { startWhatsAppStandin, type WhatsAppStandin } from '../dev/whatsapp-standin';
import { loadConfig, type Config } from '../lib/config';
import { createHttpAgent } from '../lib/http';
import { createLogger } from '../lib/log';
import { conversationWorkflowId } from '../lib/domain/messages';
import { startTemporalDevServer, temporalBinary } from '../temporal/dev-server';
import { stateQuery } from '../workflows/conversation';
import { createConversationWorker } from '../workers/worker';
import { loadFixture, textWebhook, uniqueMessageId } from './helpers/webhooks';

const secrets = {
  WHATSAPP_APP_SECRET: 'record-app-secret-0123',
  WHATSAPP_VERIFY_TOKEN: 'record-verify-token',
  WHATSAPP_ACCESS_TOKEN: 'record-access-token-0123',
};
const historiesDir = path.join(__dirname, 'histories');
const phoneNumberId = '106540352242922';

interface Ctx {
  temporal: Client;
  standin: WhatsAppStandin;
  post(payload: unknown): Promise<void>;
}

/** A scenario returns the run whose history is recorded (the latest run when `runId` is omitted). */
type Scenario = (ctx: Ctx) => Promise<{ handle: WorkflowHandle; runId?: string }>;

const repliesTo = (standin: WhatsAppStandin, waId: string) => standin.sent.filter((m) => m.to === waId).length;

const scenarios: Record<string, Scenario> = {
  /** Spanish and English messages answered, a duplicate dropped, a read status, then the idle close. */
  async 'conversation-replies-and-idle-close'({ temporal, standin, post }) {
    const from = '15550000001';
    const first = textWebhook({ from, id: uniqueMessageId(), body: 'Hola, ¿tienen habitación?' });
    await post(first);
    await waitFor('first reply', () => repliesTo(standin, from) === 1);
    await post(first);
    await post(textWebhook({ from, id: uniqueMessageId(), body: 'Hello, thank you' }));
    await waitFor('second reply', () => repliesTo(standin, from) === 2);
    const status = loadFixture('status_read_group') as any;
    const value = status.entry[0].changes[0].value;
    value.metadata.phone_number_id = phoneNumberId;
    value.statuses = [
      {
        ...value.statuses[0],
        id: standin.sent.at(-1)!.id,
        recipient_id: from,
        status: 'read',
        timestamp: '1750263773',
      },
    ];
    await post(status);
    const handle = temporal.workflow.getHandle(conversationWorkflowId(phoneNumberId, from));
    await waitFor('the status', async () =>
      (await handle.query(stateQuery)).lastMessages.some((m) => m.status === 'read'),
    );
    return { handle };
  },
  /** WhatsApp fails twice (retried), then refuses a recipient for good (recorded, not retried). */
  async 'conversation-whatsapp-failures'({ temporal, standin, post }) {
    const from = '15550000002';
    standin.inject({ kind: 'error', status: 503, code: 131016, message: 'Service unavailable' }, 2);
    await post(textWebhook({ from, id: uniqueMessageId(), body: 'Hello' }));
    await waitFor('reply after retries', () => repliesTo(standin, from) === 1, { timeoutMs: 20_000 });
    standin.undeliverable.add(from);
    await post(textWebhook({ from, id: uniqueMessageId(), body: 'Hello again' }));
    const handle = temporal.workflow.getHandle(conversationWorkflowId(phoneNumberId, from));
    await waitFor('the failure', async () =>
      (await handle.query(stateQuery)).lastMessages.some((m) => m.status === 'failed'),
    );
    return { handle };
  },
  /** A burst of messages that crosses continue-as-new; the first run's history is recorded. */
  async 'conversation-continue-as-new'({ temporal, standin, post }) {
    const from = '15550000003';
    const handle = temporal.workflow.getHandle(conversationWorkflowId(phoneNumberId, from));
    await post(textWebhook({ from, id: uniqueMessageId(), body: 'Hello 0' }));
    const firstRunId = (await handle.describe()).runId;
    for (let i = 1; i < 10; i++) await post(textWebhook({ from, id: uniqueMessageId(), body: `Hello ${i}` }));
    await waitFor('ten replies', () => repliesTo(standin, from) === 10, { timeoutMs: 30_000 });
    return { handle, runId: firstRunId };
  },
};

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hm-record-'));
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const server = await startTemporalDevServer({
    headless: true,
    logDir: dir,
    dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': 30 },
  });
  const standin = await startWhatsAppStandin({ accessToken: secrets.WHATSAPP_ACCESS_TOKEN });
  const config: Config = loadConfig({
    ...secrets,
    LOG_LEVEL: 'silent',
    TEMPORAL_ADDRESS: server.address,
    WHATSAPP_GRAPH_BASE_URL: standin.url,
    CONVERSATION_IDLE_TIMEOUT_SECONDS: '3',
  });
  const log = createLogger({ level: 'silent' });
  const connection = await Connection.connect({ address: server.address });
  const temporal = new Client({ connection });
  const nativeConnection = await NativeConnection.connect({ address: server.address });
  const http = createHttpAgent({ maxConnectionsPerOrigin: 4 });
  const bundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    logger: new DefaultLogger('WARN'),
  });
  const worker = await createConversationWorker({
    config,
    log,
    connection: nativeConnection,
    http,
    workflowBundle: bundle,
  });
  const running = worker.run();
  const app = createApp({ temporal, config, log });
  const post = async (payload: unknown) => {
    const raw = JSON.stringify(payload);
    await request(app.callback())
      .post('/webhooks/whatsapp')
      .set('content-type', 'application/json')
      .set('x-hub-signature-256', signBody(raw, secrets.WHATSAPP_APP_SECRET))
      .send(raw)
      .expect(200);
  };
  try {
    mkdirSync(historiesDir, { recursive: true });
    for (const [name, scenario] of Object.entries(scenarios)) {
      if (only.length > 0 && !only.includes(name)) continue;
      const { handle, runId } = await scenario({ temporal, standin, post });
      await handle.result(); // follows continue-as-new to the run closed by the idle timeout
      const run = runId ?? (await handle.describe()).runId;
      // The CLI writes the canonical proto3 JSON that `historyFromJSON` (and the Web UI's download) use.
      const json = execFileSync(
        temporalBinary,
        [
          'workflow',
          'show',
          '--address',
          server.address,
          '--workflow-id',
          handle.workflowId,
          '--run-id',
          run,
          '--output',
          'json',
        ],
        { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
      );
      const file = path.join(historiesDir, `${name}.json`);
      writeFileSync(file, json.endsWith('\n') ? json : `${json}\n`);
      const events = (JSON.parse(json) as { events: unknown[] }).events.length;
      console.log(`recorded ${path.relative(process.cwd(), file)} (${events} events)`);
    }
  } finally {
    worker.shutdown();
    await running;
    await Promise.allSettled([http.close(), nativeConnection.close(), connection.close(), standin.close()]);
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
