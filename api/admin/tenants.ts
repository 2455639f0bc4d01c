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
  updateTenant,
  type TenantDetail,
} from '../../lib/db/admin';
import { HttpError } from '../errors';
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

/** Tenants, their WhatsApp numbers and guest identifiers, and the tenant cache refresh. */
export function tenantRoutes({ db, config }: { db: Pool; config: Config }): AdminRoute[] {
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
        const tenant = await auditedWrite(
          db,
          { principal, action: 'tenant.create', tenantId: body.id, notify: true },
          async (client) => {
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
      handle: async ({ params }) => {
        const tenant = await getTenant(db, params.id);
        if (!tenant) throw tenantNotFound();
        return tenant;
      },
    }),

    defineRoute({
      method: 'PATCH',
      path: '/admin/tenants/:id',
      operationId: 'updateTenant',
      summary: "Change a tenant's settings",
      description: 'Only the fields given change. businessHours and info are replaced whole; null clears a URL or ref.',
      tag: 'tenants',
      access: 'write',
      tenantScoped: true,
      params: tenantParams,
      body: updateTenantBody,
      success: { status: 200, description: 'The tenant as changed', ...tenantDoc },
      handle: async ({ params, body, principal }) =>
        auditedWrite(db, { principal, action: 'tenant.update', tenantId: params.id, notify: true }, async (client) => {
          if (!(await updateTenant(client, params.id, body))) throw tenantNotFound();
          return { result: await current(client, params.id), details: { fields: Object.keys(body) } };
        }),
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
      summary: 'Register a WhatsApp phone number id to a tenant',
      tag: 'tenants',
      access: 'write',
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
      summary: 'Unregister a WhatsApp phone number id from a tenant',
      tag: 'tenants',
      access: 'write',
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
      summary: 'Register a guest identifier (phone number or e-mail) to a tenant',
      tag: 'tenants',
      access: 'write',
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
