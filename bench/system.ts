import { Client, Connection } from '@temporalio/client';
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import path from 'node:path';
import { Agent, request } from 'undici';
import { startPmsStandin, type PmsStandin, type StandinHotel } from '../dev/pms-standin';
import { projectRoot } from '../dev/paths';
import { startPostgres } from '../dev/postgres';
import { canConnect, getFreePort, spawnService, waitFor, type Service } from '../dev/process';
import { startRedis } from '../dev/redis';
import { startWhatsAppStandin, type SentMessage, type WhatsAppStandin } from '../dev/whatsapp-standin';
import { generatePayloadKey, PayloadKeyRing, payloadDataConverter } from '../lib/codec';
import { migrate } from '../lib/db/migrate';
import { createPool } from '../lib/db/pool';
import { demoPhoneNumberId, demoPmsKeyVariable, demoTenantId, seedDemo } from '../lib/db/seed-demo';
import { conversationWorkflowId } from '../lib/domain/messages';
import { createGuestRefs } from '../lib/guest-refs';
import { startTemporalDevServer } from '../temporal/dev-server';
import { newGuest, textWebhook } from './webhooks';

/** A Temporal server the benchmark runs against: the dev server on SQLite, or the server on Postgres. */
export interface TemporalUnderTest {
  label: string;
  address: string;
  pid: number;
  /** Bytes its database holds on disk; null when not measurable. */
  dbBytes(): Promise<number | null>;
  stop(): Promise<void>;
}

/**
 * A fresh dev server (`temporal server start-dev`) with its SQLite database in a file under `dir`, and extra
 * dynamic config (`--dev-server-config key=value`) for experiments.
 */
export async function startDevServer(
  dir: string,
  dynamicConfig: Record<string, string | number | boolean> = {},
): Promise<TemporalUnderTest> {
  const dbFile = path.join(dir, 'temporal.db');
  const server = await startTemporalDevServer({ headless: true, dbFile, logDir: dir, dynamicConfig });
  const extra = Object.entries(dynamicConfig).map(([k, v]) => `${k}=${String(v)}`);
  const size = (file: string) => {
    try {
      return statSync(file).size;
    } catch {
      return 0;
    }
  };
  return {
    label: `dev server (SQLite file, WAL, synchronous=OFF${extra.length ? `; ${extra.join(', ')}` : ''})`,
    address: server.address,
    pid: server.service.child.pid ?? 0,
    dbBytes: () => Promise.resolve(size(dbFile) + size(`${dbFile}-wal`) + size(`${dbFile}-shm`)),
    stop: () => server.stop(),
  };
}

export interface Process {
  service: Service;
  pid: number;
  url: string;
}

export interface System {
  temporal: TemporalUnderTest;
  client: Client;
  api: Process;
  worker: Process & { metricsUrl: string };
  whatsapp: WhatsAppStandin;
  pms: PmsStandin;
  phoneNumberId: string;
  /** The workflow id of a guest's conversation with the demo number, as the API names it (keyed guest reference). */
  conversationId(waId: string): string;
  appSecret: string;
  /** Posts one signed webhook to `url` (the API by default) and resolves with the HTTP status. */
  post(body: string, signature: string, url?: string): Promise<number>;
  /** Called with each message the Graph API stand-in accepts, at the moment it does. */
  onReply: (message: SentMessage, at: number) => void;
  /**
   * Starts an ingress target as its own process: our API (`api/main.ts`) or a reference handler
   * (`bench/targets.ts`), starting conversations on `taskQueue`.
   */
  startTarget(kind: 'api' | 'bare' | 'hmac', taskQueue: string): Promise<Process>;
  /** Replaces the worker process by a fresh one (empty cache, fresh heap). */
  restartWorker(): Promise<void>;
  stop(): Promise<void>;
}

/** Wall-clock milliseconds with sub-millisecond precision, comparable with Temporal's event times. */
export const now = (): number => performance.timeOrigin + performance.now();

/** One hotel with plenty of rooms, so booking runs never exhaust them. */
function benchHotel(): StandinHotel {
  const rooms = (from: number) => Array.from({ length: 400 }, (_, i) => ({ id: from + i, number: String(from + i) }));
  return {
    id: 1,
    name: 'Hotel Bench',
    currency: 'EUR',
    taxRate: 0.1,
    roomTypes: [
      { id: 1, name: 'Standard Double', pricePerNight: 90, maxAdults: 2, maxChildren: 1, rooms: rooms(1000) },
    ],
  };
}

/**
 * Starts what the system needs around `temporal`, on free ports under `dir`: Postgres (migrated, the demo hotel
 * seeded and pointed at the PMS stand-in), Redis, the Graph API and PMS stand-ins, then the worker and the API as
 * their own processes, as in production. Resolves once a warm-up conversation got its reply.
 */
