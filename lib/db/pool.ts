import { Pool } from 'pg';

/**
 * The process's Postgres pool. Short timeouts: while Postgres is down a query fails within seconds and the
 * activity's retry policy (or the admin API's 503) takes over, rather than requests piling up.
 */
export function createPool(databaseUrl: string, options: { max?: number; applicationName?: string } = {}): Pool {
  const pool = new Pool({
    connectionString: databaseUrl,
    max: options.max ?? 10,
    connectionTimeoutMillis: 3_000,
    idleTimeoutMillis: 30_000,
    query_timeout: 10_000,
    application_name: options.applicationName ?? 'hotel-messaging',
  });
  // An idle client losing its connection (Postgres restarted) must not crash the process.
  pool.on('error', () => undefined);
  return pool;
}
