import { ScheduleNotFoundError, type Client } from '@temporalio/client';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Pool } from 'pg';
import { signBody } from '../../api/signature';
import { inDays, spanishDate } from '../../dev/dates';
import { startPmsStandin, type PmsStandin } from '../../dev/pms-standin';
import { getFreePort, spawnService, waitFor, type Service } from '../../dev/process';
import { projectRoot } from '../../dev/paths';
import { startWhatsAppStandin, type WhatsAppStandin } from '../../dev/whatsapp-standin';
import { PayloadKeyRing, payloadDataConverter } from '../../lib/codec';
import { mediaCleanupScheduleId } from '../../workers/schedules';
import { copiedFromContext, projectDockerfile } from '../helpers/dockerfile';
import { temporalClient, testConfig, testSecrets } from '../helpers/env';
import { historyPayloadKeys, listHistories, replayable } from '../helpers/histories';
import { createTestTenant, tenantSecretVariable, type TestTenant } from '../helpers/tenants';
import { textWebhook, uniqueWaId } from '../helpers/webhooks';

/**
 * The image's JavaScript, built and run the way the Dockerfile does, with no TypeScript anywhere at run time:
 * `npm run build` (tsc into dist/, the migrations beside the migrator, the workflow bundle prebuilt with
 * bundleWorkflowCode), then a runtime folder like the image's final stage (`npm ci --omit=dev` and dist/ only),
 * then `node dist/api/main.js` and `node dist/workers/main.js` (WORKFLOW_BUNDLE_PATH) as processes of their own,
 * against the run's Temporal, Postgres and Redis and the stand-ins. One signed webhook goes through to a reply.
 *
 * The child processes run on the Node that runs jest (process.execPath): `bash scripts/test.sh` runs this file on the
 * machine's Node and again on Node 22 LTS, the image's.
 */

const node = process.execPath;
const runtimeDir = mkdtempSync(path.join(os.tmpdir(), 'hm-runtime-'));
const logDir = path.join(runtimeDir, 'logs');
const bundlePath = path.join(runtimeDir, 'dist', 'workflow-bundle.js');
const config = testConfig();
const pmsKey = 'BUILDTESTPMSKEY0123456789ABCDEFG';

let temporal: Client;
let db: Pool;
let whatsapp: WhatsAppStandin;
let pms: PmsStandin;
let tenant: TestTenant;
let api: Service | undefined;
let worker: Service | undefined;
let apiUrl: string;
let workerMetricsPort: number;

