/**
 * The conversation workflow's contract: its signals and query, its input, what it carries across continue-as-new and
 * what operators see. Pure (no I/O): the API, the tests and the workflow import it from here, so none of them needs
 * the workflow's code to speak to it.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
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

/**
 * The conversation's `ConversationStatus` search attribute and `state.status`: `active` (the bot answers), `handoff`
 * (staff answer, the bot is silent), `booking` (a booking saga runs), `closed`. Handoff wins over booking: a
 * conversation waiting for staff is shown as waiting for staff.
 */
export const conversationStatuses = ['active', 'handoff', 'booking', 'closed'] as const;
export type ConversationStatusName = (typeof conversationStatuses)[number];

/** Who acts on a conversation through an update: the admin token's id, recorded in the workflow's history. */
export interface OperatorRef {
  /** The admin token's id (16 hex digits, the part between `hm_` and the second `_`), or another operator id. */
  tokenId: string;
}

/** `handoff`, `resume`: who asks. */
export interface OperatorRequest {
  operator: OperatorRef;
}

/** `close`: who asks and why (`erasure`: the guest's data is being erased). */
export interface CloseRequest extends OperatorRequest {
  reason?: 'operator' | 'erasure';
}

/** `operatorReply`: a text sent to the guest as staff. */
export interface OperatorReplyRequest extends OperatorRequest {
  text: string;
}

/** Staff take the conversation over: the bot stops answering until `resume`. Answers the state after it. */
export const handoffUpdate = defineUpdate<ConversationState, [OperatorRequest]>('handoff');
/**
 * Staff send a text to the guest through the bot's own send path; the conversation is in handoff afterwards (a person
 * is talking, so the bot keeps quiet). Answers the message as recorded: sent with its WhatsApp id, or failed and why.
 */
export const operatorReplyUpdate = defineUpdate<MessageRecord, [OperatorReplyRequest]>('operatorReply');
/** Staff hand the conversation back to the bot, which answers the next message. Answers the state after it. */
export const resumeUpdate = defineUpdate<ConversationState, [OperatorRequest]>('resume');
/** Staff close the conversation: it answers nothing more and completes. Answers the state as it closes. */
export const closeUpdate = defineUpdate<ConversationState, [CloseRequest]>('close');

/** Longest text an operator may send: WhatsApp's limit for a text message body. */
export const operatorTextMax = 4096;
/**
 * What an operator's text must contain: something other than ASCII blanks. Written with ASCII escapes only, so the
 * admin API's OpenAPI document states the same rule to clients in any language.
 */
export const operatorTextPattern = /[^ \t\n\r\f\v]/;
/** What an operator id may look like: admin token ids are 16 hex digits; `cli:<name>` and the like also fit. */
export const operatorIdPattern = /^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}$/;

/**
 * Why a request of an operator is refused, whatever the conversation's state: a missing or malformed operator id,
 * a text that is empty or too long. Undefined when it is well formed. The update validators and the admin API's
 * schemas state the same rules.
 */
export function operatorRequestProblem(request: unknown, options: { text?: boolean } = {}): string | undefined {
  if (request === null || typeof request !== 'object') return 'the request must be an object';
  const { operator, text } = request as { operator?: unknown; text?: unknown };
  const tokenId = (operator as { tokenId?: unknown } | null | undefined)?.tokenId;
  if (typeof tokenId !== 'string' || !operatorIdPattern.test(tokenId)) {
    return 'operator.tokenId must be the id of the admin token acting (1-64 letters, digits, _ . : @ -)';
  }
  if (!options.text) return undefined;
  if (typeof text !== 'string' || !operatorTextPattern.test(text)) return 'text must be a non-empty string';
  if (text.length > operatorTextMax) return `text must be at most ${operatorTextMax} characters`;
  return undefined;
}

/** Who put the conversation in handoff, and when. */
export interface HandoffRecord {
  /** Workflow time, Unix ms. */
  at: number;
  /** `guest`: the guest asked for a person; `operator`: staff took it over (the token id says who). */
  by: 'guest' | 'operator';
  tokenId?: string;
}

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
  /** Outbound, sent by staff (`operatorReply`): the admin token id of the operator who wrote it. */
  operator?: string;
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
  /** When its pre-arrival and post-stay messages go out (epoch ms), if the tenant has templates for them. */
  preArrivalAt?: number;
  postStayAt?: number;
}

