import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Pool } from 'pg';
import { z } from 'zod';
import type { Config } from '../../lib/config';
import { getTenant } from '../../lib/db/admin';
import { writeAudit } from '../../lib/db/tenants';
import { conversationWorkflowId } from '../../lib/domain/messages';
import { ConversationStatus, TenantId } from '../../lib/domain/search-attributes';
import { normalizeIdentifier } from '../../lib/domain/tenants';
import { createGuestRefs } from '../../lib/guest-refs';
import { HttpError } from '../errors';
import { authorize, type AdminPrincipal } from './auth';
import { tenantNotFound } from './tenants';

/**
 * Finding a guest's conversation by phone number. Conversations are named by the guest's keyed reference
 * (`wa:<phone_number_id>:<guest ref>`), so nothing Temporal shows in clear holds the number; this route computes the
 * reference (it has the key) and looks for that guest's conversation on each business number of the tenant.
 */

/** A guest's phone number as people write it: `+34 600 123 456`, `0034600123456`, `34600123456`. */
export const lookupPhone = z
  .string()
  .max(40)
  // What normalizeIdentifier takes as a phone number, stated for the OpenAPI document: 7-15 digits, led by + or 00
  // or nothing, with spaces, dots, hyphens and parentheses anywhere.
  .regex(
    /^\s*(00|[\s().-]*\+)?[\s().-]*[1-9]([\s().-]*[0-9]){6,14}[\s().-]*$/,
    'must be a phone number, like +34600123456',
  )
  .transform((raw, ctx) => {
    const normalized = raw.includes('@') ? undefined : normalizeIdentifier(raw);
    if (normalized === undefined) {
      ctx.addIssue({ code: 'custom', message: 'must be a phone number, like +34600123456' });
      return z.NEVER;
    }
    return normalized;
  })
  .meta({ description: "The guest's phone number (E.164; spaces, dots, hyphens and parentheses are ignored)" });

const conversationSchema = z.object({
  workflowId: z.string().meta({ description: '`wa:<phone_number_id>:<guest ref>`: open it in the Temporal Web UI' }),
  runId: z.string(),
  phoneNumberId: z.string(),
  tenantId: z.string().nullable().meta({ description: 'The `TenantId` search attribute; null before it resolved' }),
  status: z.string().nullable().meta({ description: 'The `ConversationStatus` search attribute' }),
  executionStatus: z.string().meta({ description: "Temporal's: RUNNING, COMPLETED, TERMINATED, ..." }),
  startedAt: z.string(),
  closedAt: z.string().nullable(),
});

export const conversationLookupSchema = z.object({
  guestRef: z.string().meta({ description: "The guest's keyed reference, as in the workflow id and audit rows" }),
  tenantId: z.string(),
  conversations: z.array(conversationSchema),
});

export type ConversationLookup = z.infer<typeof conversationLookupSchema>;

export interface ConversationLookupDeps {
  db: Pool;
  temporal: Client;
  config: Config;
}

/**
 * The conversations of the guest with `phone` (E.164) at `tenantId`: one per business number of the tenant on which
 * the guest has written, latest run. A conversation whose `TenantId` is another tenant's (a number that changed
 * hands) is not this tenant's and is left out.
 */
export async function lookupConversations(
  { db, temporal, config }: ConversationLookupDeps,
  phone: string,
  tenant: string,
): Promise<ConversationLookup> {
  const found = await getTenant(db, tenant);
  if (!found) throw tenantNotFound();
  // Meta's WhatsApp id is the number's digits without the +; the API names conversations by its reference.
  const guestRef = createGuestRefs(config.guestRefKey).of(phone.replace(/^\+/, ''));
  const described = await Promise.all(
    found.phoneNumberIds.map(async (phoneNumberId) => {
      const workflowId = conversationWorkflowId(phoneNumberId, guestRef);
      try {
        const d = await temporal.workflow.getHandle(workflowId).describe();
        return { d, phoneNumberId };
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return undefined;
        throw temporalUnavailable();
      }
    }),
  );
  const conversations = described.flatMap((found) => {
    if (!found) return [];
    const { d, phoneNumberId } = found;
    const owner = d.typedSearchAttributes.get(TenantId) ?? null;
    if (owner !== null && owner !== tenant) return [];
    return [
      {
        workflowId: d.workflowId,
        runId: d.runId,
        phoneNumberId,
        tenantId: owner,
        status: d.typedSearchAttributes.get(ConversationStatus) ?? null,
        executionStatus: d.status.name,
        startedAt: d.startTime.toISOString(),
        closedAt: d.closeTime?.toISOString() ?? null,
      },
    ];
  });
  return { guestRef, tenantId: tenant, conversations };
}

function temporalUnavailable(): HttpError {
  return new HttpError(503, 'temporal_unavailable', 'Temporal is unavailable; retry later');
}

/** A restricted token looks only at its own tenant; naming another gets the 404 of a tenant that does not exist. */
function tenantOf(principal: AdminPrincipal, requested: string): string {
  if (principal.tenantId !== null && requested !== principal.tenantId) throw tenantNotFound();
  return requested;
}

/**
 * `GET /admin/conversations?phone=&tenantId=`: a guest's conversations by number, tenant-scoped, audited by reference.
 * Admin tokens only (monitoring tokens never see who guests are).
 */
export async function findConversationsByPhone(
  deps: ConversationLookupDeps,
  principal: AdminPrincipal,
  phone: string,
  requestedTenant: string,
): Promise<ConversationLookup> {
  authorize(principal, 'guests');
  const tenant = tenantOf(principal, requestedTenant);
  const result = await lookupConversations(deps, phone, tenant);
  // Who looked for which guest (by reference, never the number).
  await writeAudit(deps.db, {
    actor: principal.tokenId,
    action: 'conversation.lookup',
    tenantId: tenant,
    details: { guest: result.guestRef, found: result.conversations.length },
  });
  return result;
}
