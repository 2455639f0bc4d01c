import type { ClientBase, Pool } from 'pg';

/**
 * Postgres NOTIFY channel: the admin API announces every tenant change on it, and each worker's tenant
 * cache LISTENs and reloads, so a change takes effect in seconds rather than at the next refresh.
 */
export const tenantsChangedChannel = 'tenant_directory_changed';

/** Tells every worker's tenant cache to reload. Call it inside the transaction that made the change. */
export async function notifyTenantsChanged(db: Pool | ClientBase): Promise<void> {
  await db.query(`SELECT pg_notify('${tenantsChangedChannel}', '')`);
}

/** Writes one audit row. `details` must hold no secrets and no raw phone numbers. */
export async function writeAudit(
  db: Pool | ClientBase,
  row: { actor: string; action: string; tenantId?: string | null; details?: Record<string, unknown> },
): Promise<void> {
  await db.query('INSERT INTO audit_log (actor, action, tenant_id, details) VALUES ($1, $2, $3, $4)', [
    row.actor,
    row.action,
    row.tenantId ?? null,
    JSON.stringify(row.details ?? {}),
  ]);
}
