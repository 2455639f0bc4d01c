import type { Pool } from 'pg';
import { generateToken, type AdminScope } from '../admin-tokens';
import { run, withTransaction, type Queryable } from './queries';
import { writeAudit } from './tenants';

/** Admin API tokens in Postgres: created with an audit row, listed, found for authentication, revoked, touched. */

export interface AdminTokenInfo {
  id: string;
  name: string;
  scope: AdminScope;
  tenantId: string | null;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

interface TokenRow {
  id: string;
  name: string;
  scope: AdminScope;
  tenant_id: string | null;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

const tokenColumns = 'id, name, scope, tenant_id, created_at, last_used_at, revoked_at';

function toTokenInfo(row: TokenRow): AdminTokenInfo {
  return {
    id: row.id,
    name: row.name,
    scope: row.scope,
    tenantId: row.tenant_id,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  };
}

/**
 * Creates an admin token and its audit row in one transaction. The returned `token` is the only copy of
 * the secret: show it once. Throws {@link MissingTenantError} when `tenantId` names no tenant.
 */
export async function createAdminToken(
  pool: Pool,
  input: { name: string; scope: AdminScope; tenantId?: string | null | undefined },
  actor: string,
): Promise<AdminTokenInfo & { token: string }> {
  const { id, token, secretHash } = await generateToken();
  return withTransaction(pool, async (client) => {
    const [row] = await run<TokenRow>(
      client,
      `INSERT INTO admin_tokens (id, name, secret_hash, scope, tenant_id) VALUES ($1, $2, $3, $4, $5)
       RETURNING ${tokenColumns}`,
      [id, input.name, secretHash, input.scope, input.tenantId ?? null],
    );
    await writeAudit(client, {
      actor,
      action: 'token.create',
      tenantId: input.tenantId ?? null,
      details: { tokenId: id, name: input.name, scope: input.scope },
    });
    return { ...toTokenInfo(row!), token };
  });
}

/** Every admin token, oldest first; never the hash. */
export async function listAdminTokens(db: Queryable): Promise<AdminTokenInfo[]> {
  const rows = await run<TokenRow>(db, `SELECT ${tokenColumns} FROM admin_tokens ORDER BY created_at, id`);
  return rows.map(toTokenInfo);
}

/** What authentication needs to know about a token id, hash included. */
export async function findAdminTokenForAuth(
  db: Queryable,
  id: string,
): Promise<
  { id: string; secretHash: string; scope: AdminScope; tenantId: string | null; revoked: boolean } | undefined
> {
  const [row] = await run<{
    id: string;
    secret_hash: string;
    scope: AdminScope;
    tenant_id: string | null;
    revoked: boolean;
  }>(
    db,
    'SELECT id, secret_hash, scope, tenant_id, revoked_at IS NOT NULL AS revoked FROM admin_tokens WHERE id = $1',
    [id],
  );
  return row
    ? { id: row.id, secretHash: row.secret_hash, scope: row.scope, tenantId: row.tenant_id, revoked: row.revoked }
    : undefined;
}

/** Revokes a token (a second revoke keeps the first time); `undefined` when there is no such token. */
export async function revokeAdminToken(db: Queryable, id: string): Promise<AdminTokenInfo | undefined> {
  const [row] = await run<TokenRow>(
    db,
    `UPDATE admin_tokens SET revoked_at = COALESCE(revoked_at, now()) WHERE id = $1 RETURNING ${tokenColumns}`,
    [id],
  );
  return row ? toTokenInfo(row) : undefined;
}

/** Records that a token was used; writes at most once a minute per token, so it stays cheap. */
export async function touchAdminToken(db: Queryable, id: string): Promise<void> {
  await run(
    db,
    `UPDATE admin_tokens SET last_used_at = now()
     WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`,
    [id],
  );
}