export async function startSystem(dir: string, temporal: TemporalUnderTest): Promise<System> {
  const stops: (() => Promise<unknown>)[] = [];
  const appSecret = randomBytes(16).toString('hex');
  const accessToken = `bench-${randomBytes(8).toString('hex')}`;
  const pmsKey = randomBytes(16).toString('hex').toUpperCase();
  try {
    const [postgres, redis, whatsapp, pms] = await Promise.all([
      startPostgres({ dataDir: path.join(dir, 'postgres'), fast: true }),
      startRedis({ dir: path.join(dir, 'redis') }),
      startWhatsAppStandin({ accessToken, onSent: (m) => system.onReply(m, now()) }),
      startPmsStandin({ webserviceKey: pmsKey, hotels: [benchHotel()] }),
    ]);
    stops.push(
      () => postgres.destroy(),
      () => redis.destroy(),
      () => whatsapp.close(),
      () => pms.close(),
    );
    const pool = createPool(postgres.url, { max: 1 });
    try {
      await migrate(pool);
      await seedDemo(pool);
      await pool.query('UPDATE tenants SET pms_base_url = $1 WHERE id = $2', [pms.url, demoTenantId]);
    } finally {
      await pool.end();
    }

    const [apiPort, metricsPort] = [await getFreePort(), await getFreePort()];
    const guestRefKey = randomBytes(32).toString('hex');
    const payloadKeys = generatePayloadKey('bench');
    const guestRefs = createGuestRefs(guestRefKey);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      API_HOST: '127.0.0.1',
      API_PORT: String(apiPort),
      TEMPORAL_ADDRESS: temporal.address,
      DATABASE_URL: postgres.url,
      REDIS_URL: redis.url,
      WHATSAPP_APP_SECRET: appSecret,
      WHATSAPP_VERIFY_TOKEN: randomBytes(8).toString('hex'),
      WHATSAPP_ACCESS_TOKEN: accessToken,
      WHATSAPP_GRAPH_BASE_URL: whatsapp.url,
      WORKER_METRICS_PORT: '0',
      BENCH_SDK_METRICS_PORT: String(metricsPort),
      MEDIA_DIR: path.join(dir, 'media'),
      // The demo tenant's key inside its secret namespace (env:TENANT_HOTEL_DEMO_PMS_KEY), and its PMS stand-in on
      // loopback, which production's network policy refuses unless allowed.
      [demoPmsKeyVariable]: pmsKey,
      PMS_ALLOW_PRIVATE_NETWORKS: 'true',
      // Production requires both: the guest reference key and the payload keys.
      GUEST_REF_KEY: guestRefKey,
      PAYLOAD_KEYS: payloadKeys,
    };
    const spawnNode = (name: string, script: string, args: string[] = []) =>
      spawnService(name, process.execPath, ['--import', 'tsx', script, ...args], {
        cwd: projectRoot,
        env,
        logDir: dir,
      });
    const asProcess = (service: Service, url: string): Process => ({ service, pid: service.child.pid ?? 0, url });

    const dispatcher = new Agent({ connections: 256, pipelining: 1, keepAliveTimeout: 30_000 });
    stops.push(() => dispatcher.close());
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    const connection = await Connection.connect({ address: temporal.address });
    stops.push(() => connection.close());

    const system: System = {
      temporal,
      client: new Client({
        connection,
        dataConverter: payloadDataConverter(PayloadKeyRing.parse(payloadKeys) as PayloadKeyRing),
      }),
      api: asProcess(spawnNode('api', 'api/main.ts'), apiUrl),
      worker: {
        ...asProcess(spawnNode('worker', 'bench/worker.ts'), ''),
        metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
      },
      whatsapp,
      pms,
      phoneNumberId: demoPhoneNumberId,
      conversationId: (waId) => conversationWorkflowId(demoPhoneNumberId, guestRefs.of(waId)),
      appSecret,
      onReply: () => undefined,
      async post(body, signature, url = apiUrl) {
        const res = await request(`${url}/webhooks/whatsapp`, {
          method: 'POST',
          dispatcher,
          headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature },
          body,
        });
        await res.body.dump();
        return res.statusCode;
      },
      async startTarget(kind, taskQueue) {
        const port = await getFreePort();
        const args = kind === 'api' ? ['api/main.ts'] : ['bench/targets.ts', kind];
        const service = spawnService(`ingress-${kind}`, process.execPath, ['--import', 'tsx', ...args], {
          cwd: projectRoot,
          env: { ...env, API_PORT: String(port), TEMPORAL_TASK_QUEUE: taskQueue },
          logDir: dir,
        });
        stops.push(() => service.stop());
        await waitFor(`the ${kind} target`, () => canConnect(port), { timeoutMs: 30_000 });
        return asProcess(service, `http://127.0.0.1:${port}`);
      },
      async restartWorker() {
        await system.worker.service.stop();
        const service = spawnNode('worker', 'bench/worker.ts');
        system.worker = { ...system.worker, service, pid: service.child.pid ?? 0 };
        await warmUp(system);
      },
      async stop() {
        for (const stop of stops.reverse()) await stop().catch((err: unknown) => console.error(err));
      },
    };
    stops.push(
      () => system.api.service.stop(),
      () => system.worker.service.stop(),
    );
    await waitFor('the API', async () => (await fetch(`${apiUrl}/health/ready`)).ok, { timeoutMs: 60_000 });
    await warmUp(system);
    return system;
  } catch (err) {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    throw err;
  }
}

/** Sends a few conversations one after the other until replies come back: code loaded, caches and pools warm. */
async function warmUp(system: System, conversations = 5): Promise<void> {
  for (let i = 0; i < conversations; i++) {
    const hook = textWebhook(system.appSecret, system.phoneNumberId, newGuest(), 'Hola');
    let replied = false;
    system.onReply = (m) => {
      if (m.replyTo === hook.messageId) replied = true;
    };
    const status = await system.post(hook.body, hook.signature);
    if (status !== 200) throw new Error(`warm-up webhook answered ${status}`);
    await waitFor('a warm-up reply', () => replied, { timeoutMs: 60_000, intervalMs: 20 });
  }
  system.onReply = () => undefined;
}
