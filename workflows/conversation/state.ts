/**
 * What one conversation run knows, in one object (in the style of Temporal's `safe-message-handlers` sample): the
 * signal and query handlers only touch it, and the flows read and change it. Nothing here issues a command.
 */
import { log } from '@temporalio/workflow';
import type { BookingOutcome } from '../../lib/domain/booking';
import {
  defaultBookingSettings,
  defaultHistoryBound,
  type BookingSettings,
  type BookingSummary,
  type ConfigFailureRecord,
  type ConversationCarryOver,
  type ConversationInput,
  type ConversationState,
  type ConversationStatusName,
  type HandoffRecord,
  type HistoryBound,
  type MessageRecord,
  type Offer,
  type TenantState,
} from '../../lib/domain/conversation';
import type { InboundInteraction } from '../../lib/domain/interactions';
import type { Language } from '../../lib/domain/language';
import { idempotencyKey, keySequence, type DeliveryStatusUpdate, type InboundMessage } from '../../lib/domain/messages';
import { reEngagementCode, windowClosedReason } from '../../lib/domain/service-window';
import type { TenantProfile } from '../../lib/domain/tenants';

const lastMessagesMax = 20;
/** Dropped duplicates kept until the next interaction record reports them. */
const droppedDuplicatesMax = 100;
/** Delivery statuses kept while their send's result is still on its way. */
const earlyStatusesMax = 50;
/**
 * Texts kept for display (`lastMessages`) cross continue-as-new cut to this many characters, so the carry-over stays
 * far below Temporal's 2 MB payload limit. Queued messages are carried whole: they have yet to be understood.
 */
const carriedTextMax = 500;

/** A text cut to {@link carriedTextMax} characters. */
export function cut(text: string): string {
  return text.length > carriedTextMax ? `${text.slice(0, carriedTextMax - 1)}…` : text;
}

/** A message record as carried across continue-as-new: its text and error cut to {@link carriedTextMax}. */
function forCarryOver(record: MessageRecord): MessageRecord {
  return {
    ...record,
    ...(record.text !== undefined ? { text: cut(record.text) } : {}),
    ...(record.error !== undefined ? { error: cut(record.error) } : {}),
  };
}

/**
 * The message ids seen lately, oldest first, at most `max`: a redelivered webhook within the window is dropped.
 * Carried across continue-as-new.
 */
export class SeenWindow {
  private readonly ids: string[];
  private readonly set: Set<string>;

  constructor(
    ids: readonly string[],
    private readonly max: number,
  ) {
    this.ids = [...ids];
    this.set = new Set(this.ids);
  }

  /** Remembers the id; false when it was seen already. */
  add(id: string): boolean {
    if (this.set.has(id)) return false;
    this.set.add(id);
    this.ids.push(id);
    if (this.ids.length > this.max) {
      for (const old of this.ids.splice(0, this.ids.length - this.max)) this.set.delete(old);
    }
    return true;
  }

  list(): string[] {
    return this.ids;
  }
}

