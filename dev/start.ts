/**
 * `bash scripts/start.sh`: the whole system on one machine with embedded defaults.
 * Temporal dev server (SQLite file, Web UI), Postgres, Redis, the WhatsApp Graph API stand-in,
 * then the API and the worker as their own processes, configured through the same environment
 * variables as in production. Data persists under .data/ across restarts.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { generatePayloadKey } from '../lib/codec';
import { migrate } from '../lib/db/migrate';
import { createPool } from '../lib/db/pool';
import { demoPhoneNumberId, demoPmsKeyVariable, demoTemplateNames, demoTenantId, seedDemo } from '../lib/db/seed-demo';
import { startPostgres } from './postgres';
import { canConnect, spawnService, waitFor, type Service } from './process';
import { startRedis } from './redis';
import { startPmsStandin } from './pms-standin';
import { startWhatsAppStandin } from './whatsapp-standin';
import { startTemporalDevServer } from '../temporal/dev-server';
import { dataDir, devEnvFile, projectRoot } from './paths';

const logDir = path.join(dataDir, 'logs');

const ports = {
  api: Number(process.env.API_PORT ?? 3000),
  temporal: Number(process.env.DEV_TEMPORAL_PORT ?? 7233),
  ui: Number(process.env.DEV_TEMPORAL_UI_PORT ?? 8233),
  postgres: Number(process.env.DEV_POSTGRES_PORT ?? 5433),
  redis: Number(process.env.DEV_REDIS_PORT ?? 6380),
  whatsapp: Number(process.env.DEV_WHATSAPP_PORT ?? 4010),
  pms: Number(process.env.DEV_PMS_PORT ?? 4020),
  metrics: Number(process.env.WORKER_METRICS_PORT ?? 9464),
  apiMetrics: Number(process.env.API_METRICS_PORT ?? 9465),
};

/** Secrets generated on the first start and kept in .data/dev.env, so the demo can sign webhooks. */
function devSecrets(): Record<string, string> {
  const existing: Record<string, string> = existsSync(devEnvFile)
    ? Object.fromEntries(
        readFileSync(devEnvFile, 'utf8')
          .split('\n')
          .filter((l) => l.includes('='))
          .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
      )
    : {};
  // Before references were confined to the tenant's namespace the demo key was DEMO_PMS_KEY; keep its value.
  if (existing.DEMO_PMS_KEY !== undefined) {
    existing[demoPmsKeyVariable] ??= existing.DEMO_PMS_KEY;
    delete existing.DEMO_PMS_KEY;
  }
  const wanted: Record<string, () => string> = {
    WHATSAPP_APP_SECRET: () => randomBytes(16).toString('hex'),
    WHATSAPP_VERIFY_TOKEN: () => randomBytes(12).toString('hex'),
    WHATSAPP_ACCESS_TOKEN: () => `dev-${randomBytes(16).toString('hex')}`,
    // QloApps webservice keys are 32 characters; the demo hotel's reference is env:TENANT_HOTEL_DEMO_PMS_KEY.
    [demoPmsKeyVariable]: () => randomBytes(16).toString('hex').toUpperCase(),
    // The HMAC key of guest references (workflow ids, audit rows, summaries, PMS placeholders).
    GUEST_REF_KEY: () => randomBytes(32).toString('hex'),
    // The key that encrypts what Temporal stores (lib/codec.ts); id dev-<date>, so a rotated one is told apart.
    PAYLOAD_KEYS: () => generatePayloadKey(`dev-${new Date().toISOString().slice(0, 10).replace(/-/g, '')}`),
  };
  const secrets = { ...existing };
  for (const [name, make] of Object.entries(wanted)) secrets[name] ??= make();
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(
    devEnvFile,
    Object.entries(secrets)
      .map(([k, v]) => `${k}=${v}\n`)
      .join(''),
    { mode: 0o600 },
  );
  return secrets;
}

