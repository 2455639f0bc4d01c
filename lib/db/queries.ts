import type { ClientBase, Pool, PoolClient, QueryResultRow } from 'pg';

/**
 * How the admin SQL runs: on a pool or a client (so a caller can run several statements in one transaction with
 * {@link withTransaction}), with the Postgres errors a caller can act on turned into typed errors.
 */

export type Queryable = Pool | ClientBase;

/** A row that would duplicate a unique key: a tenant id, a phone number id or a guest identifier. */
export class UniqueViolationError extends Error {
  override readonly name = 'UniqueViolationError';
  constructor(readonly resource: 'tenant' | 'phone_number' | 'identifier' | 'token') {
    super(`${resource} already exists`);
  }
}

/** A reference to a tenant that does not exist. */
export class MissingTenantError extends Error {
  override readonly name = 'MissingTenantError';
  constructor() {
    super('tenant does not exist');
  }
}

const uniqueConstraints: Record<string, UniqueViolationError['resource']> = {
  tenants_pkey: 'tenant',
  tenant_phone_numbers_pkey: 'phone_number',
  tenant_user_identifiers_pkey: 'identifier',
  admin_tokens_pkey: 'token',
};

/** Turns the Postgres errors a caller can act on into typed errors; the rest pass through. */
function translate(err: unknown): unknown {
  const { code, constraint } = (err ?? {}) as { code?: string; constraint?: string };
  if (code === '23505' && constraint && uniqueConstraints[constraint]) {
    return new UniqueViolationError(uniqueConstraints[constraint]);
  }
  if (code === '23503') return new MissingTenantError();
  return err;
}

export async function run<R extends QueryResultRow>(db: Queryable, sql: string, params: unknown[] = []): Promise<R[]> {
  try {
    return (await db.query<R>(sql, params)).rows;
  } catch (err) {
    throw translate(err);
  }
}

/**
 * Runs `fn` in one transaction on one client: committed if it returns, rolled back if it throws.
 * A client whose rollback fails (the connection died) is discarded rather than returned to the pool.
 */
export async function withTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch((rollbackError: unknown) => {
      broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
    });
    throw err;
  } finally {
    client.release(broken);
  }
}

const networkCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);
const unavailableMessages =
  /timeout exceeded when trying to connect|Connection terminated|Query read timeout|Client has encountered a connection error|the database system is (starting up|shutting down|in recovery mode)/i;

/**
 * Whether `err` means Postgres cannot be reached or is not accepting work right now (as opposed to a bad
 * query): network errors, pg's connect and query timeouts, SQLSTATE classes 08 (connection exception),
 * 57P01-57P03 (shutdown, cannot connect now) and 53300 (too many connections).
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  // Duck-typed, not `instanceof Error`: errors made by Node's own net module come from another realm
  // under some runners (jest's vm sandbox), where `instanceof Error` is false.
  if (typeof err !== 'object' || err === null) return false;
  const { code, message, errors } = err as { code?: unknown; message?: unknown; errors?: unknown };
  if (typeof code === 'string') {
    if (networkCodes.has(code) || code.startsWith('08') || /^57P0[123]$/.test(code) || code === '53300') return true;
  }
  // Node reports a refused dual-stack connect (localhost: ::1 and 127.0.0.1) as an AggregateError.
  if (Array.isArray(errors) && errors.some(isDatabaseUnavailable)) return true;
  return typeof message === 'string' && unavailableMessages.test(message);
}
