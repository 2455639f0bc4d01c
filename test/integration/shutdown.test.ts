import type { Client } from '@temporalio/client';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Pool } from 'pg';
import request from 'supertest';
import { createApp } from '../../api/app';
import { signBody } from '../../api/signature';
import { canConnect, getFreePort, waitFor } from '../../dev/process';
import { startWhatsAppStandin, type WhatsAppStandin } from '../../dev/whatsapp-standin';
import { conversationWorkflowId } from '../../lib/domain/messages';
import { createGuestRefs } from '../../lib/guest-refs';
import {
  captureLogger,
  startWorker,
  temporalClient,
  testConfig,
  testSecrets,
  type RunningWorker,
} from '../helpers/env';
import {
  processEnv,
  removeCleanupSchedule,
  spawnProcess,
  startWorkerProcess,
  type ProcessService,
} from '../helpers/processes';
import { isLoopback, listeningSocketsOf } from '../helpers/sockets';
import { createTestTenant, type TestTenant } from '../helpers/tenants';
import { textWebhook, uniqueWaId } from '../helpers/webhooks';

/**
 * SIGTERM, as compose and Kubernetes send it on every deploy. The API stops accepting, answers what it has already
 * started to read and exits; the worker stops polling and lets the activity in flight finish, so a reply being sent
 * when the signal came is sent once.
 */

const config = testConfig();
const dir = mkdtempSync(path.join(os.tmpdir(), 'shutdown-'));
const guestRefs = createGuestRefs(config.guestRefKey);
let temporal: Client;
let db: Pool;
let tenant: TestTenant;
const processes: ProcessService[] = [];

beforeAll(async () => {
  temporal = await temporalClient(config);
  db = new Pool({ connectionString: config.databaseUrl, max: 2 });
  tenant = await createTestTenant(db);
});

afterAll(async () => {
  await Promise.allSettled(processes.map((p) => p.stop(15_000)));
  await removeCleanupSchedule(temporal, config);
  await temporal?.connection.close();
  await db?.end();
  rmSync(dir, { recursive: true, force: true });
});

type Answer = { status: number } | { error: string; responded: false };

/** One webhook on a connection of its own; with `hold`, the body's second half waits for `hold` to resolve. */
function sendWebhook(
  port: number,
  guest: string,
  hold?: Promise<void>,
  agent: http.Agent | false = false,
): { answer: Promise<Answer>; read: Promise<void> } {
  const raw = JSON.stringify(textWebhook({ phoneNumberId: tenant.phoneNumberId, from: guest, body: 'Hola' }));
  let headersRead!: () => void;
  const read = new Promise<void>((resolve) => (headersRead = resolve));
  const answer = new Promise<Answer>((resolve) => {
    const req = http.request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/webhooks/whatsapp',
      agent,
      headers: {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(raw),
        'x-hub-signature-256': signBody(raw, testSecrets.WHATSAPP_APP_SECRET),
        // The server answers 100 Continue once it has parsed the headers: the request is then in flight.
        ...(hold ? { expect: '100-continue' } : {}),
      },
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message, responded: false }));
    if (!hold) {
      req.end(raw);
      return;
    }
    req.on('continue', () => {
      headersRead();
      req.write(raw.slice(0, 100));
      void hold.then(() => req.end(raw.slice(100)));
    });
  });
  return { answer, read };
}

