/**
 * The chaos suite's stack and its closing checks. The API listens on a real port (the WhatsApp stand-in posts its
 * status webhooks to it, as Meta does); the worker runs in this process or as a child process a scenario can SIGKILL.
 * Every scenario ends with {@link finalChecks}: each inbound message answered exactly once, no room-night booked twice,
 * no hold left, every workflow running or closed normally, no activity retrying without end.
 */
import type { Client } from '@temporalio/client';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Pool } from 'pg';
import { createApp } from '../../api/app';
import { waitFor } from '../../dev/process';
import { OrderState } from '../../dev/pms-standin/model';
import { startPmsStandin, type PmsStandin } from '../../dev/pms-standin';
import { startWhatsAppStandin, type WhatsAppStandin } from '../../dev/whatsapp-standin';
import { loadConfig, type Config } from '../../lib/config';
import { createPool } from '../../lib/db/pool';
import { createRedis, type Redis } from '../../lib/redis';
import { signBody } from '../../api/signature';
import { captureLogger, startWorker, temporalClient, testEnv, testSecrets, type RunningWorker } from '../helpers/env';
import { stackPmsKey } from '../helpers/stack';
import { createTestTenant, tenantSecretVariable, type TestTenant } from '../helpers/tenants';

export interface ChaosStack {
  /** The environment the worker is configured from (a child worker gets exactly this). */
  env: Record<string, string>;
  config: Config;
  temporal: Client;
  whatsapp: WhatsAppStandin;
  pms: PmsStandin;
  tenant: TestTenant;
  redis: Redis;
  db: Pool;
  /** The API's webhook URL. */
  webhookUrl: string;
  /** Posts a webhook to the API as Meta does (signed raw bytes); answers the HTTP status. */
  post(payload: unknown): Promise<number>;
  /** Posts until the API answers 200 (Meta retries a refused webhook); gives up after `timeoutMs`. */
  deliver(payload: unknown, timeoutMs?: number): Promise<void>;
  /** Starts the real worker in this process. */
  inProcessWorker(): Promise<RunningWorker>;
  /** Stops the in-process workers (a scenario that kills a child worker must leave it alone on the queue). */
  stopWorkers(): Promise<void>;
  /** Starts the real worker as a child process (resolves once it polls); SIGKILL it to kill it mid-task. */
  workerProcess(): Promise<ChildProcess>;
  stop(): Promise<void>;
}

/** The worker's environment: this run's servers, a task queue of its own, the test secrets, then `overrides`. */
function chaosEnv(overrides: Record<string, string>): Record<string, string> {
  const env = testEnv();
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    TEMPORAL_ADDRESS: env.temporalAddress,
    // Letters only (see testConfig).
    TEMPORAL_TASK_QUEUE: `chaos-${randomBytes(12)
      .toString('hex')
      .replace(/\d/g, (d) => 'ghijklmnop'[Number(d)]!)}`,
    DATABASE_URL: env.postgres.url,
    REDIS_URL: env.redis.url,
    MEDIA_DIR: `${env.dir}/media`,
    PMS_ALLOW_PRIVATE_NETWORKS: 'true',
    TRANSCRIPTION_ALLOW_PRIVATE_NETWORKS: 'true',
    MEDIA_ALLOWED_HOSTS: '127.0.0.1',
    ...testSecrets,
    ...overrides,
  };
}

/**
 * Starts the stand-ins (the WhatsApp one posting status webhooks to the API unless `statuses` is false), the API on
 * a free port, and a tenant on the PMS stand-in's demo hotel. The worker is started by the scenario.
 */
