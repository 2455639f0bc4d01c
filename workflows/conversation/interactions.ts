/**
 * The interaction log, from the conversation's side: once a guest message is handled (answered, handed off, or left
 * unanswered by design), one `recordInteractions` activity reports it, with the duplicates dropped since the last
 * report. Nobody waits for it: the reply is out before it starts, the next message is handled while it runs, and its
 * failure changes nothing in the conversation. The replies themselves are logged by the send activity, which links
 * each to the message it answers (`replyTo`): that gives the first-response time, measured from `receivedAt` here.
 */
import { condition, log, patched } from '@temporalio/workflow';
import type { InboundInteraction, InteractionOutcome } from '../../lib/domain/interactions';
import type { InboundMessage } from '../../lib/domain/messages';
import { recordInteractions } from './activity-options';
import type { ConversationMemory } from './state';

/** The `patched()` id of the interaction log: runs and histories from before it issue no `recordInteractions`. */
export const interactionLogPatch = 'interaction-log';

/** How long continue-as-new waits for reports still in flight before going on without them. */
const settleTimeout = '5 seconds';

/** What the conversation looked like when the handling of one message began. */
export interface Handling {
  message: InboundMessage;
  /** When the conversation took the message in (workflow time). */
  receivedAt: number;
  /** {@link ConversationMemory.rememberedCount} before: what was remembered after it belongs to this message. */
  mark: number;
  staffRequested: boolean;
  bookingReference: string | undefined;
  bookingRunning: boolean;
}

/**
 * The message went to staff. Today: the guest asked for a person, or staff were flagged while it was handled (a voice
 * note nobody transcribed, a file that could not be kept, a configuration failure). With the operators' handoff state
 * this is `memory.status === 'handoff'`.
 */
function handedOff(memory: ConversationMemory, handling: Handling, intent: string | undefined): boolean {
  return intent === 'human' || (!handling.staffRequested && memory.staffRequested);
}

/** What became of a handled message; see {@link InteractionOutcome}. A failure outranks a handoff: it is not hidden. */
function outcomeOf(memory: ConversationMemory, handling: Handling, intent: string | undefined): InteractionOutcome {
  const replies = memory.rememberedSince(handling.mark).filter((m) => m.direction === 'out');
  const delivered = replies.some((r) => r.status !== 'failed');
  if (replies.length > 0 && !delivered) return 'failed';
  if (handedOff(memory, handling, intent)) return 'handed_off';
  // The booking saga answers what it was started (or told to cancel) for.
  const toSaga =
    memory.booking?.reference !== handling.bookingReference || (intent === 'cancel_booking' && handling.bookingRunning);
  return delivered || toSaga ? 'answered' : 'no_reply';
}

/** The conversation's interaction log: begun and ended around the handling of each message. */
export class InteractionRecorder {
  private inFlight = 0;

  constructor(private readonly memory: ConversationMemory) {}

  /** Called as a message is taken off the queue, before anything is done about it. */
  begin(message: InboundMessage): Handling {
    const { memory } = this;
    // Absent for a message queued in an earlier run (carried over by continue-as-new): its handling starts now.
    const receivedAt = memory.receivedAt.get(message.id) ?? Date.now();
    memory.receivedAt.delete(message.id);
    memory.understood = undefined;
    return {
      message,
      receivedAt,
      mark: memory.rememberedCount,
      staffRequested: memory.staffRequested,
      bookingReference: memory.booking?.reference,
      bookingRunning: memory.activeBooking !== undefined,
    };
  }

  /**
   * Called once the message is handled: starts the report and returns at once. Nothing is reported for a conversation
   * without a tenant to count it for (unknown, refused).
   */
  end(handling: Handling): void {
    const { memory } = this;
    const state = memory.tenantState;
    const tenantId = memory.tenant?.id ?? (state.kind === 'suspended' ? state.tenantId : undefined);
    if (tenantId === undefined || !patched(interactionLogPatch)) return;
    const { message } = handling;
    const intent = memory.understood?.messageId === message.id ? memory.understood.intent : undefined;
    // The text as the conversation holds it at the end: a voice note's transcript, when there is one.
    const record = memory.rememberedSince(handling.mark).find((m) => m.direction === 'in' && m.id === message.id);
    const text = record?.text ?? message.text;
    const handled: InboundInteraction = {
      messageId: message.id,
      type: message.type,
      ...(intent !== undefined ? { intent } : {}),
      ...(text !== undefined ? { text } : {}),
      at: message.timestamp * 1000,
      receivedAt: handling.receivedAt,
      outcome: outcomeOf(memory, handling, intent),
    };
    const messages = [...memory.droppedDuplicates.splice(0), handled];
    this.inFlight++;
    const { phoneNumberId, waId } = memory.input;
    void recordInteractions({ tenantId, phoneNumberId, waId, messages })
      .catch(() => {
        log.warn('Interaction log not written; the conversation goes on', { messageId: message.id });
      })
      .finally(() => this.inFlight--);
  }

  /**
   * Before continue-as-new: waits (briefly) for the reports in flight, which the end of this run would otherwise
   * abandon. Issues nothing when none is in flight.
   */
  async settle(): Promise<void> {
    if (this.inFlight === 0) return;
    await condition(() => this.inFlight === 0, settleTimeout);
  }
}
