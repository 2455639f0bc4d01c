import type { ClientBase } from 'pg';
import type { Language } from '../domain/language';
import type { MessagingSettings } from '../domain/messaging-settings';
import type { BusinessHours, TenantStatus } from '../domain/tenants';
import type { GuestRefs } from '../guest-refs';
import { run, type Queryable } from './queries';
import { tenantProfileOf, type TenantsRow } from './tenants';

/**
 * SQL behind the admin API: tenants, their numbers and identifiers (admin tokens are in tokens.ts). Functions take a
 * pool or a client, so a caller can run several in one transaction with `withTransaction` (queries.ts).
 */

export interface Tenant {
  id: string;
  name: string;
  status: TenantStatus;
  locale: Language;
  timezone: string;
  businessHours: BusinessHours;
  info: Record<string, string>;
  pmsBaseUrl: string | null;
  pmsCredentialsRef: string | null;
  pmsHotelId: number | null;
  whatsappTokenRef: string | null;
  messaging: MessagingSettings;
  phoneNumberIds: string[];
  createdAt: Date;
  updatedAt: Date;
}

/** A tenant with its registered guest identifiers (only shown one tenant at a time) and their number. */
export interface TenantDetail extends Tenant {
  identifiers: string[];
  identifierCount: number;
}

/** The settings an admin may set on a tenant; `null` clears an optional one. */
export interface TenantFields {
  name?: string | undefined;
  locale?: Language | undefined;
  timezone?: string | undefined;
  businessHours?: BusinessHours | undefined;
  info?: Record<string, string> | undefined;
  pmsBaseUrl?: string | null | undefined;
  pmsCredentialsRef?: string | null | undefined;
  pmsHotelId?: number | null | undefined;
  whatsappTokenRef?: string | null | undefined;
  messaging?: MessagingSettings | undefined;
}

export interface NewTenant extends TenantFields {
  id: string;
  name: string;
  phoneNumberIds?: string[] | undefined;
  /** Already normalized (see `normalizeIdentifier`). */
  identifiers?: string[] | undefined;
}

const fieldColumns = {
  name: 'name',
  locale: 'locale',
  timezone: 'timezone',
  businessHours: 'business_hours',
  info: 'info',
  pmsBaseUrl: 'pms_base_url',
  pmsCredentialsRef: 'pms_credentials_ref',
  pmsHotelId: 'pms_hotel_id',
  whatsappTokenRef: 'whatsapp_token_ref',
  messaging: 'messaging',
} as const satisfies Record<keyof TenantFields, string>;

const jsonFields = new Set<keyof TenantFields>(['businessHours', 'info', 'messaging']);

/** The columns and values of the fields present in `fields` (absent ones keep their value or default). */
function presentFields(fields: TenantFields): { columns: string[]; values: unknown[] } {
  const columns: string[] = [];
  const values: unknown[] = [];
  for (const key of Object.keys(fieldColumns) as (keyof TenantFields)[]) {
    const value = fields[key];
    if (value === undefined) continue;
    columns.push(fieldColumns[key]);
    values.push(jsonFields.has(key) ? JSON.stringify(value) : value);
  }
  return { columns, values };
}

/** What `tenantSelect` returns: the tenant's row with its phone number ids. */
type TenantRow = TenantsRow & { phone_number_ids: string[] };

const tenantSelect = `
  SELECT t.*,
    COALESCE((SELECT array_agg(p.phone_number_id ORDER BY p.phone_number_id)
              FROM tenant_phone_numbers p WHERE p.tenant_id = t.id), '{}') AS phone_number_ids
  FROM tenants t`;

