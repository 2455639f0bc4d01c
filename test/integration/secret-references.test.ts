import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mediaActivities } from '../helpers/media';
import { createPmsActivities } from '../../activities/pms';
import type { PmsOrigins } from '../../clients/qloapps';
import { TenantCache } from '../../lib/tenant-directory';
import { createWhatsAppActivities } from '../../activities/whatsapp';
import { startPmsStandin, type PmsStandin } from '../../dev/pms-standin';
import { waitFor } from '../../dev/process';
import { startWhatsAppStandin, type WhatsAppStandin } from '../../dev/whatsapp-standin';
import { createPool } from '../../lib/db/pool';
import { ErrorType } from '../../lib/domain/errors';
import { createHttpAgent } from '../../lib/http';
import { createGuestRefs } from '../../lib/guest-refs';
import { createLogger } from '../../lib/log';
import { createRedis, type Redis } from '../../lib/redis';
import { createSecretResolver } from '../../lib/secrets';
import { testConfig, testSecrets } from '../helpers/env';
import { createTestTenant } from '../helpers/tenants';
import { graphClientFor, pmsOriginsFor } from '../../workers/resources';

/**
 * Finding 1 of the security review, at resolution time: a tenant row that names a secret outside its own
 * namespace (`env:TENANT_<ID>_<NAME>`), written straight into Postgres, resolves to nothing. The activity
 * fails with a non-retryable `SecretUnavailable` and sends nothing anywhere: not the worker's own secrets,
 * not another tenant's.
 */

const noop = () => undefined;
const quiet = () =>
  new MockActivityEnvironment(undefined, {
    logger: { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop },
  });
const log = createLogger({ level: 'silent' });
const config = testConfig();
const db = createPool(config.databaseUrl, { max: 2 });
const tenants = new TenantCache({
  db,
  databaseUrl: config.databaseUrl,
  log,
  refreshMs: 60_000,
  maxStalenessMs: 60_000,
  missReloadMs: 0,
});
const http = createHttpAgent({ maxConnectionsPerOrigin: 4 });
const otherKey = 'OTHERTENANTKEY0123456789ABCDEFGH';
/** The worker's whole environment as the resolver sees it: its own secrets and every tenant's. */
let env: Record<string, string>;
let victim: { id: string; ref: string };
let evilPms: PmsStandin;
let graph: WhatsAppStandin;
let redis: Redis;
const opened: PmsOrigins[] = [];

/** The namespace prefix of a tenant id, as the README states the rule. */
const prefix = (tenantId: string) => `TENANT_${tenantId.toUpperCase().replace(/-/g, '_')}_`;

beforeAll(async () => {
  victim = { id: (await createTestTenant(db)).id, ref: '' };
  victim.ref = `env:${prefix(victim.id)}PMS_KEY`;
  env = {
    ...testSecrets,
    DATABASE_URL: 'postgres://hotel:db-password-123@db/hotel',
    [`${prefix(victim.id)}PMS_KEY`]: otherKey,
  };
  // The attacker's "PMS" accepts any key it is sent: whatever arrives there has leaked.
  evilPms = await startPmsStandin({ webserviceKey: testSecrets.WHATSAPP_ACCESS_TOKEN });
  graph = await startWhatsAppStandin({ accessToken: testSecrets.WHATSAPP_APP_SECRET });
  redis = createRedis(config.redisUrl);
  await waitFor('redis', () => redis.status === 'ready');
});

afterAll(async () => {
  await Promise.all(opened.map((origins) => origins.close()));
  await Promise.allSettled([evilPms?.close(), graph?.close(), tenants.stop()]);
  redis?.disconnect();
  await db.end();
  await http.close();
});

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof ApplicationFailure) return err;
    throw err;
  }
  throw new Error('expected the activity to fail');
}

function expectForbidden(failure: ApplicationFailure) {
  expect(failure.type).toBe(ErrorType.SecretUnavailable);
  expect(failure.nonRetryable).toBe(true);
  expect(failure.message).toMatch(/TENANT_/);
  // The message names the reference, never a value.
  for (const value of Object.values(env)) expect(failure.message).not.toContain(value);
}

