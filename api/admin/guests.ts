import { WorkflowNotFoundError, type WorkflowExecutionInfo } from '@temporalio/client';
import type Redis from 'ioredis';
import { getTenant, type TenantDetail } from '../../lib/db/admin';
import { auditRowsNaming, guestIdentifiers, removeGuestIdentifiers, scrubAuditReferences } from '../../lib/db/guests';
import { scrubInteractions } from '../../lib/db/interactions';
import { writeAudit } from '../../lib/db/tenants';
import { bookingStatusQuery, type BookingOutcome } from '../../lib/domain/booking';
import { closeUpdate, stateQuery, type ConversationWorkflow } from '../../lib/domain/conversation';
import {
  guestMediaErasureWorkflowType,
  type GuestMediaErasure,
  type GuestMediaErasureInput,
} from '../../lib/domain/media';
import { TenantId } from '../../lib/domain/search-attributes';
import { normalizeIdentifier } from '../../lib/domain/tenants';
import { guestMediaKey, listGuestMedia } from '../../lib/guest-media';
import { createGuestRefs } from '../../lib/guest-refs';
import { createMediaIndex } from '../../lib/media-index';
import { retryAbortedUpdate } from '../../lib/temporal-updates';
import { HttpError } from '../errors';
import type { AdminPrincipal } from './auth';
import { listAllExecutions, withTemporal, type ConversationDeps } from './conversation-access';
import { guestErasureSchema, guestExportSchema, guestParams, guestQuery } from './conversation-schemas';
import { conversationSummary } from './conversations';
import { defineRoute, type AdminRoute } from './route';
import { tenantNotFound } from './tenants';
import { auditedWrite } from './write';

export interface GuestDeps extends ConversationDeps {
  /** The media index; guest routes answer 503 without it. */
  redis?: Redis | undefined;
}

/** One guest at one hotel, as the system names them. */
interface Guest {
  tenant: TenantDetail;
  /** E.164, as identifiers are registered. */
  phone: string;
  /** The reference of the guest's WhatsApp id (the number without `+`): conversations, bookings, media. */
  guestRef: string;
  /** The reference of the registered identifier (the number with `+`): audit rows of identifiers. */
  identifierRef: string;
}

const personalData = () =>
  new HttpError(403, 'forbidden', "A guest's data needs an admin token: monitoring tokens do not see personal data");

/**
 * A guest's data rights at one hotel: `GET /admin/guests/:phone/export` answers everything the system holds about the
 * guest there; `DELETE /admin/guests/:phone` erases it. Both need an admin token of that tenant (or an unrestricted
 * one) and are audited. What Temporal keeps in histories is encrypted and expires with the namespace's retention.
 */
