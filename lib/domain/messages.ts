/**
 * Message shapes shared by the API, the workflows and the activities. Pure: no I/O, safe in workflow code.
 */
import type { TemplateMessage } from './guest-templates';
import type { Interactive } from './interactive';
import type { BookingOutcomeKind } from './interactions';

/** WhatsApp message types as Meta names them; anything else arrives as its own string. */
export type InboundMessageType =
  | 'text'
  | 'audio'
  | 'image'
  | 'video'
  | 'document'
  | 'sticker'
  | 'location'
  | 'contacts'
  | 'reaction'
  | 'button'
  | 'interactive'
  | 'order'
  | 'system'
  | 'unsupported'
  | (string & {});

export interface InboundMedia {
  id: string;
  mimeType?: string;
  /** Base64, as Meta sends it (not hex). */
  sha256?: string;
  voice?: boolean;
  caption?: string;
  filename?: string;
}

/** One inbound WhatsApp message, normalized from the webhook payload. */
export interface InboundMessage {
  /** WhatsApp message id (wamid); the key for dropping duplicate deliveries. */
  id: string;
  from: string;
  /** Unix seconds, as sent by Meta. */
  timestamp: number;
  type: InboundMessageType;
  /** What the guest wrote or chose: text body, button text, list/button reply title, media caption. */
  text?: string;
  /** The id of an interactive reply or the payload of a quick-reply button. */
  replyId?: string;
  media?: InboundMedia;
  location?: { latitude: number; longitude: number; name?: string; address?: string };
  reaction?: { messageId: string; emoji?: string };
  /** The message this one replies to, if any. */
  contextId?: string;
  profileName?: string;
}

export type DeliveryStatusName = 'sent' | 'delivered' | 'read' | 'failed' | (string & {});

/** A delivery status for a message the business sent, from `value.statuses[]`. */
export interface DeliveryStatusUpdate {
  messageId: string;
  status: DeliveryStatusName;
  timestamp: number;
  errors?: { code: number; title: string }[];
  /**
   * The idempotency key the message was sent with (`biz_opaque_callback_data`, echoed by Meta on sent, delivered and
   * read), when it is one of this conversation's: `<workflow id>#<sequence>`.
   */
  key?: string;
}

/** The idempotency key of a conversation's `seq`-th message to the guest, sent as `biz_opaque_callback_data`. */
export function idempotencyKey(workflowId: string, seq: number): string {
  return `${workflowId}#${seq}`;
}

/** The sequence number an idempotency key ends with, or undefined when it is not one. */
export function keySequence(key: string): number | undefined {
  const match = /#(\d{1,9})$/.exec(key);
  return match ? Number(match[1]) : undefined;
}

/** The workflow id an idempotency key names, or undefined when it is not one (Meta echoes any string we sent). */
export function keyWorkflowId(key: string): string | undefined {
  const match = /^(.{1,400})#(\d{1,9})$/.exec(key);
  return match ? match[1] : undefined;
}

/** A text reply to a guest: the `sendMessage` activity's input. */
export interface SendTextInput {
  /** The business number to send from (Meta's `phone_number_id`). */
  phoneNumberId: string;
  /** The guest's WhatsApp id. */
  to: string;
  text: string;
  /** The inbound message this answers; shown as a quoted reply in WhatsApp. */
  replyTo?: string;
  /** The tenant's own access token reference (`env:TENANT_<ID>_<NAME>`); the default token when absent. */
  tokenRef?: string | null;
  /** The tenant whose namespace `tokenRef` must be in (a reference without it is refused); labels
   * `config_failures_total` when its token fails. */
  tenantId?: string | null;
  /** The booking saga's last message to the guest says how the booking ended: kept in the interaction log. */
  bookingOutcome?: BookingOutcomeKind;
  /**
   * Sent as `biz_opaque_callback_data` (at most 512 characters): Meta echoes it in the message's status webhooks, so
   * a send whose outcome is unknown can be reconciled. See {@link idempotencyKey}.
   */
  idempotencyKey?: string;
  /**
   * Sent as this interactive message (a list or reply buttons, fitted by `fitInteractive`) instead of `text`, which
   * stays the record's (and the numbered-text fallback's) wording.
   */
  interactive?: Interactive;
  /** Sent as this approved template (outside the guest's 24 h window); `text` says what it stands for. */
  template?: TemplateMessage;
}

/** Marks a guest's message read (blue ticks), and shows the typing indicator: the `markRead` activity's input. */
export interface MarkReadInput {
  phoneNumberId: string;
  /** The wamid of the guest's message; WhatsApp marks the earlier ones of the thread read with it. */
  messageId: string;
  /** Also show "typing…" until the reply (or 25 s). */
  typing: boolean;
  tokenRef?: string | null;
  tenantId?: string | null;
}

export interface SendResult {
  /**
   * Meta's id of the message, or null when Meta answered 2xx without one: the message was accepted (it is
   * delivered, and never sent again) but its id, and so its delivery statuses, are unknown.
   */
  messageId: string | null;
}

/**
 * A guest reference (lib/guest-refs.ts): the first 20 hex digits of HMAC-SHA-256(`GUEST_REF_KEY`, the guest's WhatsApp
 * id). A phone number is never shaped like one (at most 15 digits).
 */
export const guestRefPattern = /^[0-9a-f]{20}$/;

/**
 * The workflow id of the conversation between one guest and one business number: `wa:<phone_number_id>:<guest ref>`.
 * The guest appears by their keyed reference, never by number: a workflow id is in clear wherever Temporal shows or
 * stores it. Throws a RangeError for a reference not shaped like one (a raw WhatsApp id, say).
 */
export function conversationWorkflowId(phoneNumberId: string, guestRef: string): string {
  if (!guestRefPattern.test(guestRef)) {
    throw new RangeError('a conversation workflow id takes the guest reference (20 hex digits), never the number');
  }
  return `wa:${phoneNumberId}:${guestRef}`;
}

/** The business number id and guest reference of a conversation workflow id; undefined for any other id. */
export function parseConversationWorkflowId(
  workflowId: string,
): { phoneNumberId: string; guestRef: string } | undefined {
  const match = /^wa:([^:]+):([0-9a-f]{20})$/.exec(workflowId);
  return match ? { phoneNumberId: match[1]!, guestRef: match[2]! } : undefined;
}