export class ConversationMemory {
  readonly input: ConversationInput;
  readonly bookingSettings: BookingSettings;
  readonly historyBound: HistoryBound;
  /** The status last written to the `ConversationStatus` search attribute (see `showStatus` in status.ts). */
  shownStatus: ConversationStatusName | undefined;
  /** Set while staff have the conversation: the bot does not answer. Carried across continue-as-new. */
  handoff: HandoffRecord | undefined;
  /** An operator asked to close: nothing more is answered, and the run ends once no booking is running. */
  closing: { tokenId: string; reason: 'operator' | 'erasure' } | undefined;
  /** The run is over: set when the loop ends, before the final status is shown. */
  closed = false;
  /** Messages accepted and not yet answered, in arrival order. */
  readonly pending: InboundMessage[];
  /** Set once the guest's language is known (detected, or the tenant's locale). */
  language: Language | undefined;
  /** The guest asked for a person, or something only a person can sort out happened. */
  staffRequested: boolean;
  /** The tenant as resolved at the start of the run (or again after a change); undefined: no automated reply. */
  tenant: TenantProfile | undefined;
  tenantState: TenantState = { kind: 'pending' };
  /** A configuration failure happened: the tenant's settings may have been fixed since, so read them again. */
  tenantStale = false;
  /** The run's first resolution already counts for a message that was waiting when it was made. */
  freshResolution = false;
  offer: Offer | undefined;
  /** The latest booking of this guest in this conversation. */
  booking: BookingSummary | undefined;
  configFailure: ConfigFailureRecord | undefined;
  /**
   * The running booking saga, if any; its outcome arrives in `bookingOutcomes`. `showsStatus`: the conversation shows
   * `booking` while it runs (sagas started before that change do not).
   */
  activeBooking: { workflowId: string; showsStatus?: boolean } | undefined;
  readonly bookingOutcomes: BookingOutcome[] = [];
  received: number;
  duplicatesDropped: number;
  /** For the interaction log: when each queued message was taken in (workflow time), by id; this run only. */
  readonly receivedAt = new Map<string, number>();
  /** For the interaction log: duplicates dropped since it last reported (this run only). */
  readonly droppedDuplicates: InboundInteraction[] = [];
  /** For the interaction log: what the message being handled was understood as. */
  understood: { messageId: string; intent: string } | undefined;
  /** Which understander read the last message (the model, or the rules) and why the rules, when a model is set. */
  understoodBy: { source: 'rules' | 'model'; fallbackReason?: string } | undefined;
  /** When the guest last wrote (workflow time, ms): WhatsApp's customer-service window runs from it. */
  lastInboundAt: number | undefined;
  /** WhatsApp refused a free-form message (131047): the window is closed whatever the clock says, until they write. */
  windowClosedByMeta = false;
  /** Pair-rate pacing (this run only): tokens left and when they were counted. */
  pairBucket: { tokens: number; at: number } | undefined;
  private rememberedTotal = 0;
  private readonly seen: SeenWindow;
  private readonly lastMessages: MessageRecord[];
  /** Statuses that arrived before the send activity's result did (Meta can be faster than our worker). */
  private readonly earlyStatuses = new Map<string, string>();
  /**
   * Statuses that carried one of this conversation's idempotency keys (the API passes on only those), by the key's
   * sequence number: a send in doubt looks here. By number, not by the whole key, so that a replay under another
   * workflow id (as the replay test runs histories) matches what the original run matched.
   */
  private readonly keyedStatuses = new Map<number, DeliveryStatusUpdate>();
  /** Sequence number of the last message sent to the guest (see {@link nextKey}); carried across runs. */
  replySeq: number;
  /** Workflow time (Unix ms) of the last message taken in. */
  lastMessageAt: number | undefined;

  constructor(input: ConversationInput) {
    const carry = input.carryOver;
    this.input = input;
    this.bookingSettings = input.booking ?? defaultBookingSettings;
    this.historyBound = input.historyBound ?? defaultHistoryBound;
    this.seen = new SeenWindow(carry?.seenIds ?? [], input.seenIdsMax);
    this.pending = [...(carry?.pending ?? [])];
    this.lastMessages = [...(carry?.lastMessages ?? [])];
    this.language = carry?.language;
    this.staffRequested = carry?.staffRequested ?? false;
    this.handoff = carry?.handoff;
    this.offer = carry?.offer;
    this.booking = carry?.booking;
    this.configFailure = carry?.configFailure;
    this.received = carry?.received ?? 0;
    this.duplicatesDropped = carry?.duplicatesDropped ?? 0;
    this.lastInboundAt = carry?.lastInboundAt;
    this.replySeq = carry?.replySeq ?? 0;
    this.lastMessageAt = carry?.lastMessageAt;
  }

  /** The idempotency key of the next message to the guest: the workflow id and a sequence number never reused. */
  nextKey(workflowId: string): string {
    this.replySeq++;
    return idempotencyKey(workflowId, this.replySeq);
  }

  /** A status Meta reported for the message sent with this key (its sequence number), if one arrived. */
  statusForKey(key: string): DeliveryStatusUpdate | undefined {
    const seq = keySequence(key);
    return seq === undefined ? undefined : this.keyedStatuses.get(seq);
  }

  /** The seen message ids, oldest first (what a dormant run carries). */
  seenIds(): string[] {
    return this.seen.list();
  }

