import { z } from 'zod';
import type { DeliveryStatusUpdate, InboundMessage } from '../lib/domain/messages';

/**
 * Meta's webhook payload (https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/components).
 * Strict where we depend on a field, lenient everywhere else: Meta adds fields and message types, and a
 * type we do not handle yet must still be accepted and passed on, never crash the webhook.
 */
const unixSeconds = z.union([z.string(), z.number()]).transform((v) => {
  const n = Number(v);
  return Number.isFinite(n) ? n : 0;
});

/**
 * A business number id or a guest's WhatsApp id. The conversation's workflow id is made of the business number id
 * and the guest's keyed reference (`wa:<phone_number_id>:<guest ref>`): no `:`, so two pairs can never make the same
 * id; ASCII, because Temporal takes ids as UTF-8; and short enough for Temporal's id length limit (255 in
 * docker-compose.yml). Meta's are digits; its examples use placeholders such as `GROUP_ID`.
 */
const addressId = z
  .string()
  .regex(/^[\x21-\x39\x3b-\x7e]{1,64}$/, 'must be 1-64 printable ASCII characters other than ":"');

/** A WhatsApp message id (`wamid.…`): conversations keep the ids they have seen, so bound them. */
const messageId = z.string().regex(/^[\x21-\x7e]{1,256}$/, 'must be 1-256 printable ASCII characters');

const mediaSchema = z.looseObject({
  id: z.string().min(1),
  mime_type: z.string().optional(),
  sha256: z.string().optional(),
  voice: z.boolean().optional(),
  caption: z.string().optional(),
  filename: z.string().optional(),
});

const messageSchema = z.looseObject({
  id: messageId,
  from: addressId,
  timestamp: unixSeconds,
  type: z.string().min(1),
  context: z.looseObject({ id: z.string().optional() }).optional(),
  text: z.looseObject({ body: z.string() }).optional(),
  button: z.looseObject({ text: z.string().optional(), payload: z.string().optional() }).optional(),
  interactive: z
    .looseObject({
      type: z.string(),
      button_reply: z.looseObject({ id: z.string(), title: z.string() }).optional(),
      list_reply: z.looseObject({ id: z.string(), title: z.string() }).optional(),
    })
    .optional(),
  audio: mediaSchema.optional(),
  image: mediaSchema.optional(),
  video: mediaSchema.optional(),
  document: mediaSchema.optional(),
  sticker: mediaSchema.optional(),
  location: z
    .looseObject({
      latitude: z.number(),
      longitude: z.number(),
      name: z.string().optional(),
      address: z.string().optional(),
    })
    .optional(),
  reaction: z.looseObject({ message_id: z.string(), emoji: z.string().optional() }).optional(),
});

const statusSchema = z.looseObject({
  id: messageId,
  status: z.string().min(1),
  timestamp: unixSeconds,
  recipient_id: addressId,
  errors: z
    .array(z.looseObject({ code: z.number(), title: z.string().default('') }))
    .max(10)
    .optional(),
  // What we sent as the message's idempotency key, echoed by Meta; anything else there is ignored, never refused.
  biz_opaque_callback_data: z.string().min(1).max(512).optional().catch(undefined),
});

/**
 * Upper bounds on every array the schema walks, far above what Meta sends (one entry and one change per
 * notification is the rule). Zod checks an array's length before its elements, so an oversized array costs
 * one issue, not one per element.
 */
const limits = { entries: 100, changesPerEntry: 100, itemsPerChange: 1_000 };

const valueSchema = z.looseObject({
  messaging_product: z.string().optional(),
  metadata: z.looseObject({ phone_number_id: addressId, display_phone_number: z.string().optional() }).optional(),
  contacts: z
    .array(z.looseObject({ wa_id: addressId, profile: z.looseObject({ name: z.string() }).optional() }))
    .max(limits.itemsPerChange)
    .optional(),
  messages: z.array(messageSchema).max(limits.itemsPerChange).optional(),
  statuses: z.array(statusSchema).max(limits.itemsPerChange).optional(),
});