export interface ConversationState {
  status: ConversationStatusName;
  /** Set while the conversation is in handoff: staff answer, the bot is silent. */
  handoff?: HandoffRecord | undefined;
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
  /**
   * WhatsApp's customer-service window: it closes `serviceWindowSeconds` after the guest's last message reached the
   * conversation; after that only templates reach the guest. `closed`: as of the conversation's last activity (a
   * query does not move workflow time), or because WhatsApp said so (131047).
   */
  serviceWindow?: { closesAt: number; closed: boolean } | undefined;
  /** Which understander read the last message: the language model, or the rules (and why, when a model is set). */
  understoodBy?: { source: 'rules' | 'model'; fallbackReason?: string } | undefined;
}

/** What survives continue-as-new besides the input: the work still queued and what must stay remembered. */
export interface ConversationCarryOver {
  seenIds: string[];
  pending: InboundMessage[];
  lastMessages: MessageRecord[];
  /** Set once the guest's language is known (detected, or the tenant's locale). */
  language: Language | undefined;
  staffRequested: boolean;
  /** Staff have the conversation: the next run stays in handoff. */
  handoff?: HandoffRecord | undefined;
  offer?: Offer | undefined;
  booking?: BookingSummary | undefined;
  configFailure?: ConfigFailureRecord | undefined;
  received: number;
  duplicatesDropped: number;
  /** When the guest last wrote (workflow time, ms): the customer-service window runs from it. */
  lastInboundAt?: number | undefined;
  /**
   * Sequence number of the last message sent to the guest (the idempotency key's second half); carried so keys never
   * repeat within one conversation. Absent in runs started before keys existed.
   */
  replySeq?: number;
  /** Workflow time (Unix ms) of the last message taken in: the dormant run's window counts from it. */
  lastMessageAt?: number;
}

/**
 * What a dormant run carries (after close): only what drops a redelivery and keeps idempotency keys unique. It sends
 * nothing and completes at `until`, unless a new message wakes the conversation.
 */
export interface DormantCarryOver {
  seenIds: string[];
  replySeq: number;
  /** Workflow time (Unix ms) when Meta's redelivery window for the last message ends: the run completes then. */
  until: number;
  /** Messages taken in after the close was decided and before the run ended: they wake the conversation at once. */
  pending: InboundMessage[];
  received: number;
  duplicatesDropped: number;
  closedBy?: { tokenId: string; reason: 'operator' | 'erasure' };
}

/** Meta redelivers a webhook for up to 7 days: a closed conversation remembers its message ids that long. */
export const defaultDedupWindowSeconds = 7 * 24 * 60 * 60;
/** How long a send whose outcome is unknown waits for a status webhook carrying its key before sending again. */
export const defaultReconcileWaitSeconds = 30;

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
  /**
   * The guest's keyed reference (`GUEST_REF_KEY`), computed by the API: the conversation tags the media it downloads
   * and the bookings it starts with it, so a guest's data can be found (and erased) without the phone number.
   */
  guestRef?: string;
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
  /**
   * WhatsApp's customer-service window and the pair-rate pacing (`WHATSAPP_SERVICE_WINDOW_SECONDS`,
   * `WHATSAPP_PAIR_*`); Meta's 24 h and 20 then one per 6 s for conversations started without it.
   */
  guestMessaging?: { serviceWindowSeconds: number; pairBurst: number; pairIntervalMs: number };
  /** Overrides {@link defaultHistoryBound} (tests use a small one). */
  historyBound?: HistoryBound;
  carryOver?: ConversationCarryOver;
  /**
   * How long a closed conversation stays dormant, dropping redeliveries, after its last message
   * (`CONVERSATION_DEDUP_WINDOW_SECONDS`); {@link defaultDedupWindowSeconds} when absent.
   */
  dedupWindowSeconds?: number;
  /**
   * How long a send whose outcome is unknown waits for a status carrying its idempotency key before it is sent again
   * (`SEND_RECONCILE_WAIT_SECONDS`); {@link defaultReconcileWaitSeconds} when absent.
   */
  reconcileWaitSeconds?: number;
  /** Set for a dormant run: the conversation closed and only remembers what it saw. */
  dormant?: DormantCarryOver;
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
  /** Set when an operator closed it (otherwise it closed after the idle period). */
  closedBy?: { tokenId: string; reason: 'operator' | 'erasure' };
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
