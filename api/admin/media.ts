import type Redis from 'ioredis';
import { z } from 'zod';
import { listMedia, maxMediaPageSize, mediaStats } from '../../lib/media-index';
import { HttpError } from '../errors';
import type { AdminPrincipal } from './auth';
import { defineRoute, type AdminRoute } from './route';
import { tenantId } from './schemas';
import { tenantNotFound } from './tenants';

const listMediaQuery = z.strictObject({
  tenantId: tenantId.optional().meta({ description: 'Only this tenant (a restricted token sees only its own)' }),
  cursor: z
    .string()
    .regex(/^\d+$/, 'must be the cursor of the previous page')
    .optional()
    .meta({ description: 'Cursor: the cursor of the previous page' }),
  pageSize: z.coerce.number().int().min(1).max(maxMediaPageSize).optional(),
});
const mediaStatsQuery = z.strictObject({ tenantId: tenantId.optional() });

/** A restricted token reads only its tenant; naming another gets the same 404 as a tenant that does not exist. */
function scopeTo(principal: AdminPrincipal, requested: string | undefined): string | undefined {
  if (principal.tenantId === null) return requested;
  if (requested !== undefined && requested !== principal.tenantId) throw tenantNotFound();
  return principal.tenantId;
}

/**
 * The media index in Redis, for staff tools: a bounded `SCAN` page at a time (never `KEYS`), and totals.
 * Answers 503 when the API has no Redis or Redis is unreachable.
 */
export function mediaRoutes({ redis }: { redis: Redis | undefined }): AdminRoute[] {
  const needRedis = (): Redis => {
    if (!redis || redis.status !== 'ready') {
      throw new HttpError(503, 'redis_unavailable', 'The media index (Redis) is unavailable; retry later');
    }
    return redis;
  };
  return [
    defineRoute({
      method: 'GET',
      path: '/admin/media',
      operationId: 'listMedia',
      summary: 'A page of stored and refused media (id, tenant, type, size, store reference, expiry)',
      tag: 'media',
      access: 'read',
      query: listMediaQuery,
      errors: [404, 503],
      success: { status: 200, description: 'One SCAN page; pass `cursor` back until `done`' },
      handle: async ({ query, principal }) => {
        const tenant = scopeTo(principal, query.tenantId);
        return listMedia(needRedis(), {
          ...(tenant !== undefined ? { tenantId: tenant } : {}),
          ...(query.cursor !== undefined ? { cursor: query.cursor } : {}),
          ...(query.pageSize !== undefined ? { pageSize: query.pageSize } : {}),
        });
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/admin/media/stats',
      operationId: 'mediaStats',
      summary: 'Totals over the media index: objects, bytes, refusals by reason, per type',
      tag: 'media',
      access: 'read',
      query: mediaStatsQuery,
      errors: [404, 503],
      success: { status: 200, description: 'Totals; `complete: false` when the scan bound was reached' },
      handle: async ({ query, principal }) => {
        const tenant = scopeTo(principal, query.tenantId);
        return mediaStats(needRedis(), tenant !== undefined ? { tenantId: tenant } : {});
      },
    }),
  ];
}
