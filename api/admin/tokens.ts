import type { Pool } from 'pg';
import { MissingTenantError } from '../../lib/db/queries';
import { createAdminToken, listAdminTokens, revokeAdminToken } from '../../lib/db/tokens';
import { HttpError } from '../errors';
import { defineRoute, type AdminRoute } from './route';
import { createdTokenSchema, createTokenBody, tokenListSchema, tokenParams, tokenSchema } from './schemas';
import { auditedWrite } from './write';

/** Admin tokens: create (the token is shown once), list (never the hash), revoke. Unrestricted admins only. */
export function tokenRoutes({ db }: { db: Pool }): AdminRoute[] {
  return [
    defineRoute({
      method: 'POST',
      path: '/admin/tokens',
      operationId: 'createToken',
      summary: 'Create an admin token; the response is the only time the token is shown',
      tag: 'tokens',
      access: 'unrestricted',
      body: createTokenBody,
      success: {
        status: 201,
        description: 'The token and its details',
        schema: createdTokenSchema,
        name: 'CreatedToken',
      },
      handle: async ({ body, principal, ctx }) => {
        try {
          const created = await createAdminToken(db, body, principal.tokenId);
          ctx.set('Location', `/admin/tokens/${created.id}`);
          return created;
        } catch (err) {
          if (err instanceof MissingTenantError) {
            throw new HttpError(400, 'validation_failed', 'The request body is not valid', {
              fields: [{ in: 'body', path: 'tenantId', message: 'no tenant has this id' }],
            });
          }
          throw err;
        }
      },
    }),

    defineRoute({
      method: 'GET',
      path: '/admin/tokens',
      operationId: 'listTokens',
      summary: 'List admin tokens (never their secrets or hashes)',
      tag: 'tokens',
      access: 'unrestricted',
      success: {
        status: 200,
        description: 'Every token, revoked ones included',
        schema: tokenListSchema,
        name: 'TokenList',
      },
      handle: async () => ({ tokens: await listAdminTokens(db) }),
    }),

    defineRoute({
      method: 'POST',
      path: '/admin/tokens/:id/revoke',
      operationId: 'revokeToken',
      summary: 'Revoke an admin token; it stops working at once. Revoking twice keeps the first time.',
      tag: 'tokens',
      access: 'unrestricted',
      params: tokenParams,
      errors: [404],
      success: { status: 200, description: 'The revoked token', schema: tokenSchema, name: 'Token' },
      handle: async ({ params, principal }) =>
        auditedWrite(db, { principal, action: 'token.revoke', tenantId: null, notify: false }, async (client) => {
          const token = await revokeAdminToken(client, params.id);
          if (!token) throw new HttpError(404, 'not_found', 'Token not found');
          return { result: token, details: { tokenId: token.id, name: token.name } };
        }),
    }),
  ];
}