function toTenant(row: TenantRow): Tenant {
  const { whatsappTokenRef, ...profile } = tenantProfileOf(row);
  return {
    ...profile,
    pmsBaseUrl: row.pms_base_url,
    pmsCredentialsRef: row.pms_credentials_ref,
    pmsHotelId: row.pms_hotel_id,
    whatsappTokenRef,
    messaging: row.messaging,
    phoneNumberIds: row.phone_number_ids,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/**
 * Tenants in id order, `limit` at a time after the id `after`; `onlyId` restricts the list to one tenant
 * (a tenant-restricted token). `nextAfter` is the cursor of the next page, `null` on the last.
 */
export async function listTenants(
  db: Queryable,
  options: {
    onlyId?: string | null | undefined;
    status?: TenantStatus | undefined;
    after?: string | undefined;
    limit: number;
  },
): Promise<{ tenants: Tenant[]; nextAfter: string | null }> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (condition: string, value: unknown) => {
    params.push(value);
    where.push(condition.replace('?', `$${params.length}`));
  };
  if (options.onlyId) add('t.id = ?', options.onlyId);
  if (options.status) add('t.status = ?', options.status);
  if (options.after !== undefined) add('t.id > ?', options.after);
  params.push(options.limit + 1);
  const rows = await run<TenantRow>(
    db,
    `${tenantSelect} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY t.id LIMIT $${params.length}`,
    params,
  );
  const tenants = rows.slice(0, options.limit).map(toTenant);
  return { tenants, nextAfter: rows.length > options.limit ? (tenants.at(-1)?.id ?? null) : null };
}

/** One tenant with its numbers and identifiers, or `undefined`. */
export async function getTenant(db: Queryable, id: string): Promise<TenantDetail | undefined> {
  const [row] = await run<TenantRow & { identifiers: string[] }>(
    db,
    `SELECT x.*,
       COALESCE((SELECT array_agg(i.identifier ORDER BY i.identifier)
                 FROM tenant_user_identifiers i WHERE i.tenant_id = x.id), '{}') AS identifiers
     FROM (${tenantSelect} WHERE t.id = $1) x`,
    [id],
  );
  return row ? { ...toTenant(row), identifiers: row.identifiers, identifierCount: row.identifiers.length } : undefined;
}

/**
 * Ids of the tenants whose id `id` extends with a hyphen (`hotel` for `hotel-annex`) and which hold a secret
 * reference starting with `namespace`: references that creating `id` would put inside its namespace.
 */
export async function tenantsWithRefsIn(db: Queryable, id: string, namespace: string): Promise<string[]> {
  const rows = await run<{ id: string }>(
    db,
    `SELECT id FROM tenants WHERE $1 LIKE id || '-%'
       AND (starts_with(pms_credentials_ref, $2) OR starts_with(whatsapp_token_ref, $2)) ORDER BY id`,
    [id, namespace],
  );
  return rows.map((r) => r.id);
}

/**
 * Ids of the tenants whose id extends `id` with a hyphen (`hotel-annex` for `hotel`): the only ones whose
 * secret namespace (`env:TENANT_HOTEL_ANNEX_`) lies inside `id`'s (`env:TENANT_HOTEL_`).
 */
export async function tenantIdsExtending(db: Queryable, id: string): Promise<string[]> {
  // Tenant ids are [a-z0-9-]: nothing in them is a LIKE wildcard.
  const rows = await run<{ id: string }>(db, 'SELECT id FROM tenants WHERE id LIKE $1 ORDER BY id', [`${id}-%`]);
  return rows.map((r) => r.id);
}

/**
 * Locks a tenant's row for the rest of the transaction (so two writers to one tenant queue up);
 * false when there is no such tenant.
 */
export async function lockTenant(client: ClientBase, id: string): Promise<boolean> {
  return (await run(client, 'SELECT 1 FROM tenants WHERE id = $1 FOR UPDATE', [id])).length === 1;
}

/** Inserts a tenant with its numbers and identifiers. Throws {@link UniqueViolationError} on a duplicate. */
export async function insertTenant(client: ClientBase, tenant: NewTenant): Promise<void> {
  const { columns, values } = presentFields(tenant);
  await run(
    client,
    `INSERT INTO tenants (id, ${columns.join(', ')}) VALUES ($1, ${columns.map((_, i) => `$${i + 2}`).join(', ')})`,
    [tenant.id, ...values],
  );
  for (const phoneNumberId of tenant.phoneNumberIds ?? []) await addPhoneNumber(client, tenant.id, phoneNumberId);
  for (const identifier of tenant.identifiers ?? []) await addIdentifier(client, tenant.id, identifier);
}

/** Sets the given fields; false when there is no such tenant. */
export async function updateTenant(client: ClientBase, id: string, fields: TenantFields): Promise<boolean> {
  const { columns, values } = presentFields(fields);
  const assignments = [...columns.map((c, i) => `${c} = $${i + 2}`), 'updated_at = now()'];
  const rows = await run(client, `UPDATE tenants SET ${assignments.join(', ')} WHERE id = $1 RETURNING id`, [
    id,
    ...values,
  ]);
  return rows.length === 1;
}

/** Suspends or reactivates a tenant; false when there is no such tenant. */
export async function setTenantStatus(client: ClientBase, id: string, status: TenantStatus): Promise<boolean> {
  const rows = await run(client, 'UPDATE tenants SET status = $2, updated_at = now() WHERE id = $1 RETURNING id', [
    id,
    status,
  ]);
  return rows.length === 1;
}

/** Registers a WhatsApp phone number id to a tenant. Throws {@link UniqueViolationError} if it is taken. */
export async function addPhoneNumber(client: ClientBase, tenantId: string, phoneNumberId: string): Promise<void> {
  await run(client, 'INSERT INTO tenant_phone_numbers (phone_number_id, tenant_id) VALUES ($1, $2)', [
    phoneNumberId,
    tenantId,
  ]);
}

/** Unregisters a number from this tenant; false when this tenant does not have it. */
export async function removePhoneNumber(client: ClientBase, tenantId: string, phoneNumberId: string): Promise<boolean> {
  const rows = await run(
    client,
    'DELETE FROM tenant_phone_numbers WHERE phone_number_id = $1 AND tenant_id = $2 RETURNING phone_number_id',
    [phoneNumberId, tenantId],
  );
  return rows.length === 1;
}

/** Registers a normalized guest identifier to a tenant. Throws {@link UniqueViolationError} if it is taken. */
export async function addIdentifier(client: ClientBase, tenantId: string, identifier: string): Promise<void> {
  await run(client, 'INSERT INTO tenant_user_identifiers (identifier, tenant_id) VALUES ($1, $2)', [
    identifier,
    tenantId,
  ]);
}

/** Unregisters a guest identifier from this tenant; false when this tenant does not have it. */
export async function removeIdentifier(client: ClientBase, tenantId: string, identifier: string): Promise<boolean> {
  const rows = await run(
    client,
    'DELETE FROM tenant_user_identifiers WHERE identifier = $1 AND tenant_id = $2 RETURNING identifier',
    [identifier, tenantId],
  );
  return rows.length === 1;
}

/** An identifier as it may appear in the audit log: its kind and its keyed guest reference. */
export function auditIdentifier(guestRefs: GuestRefs, identifier: string): { kind: 'phone' | 'email'; ref: string } {
  return { kind: identifier.includes('@') ? 'email' : 'phone', ref: guestRefs.of(identifier) };
}

/** The tenant a WhatsApp business number is registered to, if any. */
export async function phoneNumberOwner(db: Queryable, phoneNumberId: string): Promise<string | undefined> {
  const [row] = await run<{ tenant_id: string }>(
    db,
    'SELECT tenant_id FROM tenant_phone_numbers WHERE phone_number_id = $1',
    [phoneNumberId],
  );
  return row?.tenant_id;
}
