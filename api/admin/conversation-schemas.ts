import { z } from 'zod';
import { conversationStatuses, operatorTextMax, operatorTextPattern } from '../../lib/domain/conversation';
import { tenantId } from './schemas';
import { lookupPhone } from './conversations-lookup';

/**
 * Requests and responses of the conversation and guest routes (`/admin/conversations`, `/admin/guests`), validated
 * and documented like the rest of the admin API (see schemas.ts).
 */

const timestamp = z.string().meta({ format: 'date-time' });

// ---- requests ----

/** A conversation's workflow id, as the webhook makes it: `wa:<phone_number_id>:<guest>` (no `:` in either part). */
export const conversationId = z
  .string()
  .regex(/^wa:[0-9]{5,30}:[!-9;-~]{1,64}$/, 'must be a conversation workflow id, wa:<phone_number_id>:<guest>')
  .meta({
    description: "The conversation's workflow id, URL-encoded: wa:<phone_number_id>:<guest reference>",
    examples: ['wa:106540352242922:3f9a1c0b7d2e4f6a8b1c'],
  });

export const conversationParams = z.strictObject({ id: conversationId });

export const listConversationsQuery = z
  .strictObject({
    tenantId: tenantId.optional().meta({ description: "Only this tenant's (a restricted token sees only its own)" }),
    status: z.enum(conversationStatuses).optional().meta({ description: 'Only conversations with this status' }),
    pageSize: z.coerce.number().int().min(1).max(100).default(20),
    pageToken: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,4096}\.[A-Za-z0-9_-]{22}$/, 'must be the nextPageToken of the previous page')
      .optional()
      .meta({ description: 'Cursor: the nextPageToken of the previous page' }),
    phone: lookupPhone.optional().meta({
      description:
        "Find one guest by number instead: needs an admin token and tenantId, and answers the guest's conversations " +
        '(ConversationLookup) rather than a page',
    }),
  })
  .refine((query) => query.phone === undefined || query.tenantId !== undefined, {
    message: 'a search by phone needs tenantId',
    path: ['tenantId'],
  });

export const operatorReplyBody = z.strictObject({
  text: z
    .string()
    .max(operatorTextMax)
    .regex(operatorTextPattern, 'must not be empty or blank')
    .meta({ description: 'What the guest reads, as staff wrote it' }),
  requestId: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, _ or -')
    .optional()
    .meta({ description: 'Pass the same requestId when retrying: the reply is sent once' }),
});

/** A guest's phone number, any usual spelling; normalized to E.164. */
export const guestPhone = z
  .string()
  .max(40)
  .regex(
    /^\s*(00|[\s().-]*\+)?[\s().-]*[1-9]([\s().-]*[0-9]){6,14}[\s().-]*$/,
    'must be a phone number like +34600123456',
  )
  .meta({ description: "The guest's phone number (URL-encode the +: %2B34600123456)" });

export const guestParams = z.strictObject({ phone: guestPhone });
export const guestQuery = z.strictObject({
  tenantId: tenantId.meta({ description: 'The hotel whose data about the guest this is' }),
});

// ---- responses ----

export const messageRecordSchema = z.object({
  direction: z.enum(['in', 'out']),
  id: z.string().optional().meta({ description: "WhatsApp's message id, once known" }),
  type: z.string(),
  text: z.string().optional(),
  at: z.number().optional().meta({ description: 'Unix milliseconds' }),
  status: z.string().optional().meta({ description: 'Outbound: pending, sent, delivered, read, failed' }),
  error: z.string().optional(),
  media: z.record(z.string(), z.unknown()).optional(),
  operator: z.string().optional().meta({ description: 'Sent by staff: the admin token id of the operator' }),
});

const handoffSchema = z.object({
  at: z.number(),
  by: z.enum(['guest', 'operator']),
  tokenId: z.string().optional(),
});

export const conversationStateSchema = z
  .object({
    status: z.enum(conversationStatuses),
    handoff: handoffSchema.optional(),
    phoneNumberId: z.string(),
    tenant: z.record(z.string(), z.unknown()),
    language: z.string(),
    staffRequested: z.boolean(),
    received: z.number(),
    duplicatesDropped: z.number(),
    pending: z.number(),
    lastMessages: z.array(messageRecordSchema),
    offer: z.record(z.string(), z.unknown()).optional(),
    booking: z.record(z.string(), z.unknown()).optional(),
    configFailure: z.record(z.string(), z.unknown()).optional(),
    serviceWindow: z
      .object({ closesAt: z.number(), closed: z.boolean() })
      .optional()
      .meta({ description: "WhatsApp's 24 h window: after closesAt (ms) only templates reach the guest" }),
    understoodBy: z
      .object({ source: z.enum(['rules', 'model']), fallbackReason: z.string().optional() })
      .optional()
      .meta({ description: 'Which understander read the last message: the language model or the rules' }),
  })
  .meta({ description: "The conversation's `state` query; monitoring tokens get it without message texts" });

export const conversationSummarySchema = z.object({
  workflowId: z.string(),
  runId: z.string(),
  executionStatus: z.string().meta({ description: "Temporal's: RUNNING, COMPLETED, TERMINATED, ..." }),
  status: z.string().nullable().meta({ description: 'ConversationStatus: active, handoff, booking, closed' }),
  tenantId: z.string().nullable(),
  lastIntent: z.string().nullable(),
  startTime: timestamp,
  closeTime: timestamp.nullable(),
});

export const conversationListSchema = z.object({
  conversations: z.array(conversationSummarySchema),
  nextPageToken: z.string().nullable().meta({ description: 'Pass as ?pageToken= for the next page; null on the last' }),
});

export const conversationDetailSchema = conversationSummarySchema.extend({ state: conversationStateSchema });

export const conversationActionSchema = z.object({ workflowId: z.string(), state: conversationStateSchema });

export const operatorReplySchema = z.object({
  workflowId: z.string(),
  message: messageRecordSchema.meta({
    description: 'The reply as recorded: sent (with its id) or failed; pending when the send is still retrying',
  }),
});

export const guestExportSchema = z.object({
  tenantId: z.string(),
  guestRef: z.string().meta({ description: "The guest's keyed reference, as Temporal and the audit log name them" }),
  exportedAt: timestamp,
  identifiers: z.array(z.string()),
  conversations: z.array(
    conversationSummarySchema.extend({
      state: conversationStateSchema.nullable(),
      stateError: z.string().optional(),
    }),
  ),
  bookings: z.array(
    z.object({
      reference: z.string(),
      executionStatus: z.string(),
      startTime: timestamp,
      closeTime: timestamp.nullable(),
      outcome: z.record(z.string(), z.unknown()).nullable(),
    }),
  ),
  media: z.array(
    z.object({
      mediaId: z.string(),
      entry: z.record(z.string(), z.unknown()).nullable().meta({ description: 'Its index entry; null once expired' }),
    }),
  ),
  audit: z.array(
    z.object({ id: z.string(), at: timestamp, actor: z.string(), action: z.string(), details: z.unknown() }),
  ),
});

export const guestErasureSchema = z.object({
  tenantId: z.string(),
  conversationsClosed: z.number().int(),
  mediaIds: z.number().int(),
  objectsDeleted: z.number().int(),
  bytesDeleted: z.number().int(),
  objectsShared: z.number().int().meta({ description: 'Objects kept: another guest sent the same content' }),
  identifiersRemoved: z.number().int(),
  auditRowsScrubbed: z.number().int(),
  interactionsScrubbed: z
    .number()
    .int()
    .meta({ description: 'Interaction log rows moved off the guest: counts kept, no text hash or message id' }),
});
