import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  log,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { ErrorType } from '../lib/domain/errors';
import { detectLanguage, type Language } from '../lib/domain/language';
import type { DeliveryStatusUpdate, InboundMessage } from '../lib/domain/messages';
import { ConversationStatus, LastIntent, TenantId } from '../lib/domain/search-attributes';
import { asksForStaff } from '../lib/domain/staff';
import { acknowledgementWithHelp, receivedReply, staffReply } from '../lib/domain/templates';
import { staffAvailability, type TenantProfile } from '../lib/domain/tenants';

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
}

/** Whose conversation this is, as far as the workflow knows; no automated reply unless `resolved`. */
export type TenantState =
  | { kind: 'pending' }
  | { kind: 'resolved'; tenantId: string; name: string }
  | { kind: 'unknown' }
  | { kind: 'suspended'; tenantId: string }
  | { kind: 'refused'; reason: 'isolation' };

export interface ConversationState {
  status: ConversationStatusName;
  phoneNumberId: string;
  tenant: TenantState;
  language: Language;
  /** The guest asked for a person. */
  staffRequested: boolean;
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
  received: number;
  duplicatesDropped: number;
}

export interface ConversationInput {
  phoneNumberId: string;
  waId: string;
  /** Close after this long without a message (WhatsApp's 24 h customer-service window by default). */
  idleTimeoutSeconds: number;
  /** How many message ids to remember for dropping duplicates. */
  seenIdsMax: number;
  carryOver?: ConversationCarryOver;
}

export interface ConversationResult {
  status: 'closed';
  received: number;
  duplicatesDropped: number;
}

const lastMessagesMax = 20;

const { resolveTenant } = proxyActivities<Activities>({
  startToCloseTimeout: '15 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    // Unlimited attempts: while Postgres is down (and the cached copy is too old) the conversation waits.
    nonRetryableErrorTypes: [ErrorType.TenantIsolationError],
  },
});

const { sendMessage } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    // Unlimited attempts: a WhatsApp outage delays a reply, it does not lose it.
    nonRetryableErrorTypes: [ErrorType.WhatsAppPermanentError],
  },
});

/**
 * One guest's conversation with one business number: `wa:<phone_number_id>:<wa_id>`.
 * Messages arrive by signal into a queue and are answered in order, each exactly once.
 */
