/**
 * Message shapes shared by the API, the workflows and the activities. Pure: no I/O, safe in workflow code.
 */

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
}

/** The workflow id of the conversation between one guest and one business number. */
export function conversationWorkflowId(phoneNumberId: string, waId: string): string {
  return `wa:${phoneNumberId}:${waId}`;
}