describe('SIGTERM to the API', () => {
  it('during a burst of webhooks loses none: each is answered 200 (and signalled) or refused before it was read', async () => {
    const port = await getFreePort();
    const metricsPort = await getFreePort();
    const api = spawnProcess(
      'api',
      'api/main.ts',
      processEnv(config, dir, {
        API_HOST: '127.0.0.1',
        API_PORT: String(port),
        API_METRICS_PORT: String(metricsPort),
        API_SHUTDOWN_GRACE_SECONDS: '20',
      }),
      dir,
    );
    processes.push(api);
    await waitFor(
      'the API to be ready',
      async () => {
        api.assertRunning();
        return (await fetch(`http://127.0.0.1:${port}/health/ready`)).ok;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    // Its /metrics listener is on loopback when API_METRICS_HOST is not set.
    expect(
      listeningSocketsOf(api.child.pid!)
        .filter((s) => s.port === metricsPort)
        .map((s) => s.address),
    ).toEqual(['127.0.0.1']);
    expect(listeningSocketsOf(api.child.pid!).every((s) => s.port !== metricsPort || isLoopback(s.address))).toBe(true);

    // An idle keep-alive connection, as Meta's and load balancers' clients keep: it must not hold the exit up.
    const keepAlive = new http.Agent({ keepAlive: true });
    await new Promise<void>((resolve, reject) =>
      http
        .get({ host: '127.0.0.1', port, path: '/health/live', agent: keepAlive }, (res) => {
          res.resume();
          res.on('end', () => resolve());
        })
        .on('error', reject),
    );

    // Ten webhooks whose headers the API has read and whose bodies are still arriving when SIGTERM comes, on
    // keep-alive connections.
    let releaseBodies!: () => void;
    const bodiesHeld = new Promise<void>((resolve) => (releaseBodies = resolve));
    const held = Array.from({ length: 10 }, () => {
      const guest = uniqueWaId();
      return { guest, ...sendWebhook(port, guest, bodiesHeld, keepAlive) };
    });
    await Promise.all(held.map((h) => h.read));
    // And a burst of thirty more, sent as the signal goes.
    const burst = Array.from({ length: 30 }, () => {
      const guest = uniqueWaId();
      return { guest, answer: sendWebhook(port, guest).answer };
    });
    const signalledAt = Date.now();
    api.child.kill('SIGTERM');
    await waitFor('the API to stop accepting connections', async () => !(await canConnect(port)), {
      timeoutMs: 10_000,
      intervalMs: 20,
    });
    releaseBodies();
    const releasedAt = Date.now();

    const answers = await Promise.all([...held, ...burst].map(async (w) => ({ guest: w.guest, ...(await w.answer) })));
    // Drained: every request in flight when the signal came was answered, and answered 200.
    for (const h of answers.slice(0, held.length)) expect(h).toEqual({ guest: h.guest, status: 200 });
    // The burst: answered 200, or 503 (Meta retries), or refused before the request was read (Meta retries).
    const problems = answers
      .slice(held.length)
      .filter(
        (a) => !('status' in a ? [200, 503].includes(a.status) : ['ECONNREFUSED', 'ECONNRESET'].includes(a.error)),
      );
    expect(problems).toEqual([]);
    // Every 200 was a signal Temporal accepted: its conversation exists.
    for (const a of answers.filter((x) => 'status' in x && x.status === 200)) {
      const id = conversationWorkflowId(tenant.phoneNumberId, guestRefs.of(a.guest));
      await expect(temporal.workflow.getHandle(id).describe()).resolves.toMatchObject({ workflowId: id });
    }
    expect(await api.exited).toBe(0);
    // Soon after the last answer, well within the grace: the keep-alive connections (the idle one, and those of the
    // drained requests once answered) were closed, not waited out until their keep-alive timeout.
    expect(Date.now() - releasedAt).toBeLessThan(3_000);
    expect(Date.now() - signalledAt).toBeLessThan(10_000);
    expect(api.output()).toContain('shutting down: draining in-flight requests');
    expect(api.output()).not.toContain('shutdown grace over');
    keepAlive.destroy();
  });
});

describe('SIGTERM to the worker', () => {
  let whatsapp: WhatsAppStandin;
  let successor: RunningWorker | undefined;

  beforeAll(async () => {
    whatsapp = await startWhatsAppStandin({ accessToken: testSecrets.WHATSAPP_ACCESS_TOKEN });
  });

  afterAll(async () => {
    await successor?.stop();
    await whatsapp?.close();
  });

  it('mid-send lets the send finish within the grace time: one reply, not sent again by the next worker', async () => {
    const workerConfig = testConfig({ WHATSAPP_GRAPH_BASE_URL: whatsapp.url });
    const { worker } = await startWorkerProcess(workerConfig, dir, {
      WHATSAPP_GRAPH_BASE_URL: whatsapp.url,
      TEMPORAL_TASK_QUEUE: workerConfig.temporal.taskQueue,
      WORKER_SHUTDOWN_GRACE_SECONDS: '20',
    });
    processes.push(worker);
    const app = createApp({ temporal, config: workerConfig, log: captureLogger().log, db });
    // Graph takes 3 s to answer the send: the SIGTERM comes while it is in flight.
    whatsapp.inject({ kind: 'latency', ms: 3_000 });
    const guest = uniqueWaId();
    const raw = JSON.stringify(textWebhook({ phoneNumberId: tenant.phoneNumberId, from: guest, body: 'Hola' }));
    await request(app.callback())
      .post('/webhooks/whatsapp')
      .set('content-type', 'application/json')
      .set('x-hub-signature-256', signBody(raw, testSecrets.WHATSAPP_APP_SECRET))
      .send(raw)
      .expect(200);
    await waitFor('the send to reach Graph', () => whatsapp.attempts >= 1, { timeoutMs: 30_000, intervalMs: 20 });
    expect(whatsapp.sent).toEqual([]);
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    expect(whatsapp.sent.filter((m) => m.to === guest)).toHaveLength(1);

    // The next worker picks the conversation up where it was: the reply is recorded as sent, not sent again.
    successor = await startWorker(workerConfig);
    const id = conversationWorkflowId(tenant.phoneNumberId, guestRefs.of(guest));
    const handle = temporal.workflow.getHandle(id);
    const sendEvents = async () => {
      const history = await handle.fetchHistory();
      const scheduled = (history.events ?? []).filter(
        (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'sendMessage',
      );
      const completed = (history.events ?? []).filter((e) => e.activityTaskCompletedEventAttributes);
      const tasksDone = (history.events ?? []).filter((e) => e.workflowTaskCompletedEventAttributes).length;
      return { scheduled: scheduled.length, completed: completed.length, tasksDone };
    };
    await waitFor(
      'the next worker to process the completed send',
      async () => {
        const { scheduled, tasksDone } = await sendEvents();
        const described = await handle.describe();
        return scheduled >= 1 && tasksDone >= 2 && (described.raw.pendingActivities ?? []).length === 0;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    expect((await sendEvents()).scheduled).toBe(1);
    expect(whatsapp.attempts).toBe(1);
    expect(whatsapp.sent.filter((m) => m.to === guest)).toHaveLength(1);
  });

  it('exits within its grace (plus 5 s) when an activity outlives it, leaving the activity to Temporal', async () => {
    const workerConfig = testConfig({ WHATSAPP_GRAPH_BASE_URL: whatsapp.url });
    const { worker } = await startWorkerProcess(
      workerConfig,
      dir,
      {
        WHATSAPP_GRAPH_BASE_URL: whatsapp.url,
        TEMPORAL_TASK_QUEUE: workerConfig.temporal.taskQueue,
        WORKER_SHUTDOWN_GRACE_SECONDS: '1',
        // The send's own HTTP timeout would otherwise end it after 10 s.
        WHATSAPP_HTTP_TIMEOUT_MS: '60000',
      },
      'stuck-worker',
    );
    processes.push(worker);
    const app = createApp({ temporal, config: workerConfig, log: captureLogger().log, db });
    const attemptsBefore = whatsapp.attempts;
    // Graph hangs for longer than any deploy would wait.
    whatsapp.inject({ kind: 'latency', ms: 60_000 });
    const raw = JSON.stringify(textWebhook({ phoneNumberId: tenant.phoneNumberId, from: uniqueWaId(), body: 'Hola' }));
    await request(app.callback())
      .post('/webhooks/whatsapp')
      .set('content-type', 'application/json')
      .set('x-hub-signature-256', signBody(raw, testSecrets.WHATSAPP_APP_SECRET))
      .send(raw)
      .expect(200);
    await waitFor('the send to reach Graph', () => whatsapp.attempts > attemptsBefore, {
      timeoutMs: 30_000,
      intervalMs: 20,
    });
    const signalledAt = Date.now();
    worker.child.kill('SIGTERM');
    const code = await worker.exited;
    // 1 s of grace, then 5 s before the SDK gives up on it; a worker without the bound waits out the whole send.
    expect(Date.now() - signalledAt).toBeLessThan(10_000);
    expect(code).toBe(1);
    expect(worker.output()).toContain('shutdown grace over: activities abandoned');
    whatsapp.clearFaults();
  });
});