export async function startChaosStack(
  options: { config?: Record<string, string>; statusDelayMs?: number } = {},
): Promise<ChaosStack> {
  const [whatsapp, pms] = await Promise.all([
    startWhatsAppStandin({ accessToken: testSecrets.WHATSAPP_ACCESS_TOKEN }),
    startPmsStandin({ webserviceKey: stackPmsKey }),
  ]);
  const env = chaosEnv({ WHATSAPP_GRAPH_BASE_URL: whatsapp.url, ...options.config });
  const config = loadConfig(env);
  const temporal = await temporalClient(config);
  const db = createPool(config.databaseUrl, { max: 2 });
  const redis = createRedis(config.redisUrl);
  const tenant = await createTestTenant(db, { locale: 'en', pms: { baseUrl: pms.url, hotelId: 1 } });
  env[tenantSecretVariable(tenant.id)] = stackPmsKey;
  const app = createApp({ temporal, config, log: captureLogger().log, db });
  const handler = app.callback();
  const server = http.createServer((req, res) => void handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const webhookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/whatsapp`;
  whatsapp.statusWebhook = {
    url: webhookUrl,
    appSecret: testSecrets.WHATSAPP_APP_SECRET,
    delayMs: options.statusDelayMs ?? 50,
  };
  const workers: RunningWorker[] = [];
  const children: ChildProcess[] = [];

  async function post(payload: unknown): Promise<number> {
    const raw = JSON.stringify(payload);
    const res = await fetch(webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': signBody(raw, config.whatsapp.appSecret) },
      body: raw,
    });
    await res.arrayBuffer();
    return res.status;
  }

  return {
    env,
    config,
    temporal,
    whatsapp,
    pms,
    tenant,
    redis,
    db,
    webhookUrl,
    post,
    async deliver(payload, timeoutMs = 30_000) {
      await waitFor('the webhook accepted', async () => (await post(payload).catch(() => 0)) === 200, {
        timeoutMs,
        intervalMs: 500,
      });
    },
    async inProcessWorker() {
      const worker = await startWorker(config, { secrets: env });
      workers.push(worker);
      return worker;
    },
    async stopWorkers() {
      await Promise.all(workers.splice(0).map((w) => w.stop()));
    },
    async workerProcess() {
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'worker-process.ts')], {
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      children.push(child);
      await new Promise<void>((resolve, reject) => {
        child.once('exit', (code) => reject(new Error(`worker process exited (${code})`)));
        child.stdout.on('data', (chunk: Buffer) => {
          if (chunk.toString().includes('ready')) resolve();
        });
      });
      return child;
    },
    async stop() {
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await Promise.allSettled(workers.map((w) => w.stop()));
      await whatsapp.statusesSettled();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await temporal.connection.close();
      await Promise.allSettled([whatsapp.close(), pms.close(), db.end(), redis.quit()]);
    },
  };
}

/** One line of the note's table: scenario → inbound messages → replies at the stand-in → bookings at the PMS → holds left. */
export interface ChaosRow {
  scenario: string;
  inbound: number;
  replies: number;
  bookings: number;
  holdsLeft: number;
}

/**
 * The checks every scenario ends with. `inbound`: the ids of the guests' messages, each of which must have been
 * answered exactly once (`repliesPer` replies quoting it, 1 unless a booking's confirmation also quotes it); no
 * idempotency key sent twice unless `allowResentKeys` (the documented edge: a status lost longer than the wait).
 */
export async function finalChecks(
  stack: ChaosStack,
  scenario: string,
  {
    inbound,
    repliesPer = () => 1,
    allowResentKeys = 0,
  }: { inbound: string[]; repliesPer?: (id: string) => number; allowResentKeys?: number },
): Promise<ChaosRow> {
  const sent = stack.whatsapp.sent.filter((m) => m.phoneNumberId === stack.tenant.phoneNumberId);
  // Every inbound message got its reply, once.
  for (const id of inbound) expect([id, sent.filter((m) => m.replyTo === id).length]).toEqual([id, repliesPer(id)]);
  const keys = sent.flatMap((m) => (m.key && m.replyTo !== undefined && inbound.includes(m.replyTo) ? [m.key] : []));
  expect(keys.length - new Set(keys).size).toBe(allowResentKeys);

  // No room-night booked twice at the PMS.
  const bookings = stack.pms.bookings.filter(
    (b) => b.currentState !== OrderState.cancelled && b.currentState !== OrderState.refunded,
  );
  const nights = new Map<string, number>();
  for (const b of bookings) {
    for (const room of b.rooms) {
      for (let d = new Date(`${room.checkIn}T00:00:00Z`); d < new Date(`${room.checkOut}T00:00:00Z`);) {
        const key = `${room.roomId}:${d.toISOString().slice(0, 10)}`;
        nights.set(key, (nights.get(key) ?? 0) + 1);
        d = new Date(d.getTime() + 86_400_000);
      }
    }
  }
  expect([...nights].filter(([, n]) => n > 1)).toEqual([]);

  // No hold left behind in Redis (each saga releases its hold, confirmed or not).
  let holdsLeft = 0;
  await waitFor('no hold left', async () => {
    const keysLeft = await stack.redis.keys(`hold:${stack.tenant.id}:*`);
    holdsLeft = 0;
    for (const key of keysLeft) holdsLeft += await stack.redis.hlen(key);
    return holdsLeft === 0;
  });

  // Every workflow running normally or closed normally, none failing its tasks, none retrying an activity without end.
  for await (const info of stack.temporal.workflow.list({
    query: `TaskQueue = '${stack.config.temporal.taskQueue}'`,
  })) {
    expect([info.workflowId, info.status.name]).toEqual([
      info.workflowId,
      expect.stringMatching(/^(RUNNING|COMPLETED|CONTINUED_AS_NEW)$/),
    ]);
    const handle = stack.temporal.workflow.getHandle(info.workflowId, info.runId);
    const { events } = await handle.fetchHistory();
    expect((events ?? []).filter((e) => e.workflowTaskFailedEventAttributes)).toEqual([]);
    if (info.status.name === 'RUNNING') {
      const pending = (await handle.describe()).raw.pendingActivities ?? [];
      expect(pending.filter((a) => (a.attempt ?? 1) > 5)).toEqual([]);
    }
  }

  const row: ChaosRow = {
    scenario,
    inbound: inbound.length,
    // The stand-in's messages answering this scenario's inbound messages.
    replies: sent.filter((m) => m.replyTo !== undefined && inbound.includes(m.replyTo)).length,
    bookings: bookings.length,
    holdsLeft,
  };
  // The table of the note is made from these lines.
  mkdirSync(path.join(process.cwd(), '.data'), { recursive: true });
  appendFileSync(path.join(process.cwd(), '.data', 'chaos-table.jsonl'), `${JSON.stringify(row)}\n`);
  return row;
}