export async function conversation(input: ConversationInput): Promise<ConversationResult> {
  const carry = input.carryOver;
  const seenIds: string[] = [...(carry?.seenIds ?? [])];
  const seen = new Set(seenIds);
  const pending: InboundMessage[] = [...(carry?.pending ?? [])];
  const lastMessages: MessageRecord[] = [...(carry?.lastMessages ?? [])];
  let language: Language | undefined = carry?.language;
  let staffRequested = carry?.staffRequested ?? false;
  let tenant: TenantProfile | undefined;
  let tenantState: TenantState = { kind: 'pending' };
  let received = carry?.received ?? 0;
  let duplicatesDropped = carry?.duplicatesDropped ?? 0;
  let status: ConversationStatusName = 'active';

  function remember(record: MessageRecord): void {
    lastMessages.push(record);
    if (lastMessages.length > lastMessagesMax) lastMessages.splice(0, lastMessages.length - lastMessagesMax);
  }

  setHandler(inboundMessageSignal, (message) => {
    if (seen.has(message.id)) {
      duplicatesDropped++;
      log.info('Dropped a duplicate delivery', { messageId: message.id });
      return;
    }
    seen.add(message.id);
    seenIds.push(message.id);
    if (seenIds.length > input.seenIdsMax) {
      for (const old of seenIds.splice(0, seenIds.length - input.seenIdsMax)) seen.delete(old);
    }
    received++;
    pending.push(message);
  });

  setHandler(deliveryStatusSignal, (update) => {
    const record = lastMessages.find((m) => m.direction === 'out' && m.id === update.messageId);
    if (record) record.status = update.status;
  });

  setHandler(stateQuery, () => ({
    status,
    phoneNumberId: input.phoneNumberId,
    tenant: tenantState,
    language: language ?? tenant?.locale ?? 'es',
    staffRequested,
    received,
    duplicatesDropped,
    pending: pending.length,
    lastMessages: lastMessages.map((m) => ({ ...m })),
  }));

  upsertSearchAttributes([{ key: ConversationStatus, value: status }]);

  /** Resolves the tenant; a refusal for isolation is recorded, never retried, never revealed. */
  async function resolve(): Promise<void> {
    setCurrentDetails('Resolving the hotel of this conversation');
    try {
      const resolution = await resolveTenant.executeWithOptions(
        { startToCloseTimeout: '15 seconds', summary: `tenant of number ${input.phoneNumberId}` },
        [{ phoneNumberId: input.phoneNumberId, waId: input.waId }],
      );
      if (resolution.kind === 'resolved') {
        tenant = resolution.tenant;
        tenantState = { kind: 'resolved', tenantId: tenant.id, name: tenant.name };
        upsertSearchAttributes([{ key: TenantId, value: tenant.id }]);
      } else {
        tenant = undefined;
        tenantState = resolution;
      }
    } catch (err) {
      if (
        err instanceof ActivityFailure &&
        err.cause instanceof ApplicationFailure &&
        err.cause.type === ErrorType.TenantIsolationError
      ) {
        tenant = undefined;
        tenantState = { kind: 'refused', reason: 'isolation' };
        return;
      }
      throw err;
    }
  }

  async function reply(message: InboundMessage, text: string, intent: string): Promise<void> {
    const record: MessageRecord = {
      direction: 'out',
      id: undefined,
      type: 'text',
      text,
      at: Date.now(),
      status: 'pending',
    };
    remember(record);
    upsertSearchAttributes([{ key: LastIntent, value: intent }]);
    try {
      const result = await sendMessage.executeWithOptions(
        { startToCloseTimeout: '30 seconds', summary: `reply (${intent}) to ${message.id}` },
        [
          {
            phoneNumberId: input.phoneNumberId,
            to: input.waId,
            text,
            replyTo: message.id,
            tokenRef: tenant?.whatsappTokenRef ?? null,
          },
        ],
      );
      record.id = result.messageId;
      record.status = 'sent';
    } catch (err) {
      // Only non-retryable failures get here: the guest cannot be reached, so record it and go on.
      if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) {
        record.status = 'failed';
        record.error = `${err.cause.type ?? 'Error'}: ${err.cause.message}`;
        log.warn('Reply could not be delivered', { messageId: message.id, type: err.cause.type });
        return;
      }
      throw err;
    }
  }

  async function handle(message: InboundMessage): Promise<void> {
    remember({ direction: 'in', id: message.id, type: message.type, text: message.text, at: message.timestamp * 1000 });
    // A tenant that was unknown, suspended or refused may have been fixed by an operator since; the
    // resolution made at the start of the run already counts for the first message.
    if (tenantState.kind !== 'resolved' && !freshResolution) await resolve();
    freshResolution = false;
    if (!tenant) {
      log.info('No automated reply: no active tenant for this conversation', {
        messageId: message.id,
        tenant: tenantState.kind,
      });
      setCurrentDetails(`Not answering: tenant ${tenantState.kind}`);
      return;
    }
    if (message.text) language = detectLanguage(message.text) ?? language;
    const lang: Language = language ?? tenant.locale;
    setCurrentDetails(`Answering ${message.type} message ${message.id}`);
    switch (message.type) {
      case 'text':
      case 'button':
      case 'interactive':
        if (message.text && asksForStaff(message.text)) {
          staffRequested = true;
          const availability = staffAvailability(tenant.businessHours, tenant.timezone, Date.now());
          await reply(message, staffReply(lang, tenant.name, availability), 'human');
        } else {
          await reply(message, acknowledgementWithHelp(lang, message.profileName), 'help');
        }
        break;
      case 'audio':
      case 'image':
      case 'video':
      case 'document':
      case 'sticker':
        await reply(message, receivedReply(lang, 'media'), 'media');
        break;
      case 'location':
        await reply(message, receivedReply(lang, 'location'), 'location');
        break;
      case 'contacts':
        await reply(message, receivedReply(lang, 'contacts'), 'contacts');
        break;
      default:
        // Reactions, system notices and types WhatsApp itself does not support get no automated reply.
        log.info('No reply for this message type', { messageId: message.id, type: message.type });
    }
  }

  // Once per run: at start, and again after continue-as-new (the tenant may have changed meanwhile).
  await resolve();
  let freshResolution = true;

  for (;;) {
    setCurrentDetails(`Waiting for the guest (${received} messages so far)`);
    const gotMessage = await condition(() => pending.length > 0, input.idleTimeoutSeconds * 1000);
    if (!gotMessage && pending.length === 0) break;
    while (pending.length > 0) {
      await handle(pending.shift()!);
      // Checked after every message: a burst must not grow one run's history without bound.
      if (workflowInfo().continueAsNewSuggested) {
        await condition(allHandlersFinished);
        const carryOver: ConversationCarryOver = {
          seenIds,
          pending,
          lastMessages,
          language,
          staffRequested,
          received,
          duplicatesDropped,
        };
        return continueAsNew<typeof conversation>({ ...input, carryOver });
      }
    }
  }

  status = 'closed';
  upsertSearchAttributes([{ key: ConversationStatus, value: status }]);
  setCurrentDetails('Closed after the idle period');
  return { status: 'closed', received, duplicatesDropped };
}
