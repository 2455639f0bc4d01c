import { ApplicationFailure } from '@temporalio/common';
import { Client, type Pool } from 'pg';
import { tenantProfileOf, tenantsChangedChannel, type TenantsRow } from './db/tenants';
import { ErrorType } from './domain/errors';
import type { TenantProfile } from './domain/tenants';
import type { Logger } from './log';

/**
 * The tenant directory: every tenant with its numbers, identifiers and PMS settings, loaded by one query, and the
 * worker's cache of it ({@link TenantCache}), kept fresh by LISTEN/NOTIFY and an interval.
 */

/** Where a tenant's PMS is; activity-side only (workflows never see credentials references). */
export interface TenantPmsSettings {
  baseUrl: string | null;
  credentialsRef: string | null;
  hotelId: number | null;
}

/** Every tenant with its numbers and identifiers, as loaded by one query. */
export interface TenantDirectory {
  tenants: Map<string, TenantProfile>;
  pms: Map<string, TenantPmsSettings>;
  byPhoneNumberId: Map<string, string>;
  byIdentifier: Map<string, string>;
  loadedAt: number;
}

/** What the directory query selects: the tenant's columns but its timestamps, with its numbers and identifiers. */
type TenantRow = Omit<TenantsRow, 'created_at' | 'updated_at'> & { phone_number_ids: string[]; identifiers: string[] };

/** One statement, no N+1: the numbers and identifiers come as arrays from correlated subqueries. */
const directoryQuery = `
  SELECT t.id, t.name, t.status, t.locale, t.timezone, t.business_hours, t.info, t.whatsapp_token_ref,
         t.pms_base_url, t.pms_credentials_ref, t.pms_hotel_id, t.messaging,
         COALESCE((SELECT array_agg(p.phone_number_id) FROM tenant_phone_numbers p WHERE p.tenant_id = t.id), '{}') AS phone_number_ids,
         COALESCE((SELECT array_agg(i.identifier) FROM tenant_user_identifiers i WHERE i.tenant_id = t.id), '{}') AS identifiers
    FROM tenants t`;

export async function loadTenantDirectory(db: Pool, now: number): Promise<TenantDirectory> {
  const { rows } = await db.query<TenantRow>(directoryQuery);
  const directory: TenantDirectory = {
    tenants: new Map(),
    pms: new Map(),
    byPhoneNumberId: new Map(),
    byIdentifier: new Map(),
    loadedAt: now,
  };
  for (const row of rows) {
    directory.tenants.set(row.id, tenantProfileOf(row));
    directory.pms.set(row.id, {
      baseUrl: row.pms_base_url,
      credentialsRef: row.pms_credentials_ref,
      hotelId: row.pms_hotel_id,
    });
    for (const number of row.phone_number_ids) directory.byPhoneNumberId.set(number, row.id);
    for (const identifier of row.identifiers) directory.byIdentifier.set(identifier, row.id);
  }
  return directory;
}

export interface TenantCacheOptions {
  db: Pool;
  databaseUrl: string;
  /** `application_name` of the LISTEN connection, so it can be told apart in `pg_stat_activity`. */
  applicationName?: string;
  log: Logger;
  /** Reload when the copy is older than this. */
  refreshMs: number;
  /** While Postgres is unreachable, serve a copy up to this old; older, fail so Temporal retries. */
  maxStalenessMs: number;
  /** A lookup that finds nothing reloads first, unless the copy is younger than this (default 1 s). */
  missReloadMs?: number;
  now?: () => number;
}

/**
 * The worker's in-process view of every tenant. Reloaded on an interval, on a NOTIFY from the admin
 * API, and on a lookup that finds nothing; served stale (within a bound) while Postgres is down.
 */
export class TenantCache {
  private directory: TenantDirectory | undefined;
  private loading: Promise<TenantDirectory> | undefined;
  private listener: Client | undefined;
  private timer: NodeJS.Timeout | undefined;
  private reconnectDelayMs = 1_000;
  private lastFailureAt: number | undefined;
  private stopped = false;
  private readonly reloadListeners = new Set<(directory: TenantDirectory) => void>();
  private readonly now: () => number;
  readonly missReloadMs: number;

