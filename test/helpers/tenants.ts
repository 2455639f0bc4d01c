import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import type { MessagingSettings } from '../../lib/domain/messaging-settings';
import type { BusinessHours } from '../../lib/domain/tenants';
import { tenantSecretNamespace } from '../../lib/secrets';

export interface TestTenant {
  id: string;
  phoneNumberId: string;
}

/** A unique business number id, so test files sharing the database never own the same number. */
export function uniquePhoneNumberId(): string {
  return `9${Math.floor(Math.random() * 1e14)
    .toString()
    .padStart(14, '0')}`;
}

/** `TENANT_<ID>_<name>`: a variable a reference of this tenant may name (the rule is in lib/secrets.ts). */
export function tenantSecretVariable(tenantId: string, name = 'PMS_KEY'): string {
  return `${tenantSecretNamespace(tenantId).slice('env:'.length)}${name}`;
}

/**
 * Inserts a tenant that owns one fresh business number (and optionally guest identifiers). Its PMS credentials
 * reference defaults to `env:TENANT_<ID>_PMS_KEY` (see {@link tenantSecretVariable}).
 */
export async function createTestTenant(
  db: Pool,
  options: {
    name?: string;
    status?: 'active' | 'suspended';
    locale?: 'es' | 'en';
    timezone?: string;
    businessHours?: BusinessHours;
    identifiers?: string[];
    phoneNumberId?: string;
    whatsappTokenRef?: string;
    pms?: { baseUrl: string; credentialsRef?: string; hotelId: number };
    info?: Record<string, string>;
    messaging?: MessagingSettings;
  } = {},
): Promise<TestTenant> {
  const id = `t-${randomUUID().slice(0, 8)}`;
  const phoneNumberId = options.phoneNumberId ?? uniquePhoneNumberId();
  await db.query(
    `INSERT INTO tenants (id, name, status, locale, timezone, business_hours, whatsapp_token_ref,
                          pms_base_url, pms_credentials_ref, pms_hotel_id, info, messaging)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
    [
      id,
      options.name ?? `Hotel ${id}`,
      options.status ?? 'active',
      options.locale ?? 'es',
      options.timezone ?? 'Europe/Madrid',
      JSON.stringify(options.businessHours ?? {}),
      options.whatsappTokenRef ?? null,
      options.pms?.baseUrl ?? null,
      options.pms ? (options.pms.credentialsRef ?? `env:${tenantSecretVariable(id)}`) : null,
      options.pms?.hotelId ?? null,
      JSON.stringify(options.info ?? {}),
      JSON.stringify(options.messaging ?? {}),
    ],
  );
  await db.query('INSERT INTO tenant_phone_numbers (phone_number_id, tenant_id) VALUES ($1, $2)', [phoneNumberId, id]);
  for (const identifier of options.identifiers ?? []) {
    await db.query('INSERT INTO tenant_user_identifiers (identifier, tenant_id) VALUES ($1, $2)', [identifier, id]);
  }
  return { id, phoneNumberId };
}