  /** When the guest's customer-service window closes (ms), or undefined before they wrote in this conversation. */
  get serviceWindowClosesAt(): number | undefined {
    if (this.lastInboundAt === undefined) return undefined;
    return this.lastInboundAt + (this.input.guestMessaging?.serviceWindowSeconds ?? 24 * 3600) * 1000;
  }

  /** Whether a free-form message can no longer reach the guest (only a template can). */
  serviceWindowClosed(now: number): boolean {
    const closesAt = this.serviceWindowClosesAt;
    return this.windowClosedByMeta || (closesAt !== undefined && now >= closesAt);
  }

  /**
   * What the conversation is doing, as `ConversationStatus` shows it: closed, waiting for staff (handoff wins over a
   * booking), booking, or answering.
   */
  get status(): ConversationStatusName {
    if (this.closed) return 'closed';
    if (this.handoff) return 'handoff';
    if (this.activeBooking?.showsStatus) return 'booking';
    return 'active';
  }

  /** Staff take over (or the guest asked for a person): the bot stops answering. */
  handOff(record: HandoffRecord): void {
    this.handoff = record;
    this.staffRequested = true;
  }

  /** Staff hand the conversation back: the bot answers the next message. */
  resume(): void {
    this.handoff = undefined;
    this.staffRequested = false;
  }

  /** A guest's message arrives: queued once, a redelivery of one seen lately dropped. */
  accept(message: InboundMessage): void {
    if (!this.seen.add(message.id)) {
      this.duplicatesDropped++;
      log.info('Dropped a duplicate delivery', { messageId: message.id });
      this.droppedDuplicates.push({
        messageId: message.id,
        type: message.type,
        at: message.timestamp * 1000,
        receivedAt: Date.now(),
        outcome: 'duplicate_dropped',
      });
      if (this.droppedDuplicates.length > droppedDuplicatesMax) this.droppedDuplicates.shift();
      return;
    }
    this.received++;
    this.lastMessageAt = Date.now();
    this.receivedAt.set(message.id, Date.now());
    // The guest wrote: the window reopens for 24 h (our own messages do not extend it). Timed from when the
    // conversation took the message in, not Meta's timestamp: a webhook Meta redelivered days late would be judged
    // late anyway, and WhatsApp's own 131047 catches the rest.
    this.lastInboundAt = Date.now();
    this.windowClosedByMeta = false;
    this.pending.push(message);
  }

  /** Meta reports a delivery status: set on the reply it names, or kept until that reply's send returns. */
  noteDeliveryStatus(update: DeliveryStatusUpdate): void {
    const seq = update.key !== undefined ? keySequence(update.key) : undefined;
    if (seq !== undefined) {
      // Kept by key for a send whose outcome is unknown: the first status is enough to know Meta has the message.
      if (!this.keyedStatuses.has(seq)) this.keyedStatuses.set(seq, update);
      if (this.keyedStatuses.size > earlyStatusesMax) {
        this.keyedStatuses.delete(this.keyedStatuses.keys().next().value!);
      }
    }
    const record = this.lastMessages.find((m) => m.direction === 'out' && m.id === update.messageId);
    if (record) {
      record.status = update.status;
      // WhatsApp refused it after accepting it: the guest's window had closed (131047). Staff are told.
      if (update.status === 'failed' && update.errors?.some((e) => e.code === reEngagementCode)) {
        record.error = windowClosedReason;
        this.windowClosedByMeta = true;
        this.staffRequested = true;
      }
      return;
    }
    this.earlyStatuses.set(update.messageId, update.status);
    if (this.earlyStatuses.size > earlyStatusesMax) this.earlyStatuses.delete(this.earlyStatuses.keys().next().value!);
  }

  /** The status Meta reported for a message before its send returned, if any (forgotten once taken). */
  takeEarlyStatus(messageId: string): string | undefined {
    const status = this.earlyStatuses.get(messageId);
    this.earlyStatuses.delete(messageId);
    return status;
  }

  /** Keeps a message in the last messages shown to operators; returns it for later changes (status, media). */
  remember(record: MessageRecord): MessageRecord {
    this.rememberedTotal++;
    this.lastMessages.push(record);
    if (this.lastMessages.length > lastMessagesMax)
      this.lastMessages.splice(0, this.lastMessages.length - lastMessagesMax);
    return record;
  }

