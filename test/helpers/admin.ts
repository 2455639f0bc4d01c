import { Client as TemporalClient, Connection } from '@temporalio/client';
import type Redis from 'ioredis';
import type Koa from 'koa';
import { randomUUID } from 'node:crypto';
import { Client as PgClient, type Pool } from 'pg';
import request from 'supertest';
import { createApp } from '../../api/app';
import { waitFor } from '../../dev/process';
import type { AdminScope } from '../../lib/admin-tokens';
import type { Config } from '../../lib/config';
import { createAdminToken } from '../../lib/db/tokens';
import { createPool } from '../../lib/db/pool';
import { tenantsChangedChannel } from '../../lib/db/tenants';
import { captureLogger, testConfig, testEnv } from './env';

export const uniqueTenantId = () => `t-${randomUUID().slice(0, 8)}`;

export interface AdminTestApp {
  app: Koa;
  db: Pool;
  config: Config;
  /** The app's Temporal client (connected lazily, on first use). */
  temporal: TemporalClient;
  /** A fresh token made directly in the database (as the CLI does), and its id. */
  token(scope?: AdminScope, tenantId?: string | null): Promise<{ token: string; id: string }>;
  /** supertest against the app, with `Authorization: Bearer <token>` when a token is given. */
  as(token?: string): {
    get(path: string): request.Test;
    post(path: string, body?: unknown): request.Test;
    patch(path: string, body?: unknown): request.Test;
    delete(path: string): request.Test;
  };
  close(): Promise<void>;
}

/**
 * The API app on the run's Postgres. The failure limit is high by default, so tests that present wrong
 * tokens do not lock each other out; the rate-limit tests set their own.
 * Temporal is never used by admin routes, so the client is lazy and connects to nothing.
 */
export function adminTestApp(
  overrides: Record<string, string> = {},
  options: { databaseUrl?: string; redis?: Redis } = {},
): AdminTestApp {
  const config = testConfig({ ADMIN_AUTH_FAILURE_LIMIT: '1000', ...overrides });
  const db = createPool(options.databaseUrl ?? config.databaseUrl, { max: 4 });
  const connection = Connection.lazy({ address: config.temporal.address });
  const temporal = new TemporalClient({ connection, namespace: config.temporal.namespace });
  const app = createApp({
    temporal,
    config,
    log: captureLogger().log,
    db,
    ...(options.redis ? { redis: options.redis } : {}),
  });
  const withAuth = (test: request.Test, token?: string) =>
    token === undefined ? test : test.set('authorization', `Bearer ${token}`);
  return {
    app,
    db,
    config,
    temporal,
    async token(scope = 'admin', tenantId = null) {
      const created = await createAdminToken(db, { name: `test-${scope}`, scope, tenantId }, 'test');
      return { token: created.token, id: created.id };
    },
    as(token) {
      const agent = request(app.callback());
      return {
        get: (path) => withAuth(agent.get(path), token),
        post: (path, body) => {
          const test = withAuth(agent.post(path), token);
          return body === undefined ? test : test.send(body as object);
        },
        patch: (path, body) => {
          const test = withAuth(agent.patch(path), token);
          return body === undefined ? test : test.send(body as object);
        },
        delete: (path) => withAuth(agent.delete(path), token),
      };
    },
    async close() {
      await Promise.allSettled([db.end(), connection.close()]);
    },
  };
}

/** A LISTEN on the tenant-change channel, on its own connection, counting notifications. */
export async function listenForTenantChanges(): Promise<{
  count(): number;
  /** Resolves once more than `seen` notifications have arrived; fails after the deadline. */
  waitForMoreThan(seen: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}> {
  const client = new PgClient({ connectionString: testEnv().postgres.url });
  await client.connect();
  let received = 0;
  client.on('notification', (message) => {
    if (message.channel === tenantsChangedChannel) received += 1;
  });
  await client.query(`LISTEN ${tenantsChangedChannel}`);
  return {
    count: () => received,
    waitForMoreThan: (seen, timeoutMs = 5_000) =>
      waitFor('a tenant change notification', () => received > seen, { timeoutMs, intervalMs: 20 }),
    close: () => client.end(),
  };
}

/** Audit rows of one tenant, oldest first. */
export async function auditRows(
  db: Pool,
  where: { tenantId?: string; actor?: string },
): Promise<{ actor: string; action: string; tenant_id: string | null; details: Record<string, unknown> }[]> {
  const { rows } = await db.query(
    `SELECT actor, action, tenant_id, details FROM audit_log
     WHERE ($1::text IS NULL OR tenant_id = $1) AND ($2::text IS NULL OR actor = $2) ORDER BY id`,
    [where.tenantId ?? null, where.actor ?? null],
  );
  return rows;
}
