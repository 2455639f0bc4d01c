/**
 * The conversation workflow's contract: its signals and query, its input, what it carries across continue-as-new and
 * what operators see. Pure (no I/O): the API, the tests and the workflow import it from here, so none of them needs
 * the workflow's code to speak to it.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { MediaType } from './media';
import type { RoomOffer } from './pms';
import type { Language } from './language';
import type { DeliveryStatusUpdate, InboundMessage } from './messages';

/** The workflow type the API starts, one per guest and business number: `wa:<phone_number_id>:<guest ref>`. */
export const conversationWorkflowType = 'conversation';

/** A guest's message reaches the conversation. Duplicates (same WhatsApp id) are dropped. */
export const inboundMessageSignal = defineSignal<[InboundMessage]>('inboundMessage');
/** Meta reports sent/delivered/read/failed for a message the conversation sent. */
export const deliveryStatusSignal = defineSignal<[DeliveryStatusUpdate]>('deliveryStatus');
/** What an operator sees: status, language and the last messages both ways. */
export const stateQuery = defineQuery<ConversationState>('state');

export type ConversationStatusName = 'active' | 'closed';

export interface MessageRecord {
  direction: 'in' | 'out';
  /** WhatsApp message id; for outbound messages known once Meta accepted them. */
  id: string | undefined;
  type: string;
  text: string | undefined;
  /** Unix milliseconds (workflow time for outbound messages, Meta's timestamp for inbound ones). */
  at: number;
  /** Outbound only: pending, sent, delivered, read, failed. */
  status?: string;
  /** Outbound only: why the reply could not be delivered. */
  error?: string;
  /** Inbound media: where it is stored (`media/<tenant>/<sha256>`), or why it could not be. */
  media?: { ref: string; mimeType: string; size: number } | { rejected: string };
}

/**
 * A configuration failure the conversation ran into (a secret missing, a token or key refused for longer than
 * `CONFIG_FAILURE_RETRY_SECONDS`, an address refused): staff are flagged, and the next message re-reads the tenant.
 */
export interface ConfigFailureRecord {
  /** As in `config_failures_total{kind}`: secret, whatsapp_auth, pms_auth, pms_address, media_host, ... */
  kind: string;
  message: string;
  /** Workflow time, Unix ms. */
  at: number;
}

/** Whose conversation this is, as far as the workflow knows; no automated reply unless `resolved`. */
export type TenantState =
  | { kind: 'pending' }
  | { kind: 'resolved'; tenantId: string; name: string }
  | { kind: 'unknown' }
  | { kind: 'suspended'; tenantId: string }
  | { kind: 'refused'; reason: 'isolation' };

/** The rooms last offered to the guest; "2" books the second. */
export interface Offer {
  checkIn: string;
  checkOut: string;
  adults: number;
  children?: number;
  rooms: RoomOffer[];
  provisional: boolean;
}

export interface BookingSummary {
  reference: string;
  status: 'in_progress' | 'confirmed' | 'unavailable' | 'failed' | 'cancelled';
  roomTypeName: string;
  checkIn: string;
  checkOut: string;
  bookingId?: string;
}

export interface ConversationState {
  status: ConversationStatusName;
  offer: Offer | undefined;
  /** The latest booking of this guest in this conversation. */
  booking: BookingSummary | undefined;
  phoneNumberId: string;
  tenant: TenantState;
  language: Language;
  /** The guest asked for a person, or something only a person can sort out happened (see `configFailure`). */
  staffRequested: boolean;
  /** The latest configuration failure, if any. */
  configFailure: ConfigFailureRecord | undefined;
  received: number;
  duplicatesDropped: number;
  pending: number;
  lastMessages: MessageRecord[];
}

/** What survives continue-as-new besides the input: the work still queued and what must stay remembered. */
export interface ConversationCarryOver {
  seenIds: string[];
  pending: InboundMessage[];
  lastMessages: MessageRecord[];
  /** Set once the guest's language is known (detected, or the tenant's locale). */
  language: Language | undefined;
  staffRequested: boolean;
  offer?: Offer | undefined;
  booking?: BookingSummary | undefined;
  configFailure?: ConfigFailureRecord | undefined;
  received: number;
  duplicatesDropped: number;
}

export interface BookingSettings {
  maxStayNights: number;
  holdTtlSeconds: number;
  holdMaxExtensions: number;
  pmsTimeoutSeconds: number;
}

/** For conversations started without booking settings. */
export const defaultBookingSettings: BookingSettings = {
  maxStayNights: 30,
  holdTtlSeconds: 900,
  holdMaxExtensions: 2,
  pmsTimeoutSeconds: 600,
};

/**
 * When a run continues as new besides the server's suggestion (`continueAsNewSuggested`): a bound of the project's
 * own, so a conversation's history stays short to replay whatever the cluster's limits are.
 */
export interface HistoryBound {
  /** Events in this run's history. */
  events: number;
  /** Bytes of this run's history. */
  bytes: number;
}

export interface ConversationInput {
  phoneNumberId: string;
  waId: string;
  /** Close after this long without a message (WhatsApp's 24 h customer-service window by default). */
  idleTimeoutSeconds: number;
  /** How many message ids to remember for dropping duplicates. */
  seenIdsMax: number;
  /** Booking settings from the configuration (defaults apply when absent). */
  booking?: BookingSettings;
  /**
   * How long a reply is retried before it is recorded as undeliverable (`WHATSAPP_SEND_TIMEOUT_SECONDS`); 24 h, the
   * length of WhatsApp's customer-service window, for conversations started without it.
   */
  sendTimeoutSeconds?: number;
  /** Overrides {@link defaultHistoryBound} (tests use a small one). */
  historyBound?: HistoryBound;
  carryOver?: ConversationCarryOver;
}

/**
 * The project's own bound: well under Temporal's warning limits (10,240 events, 10 MB) and under its default
 * suggestion (4,096 events, 4 MB), which a cluster may configure differently.
 */
export const defaultHistoryBound: HistoryBound = { events: 2_000, bytes: 2 * 1024 * 1024 };

export interface ConversationResult {
  status: 'closed';
  received: number;
  duplicatesDropped: number;
}

/** The conversation workflow's signature, for clients that start it by name. */
export type ConversationWorkflow = (input: ConversationInput) => Promise<ConversationResult>;

/** Message types whose media the conversation downloads and keeps. */
export const mediaMessageTypes = ['audio', 'image', 'video', 'document', 'sticker'] as const satisfies MediaType[];
export type MediaMessageType = (typeof mediaMessageTypes)[number];

/** Narrows a message's type (any string Meta sends) to one whose media the conversation downloads. */
export function isMediaMessageType(type: string): type is MediaMessageType {
  return (mediaMessageTypes as readonly string[]).includes(type);
}
