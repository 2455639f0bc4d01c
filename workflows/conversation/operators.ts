/**
 * What operators can do to a conversation: take it over (`handoff`), write to the guest (`operatorReply`), hand it back
 * (`resume`) and `close` it. Each is an update: its validator refuses what cannot be done in the conversation's state,
 * so a refused request leaves nothing in the history; an accepted one is recorded with the operator's token id.
 */
import { ApplicationFailure, condition, setCurrentDetails, setHandler } from '@temporalio/workflow';
import {
  closeUpdate,
  handoffUpdate,
  operatorReplyUpdate,
  operatorRequestProblem,
  resumeUpdate,
} from '../../lib/domain/conversation';
import { ErrorType, type OperatorRefusal } from '../../lib/domain/errors';
import { staffReply } from './replies';
import type { ConversationMemory } from './state';
import { showStatus } from './status';

/** The failure a validator refuses with: `OperatorActionRefused`, the reason in `details[0]`. */
function refuse(reason: OperatorRefusal, message: string): ApplicationFailure {
  return ApplicationFailure.create({
    type: ErrorType.OperatorActionRefused,
    message,
    details: [{ reason }],
    nonRetryable: true,
  });
}

/** Refuses a malformed request, or any request once the conversation is closed or closing. */
function checkRequest(memory: ConversationMemory, request: unknown, options: { text?: boolean } = {}): void {
  const problem = operatorRequestProblem(request, options);
  if (problem !== undefined) throw refuse('invalid_request', problem);
  if (memory.closed || memory.closing) throw refuse('closed', 'The conversation is closed');
}

/** Installs the operators' update handlers on the conversation. */
export function handleOperators(memory: ConversationMemory): void {
  setHandler(
    handoffUpdate,
    ({ operator }) => {
      memory.handOff({ at: Date.now(), by: 'operator', tokenId: operator.tokenId });
      showStatus(memory);
      setCurrentDetails(`Handed off to staff by operator ${operator.tokenId}`);
      return memory.snapshot();
    },
    {
      validator: (request) => {
        checkRequest(memory, request);
        if (memory.handoff) throw refuse('already_in_handoff', 'The conversation is already in handoff');
      },
      description: 'Staff take the conversation over: the bot stops answering until resume.',
    },
  );

  setHandler(
    operatorReplyUpdate,
    async ({ operator, text }) => {
      // A request that came in before the run's first tenant resolution waits for it.
      await condition(() => memory.tenantState.kind !== 'pending');
      if (!memory.tenant) throw refuse('no_tenant', 'No active hotel answers for this conversation');
      // A person is writing to the guest: the bot keeps quiet from now on, until resume.
      if (!memory.handoff) {
        memory.handOff({ at: Date.now(), by: 'operator', tokenId: operator.tokenId });
        showStatus(memory);
      }
      return staffReply(memory, text, operator.tokenId);
    },
    {
      validator: (request) => {
        checkRequest(memory, request, { text: true });
        const { kind } = memory.tenantState;
        if (kind !== 'resolved' && kind !== 'pending') {
          throw refuse('no_tenant', `No active hotel answers for this conversation (tenant ${kind})`);
        }
      },
      description: 'Staff send a text to the guest through the bot send path; the conversation is in handoff after.',
    },
  );

  setHandler(
    resumeUpdate,
    () => {
      memory.resume();
      showStatus(memory);
      setCurrentDetails('Handed back to the bot');
      return memory.snapshot();
    },
    {
      validator: (request) => {
        checkRequest(memory, request);
        if (!memory.handoff) throw refuse('not_in_handoff', 'The conversation is not in handoff');
      },
      description: 'Staff hand the conversation back to the bot, which answers the next message.',
    },
  );

  setHandler(
    closeUpdate,
    async ({ operator, reason }) => {
      memory.closing = { tokenId: operator.tokenId, reason: reason ?? 'operator' };
      // The loop sees `closing`, stops answering and ends the run; the answer is the state as it closes.
      await condition(() => memory.closed);
      return memory.snapshot();
    },
    {
      validator: (request) => {
        checkRequest(memory, request);
        const reason = (request as { reason?: unknown }).reason;
        if (reason !== undefined && reason !== 'operator' && reason !== 'erasure') {
          throw refuse('invalid_request', 'reason must be operator or erasure');
        }
        if (memory.activeBooking) {
          throw refuse('booking_in_progress', 'A booking is in progress; close the conversation once it has ended');
        }
      },
      description: 'Staff close the conversation: nothing more is answered and the run completes.',
    },
  );
}
