import { type Client } from '@temporalio/client';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createApp } from '../../api/app';
import { startPostgres, type PostgresServer } from '../../dev/postgres';
import { waitFor } from '../../dev/process';
import { startWhatsAppStandin, type WhatsAppStandin } from '../../dev/whatsapp-standin';
import { migrate } from '../../lib/db/migrate';
import { createPool } from '../../lib/db/pool';
import { conversationWorkflowId } from '../../lib/domain/messages';
import { stateQuery } from '../../lib/domain/conversation';
import { captureLogger, startWorker, temporalClient, testConfig, testSecrets } from '../helpers/env';
import { createTestTenant } from '../helpers/tenants';
import { textWebhook, uniqueWaId, postSigned } from '../helpers/webhooks';

/**
 * Postgres stopped mid-run, on a Postgres of this test's own (the shared one serves other test files):
 * a conversation whose tenant is in the worker's cache still answers; one whose tenant is not waits,
 * and completes once Postgres is back. No message lost, no reply sent twice.
 */
let dir: string;
let postgres: PostgresServer;
let standin: WhatsAppStandin;
let temporal: Client;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'hm-pg-outage-'));
  chmodSync(dir, 0o755);
  [postgres, standin] = await Promise.all([
    startPostgres({ dataDir: path.join(dir, 'pg'), fast: true }),
    startWhatsAppStandin({ accessToken: testSecrets.WHATSAPP_ACCESS_TOKEN }),
  ]);
  const pool = createPool(postgres.url, { max: 1 });
  await migrate(pool);
  await pool.end();
});

afterAll(async () => {
  await temporal?.connection.close();
  await standin?.close();
  await postgres?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

it('answers cached tenants during the outage and the others after it, each message once', async () => {
  const config = testConfig({
    DATABASE_URL: postgres.url,
    WHATSAPP_GRAPH_BASE_URL: standin.url,
    TENANT_CACHE_REFRESH_SECONDS: '1',
  });
  temporal = await temporalClient(config);
  const app = createApp({ temporal, config, log: captureLogger().log, db: createPool(config.databaseUrl) });
  const deliver = async (payload: unknown) => {
    const raw = JSON.stringify(payload);
    await postSigned(app, raw); // the webhook never needs Postgres
  };

  const setup = createPool(postgres.url, { max: 1 });
  const cached = await createTestTenant(setup, { locale: 'en' });
  const worker = await startWorker(config);
  try {
    // Registered after the worker loaded its copy, and never announced: not in the cache.
    const uncached = await createTestTenant(setup, { locale: 'en' });
    await setup.end();

    await postgres.stop();
    // Past the refresh interval, so the worker really tries Postgres (and fails) before answering.
    await waitFor('the cached copy to go stale', () => (worker.tenants.age() ?? 0) > 1_500, { timeoutMs: 10_000 });

    const guestA = uniqueWaId();
    const guestB = uniqueWaId();
    await deliver(textWebhook({ phoneNumberId: cached.phoneNumberId, from: guestA, body: 'Hello' }));
    await deliver(textWebhook({ phoneNumberId: uncached.phoneNumberId, from: guestB, body: 'Hello' }));

    await waitFor('the cached tenant to answer during the outage', () => standin.sent.some((m) => m.to === guestA), {
      timeoutMs: 20_000,
    });
    const handleB = temporal.workflow.getHandle(conversationWorkflowId(uncached.phoneNumberId, guestB));
    await waitFor(
      'resolveTenant for the uncached tenant to be retrying',
      async () => {
        const pending = (await handleB.describe()).raw.pendingActivities?.[0];
        return pending?.lastFailure?.applicationFailureInfo?.type === 'TenantDirectoryUnavailable';
      },
      { timeoutMs: 40_000 },
    );
    const pending = (await handleB.describe()).raw.pendingActivities?.[0];
    expect(pending?.activityType?.name).toBe('resolveTenant');
    expect(pending?.lastFailure?.applicationFailureInfo?.type).toBe('TenantDirectoryUnavailable');
    expect(standin.sent.filter((m) => m.to === guestB)).toHaveLength(0);

    await postgres.start();
    await waitFor(
      'the uncached tenant to answer after Postgres returns',
      () => standin.sent.some((m) => m.to === guestB),
      {
        timeoutMs: 45_000,
      },
    );
    const stateB = await handleB.query(stateQuery);
    expect(stateB.tenant).toMatchObject({ kind: 'resolved', tenantId: uncached.id });
    expect(stateB.received).toBe(1);
    expect(standin.sent.filter((m) => m.to === guestA)).toHaveLength(1);
    expect(standin.sent.filter((m) => m.to === guestB)).toHaveLength(1);
  } finally {
    await worker.stop();
  }
});