async function main(): Promise<void> {
  for (const [name, port] of Object.entries(ports)) {
    if (await canConnect(port)) {
      throw new Error(
        `Port ${port} (${name}) is in use. Is the system already running? Stop it, or set the port variable.`,
      );
    }
  }
  mkdirSync(dataDir, { recursive: true });
  chmodSync(dataDir, 0o755); // the postgres user must reach .data/postgres
  const secrets = devSecrets();
  const stops: (() => Promise<void>)[] = [];
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log('\nStopping...');
    for (const stop of stops.reverse()) await stop().catch((err: unknown) => console.error(err));
    process.exit(code);
  };
  process.once('SIGINT', () => void stopAll(0));
  process.once('SIGTERM', () => void stopAll(0));

  try {
    console.log('Starting Temporal, Postgres, Redis and the WhatsApp and PMS stand-ins...');
    const [temporal, postgres, redis, whatsapp, pms] = await Promise.all([
      startTemporalDevServer({
        port: ports.temporal,
        uiPort: ports.ui,
        // The API's codec endpoint, as the operator's browser reaches it.
        uiCodecEndpoint: `http://localhost:${ports.api}/codec`,
        dbFile: path.join(dataDir, 'temporal', 'temporal.db'),
        logDir,
      }),
      startPostgres({ dataDir: path.join(dataDir, 'postgres'), port: ports.postgres }),
      startRedis({ dir: path.join(dataDir, 'redis'), port: ports.redis, persistent: true }),
      startWhatsAppStandin({
        accessToken: secrets.WHATSAPP_ACCESS_TOKEN!,
        port: ports.whatsapp,
        templates: demoTemplateNames,
      }),
      startPmsStandin({ webserviceKey: secrets[demoPmsKeyVariable]!, port: ports.pms }),
    ]);
    stops.push(
      () => temporal.stop(),
      () => postgres.stop(),
      () => redis.stop(),
      () => whatsapp.close(),
      () => pms.close(),
    );

    const pool = createPool(postgres.url, { max: 1, applicationName: 'start' });
    try {
      const { applied } = await migrate(pool);
      if (applied.length > 0) console.log(`Migrations applied: ${applied.join(', ')}`);
      const { created } = await seedDemo(pool);
      if (created) console.log(`Demo hotel "${demoTenantId}" created (business number ${demoPhoneNumberId})`);
    } finally {
      await pool.end();
    }

    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NODE_ENV: process.env.NODE_ENV ?? 'development',
      API_PORT: String(ports.api),
      TEMPORAL_ADDRESS: temporal.address,
      DATABASE_URL: postgres.url,
      REDIS_URL: redis.url,
      WHATSAPP_GRAPH_BASE_URL: whatsapp.url,
      // The PMS stand-in listens on 127.0.0.1, which the network policy refuses otherwise.
      PMS_ALLOW_PRIVATE_NETWORKS: 'true',
      // The WhatsApp stand-in serves media itself, not from Meta's media hosts.
      MEDIA_ALLOWED_HOSTS: new URL(whatsapp.url).hostname,
      WORKER_METRICS_PORT: String(ports.metrics),
      API_METRICS_PORT: String(ports.apiMetrics),
      ...secrets,
    };
    const services: Service[] = [
      spawnService('worker', process.execPath, ['--import', 'tsx', 'workers/main.ts'], {
        cwd: projectRoot,
        env,
        logDir,
      }),
      spawnService('api', process.execPath, ['--import', 'tsx', 'api/main.ts'], { cwd: projectRoot, env, logDir }),
    ];
    for (const service of services) {
      stops.push(() => service.stop());
      service.child.once('exit', (code) => {
        if (!stopping) {
          console.error(`${service.name} exited with code ${code}; see ${service.logFile}`);
          void stopAll(1);
        }
      });
    }
    const api = `http://localhost:${ports.api}`;
    await waitFor('the API to be ready', async () => (await fetch(`${api}/health/ready`)).ok, { timeoutMs: 60_000 });
    // Up means a message would be answered: the worker's pollers are taking tasks, not only the API answering.
    const workerReady = `http://127.0.0.1:${ports.metrics}/health/ready`;
    await waitFor('the worker to poll', async () => (await fetch(workerReady)).ok, { timeoutMs: 120_000 });

    console.log(`
The system is up.

  API                 ${api}   (webhook: ${api}/webhooks/whatsapp, health: ${api}/health/ready)
  Temporal Web UI     ${temporal.uiUrl}   (namespace "default"; filter by TenantId, ConversationStatus, LastIntent)
  Payloads            encrypted (the key is in ${path.relative(process.cwd(), devEnvFile)}). To read them in the Web UI:
                      log in at ${api}/codec/login with an unrestricted admin token
                      (npm run admin-token -- --name ops); in the UI's Codec Server settings (bottom left) pick
                      "Use my browser setting", keep ${api}/codec, turn on "Include cross-origin credentials"
  Temporal gRPC       ${temporal.address}
  Postgres            ${postgres.url}   (demo hotel "${demoTenantId}" owns business number ${demoPhoneNumberId})
  Redis               ${redis.url}
  WhatsApp stand-in   ${whatsapp.url}   (what the system sent: ${whatsapp.url}/_standin/messages)
  PMS stand-in        ${pms.url}   (QloApps webservice; bookings: ${pms.url}/_standin/bookings)
  Worker metrics      http://127.0.0.1:${ports.metrics}/metrics   (readiness: ${workerReady})
  API metrics         http://127.0.0.1:${ports.apiMetrics}/metrics
  Secrets             ${path.relative(process.cwd(), devEnvFile)}
  Logs                ${path.relative(process.cwd(), logDir)}/

Try it:  npm run demo        Stop: Ctrl-C
`);
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    await stopAll(1);
  }
}

void main();