export function guestRoutes(deps: GuestDeps): AdminRoute[] {
  const { db, config, temporal } = deps;
  const guestRefs = createGuestRefs(config.guestRefKey);

  const needRedis = (): Redis => {
    const { redis } = deps;
    if (!redis || redis.status !== 'ready') {
      throw new HttpError(503, 'redis_unavailable', 'The media index (Redis) is unavailable; retry later');
    }
    return redis;
  };

  async function guestAt(principal: AdminPrincipal, rawPhone: string, tenantId: string): Promise<Guest> {
    if (principal.scope !== 'admin') throw personalData();
    if (principal.tenantId !== null && principal.tenantId !== tenantId) throw tenantNotFound();
    const tenant = await getTenant(db, tenantId);
    if (!tenant) throw tenantNotFound();
    // The schema accepted it as a phone number, so it normalizes.
    const phone = normalizeIdentifier(rawPhone) ?? '';
    return { tenant, phone, guestRef: guestRefs.of(phone.slice(1)), identifierRef: guestRefs.of(phone) };
  }

  /** The guest's conversations with the tenant: by `GuestRef`, on the tenant's numbers or resolved to it. */
  async function conversationsOf(guest: Guest): Promise<WorkflowExecutionInfo[]> {
    const found = await listAllExecutions(deps, `WorkflowType = 'conversation' AND GuestRef = '${guest.guestRef}'`);
    return found.filter((info) => {
      const tenantId = info.typedSearchAttributes.get(TenantId);
      const phoneNumberId = info.workflowId.split(':')[1] ?? '';
      return (
        tenantId === guest.tenant.id || (tenantId === undefined && guest.tenant.phoneNumberIds.includes(phoneNumberId))
      );
    });
  }

  async function bookingsOf(guest: Guest) {
    const found = await listAllExecutions(
      deps,
      `WorkflowType = 'booking' AND GuestRef = '${guest.guestRef}' AND TenantId = '${guest.tenant.id}'`,
    );
    return Promise.all(
      found.map(async (info) => {
        const handle = temporal.workflow.getHandle(info.workflowId, info.runId);
        let outcome: Record<string, unknown> | null = null;
        if (info.status.name === 'COMPLETED') {
          outcome = { ...(await withTemporal(deps, () => handle.result() as Promise<BookingOutcome>)) };
        } else if (info.status.name === 'RUNNING') {
          outcome = { ...(await withTemporal(deps, () => handle.query(bookingStatusQuery))) };
        }
        return {
          reference: info.workflowId,
          executionStatus: info.status.name,
          startTime: info.startTime.toISOString(),
          closeTime: info.closeTime?.toISOString() ?? null,
          outcome,
        };
      }),
    );
  }

  /** Closes the guest's running conversations (reason: erasure); how many it closed. */
  async function closeConversations(guest: Guest, principal: AdminPrincipal): Promise<number> {
    let closed = 0;
    for (const info of await conversationsOf(guest)) {
      if (info.status.name !== 'RUNNING') continue;
      const handle = temporal.workflow.getHandle<ConversationWorkflow>(info.workflowId);
      try {
        await withTemporal(deps, () =>
          retryAbortedUpdate(() =>
            handle.executeUpdate(closeUpdate, {
              args: [{ operator: { tokenId: principal.tokenId }, reason: 'erasure' }],
            }),
          ),
        );
        closed++;
      } catch (err) {
        // Closed meanwhile (or closing): nothing left to close.
        if (err instanceof WorkflowNotFoundError || (err instanceof HttpError && err.code === 'closed')) continue;
        throw err;
      }
    }
    return closed;
  }

  /** Erases the guest's media on the worker (which owns the store), when the index lists any. */
  async function eraseMedia(guest: Guest): Promise<GuestMediaErasure> {
    const none: GuestMediaErasure = { mediaIds: 0, objectsDeleted: 0, bytesDeleted: 0, objectsShared: 0 };
    if ((await needRedis().scard(guestMediaKey(guest.tenant.id, guest.guestRef))) === 0) return none;
    const input: GuestMediaErasureInput = { tenantId: guest.tenant.id, guestRef: guest.guestRef };
    return withTemporal(deps, async () => {
      // One erasure per guest at a time: a repeated request waits for the one already running.
      const handle = await temporal.workflow.start<(input: GuestMediaErasureInput) => Promise<GuestMediaErasure>>(
        guestMediaErasureWorkflowType,
        {
          workflowId: `guest-media-erasure:${guest.tenant.id}:${guest.guestRef}`,
          taskQueue: config.temporal.taskQueue,
          args: [input],
          workflowIdConflictPolicy: 'USE_EXISTING',
          staticSummary: `Erasing a guest's media at tenant ${guest.tenant.id}`,
        },
      );
      return handle.result();
    });
  }

  return [
    defineRoute({
      method: 'GET',
      path: '/admin/guests/:phone/export',
      operationId: 'exportGuest',
      summary: 'Everything the system holds about one guest at one hotel, as JSON',
      description:
        'Conversations with their state and last messages, bookings, stored media references, registered ' +
        'identifiers and the audit rows that name the guest. Admin tokens only; audited.',
      tag: 'guests',
      access: 'read',
      params: guestParams,
      query: guestQuery,
      errors: [403, 404],
      success: { status: 200, description: "The guest's data", schema: guestExportSchema, name: 'GuestExport' },
      handle: async ({ params, query, principal }) => {
        const guest = await guestAt(principal, params.phone, query.tenantId);
        const index = createMediaIndex(needRedis(), { ttlSeconds: config.media.indexTtlSeconds });
        const conversations = await Promise.all(
          (await conversationsOf(guest)).map(async (info) => {
            const handle = temporal.workflow.getHandle<ConversationWorkflow>(info.workflowId, info.runId);
            try {
              return { ...conversationSummary(info), state: await withTemporal(deps, () => handle.query(stateQuery)) };
            } catch (err) {
              if (!(err instanceof HttpError)) throw err;
              return { ...conversationSummary(info), state: null, stateError: err.message };
            }
          }),
        );
        const exported = {
          tenantId: guest.tenant.id,
          guestRef: guest.guestRef,
          exportedAt: new Date().toISOString(),
          identifiers: await guestIdentifiers(db, guest.tenant.id, [guest.phone]),
          conversations,
          bookings: await bookingsOf(guest),
          media: (await listGuestMedia(needRedis(), index, guest.tenant.id, guest.guestRef)).map((item) => ({
            mediaId: item.mediaId,
            entry: item.entry ?? null,
          })),
          audit: await auditRowsNaming(db, guest.tenant.id, [guest.guestRef, guest.identifierRef]),
        };
        await writeAudit(db, {
          actor: principal.tokenId,
          action: 'guest.export',
          tenantId: guest.tenant.id,
          details: {
            guestRef: guest.guestRef,
            conversations: exported.conversations.length,
            bookings: exported.bookings.length,
            media: exported.media.length,
          },
        });
        return exported;
      },
    }),

    defineRoute({
      method: 'DELETE',
      path: '/admin/guests/:phone',
      operationId: 'eraseGuest',
      summary: 'Erase what the system holds about one guest at one hotel',
      description:
        'Closes the guest\'s conversations (reason "erasure"), deletes their stored media and its index entries, ' +
        'unregisters their identifier, replaces their reference in the audit log, and writes an audit row. Safe to ' +
        'repeat: 503 `temporal_timeout` while the media erasure is still running, 409 `booking_in_progress` while a ' +
        "booking saga runs. Temporal's histories are encrypted and expire with the namespace's retention.",
      tag: 'guests',
      access: 'write',
      params: guestParams,
      query: guestQuery,
      errors: [404, 409],
      success: { status: 200, description: 'What was erased', schema: guestErasureSchema, name: 'GuestErasure' },
      handle: async ({ params, query, principal }) => {
        const guest = await guestAt(principal, params.phone, query.tenantId);
        const tenantId = guest.tenant.id;
        let conversationsClosed = 0;
        let media: GuestMediaErasure;
        try {
          conversationsClosed = await closeConversations(guest, principal);
          media = await eraseMedia(guest);
        } catch (err) {
          // What was done is on the record, though the erasure is not complete; repeating the request finishes it.
          await writeAudit(db, {
            actor: principal.tokenId,
            action: 'guest.erase',
            tenantId,
            details: { complete: false, conversationsClosed },
          });
          throw err;
        }
        return auditedWrite(db, { principal, action: 'guest.erase', tenantId, notify: true }, async (client) => {
          const identifiersRemoved = await removeGuestIdentifiers(client, tenantId, [guest.phone]);
          const auditRowsScrubbed = await scrubAuditReferences(client, tenantId, [guest.guestRef, guest.identifierRef]);
          // The interaction log keeps its counts, but no longer under this guest's conversation references.
          let interactionsScrubbed = 0;
          for (const phoneNumberId of guest.tenant.phoneNumberIds) {
            interactionsScrubbed += await scrubInteractions(client, `wa:${phoneNumberId}:${guest.guestRef}`);
          }
          const result = {
            tenantId,
            conversationsClosed,
            ...media,
            identifiersRemoved,
            auditRowsScrubbed,
            interactionsScrubbed,
          };
          // The erasure's own row names no guest.
          const { tenantId: _tenant, ...details } = result;
          return { result, details: { complete: true, ...details } };
        });
      },
    }),
  ];
}
