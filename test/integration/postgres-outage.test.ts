import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startPostgres, type PostgresServer } from '../../dev/postgres';
import { waitFor } from '../../dev/process';
import { migrate } from '../../lib/db/migrate';
import { createPool } from '../../lib/db/pool';
import { stateQuery } from '../../lib/domain/conversation';
import { startStack, type Stack } from '../helpers/stack';
import { createTestTenant } from '../helpers/tenants';
import { textWebhook, uniqueWaId, postSigned, conversationIdFor } from '../helpers/webhooks';

/**
 * Postgres stopped mid-run, on a Postgres of this test's own (the shared one serves other test files):
 * a conversation whose tenant is in the worker's cache still answers; one whose tenant is not waits,
 * and completes once Postgres is back. No message lost, no reply sent twice.
 */
let dir: string;
let postgres: PostgresServer;
let stack: Stack;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'hm-pg-outage-'));
  chmodSync(dir, 0o755);
  postgres = await startPostgres({ dataDir: path.join(dir, 'pg'), fast: true });
  const pool = createPool(postgres.url, { max: 1 });
  await migrate(pool);
  await pool.end();
  stack = await startStack({ config: { DATABASE_URL: postgres.url, TENANT_CACHE_REFRESH_SECONDS: '1' } });
});

afterAll(async () => {
  await stack?.stop();
  await postgres?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

it('answers cached tenants during the outage and the others after it, each message once', async () => {
  const { whatsapp: standin, temporal, worker } = stack;
  const deliver = async (payload: unknown) => {
    const raw = JSON.stringify(payload);
    await postSigned(stack.app, raw); // the webhook never needs Postgres
  };

  const cached = await stack.tenant({ locale: 'en' });
  // Registered after the worker loaded its copy, and never announced: not in the cache.
  const setup = createPool(postgres.url, { max: 1 });
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
  const handleB = temporal.workflow.getHandle(conversationIdFor(uncached.phoneNumberId, guestB));
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
});
