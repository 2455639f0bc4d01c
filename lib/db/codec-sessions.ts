import { createHash, randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import type { AdminScope } from '../admin-tokens';
import { run, withTransaction } from './queries';
import { writeAudit } from './tenants';

/**
 * Logins to the codec endpoint: a random 256-bit session id for the operator's cookie, of which Postgres keeps only
 * the SHA-256. A session is valid until it expires, is ended, or its token is revoked or deleted.
 */

const hashOf = (sessionId: string) => createHash('sha256').update(sessionId).digest('hex');

/** The token a live session was opened with. */
export interface CodecSessionOwner {
  tokenId: string;
  scope: AdminScope;
  tenantId: string | null;
}

/**
 * Opens a session for `tokenId` lasting `ttlSeconds`, audited as `codec.login` in the same transaction, and drops
 * sessions that have expired. Returns the session id: the only copy, for the cookie.
 */
export async function openCodecSession(pool: Pool, tokenId: string, ttlSeconds: number): Promise<string> {
  const sessionId = randomBytes(32).toString('base64url');
  await withTransaction(pool, async (client) => {
    await client.query('DELETE FROM codec_sessions WHERE expires_at < now()');
    await client.query(
      `INSERT INTO codec_sessions (id_hash, token_id, expires_at) VALUES ($1, $2, now() + make_interval(secs => $3))`,
      [hashOf(sessionId), tokenId, ttlSeconds],
    );
    await writeAudit(client, { actor: tokenId, action: 'codec.login', details: { ttlSeconds } });
  });
  return sessionId;
}

/** The token of a live session, or undefined when the session is unknown, expired, or its token revoked. */
export async function findCodecSession(pool: Pool, sessionId: string): Promise<CodecSessionOwner | undefined> {
  const [row] = await run<{ token_id: string; scope: AdminScope; tenant_id: string | null }>(
    pool,
    `SELECT s.token_id, t.scope, t.tenant_id FROM codec_sessions s JOIN admin_tokens t ON t.id = s.token_id
     WHERE s.id_hash = $1 AND s.expires_at > now() AND t.revoked_at IS NULL`,
    [hashOf(sessionId)],
  );
  return row ? { tokenId: row.token_id, scope: row.scope, tenantId: row.tenant_id } : undefined;
}

/** Ends a session (logout); audited as `codec.logout` when there was one. */
export async function closeCodecSession(pool: Pool, sessionId: string): Promise<void> {
  await withTransaction(pool, async (client) => {
    const [row] = await run<{ token_id: string }>(
      client,
      'DELETE FROM codec_sessions WHERE id_hash = $1 RETURNING token_id',
      [hashOf(sessionId)],
    );
    if (row) await writeAudit(client, { actor: row.token_id, action: 'codec.logout' });
  });
}
