import type { Pool, PoolClient } from 'pg';
import type { Config } from '../../lib/config';
import { createGuestRefs } from '../../lib/guest-refs';
import {
  addIdentifier,
  addPhoneNumber,
  auditIdentifier,
  getTenant,
  insertTenant,
  listTenants,
  lockTenant,
  removeIdentifier,
  removePhoneNumber,
  setTenantStatus,
  tenantIdsExtending,
  tenantsWithRefsIn,
  updateTenant,
  type TenantDetail,
} from '../../lib/db/admin';
import { isTenantSecretRef, tenantSecretNamespace, tenantSecretRule } from '../../lib/secrets';
import { HttpError } from '../errors';
import type { AdminPrincipal } from './auth';
import type { FieldProblem } from './input';
import { defineRoute, type AdminRoute } from './route';
import {
  acceptedSchema,
  addIdentifierBody,
  addPhoneNumberBody,
  createTenantBody,
  identifierParams,
  listTenantsQuery,
  phoneNumberParams,
  tenantDetailSchema,
  tenantListSchema,
  tenantParams,
  updateTenantBody,
} from './schemas';
import { auditedWrite } from './write';

export const tenantNotFound = () => new HttpError(404, 'not_found', 'Tenant not found');

/** The tenant as it stands inside the transaction that just changed it. */
async function current(client: PoolClient, id: string): Promise<TenantDetail> {
  const tenant = await getTenant(client, id);
  if (!tenant) throw tenantNotFound();
  return tenant;
}

/** Locks the tenant's row for the transaction, or 404. */
async function lockOr404(client: PoolClient, id: string): Promise<void> {
  if (!(await lockTenant(client, id))) throw tenantNotFound();
}

const refFields = ['pmsCredentialsRef', 'whatsappTokenRef'] as const;
/** Settings that decide where the tenant's secrets go: only an unrestricted admin may change them. */
const secretSettings = ['pmsBaseUrl', ...refFields] as const;

/**
 * 400 naming every secret reference in `body` that is outside `tenantId`'s namespace (`env:TENANT_<ID>_<NAME>`),
 * or inside the namespace of a tenant whose id extends this one (`hotel-annex`'s `env:TENANT_HOTEL_ANNEX_...`
 * is also in `hotel`'s), so no stored reference can ever name another tenant's secret.
 */
async function checkSecretRefs(
  client: PoolClient,
  tenantId: string,
  body: Partial<Record<(typeof refFields)[number], string | null | undefined>>,
): Promise<void> {
  const given = refFields.flatMap((field) => {
    const ref = body[field];
    return typeof ref === 'string' ? [{ field, ref }] : [];
  });
  if (given.length === 0) return;
  const nested = await tenantIdsExtending(client, tenantId);
  const fields: FieldProblem[] = [];
  for (const { field, ref } of given) {
    const owner = nested.find((other) => isTenantSecretRef(other, ref));
    if (!isTenantSecretRef(tenantId, ref)) {
      fields.push({
        in: 'body',
        path: field,
        message: `must name a variable in this tenant's own namespace: ${tenantSecretRule(tenantId)} (the tenant id upper-cased, - as _)`,
      });
    } else if (owner !== undefined) {
      fields.push({
        in: 'body',
        path: field,
        message: `is in the namespace of tenant ${owner} (${tenantSecretRule(owner)}); use another name in ${tenantSecretRule(tenantId)}`,
      });
    }
  }
  if (fields.length > 0) throw new HttpError(400, 'validation_failed', 'The request body is not valid', { fields });
}

/** 403 when a tenant-restricted token tries to change where its tenant's secrets are sent. */
function checkSecretSettingsAccess(principal: AdminPrincipal, body: Record<string, unknown>): void {
  if (principal.tenantId === null) return;
  const touched = secretSettings.filter((field) => body[field] !== undefined);
  if (touched.length > 0) {
    throw new HttpError(
      403,
      'forbidden',
      `Only an unrestricted admin token may change ${touched.join(', ')}: they decide where the tenant's secrets are sent`,
    );
  }
}