describe('a PMS credentials reference outside the tenant namespace, written directly in SQL', () => {
  it.each([
    ['the worker’s WhatsApp access token', 'env:WHATSAPP_ACCESS_TOKEN'],
    ['the worker’s database URL', 'env:DATABASE_URL'],
    ['another tenant’s PMS key', 'victim'],
  ])('%s is never resolved nor sent to the PMS URL', async (_name, ref) => {
    const { id } = await createTestTenant(db);
    await db.query('UPDATE tenants SET pms_base_url = $2, pms_credentials_ref = $3, pms_hotel_id = 1 WHERE id = $1', [
      id,
      evilPms.url,
      ref === 'victim' ? victim.ref : ref,
    ]);
    await tenants.reload();
    const pmsOrigins = pmsOriginsFor(config, { log, tenants });
    opened.push(pmsOrigins);
    const acts = createPmsActivities({
      tenants,
      secrets: createSecretResolver(env),
      redis,
      config,
      log,
      pmsOrigins,
      guestRefs: createGuestRefs(config.guestRefKey),
    });
    const failure = await failureOf(
      quiet().run(acts.checkAvailability, { tenantId: id, checkIn: '2031-03-10', checkOut: '2031-03-12', adults: 2 }),
    );
    expectForbidden(failure);
    expect(evilPms.requests).toEqual([]);
  });
});

describe('a WhatsApp token reference outside the tenant namespace', () => {
  const graphClient = () => graphClientFor(testConfig({ WHATSAPP_GRAPH_BASE_URL: graph.url }), http);

  it.each([
    ['the worker’s app secret', 'env:WHATSAPP_APP_SECRET'],
    ['another tenant’s secret', 'victim'],
  ])('sending a reply with %s sends nothing', async (_name, ref) => {
    const { id, phoneNumberId } = await createTestTenant(db);
    const acts = createWhatsAppActivities({ graph: graphClient(), secrets: createSecretResolver(env) });
    const failure = await failureOf(
      quiet().run(acts.sendMessage, {
        tenantId: id,
        phoneNumberId,
        to: '16505551234',
        text: 'Hola',
        tokenRef: ref === 'victim' ? victim.ref : ref,
      }),
    );
    expectForbidden(failure);
    expect(graph.attempts).toBe(0);
  });

  it('downloading media with it asks Meta nothing', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'secret-refs-'));
    try {
      const { id } = await createTestTenant(db);
      const acts = mediaActivities({
        http,
        redis,
        config: testConfig({ WHATSAPP_GRAPH_BASE_URL: graph.url, MEDIA_DIR: dir }),
        secrets: createSecretResolver(env),
        log,
      });
      const failure = await failureOf(
        quiet().run(acts.downloadMedia, {
          tenantId: id,
          mediaId: '1234567890',
          type: 'audio' as const,
          tokenRef: 'env:WHATSAPP_APP_SECRET',
        }),
      );
      expectForbidden(failure);
      expect(graph.media.metadata).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a reference inside the tenant namespace', () => {
  it('resolves, and sends the tenant’s own secret to the tenant’s own PMS', async () => {
    const pms = await startPmsStandin({ webserviceKey: otherKey });
    try {
      await db.query('UPDATE tenants SET pms_base_url = $2, pms_credentials_ref = $3, pms_hotel_id = 1 WHERE id = $1', [
        victim.id,
        pms.url,
        victim.ref,
      ]);
      await tenants.reload();
      const pmsOrigins = pmsOriginsFor(config, { log, tenants });
      opened.push(pmsOrigins);
      const acts = createPmsActivities({
        tenants,
        secrets: createSecretResolver(env),
        redis,
        config,
        log,
        pmsOrigins,
        guestRefs: createGuestRefs(config.guestRefKey),
      });
      const result: { rooms: unknown[] } = await quiet().run(acts.checkAvailability, {
        tenantId: victim.id,
        checkIn: '2031-03-10',
        checkOut: '2031-03-12',
        adults: 2,
      });
      expect(result.rooms.length).toBeGreaterThan(0);
      expect(pms.requests[0]?.authorization).toBe(`Basic ${Buffer.from(`${otherKey}:`).toString('base64')}`);
    } finally {
      await pms.close();
    }
  });
});
