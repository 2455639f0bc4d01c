import type { ClientBase } from 'pg';
import { run, type Queryable } from './queries';

/**
 * What Postgres holds about one guest at one tenant, for the guest's data rights: the identifier registered to the
 * tenant, and the audit rows that name the guest by a keyed reference (never by number: see lib/guest-refs.ts).
 */

/** What replaces an erased guest's reference in the audit log. */
export const erasedGuestRef = 'erased-guest';

/** Longest list of audit rows an export carries. */
const auditRowsMax = 1000;

/** The guest's identifiers registered to the tenant (its phone number, normalized), if any. */
export async function guestIdentifiers(db: Queryable, tenantId: string, identifiers: string[]): Promise<string[]> {
  const rows = await run<{ identifier: string }>(
    db,
    'SELECT identifier FROM tenant_user_identifiers WHERE tenant_id = $1 AND identifier = ANY($2) ORDER BY identifier',
    [tenantId, identifiers],
  );
  return rows.map((r) => r.identifier);
}

/** Unregisters the guest's identifiers from the tenant; how many there were. */
export async function removeGuestIdentifiers(
  client: ClientBase,
  tenantId: string,
  identifiers: string[],
): Promise<number> {
  const rows = await run(
    client,
    'DELETE FROM tenant_user_identifiers WHERE tenant_id = $1 AND identifier = ANY($2) RETURNING identifier',
    [tenantId, identifiers],
  );
  return rows.length;
}

export interface AuditRow {
  id: string;
  at: Date;
  actor: string;
  action: string;
  details: Record<string, unknown>;
}

/** The tenant's audit rows whose details name any of `refs` (guest references: hex, no LIKE wildcard), oldest first. */
export async function auditRowsNaming(db: Queryable, tenantId: string, refs: string[]): Promise<AuditRow[]> {
  return run<AuditRow>(
    db,
    `SELECT id::text, at, actor, action, details FROM audit_log
     WHERE tenant_id = $1 AND details::text LIKE ANY($2) ORDER BY id LIMIT ${auditRowsMax}`,
    [tenantId, refs.map((ref) => `%${ref}%`)],
  );
}

/** Replaces `refs` by {@link erasedGuestRef} in the tenant's audit rows that name them; how many rows changed. */
export async function scrubAuditReferences(client: ClientBase, tenantId: string, refs: string[]): Promise<number> {
  let details = 'details::text';
  refs.forEach((_, i) => (details = `replace(${details}, $${i + 3}, $2)`));
  const rows = await run(
    client,
    `UPDATE audit_log SET details = (${details})::jsonb
     WHERE tenant_id = $1 AND details::text LIKE ANY($${refs.length + 3}) RETURNING id`,
    [tenantId, erasedGuestRef, ...refs, refs.map((ref) => `%${ref}%`)],
  );
  return rows.length;
}
