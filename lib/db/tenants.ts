import type { ClientBase, Pool } from 'pg';
import type { Language } from '../domain/language';
import type { MessagingSettings } from '../domain/messaging-settings';
import type { BusinessHours, TenantProfile, TenantStatus } from '../domain/tenants';

/** A row of `tenants` as pg returns it (jsonb columns parsed). */
export interface TenantsRow {
  id: string;
  name: string;
  status: TenantStatus;
  locale: Language;
  timezone: string;
  business_hours: BusinessHours;
  info: Record<string, string>;
  whatsapp_token_ref: string | null;
  pms_base_url: string | null;
  pms_credentials_ref: string | null;
  pms_hotel_id: number | null;
  messaging: MessagingSettings;
  created_at: Date;
  updated_at: Date;
}

/** The tenant as a conversation sees it, from its row. */
export function tenantProfileOf(row: Omit<TenantsRow, 'created_at' | 'updated_at'>): TenantProfile {
  return {
    id: row.id,
    name: row.name,
    status: row.status,
    locale: row.locale,
    timezone: row.timezone,
    businessHours: row.business_hours,
    info: row.info,
    whatsappTokenRef: row.whatsapp_token_ref,
    messaging: row.messaging,
  };
}

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