  /**
   * The last `max` texts of the conversation before the one being answered, oldest first and cut short: the context a
   * language model understander gets (never a phone number: the client masks any in the texts).
   */
  recentTexts(max: number): { from: 'guest' | 'hotel'; text: string }[] {
    return this.lastMessages
      .slice(0, -1)
      .filter((m) => m.text)
      .slice(-max)
      .map((m) => ({ from: m.direction === 'in' ? 'guest' : 'hotel', text: m.text!.slice(0, 300) }));
  }

  /** How many messages were ever remembered in this run: a mark for {@link rememberedSince}. */
  get rememberedCount(): number {
    return this.rememberedTotal;
  }

  /** The messages remembered after `mark` (as far as the last messages still hold them), oldest first. */
  rememberedSince(mark: number): MessageRecord[] {
    const count = Math.min(this.rememberedTotal - mark, this.lastMessages.length);
    return count > 0 ? this.lastMessages.slice(-count) : [];
  }

  /**
   * A configuration failure ran its course: record it for operators, flag staff (a person has to fix the settings or
   * answer the guest), and read the tenant again before the next message, so a fixed reference takes effect.
   */
  noteConfigFailure(failure: { kind: string; message: string } | undefined): void {
    if (!failure) return;
    this.configFailure = { kind: failure.kind, message: cut(failure.message), at: Date.now() };
    this.staffRequested = true;
    this.tenantStale = true;
    log.warn('Configuration failure recorded; staff flagged', { kind: failure.kind });
  }

  /** Takes in the outcomes of finished booking sagas. */
  settleBookings(): void {
    for (const outcome of this.bookingOutcomes.splice(0)) {
      this.activeBooking = undefined;
      if (outcome.kind === 'failed') this.noteConfigFailure(outcome.configFailure);
      if (this.booking?.reference === outcome.reference) {
        this.booking.status = outcome.kind;
        if (outcome.kind === 'confirmed') this.booking.bookingId = outcome.bookingId;
      }
    }
  }

  /** A message or a booking outcome waits to be taken in. */
  hasWork(): boolean {
    return this.pending.length > 0 || this.bookingOutcomes.length > 0;
  }

  /** The `state` query's answer: copies, so a caller cannot change the run's state. */
  snapshot(): ConversationState {
    return {
      status: this.status,
      ...(this.handoff ? { handoff: { ...this.handoff } } : {}),
      offer: this.offer,
      booking: this.booking ? { ...this.booking } : undefined,
      phoneNumberId: this.input.phoneNumberId,
      tenant: this.tenantState,
      language: this.language ?? this.tenant?.locale ?? 'es',
      staffRequested: this.staffRequested,
      configFailure: this.configFailure ? { ...this.configFailure } : undefined,
      received: this.received,
      duplicatesDropped: this.duplicatesDropped,
      pending: this.pending.length,
      lastMessages: this.lastMessages.map((m) => ({ ...m })),
      ...(this.understoodBy ? { understoodBy: { ...this.understoodBy } } : {}),
      ...(this.serviceWindowClosesAt !== undefined
        ? { serviceWindow: { closesAt: this.serviceWindowClosesAt, closed: this.serviceWindowClosed(Date.now()) } }
        : {}),
    };
  }

  /** What the next run starts from: texts for display cut short, queued messages whole. */
  carryOver(): ConversationCarryOver {
    return {
      seenIds: this.seen.list(),
      pending: this.pending,
      lastMessages: this.lastMessages.map(forCarryOver),
      language: this.language,
      staffRequested: this.staffRequested,
      ...(this.handoff ? { handoff: this.handoff } : {}),
      offer: this.offer,
      booking: this.booking,
      ...(this.configFailure ? { configFailure: this.configFailure } : {}),
      received: this.received,
      duplicatesDropped: this.duplicatesDropped,
      ...(this.lastInboundAt !== undefined ? { lastInboundAt: this.lastInboundAt } : {}),
      replySeq: this.replySeq,
      ...(this.lastMessageAt !== undefined ? { lastMessageAt: this.lastMessageAt } : {}),
    };
  }
}