/** Runs a command to completion; its output is shown only when it fails. */
function run(
  command: string,
  args: string[],
  options: { cwd: string; timeoutMs: number; env?: NodeJS.ProcessEnv },
): string {
  const result = spawnSync(command, args, {
    cwd: options.cwd,
    encoding: 'utf8',
    timeout: options.timeoutMs,
    ...(options.env ? { env: options.env } : {}),
  });
  const output = `${result.stdout}${result.stderr}`;
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited with ${result.status ?? result.signal}:\n${output}`);
  }
  return output;
}

/** What the Dockerfile's final stage has: package.json, the lock, production dependencies, dist/. */
function buildRuntimeFolder(): void {
  run('bash', ['scripts/build.sh'], { cwd: projectRoot, timeoutMs: 240_000 });
  for (const file of ['package.json', 'package-lock.json'])
    cpSync(path.join(projectRoot, file), path.join(runtimeDir, file));
  run('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: runtimeDir,
    timeoutMs: 240_000,
  });
  cpSync(path.join(projectRoot, 'dist'), path.join(runtimeDir, 'dist'), { recursive: true });
}

/** The environment of a container: nothing inherited from this process but PATH. */
function containerEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    ...testSecrets,
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
    TEMPORAL_ADDRESS: config.temporal.address,
    TEMPORAL_TASK_QUEUE: config.temporal.taskQueue,
    DATABASE_URL: config.databaseUrl,
    REDIS_URL: config.redisUrl,
    WHATSAPP_GRAPH_BASE_URL: whatsapp.url,
    PMS_ALLOW_PRIVATE_NETWORKS: 'true',
    MEDIA_ALLOWED_HOSTS: '127.0.0.1',
    MEDIA_DIR: path.join(runtimeDir, 'media'),
    ...extra,
  };
}

function logOf(service: Service | undefined): string {
  return service && existsSync(service.logFile) ? readFileSync(service.logFile, 'utf8') : '';
}

function running(service: Service): void {
  if (service.child.exitCode !== null) throw new Error(`${service.name} exited: ${logOf(service)}`);
}

beforeAll(async () => {
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // already installed in this jest worker
  }
  [whatsapp, pms] = await Promise.all([
    startWhatsAppStandin({ accessToken: testSecrets.WHATSAPP_ACCESS_TOKEN }),
    startPmsStandin({ webserviceKey: pmsKey }),
  ]);
  temporal = await temporalClient(config);
  db = new Pool({ connectionString: config.databaseUrl, max: 1 });
  tenant = await createTestTenant(db, { pms: { baseUrl: pms.url, hotelId: 1 } });
  buildRuntimeFolder();
}, 480_000);

afterAll(async () => {
  await Promise.allSettled([api?.stop(5_000), worker?.stop(15_000)]);
  // The worker made the media cleanup schedule for its own task queue; it must not outlive this test.
  try {
    const handle = temporal.schedule.getHandle(mediaCleanupScheduleId);
    const described = await handle.describe();
    if (described.action.type === 'startWorkflow' && described.action.taskQueue === config.temporal.taskQueue) {
      await handle.delete();
    }
  } catch (err) {
    if (!(err instanceof ScheduleNotFoundError)) throw err;
  }
  await temporal?.connection.close();
  await db?.end();
  await Promise.allSettled([whatsapp?.close(), pms?.close()]);
  rmSync(runtimeDir, { recursive: true, force: true });
});

describe(`the built JavaScript on Node ${process.version}`, () => {
  it('is plain JavaScript with production dependencies only: no tsx, no TypeScript, no test tools', () => {
    const modules = readdirSync(path.join(runtimeDir, 'node_modules'));
    for (const devOnly of ['tsx', 'typescript', 'ts-jest', 'jest', 'esbuild', 'eslint', 'supertest']) {
      expect(modules).not.toContain(devOnly);
    }
    expect(existsSync(path.join(runtimeDir, 'node_modules', '@temporalio', 'worker'))).toBe(true);
    const files = readdirSync(path.join(runtimeDir, 'dist'), { recursive: true, encoding: 'utf8' });
    expect(files.filter((f) => /\.ts$/.test(f) && !f.endsWith('.d.ts'))).toEqual([]);
    for (const entry of ['api/main.js', 'workers/main.js', 'scripts/migrate.js', 'workflow-bundle.js']) {
      expect(files).toContain(entry);
    }
    // Every folder the build compiled from is copied into the Dockerfile's build stage, or `docker build` would fail.
    const build = projectDockerfile(projectRoot).stages.find((s) => s.name === 'build')!;
    const compiledFrom = readdirSync(path.join(runtimeDir, 'dist'), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
    expect(copiedFromContext(build)).toEqual(expect.arrayContaining(compiledFrom));
  });

  it('migrates with the compiled migrator, which finds the SQL files that npm run build put beside it', () => {
    const output = run(node, ['dist/scripts/migrate.js'], {
      cwd: runtimeDir,
      timeoutMs: 30_000,
      env: containerEnv({}),
    });
    // The global setup applied them from the sources: same files, same checksums.
    expect(output).toMatch(/^0 applied, [1-9]\d* already applied$/m);
  });

  it('runs the API and the worker, which loads the prebuilt bundle, and answers a signed webhook', async () => {
    const apiPort = await getFreePort();
    workerMetricsPort = await getFreePort();
    apiUrl = `http://127.0.0.1:${apiPort}`;
    worker = spawnService('worker', node, ['dist/workers/main.js'], {
      cwd: runtimeDir,
      logDir,
      env: containerEnv({
        WORKFLOW_BUNDLE_PATH: bundlePath,
        WORKER_METRICS_PORT: String(workerMetricsPort),
        [tenantSecretVariable(tenant.id)]: pmsKey,
      }),
    });
    api = spawnService('api', node, ['dist/api/main.js'], {
      cwd: runtimeDir,
      logDir,
      env: containerEnv({ API_HOST: '127.0.0.1', API_PORT: String(apiPort) }),
    });
    const [apiService, workerService] = [api, worker];
    await waitFor(
      'the built worker to poll with the prebuilt bundle',
      () => {
        running(workerService);
        return logOf(workerService).includes('"msg":"worker started"');
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    const started = logOf(workerService)
      .split('\n')
      .find((line) => line.includes('"msg":"worker started"'));
    expect(JSON.parse(started!)).toMatchObject({ workflowBundle: bundlePath, taskQueue: config.temporal.taskQueue });
    // The SDK logs this only when it bundles workflows/ itself.
    expect(logOf(workerService)).not.toContain('Workflow bundle created');
    await waitFor(
      'the built API to be ready',
      async () => {
        running(apiService);
        return (await fetch(`${apiUrl}/health/ready`)).ok;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );

    const guest = uniqueWaId();
    const checkIn = inDays(20);
    const checkOut = inDays(22);
    const raw = JSON.stringify(
      textWebhook({
        phoneNumberId: tenant.phoneNumberId,
        from: guest,
        body: `Hola, ¿tienen habitación del ${spanishDate(checkIn)} al ${spanishDate(checkOut)} para 2 adultos?`,
      }),
    );
    const res = await fetch(`${apiUrl}/webhooks/whatsapp`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-hub-signature-256': signBody(raw, testSecrets.WHATSAPP_APP_SECRET),
      },
      body: raw,
    });
    expect(res.status).toBe(200);
    await waitFor(
      'the offer at the WhatsApp stand-in',
      () => {
        running(workerService);
        return whatsapp.sent.some((m) => m.to === guest && /Standard Double/.test(m.text ?? ''));
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    // The offer came from the PMS (through the built worker's QloApps client), not from a template alone.
    expect(pms.requests.some((r) => r.path.includes('hotel_ari'))).toBe(true);
  });

  it("answers the image's HEALTHCHECK script: 0 while the API is ready, 1 where nothing listens", async () => {
    // As the Dockerfile runs it: no argument, the API's readiness on API_PORT.
    const healthy = spawnSync(node, ['dist/scripts/healthcheck.js'], {
      cwd: runtimeDir,
      env: { PATH: process.env.PATH, API_PORT: new URL(apiUrl).port },
    });
    expect(healthy.status).toBe(0);
    const closed = spawnSync(node, ['dist/scripts/healthcheck.js', `http://127.0.0.1:${await getFreePort()}/`], {
      cwd: runtimeDir,
    });
    expect(closed.status).toBe(1);
    const workerProbe = spawnSync(
      node,
      ['dist/scripts/healthcheck.js', `http://127.0.0.1:${workerMetricsPort}/metrics`],
      { cwd: runtimeDir },
    );
    expect(workerProbe.status).toBe(0);
  });

  it('replays every released history with the prebuilt bundle the image ships', async () => {
    // Each under the workflow id it was recorded with (the booking saga names its stay messages after its own id).
    const histories = listHistories(path.join(projectRoot, 'test', 'histories')).map(replayable);
    expect(histories.length).toBeGreaterThanOrEqual(3);
    const failures: string[] = [];
    // Decoded as the worker decodes: histories from v2 on are encrypted with the recorder's key.
    const dataConverter = payloadDataConverter(PayloadKeyRing.parse(historyPayloadKeys) as PayloadKeyRing);
    for await (const result of Worker.runReplayHistories(
      { workflowBundle: { codePath: bundlePath }, dataConverter },
      histories,
    )) {
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    expect(failures).toEqual([]);
  });
});