/** The payload around the changes' values, which are checked one at a time (see {@link parseWebhookPayload}). */
const envelopeSchema = z.object({
  object: z.literal('whatsapp_business_account'),
  entry: z
    .array(
      z.looseObject({
        id: z.string(),
        changes: z.array(z.looseObject({ field: z.string(), value: z.unknown() })).max(limits.changesPerEntry),
      }),
    )
    .max(limits.entries),
});

export const webhookPayloadSchema = z.object({
  object: z.literal('whatsapp_business_account'),
  entry: z
    .array(
      z.looseObject({
        id: z.string(),
        changes: z.array(z.looseObject({ field: z.string(), value: valueSchema })).max(limits.changesPerEntry),
      }),
    )
    .max(limits.entries),
});

export type WebhookPayload = z.infer<typeof webhookPayloadSchema>;

/** One reason a payload was refused: where (`entry.0.changes.0.value.messages.0.id`) and what. */
export interface PayloadIssue {
  path: string;
  message: string;
}

export type ParsedPayload =
  { success: true; data: WebhookPayload } | { success: false; issues: PayloadIssue[]; truncated: boolean };

function toIssues(prefix: (string | number)[], issues: readonly z.core.$ZodIssue[]): PayloadIssue[] {
  return issues.map((i) => ({ path: [...prefix, ...i.path].join('.'), message: i.message }));
}

/**
 * Validates a webhook body as {@link webhookPayloadSchema} does, in two layers: the envelope, then each
 * change's value on its own, stopping once `maxIssues` issues are found. One zod parse of a whole hostile
 * body would collect an issue per bad element across the payload, and zod 4 throws a RangeError once a
 * single object gathers more than about 100 000 of them; layer by layer, no parse can get near that.
 */
export function parseWebhookPayload(json: unknown, maxIssues = 20): ParsedPayload {
  const envelope = envelopeSchema.safeParse(json);
  if (!envelope.success) {
    const issues = toIssues([], envelope.error.issues);
    return { success: false, issues: issues.slice(0, maxIssues), truncated: issues.length > maxIssues };
  }
  const issues: PayloadIssue[] = [];
  const entry: WebhookPayload['entry'] = [];
  for (const [i, e] of envelope.data.entry.entries()) {
    const changes: WebhookPayload['entry'][number]['changes'] = [];
    for (const [j, change] of e.changes.entries()) {
      const value = valueSchema.safeParse(change.value);
      if (value.success) changes.push({ ...change, value: value.data });
      else issues.push(...toIssues(['entry', i, 'changes', j, 'value'], value.error.issues));
      if (issues.length > maxIssues) return { success: false, issues: issues.slice(0, maxIssues), truncated: true };
    }
    entry.push({ ...e, changes });
  }
  if (issues.length > 0) return { success: false, issues, truncated: false };
  return { success: true, data: { object: envelope.data.object, entry } };
}

export interface MessageDelivery {
  phoneNumberId: string;
  waId: string;
  message: InboundMessage;
}

export interface StatusDelivery {
  phoneNumberId: string;
  waId: string;
  status: DeliveryStatusUpdate;
}

type RawMessage = z.infer<typeof messageSchema>;

