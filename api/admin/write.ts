import type { Pool, PoolClient } from 'pg';
import { withTransaction } from '../../lib/db/queries';
import { notifyTenantsChanged, writeAudit } from '../../lib/db/tenants';
import type { AdminPrincipal } from './auth';

/**
 * Runs an admin write as one transaction: the change, its audit row and, for tenant data, the NOTIFY that
 * makes every worker's tenant cache reload (delivered on commit only). If anything throws, nothing is
 * written and nothing is announced.
 */
export async function auditedWrite<T>(
  db: Pool,
  audit: { principal: AdminPrincipal; action: string; tenantId: string | null; notify: boolean },
  change: (client: PoolClient) => Promise<{ result: T; details?: Record<string, unknown> }>,
): Promise<T> {
  return withTransaction(db, async (client) => {
    const { result, details } = await change(client);
    await writeAudit(client, {
      actor: audit.principal.tokenId,
      action: audit.action,
      tenantId: audit.tenantId,
      details: details ?? {},
    });
    if (audit.notify) await notifyTenantsChanged(client);
    return result;
  });
}
