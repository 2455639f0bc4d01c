/**
 * A closed conversation's dormant run: Meta redelivers a webhook for up to 7 days, so after close the conversation
 * continues as new into a run that carries only the message ids it saw (and its reply sequence number). It sends
 * nothing; a redelivered message is dropped; a new one wakes the conversation afresh (a new run that resolves its
 * tenant and detects the language again); without one it completes when the window after the last message ends.
 */
import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  log,
  setCurrentDetails,
  setHandler,
} from '@temporalio/workflow';
import {
  closeUpdate,
  deliveryStatusSignal,
  handoffUpdate,
  inboundMessageSignal,
  operatorReplyUpdate,
  operatorRequestProblem,
  resumeUpdate,
  stateQuery,
  type ConversationInput,
  type ConversationResult,
  type ConversationState,
  type DormantCarryOver,
  type MessageRecord,
} from '../../lib/domain/conversation';
import { ErrorType, type OperatorRefusal } from '../../lib/domain/errors';
import type { InboundMessage } from '../../lib/domain/messages';
import { SeenWindow } from './state';

function refuse(reason: OperatorRefusal, message: string): ApplicationFailure {
  return ApplicationFailure.create({
    type: ErrorType.OperatorActionRefused,
    message,
    details: [{ reason }],
    nonRetryable: true,
  });
}

/**
 * Runs a dormant conversation until a new message wakes it (continue-as-new into an active run with the message
 * queued) or its redelivery window ends (the workflow completes, closed).
 */
export async function dormantRun(
  input: ConversationInput,
  carry: DormantCarryOver,
  wake: (input: ConversationInput) => Promise<never>,
): Promise<ConversationResult> {
  const seen = new SeenWindow(carry.seenIds, input.seenIdsMax);
  const woken: InboundMessage[] = [...carry.pending];
  let duplicatesDropped = carry.duplicatesDropped;
  let received = carry.received;

  setHandler(inboundMessageSignal, (message) => {
    if (seen.add(message.id)) {
      received++;
      woken.push(message);
      return;
    }
    duplicatesDropped++;
    log.info('Dropped a redelivery to a closed conversation', { messageId: message.id });
  });
  // Nothing is in doubt in a dormant run: its sends were settled before it closed.
  setHandler(deliveryStatusSignal, () => undefined);
  const snapshot = (): ConversationState => ({
    status: 'closed',
    offer: undefined,
    booking: undefined,
    phoneNumberId: input.phoneNumberId,
    tenant: { kind: 'pending' },
    language: 'es',
    staffRequested: false,
    configFailure: undefined,
    received,
    duplicatesDropped,
    pending: woken.length,
    lastMessages: [],
  });
  setHandler(stateQuery, snapshot);
  const refuseClosed = (request: unknown) => {
    const problem = operatorRequestProblem(request);
    if (problem !== undefined) throw refuse('invalid_request', problem);
    throw refuse('closed', 'The conversation is closed');
  };
  setHandler(handoffUpdate, snapshot, { validator: refuseClosed });
  setHandler(resumeUpdate, snapshot, { validator: refuseClosed });
  setHandler(
    operatorReplyUpdate,
    (): MessageRecord => ({ direction: 'out', id: undefined, type: 'text', text: undefined, at: 0 }),
    { validator: refuseClosed },
  );
  // Closing a closed conversation changes nothing: accepted, so a script that closes every conversation never fails.
  setHandler(closeUpdate, snapshot, {
    validator: (request) => {
      const problem = operatorRequestProblem(request);
      if (problem !== undefined) throw refuse('invalid_request', problem);
    },
  });

  setCurrentDetails(`Closed; dropping redeliveries until ${new Date(carry.until).toISOString()}`);
  const left = carry.until - Date.now();
  if (woken.length === 0 && left > 0) await condition(() => woken.length > 0, left);
  await condition(allHandlersFinished);
  if (woken.length > 0) {
    // A new message: the conversation starts afresh (tenant and language found again), remembering what it saw.
    const { dormant: _dormant, ...active } = input;
    return wake({
      ...active,
      carryOver: {
        seenIds: seen.list(),
        pending: woken,
        lastMessages: [],
        language: undefined,
        staffRequested: false,
        received,
        duplicatesDropped,
        replySeq: carry.replySeq,
        lastMessageAt: Date.now(),
      },
    });
  }
  return {
    status: 'closed',
    received,
    duplicatesDropped,
    ...(carry.closedBy ? { closedBy: carry.closedBy } : {}),
  };
}

/** The dormant run's carry-over, from a run that has just closed. */
export function dormantCarry(
  input: ConversationInput,
  closing: {
    seenIds: string[];
    replySeq: number;
    lastMessageAt: number | undefined;
    pending: InboundMessage[];
    received: number;
    duplicatesDropped: number;
    closedBy: DormantCarryOver['closedBy'];
    windowSeconds: number;
  },
): DormantCarryOver {
  const from = closing.lastMessageAt ?? Date.now();
  return {
    seenIds: closing.seenIds,
    replySeq: closing.replySeq,
    until: from + closing.windowSeconds * 1000,
    pending: closing.pending,
    received: closing.received,
    duplicatesDropped: closing.duplicatesDropped,
    ...(closing.closedBy ? { closedBy: closing.closedBy } : {}),
  };
}

/** Whether `input` asks for a run of this kind; re-exported so index.ts reads plainly. */
export function isDormant(input: ConversationInput): input is ConversationInput & { dormant: DormantCarryOver } {
  return input.dormant !== undefined;
}