  constructor(private readonly options: TenantCacheOptions) {
    this.now = options.now ?? Date.now;
    this.missReloadMs = options.missReloadMs ?? 1_000;
  }

  /** Loads the directory (if Postgres answers), then keeps it fresh in the background. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.reload().catch((err: unknown) => this.options.log.warn({ err }, 'tenant directory not loaded yet'));
    this.timer = setInterval(() => {
      this.reload().catch((err: unknown) => this.options.log.warn({ err }, 'tenant directory refresh failed'));
    }, this.options.refreshMs);
    this.timer.unref();
    this.listen();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => undefined);
  }

  /** Reloads now; concurrent callers share one query. */
  reload(): Promise<TenantDirectory> {
    this.loading ??= loadTenantDirectory(this.options.db, this.now())
      .then((directory) => {
        this.directory = directory;
        for (const listener of this.reloadListeners) {
          try {
            listener(directory);
          } catch (err) {
            this.options.log.warn({ err }, 'tenant directory listener failed');
          }
        }
        return directory;
      })
      .finally(() => {
        this.loading = undefined;
      });
    return this.loading;
  }

  /** Calls `listener` with every directory loaded from now on (to drop what no tenant uses any more); unsubscribes. */
  onReload(listener: (directory: TenantDirectory) => void): () => void {
    this.reloadListeners.add(listener);
    return () => this.reloadListeners.delete(listener);
  }

  /** How old the copy in memory is, in ms; undefined before the first load. */
  age(): number | undefined {
    return this.directory ? this.now() - this.directory.loadedAt : undefined;
  }

  /**
   * The directory to answer from: the cached copy if fresh; else a reload; if Postgres fails, the cached
   * copy while it is within the staleness bound; else a retryable failure.
   */
  async get({ forceReloadOlderThanMs }: { forceReloadOlderThanMs?: number } = {}): Promise<TenantDirectory> {
    const age = this.age();
    const limit = Math.min(this.options.refreshMs, forceReloadOlderThanMs ?? Infinity);
    if (this.directory && age !== undefined && age < limit) return this.directory;
    const serveStale =
      this.directory && age !== undefined && age < this.options.maxStalenessMs && forceReloadOlderThanMs === undefined;
    // Postgres failed a moment ago: answer from the copy at once rather than wait on it again.
    if (serveStale && this.lastFailureAt !== undefined && this.now() - this.lastFailureAt < 5_000)
      return this.directory!;
    try {
      const directory = await this.reload();
      this.lastFailureAt = undefined;
      return directory;
    } catch (err) {
      this.lastFailureAt = this.now();
      if (serveStale) {
        this.options.log.warn({ err, ageMs: age }, 'Postgres unreachable; serving the cached tenant directory');
        return this.directory!;
      }
      const reason = err instanceof Error ? err.message : String(err);
      throw ApplicationFailure.retryable(
        `Tenant directory unavailable (Postgres: ${reason}); cached copy ${age === undefined ? 'absent' : `${Math.round(age / 1000)} s old`}`,
        ErrorType.TenantDirectoryUnavailable,
      );
    }
  }

  /** LISTENs for changes announced by the admin API; reconnects with backoff when Postgres goes away. */
  private listen(): void {
    if (this.stopped) return;
    const client = new Client({
      connectionString: this.options.databaseUrl,
      connectionTimeoutMillis: 3_000,
      ...(this.options.applicationName ? { application_name: this.options.applicationName } : {}),
    });
    this.listener = client;
    const retry = () => {
      if (this.stopped || this.listener !== client) return;
      this.listener = undefined;
      client.removeAllListeners();
      client.on('error', () => undefined);
      void client.end().catch(() => undefined);
      const delay = this.reconnectDelayMs;
      this.reconnectDelayMs = Math.min(delay * 2, 30_000);
      setTimeout(() => this.listen(), delay).unref();
    };
    client.on('error', retry);
    client.on('end', retry);
    client.on('notification', () => {
      this.reload().catch((err: unknown) => this.options.log.warn({ err }, 'tenant directory reload failed'));
    });
    client
      .connect()
      .then(() => client.query(`LISTEN ${tenantsChangedChannel}`))
      .then(() => {
        this.reconnectDelayMs = 1_000;
        // Changes made while we were not listening: catch up.
        return this.reload();
      })
      .catch(retry);
  }
}
