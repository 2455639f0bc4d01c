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
import { ConversationStatus, LastIntent } from '../lib/domain/search-attributes';
import { acknowledgementWithHelp, receivedReply } from '../lib/domain/templates';

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

export interface ConversationState {
  status: ConversationStatusName;
  phoneNumberId: string;
  language: Language;
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
  language: Language;
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
  let language: Language = carry?.language ?? 'es';
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
    language,
    received,
    duplicatesDropped,
    pending: pending.length,
    lastMessages: lastMessages.map((m) => ({ ...m })),
  }));

  upsertSearchAttributes([{ key: ConversationStatus, value: status }]);

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
        [{ phoneNumberId: input.phoneNumberId, to: input.waId, text, replyTo: message.id }],
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
    if (message.text) language = detectLanguage(message.text) ?? language;
    setCurrentDetails(`Answering ${message.type} message ${message.id}`);
    switch (message.type) {
      case 'text':
      case 'button':
      case 'interactive':
        await reply(message, acknowledgementWithHelp(language, message.profileName), 'help');
        break;
      case 'audio':
      case 'image':
      case 'video':
      case 'document':
      case 'sticker':
        await reply(message, receivedReply(language, 'media'), 'media');
        break;
      case 'location':
        await reply(message, receivedReply(language, 'location'), 'location');
        break;
      case 'contacts':
        await reply(message, receivedReply(language, 'contacts'), 'contacts');
        break;
      default:
        // Reactions, system notices and types WhatsApp itself does not support get no automated reply.
        log.info('No reply for this message type', { messageId: message.id, type: message.type });
    }
  }

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