function normalizeMessage(m: RawMessage, profileName: string | undefined): InboundMessage {
  const media = m.audio ?? m.image ?? m.video ?? m.document ?? m.sticker;
  const text =
    m.text?.body ??
    m.button?.text ??
    m.interactive?.button_reply?.title ??
    m.interactive?.list_reply?.title ??
    media?.caption;
  const replyId = m.interactive?.button_reply?.id ?? m.interactive?.list_reply?.id ?? m.button?.payload;
  return {
    id: m.id,
    from: m.from,
    timestamp: m.timestamp,
    type: m.type,
    ...(text !== undefined ? { text } : {}),
    ...(replyId !== undefined ? { replyId } : {}),
    ...(media
      ? {
          media: {
            id: media.id,
            ...(media.mime_type !== undefined ? { mimeType: media.mime_type } : {}),
            ...(media.sha256 !== undefined ? { sha256: media.sha256 } : {}),
            ...(media.voice !== undefined ? { voice: media.voice } : {}),
            ...(media.caption !== undefined ? { caption: media.caption } : {}),
            ...(media.filename !== undefined ? { filename: media.filename } : {}),
          },
        }
      : {}),
    ...(m.location
      ? {
          location: {
            latitude: m.location.latitude,
            longitude: m.location.longitude,
            ...(m.location.name !== undefined ? { name: m.location.name } : {}),
            ...(m.location.address !== undefined ? { address: m.location.address } : {}),
          },
        }
      : {}),
    ...(m.reaction
      ? {
          reaction: {
            messageId: m.reaction.message_id,
            ...(m.reaction.emoji !== undefined ? { emoji: m.reaction.emoji } : {}),
          },
        }
      : {}),
    ...(m.context?.id !== undefined ? { contextId: m.context.id } : {}),
    ...(profileName !== undefined ? { profileName } : {}),
  };
}

/**
 * Every message and every status of every entry and change, addressed to its conversation.
 * Changes without a `metadata.phone_number_id` (account-level notifications) carry no conversation.
 */
export function extractDeliveries(payload: WebhookPayload): {
  messages: MessageDelivery[];
  statuses: StatusDelivery[];
} {
  const messages: MessageDelivery[] = [];
  const statuses: StatusDelivery[] = [];
  for (const entry of payload.entry) {
    for (const change of entry.changes) {
      const phoneNumberId = change.value.metadata?.phone_number_id;
      if (!phoneNumberId) continue;
      const names = new Map((change.value.contacts ?? []).map((c) => [c.wa_id, c.profile?.name]));
      for (const m of change.value.messages ?? []) {
        messages.push({ phoneNumberId, waId: m.from, message: normalizeMessage(m, names.get(m.from)) });
      }
      for (const s of change.value.statuses ?? []) {
        statuses.push({
          phoneNumberId,
          waId: s.recipient_id,
          status: {
            messageId: s.id,
            status: s.status,
            timestamp: s.timestamp,
            ...(s.errors ? { errors: s.errors.map((e) => ({ code: e.code, title: e.title })) } : {}),
            ...(s.biz_opaque_callback_data !== undefined ? { key: s.biz_opaque_callback_data } : {}),
          },
        });
      }
    }
  }
  return { messages, statuses };
}

/** One conversation's share of a webhook payload, in the order its signals must reach it. */
export interface ConversationDeliveries {
  phoneNumberId: string;
  waId: string;
  messages: MessageDelivery[];
  statuses: StatusDelivery[];
}

/**
 * Groups a payload's deliveries by conversation (business number × guest). Within each, messages are in
 * timestamp order and then statuses in timestamp order; equal timestamps keep their order in the payload.
 * Meta does not promise that a payload lists a guest's messages in the order they were written.
 */
export function groupByConversation(messages: MessageDelivery[], statuses: StatusDelivery[]): ConversationDeliveries[] {
  const groups = new Map<string, ConversationDeliveries>();
  const groupOf = (phoneNumberId: string, waId: string): ConversationDeliveries => {
    const key = JSON.stringify([phoneNumberId, waId]);
    let group = groups.get(key);
    if (!group) {
      group = { phoneNumberId, waId, messages: [], statuses: [] };
      groups.set(key, group);
    }
    return group;
  };
  for (const m of messages) groupOf(m.phoneNumberId, m.waId).messages.push(m);
  for (const s of statuses) groupOf(s.phoneNumberId, s.waId).statuses.push(s);
  for (const group of groups.values()) {
    // Array.prototype.sort is stable, so ties keep payload order.
    group.messages.sort((x, y) => x.message.timestamp - y.message.timestamp);
    group.statuses.sort((x, y) => x.status.timestamp - y.status.timestamp);
  }
  return [...groups.values()];
}