/**
 * 400 when the PMS at `pmsBaseUrl` redirects its webservice elsewhere (QloApps does so when the host is not the
 * shop's own domain): every call the worker would make would fail. A PMS that cannot be reached now is not refused.
 */
async function checkPmsRedirect(
  pmsRedirect: (baseUrl: string) => Promise<string | undefined>,
  body: { pmsBaseUrl?: string | null | undefined },
): Promise<void> {
  if (typeof body.pmsBaseUrl !== 'string') return;
  const to = await pmsRedirect(body.pmsBaseUrl);
  if (to === undefined) return;
  throw new HttpError(400, 'validation_failed', 'The request body is not valid', {
    fields: [
      {
        in: 'body',
        path: 'pmsBaseUrl',
        message: `the PMS redirects to ${to}: set pmsBaseUrl to the shop's own domain`,
      },
    ],
  });
}

/** A tenant as the caller may see it: monitoring tokens get the number of guest identifiers, not the identifiers. */
function visible(
  tenant: TenantDetail,
  principal: AdminPrincipal,
): Omit<TenantDetail, 'identifiers'> & {
  identifiers?: string[];
} {
  if (principal.scope === 'admin') return tenant;
  const { identifiers: _hidden, ...rest } = tenant;
  return rest;
}

/** Tenants, their WhatsApp numbers and guest identifiers, and the tenant cache refresh. */
export function tenantRoutes({
  db,
  config,
  pmsRedirect,
}: {
  db: Pool;
  config: Config;
  pmsRedirect: (baseUrl: string) => Promise<string | undefined>;
}): AdminRoute[] {
  const guestRefs = createGuestRefs(config.guestRefKey);
  const tenantDoc = { schema: tenantDetailSchema, name: 'TenantDetail' };

  return [
    defineRoute({
      method: 'GET',
      path: '/admin/tenants',
      operationId: 'listTenants',
      summary: 'List tenants (a tenant-restricted token sees only its own)',
      tag: 'tenants',
      access: 'read',
      query: listTenantsQuery,
      success: {
        status: 200,
        description: 'A page of tenants, in id order',
        schema: tenantListSchema,
        name: 'TenantList',
      },
      handle: async ({ query, principal }) => listTenants(db, { onlyId: principal.tenantId, ...query }),
    }),

    defineRoute({
      method: 'POST',
      path: '/admin/tenants',
      operationId: 'createTenant',
      summary: 'Create a tenant, with its first phone numbers and identifiers, in one transaction',
      tag: 'tenants',
      access: 'unrestricted',
      body: createTenantBody,
      errors: [409],
      success: { status: 201, description: 'The tenant as created', ...tenantDoc },
      handle: async ({ body, principal, ctx }) => {
        const { phoneNumberIds = [], identifiers = [] } = body;
        // Before the transaction: no row is locked while the PMS is asked.
        await checkPmsRedirect(pmsRedirect, body);
        const tenant = await auditedWrite(
          db,
          { principal, action: 'tenant.create', tenantId: body.id, notify: true },
          async (client) => {
            await checkSecretRefs(client, body.id, body);
            const holders = await tenantsWithRefsIn(client, body.id, tenantSecretNamespace(body.id));
            if (holders.length > 0) {
              throw new HttpError(400, 'validation_failed', 'The request body is not valid', {
                fields: [
                  {
                    in: 'body',
                    path: 'id',
                    message: `tenant ${holders.join(', ')} holds a secret reference in this id's namespace (${tenantSecretRule(body.id)}); change that reference first`,
                  },
                ],
              });
            }
            await insertTenant(client, body);
            return {
              result: await current(client, body.id),
              details: {
                fields: Object.keys(body).filter((k) => k !== 'phoneNumberIds' && k !== 'identifiers'),
                phoneNumberIds,
                identifiers: identifiers.map((identifier) => auditIdentifier(guestRefs, identifier)),
              },
            };
          },
        );
        ctx.set('Location', `/admin/tenants/${tenant.id}`);
        return tenant;
      },
    }),

    defineRoute({
      method: 'GET',
      path: '/admin/tenants/:id',
      operationId: 'getTenant',
      summary: 'Get a tenant with its phone numbers and identifiers',
      tag: 'tenants',
      access: 'read',
      tenantScoped: true,
      params: tenantParams,
      success: { status: 200, description: 'The tenant', ...tenantDoc },
      handle: async ({ params, principal }) => {
        const tenant = await getTenant(db, params.id);
        if (!tenant) throw tenantNotFound();
        return visible(tenant, principal);
      },
    }),

    defineRoute({
      method: 'PATCH',
      path: '/admin/tenants/:id',
      operationId: 'updateTenant',
      summary: "Change a tenant's settings",
      description:
        'Only the fields given change. businessHours and info are replaced whole; null clears a URL or ref. ' +
        'Secret references must be in the tenant namespace, env:TENANT_<ID>_<NAME>. ' +
        'pmsBaseUrl, pmsCredentialsRef and whatsappTokenRef need an unrestricted admin token. ' +
        "A pmsBaseUrl whose PMS redirects elsewhere (not the shop's own domain) is refused when the PMS can be reached.",
      tag: 'tenants',
      access: 'write',
      tenantScoped: true,
      params: tenantParams,
      body: updateTenantBody,
      success: { status: 200, description: 'The tenant as changed', ...tenantDoc },
      handle: async ({ params, body, principal }) => {
        checkSecretSettingsAccess(principal, body);
        await checkPmsRedirect(pmsRedirect, body);
        return auditedWrite(
          db,
          { principal, action: 'tenant.update', tenantId: params.id, notify: true },
          async (client) => {
            await lockOr404(client, params.id);
            await checkSecretRefs(client, params.id, body);
            if (!(await updateTenant(client, params.id, body))) throw tenantNotFound();
            return { result: await current(client, params.id), details: { fields: Object.keys(body) } };
          },
        );
      },
    }),

    ...(['suspend', 'activate'] as const).map((verb) =>
      defineRoute({
        method: 'POST',
        path: `/admin/tenants/:id/${verb}`,
        operationId: `${verb}Tenant`,
        summary:
          verb === 'suspend'
            ? 'Suspend a tenant: its guests get no automated replies'
            : 'Reactivate a suspended tenant',
        tag: 'tenants',
        access: 'write',
        tenantScoped: true,
        params: tenantParams,
        success: { status: 200, description: 'The tenant with its new status', ...tenantDoc },
        handle: async ({ params, principal }) =>
          auditedWrite(
            db,
            { principal, action: `tenant.${verb}`, tenantId: params.id, notify: true },
            async (client) => {
              const status = verb === 'suspend' ? 'suspended' : 'active';
              if (!(await setTenantStatus(client, params.id, status))) throw tenantNotFound();
              return { result: await current(client, params.id), details: { status } };
            },
          ),
      }),
    ),

    defineRoute({
      method: 'POST',
      path: '/admin/tenants/:id/phone-numbers',
      operationId: 'addPhoneNumber',
      summary: 'Register a WhatsApp phone number id to a tenant (unrestricted admins only)',
      description:
        "A number decides which tenant a guest's messages go to, so a tenant-restricted token may not claim one.",
      tag: 'tenants',
      access: 'unrestricted',
      tenantScoped: true,
      params: tenantParams,
      body: addPhoneNumberBody,
      errors: [409],
      success: { status: 201, description: 'The tenant with the number added', ...tenantDoc },
      handle: async ({ params, body, principal }) =>
        auditedWrite(
          db,
          { principal, action: 'tenant.phone_number.add', tenantId: params.id, notify: true },
          async (client) => {
            await lockOr404(client, params.id);
            await addPhoneNumber(client, params.id, body.phoneNumberId);
            return { result: await current(client, params.id), details: { phoneNumberId: body.phoneNumberId } };
          },
        ),
    }),

    defineRoute({
      method: 'DELETE',
      path: '/admin/tenants/:id/phone-numbers/:phoneNumberId',
      operationId: 'removePhoneNumber',
      summary: 'Unregister a WhatsApp phone number id from a tenant (unrestricted admins only)',
      tag: 'tenants',
      access: 'unrestricted',
      tenantScoped: true,
      params: phoneNumberParams,
      success: { status: 200, description: 'The tenant with the number removed', ...tenantDoc },
      handle: async ({ params, principal }) =>
        auditedWrite(
          db,
          { principal, action: 'tenant.phone_number.remove', tenantId: params.id, notify: true },
          async (client) => {
            await lockOr404(client, params.id);
            if (!(await removePhoneNumber(client, params.id, params.phoneNumberId))) {
              throw new HttpError(404, 'not_found', 'This tenant has no such phone number id');
            }
            return { result: await current(client, params.id), details: { phoneNumberId: params.phoneNumberId } };
          },
        ),
    }),

    defineRoute({
      method: 'POST',
      path: '/admin/tenants/:id/identifiers',
      operationId: 'addIdentifier',
      summary: 'Register a guest identifier (phone number or e-mail) to a tenant (unrestricted admins only)',
      description:
        'A registered guest is refused by every other tenant, so a tenant-restricted token may not register one: it could ' +
        "block another hotel's guest, and a 409 would tell it that the guest is registered elsewhere.",
      tag: 'tenants',
      access: 'unrestricted',
      tenantScoped: true,
      params: tenantParams,
      body: addIdentifierBody,
      errors: [409],
      success: { status: 201, description: 'The tenant with the identifier added', ...tenantDoc },
      handle: async ({ params, body, principal }) =>
        auditedWrite(
          db,
          { principal, action: 'tenant.identifier.add', tenantId: params.id, notify: true },
          async (client) => {
            await lockOr404(client, params.id);
            await addIdentifier(client, params.id, body.identifier);
            return {
              result: await current(client, params.id),
              details: { identifier: auditIdentifier(guestRefs, body.identifier) },
            };
          },
        ),
    }),

    defineRoute({
      method: 'DELETE',
      path: '/admin/tenants/:id/identifiers/:identifier',
      operationId: 'removeIdentifier',
      summary: 'Unregister a guest identifier from a tenant (URL-encode it: %2B34600123456)',
      tag: 'tenants',
      access: 'write',
      tenantScoped: true,
      params: identifierParams,
      success: { status: 200, description: 'The tenant with the identifier removed', ...tenantDoc },
      handle: async ({ params, principal }) =>
        auditedWrite(
          db,
          { principal, action: 'tenant.identifier.remove', tenantId: params.id, notify: true },
          async (client) => {
            await lockOr404(client, params.id);
            if (!(await removeIdentifier(client, params.id, params.identifier))) {
              throw new HttpError(404, 'not_found', 'This tenant has no such identifier');
            }
            return {
              result: await current(client, params.id),
              details: { identifier: auditIdentifier(guestRefs, params.identifier) },
            };
          },
        ),
    }),

    defineRoute({
      method: 'POST',
      path: '/admin/cache/refresh',
      operationId: 'refreshTenantCache',
      summary: "Tell every worker's tenant cache to reload now",
      description: 'Every change made through this API already does this; use it after editing the tables by hand.',
      tag: 'cache',
      access: 'unrestricted',
      success: { status: 202, description: 'The reload was announced', schema: acceptedSchema, name: 'Accepted' },
      handle: async ({ principal }) =>
        auditedWrite(db, { principal, action: 'cache.refresh', tenantId: null, notify: true }, () =>
          Promise.resolve({ result: { status: 'accepted' as const } }),
        ),
    }),
  ];
}
