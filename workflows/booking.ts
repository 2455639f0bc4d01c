import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  log,
  ParentClosePolicy,
  patched,
  setCurrentDetails,
  setHandler,
  sleep,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { configFailureIn } from '../lib/domain/errors';
import {
  bookingStatusQuery,
  cancelBookingSignal,
  type BookingInput,
  type BookingOutcome,
  type BookingStatus,
  type BookingStep,
} from '../lib/domain/booking';
import type { BookingOutcomeKind } from '../lib/domain/interactions';
import { idempotencyKey } from '../lib/domain/messages';
import { BookingReference, TenantId } from '../lib/domain/search-attributes';
import { bookingButtons, fitInteractive, type Interactive } from '../lib/domain/interactive';
import { stayMessagesWorkflowId } from '../lib/domain/stay-messages';
import { bookingText } from '../lib/domain/templates';
import {
  createBooking,
  holds,
  secondsDeadline,
  sendDeadline,
  sendMessage,
  undo,
} from './conversation/activity-options';
import { stayMessages } from './stay-messages';

/**
 * `patched()` ids: each marks a change to the commands this workflow issues, so histories recorded before it (and
 * sagas running across the deploy) replay on the old path.
 */
const patches = {
  /** Compensation cancels every live PMS booking with the reference (one activity), not only the first found. */
  cancelEveryOrderByReference: 'cancel-every-order-by-reference',
  /** Issue 12: a confirmed booking starts its pre-arrival and post-stay messages (`stayMessages`). */
  stayMessages: 'guest-ux-stay-messages',
} as const;

/**
 * The booking saga, a child of the guest's conversation. Hold the room, book it at the PMS with
 * reference = this workflow's id, confirm to the guest, release the hold. On any failure, or when the guest
 * cancels, undo in reverse: cancel what was booked, release the hold, tell the guest plainly.
 */
export async function booking(input: BookingInput): Promise<BookingOutcome> {
  const reference = workflowInfo().workflowId;
  const t = bookingText(input.language);
  const status: BookingStatus = { reference, step: 'holding', roomId: undefined, bookingId: undefined };
  const setStep = (step: BookingStep) => {
    status.step = step;
    setCurrentDetails(`Booking ${reference}: ${step}`);
  };
  setHandler(bookingStatusQuery, () => ({ ...status }));
  upsertSearchAttributes([
    { key: TenantId, value: input.tenantId },
    { key: BookingReference, value: reference },
  ]);

  let told = 0;
  /** Sends a message to the guest; the last one says how the booking ended (kept in the interaction log). */
  const tell = (text: string, summary: string, bookingOutcome: BookingOutcomeKind, interactive?: Interactive) =>
    sendMessage.executeWithOptions(
      // Bounded, so a guest who cannot be told (WhatsApp down past its window) ends in compensation, not in limbo.
      { ...sendDeadline(input.sendTimeoutSeconds), summary },
      [
        {
          phoneNumberId: input.phoneNumberId,
          to: input.waId,
          text,
          tokenRef: input.tokenRef,
          tenantId: input.tenantId,
          ...(input.replyTo ? { replyTo: input.replyTo } : {}),
          bookingOutcome,
          // Traceable in status webhooks; the saga does not reconcile (its sends keep Temporal's ordinary retry).
          idempotencyKey: idempotencyKey(reference, ++told),
          ...(interactive ? { interactive } : {}),
        },
      ],
    );

  /** Undo steps, most recent first. */
  const compensations: { name: string; run: () => Promise<unknown> }[] = [];
  const work = new CancellationScope();
  let cancelRequested = false;
  setHandler(cancelBookingSignal, () => {
    cancelRequested = true;
    work.cancel();
  });

  let outcome: BookingOutcome | undefined;
  try {
    await work.run(async () => {
      // 1. Hold a room of the chosen type.
      for (const roomId of input.roomIds) {
        // Registered before asking: a cancel while the acquire is in flight may still leave a hold behind.
        // Release is owner-checked and idempotent, so releasing a hold never taken is harmless.
        const release = {
          name: `release hold ${roomId}`,
          run: () => undo.releaseHold({ tenantId: input.tenantId, roomId, owner: reference }),
        };
        compensations.unshift(release);
        const hold = await holds.acquireHold.executeWithOptions(
          { summary: `hold ${roomId} ${input.checkIn}..${input.checkOut}` },
          [{ tenantId: input.tenantId, roomId, owner: reference, checkIn: input.checkIn, checkOut: input.checkOut }],
        );
        if (hold.kind === 'held') {
          status.roomId = roomId;
          break;
        }
        compensations.splice(compensations.indexOf(release), 1);
      }
      const roomId = status.roomId;
      if (roomId === undefined) {
        outcome = { kind: 'unavailable', reference };
        return;
      }
      const holdKey = { tenantId: input.tenantId, roomId, owner: reference };

      // 2. Book at the PMS, keeping the hold alive while the PMS is slow.
      setStep('booking');
      compensations.unshift({
        name: 'cancel booking',
        // By reference: also undoes a create whose answer was lost, and every booking an overlapping attempt made.
        run: async () => {
          if (patched(patches.cancelEveryOrderByReference)) {
            await undo.cancelBookingsByReference({ tenantId: input.tenantId, reference });
            return;
          }
          const existing = await undo.findBookingByReference({ tenantId: input.tenantId, reference });
          if (existing && existing.status !== 'cancelled') {
            await undo.cancelBooking({ tenantId: input.tenantId, bookingId: existing.bookingId });
          }
        },
      });
      const keepAlive = new CancellationScope();
      const extending = keepAlive
        .run(async () => {
          for (let i = 0; i < input.holdMaxExtensions; i++) {
            await sleep(Math.floor((input.holdTtlSeconds * 1000 * 2) / 3));
            await holds.extendHold(holdKey);
          }
        })
        .catch((err: unknown) => {
          if (!isCancellation(err)) throw err;
        });
      const { tenantId, roomTypeId, checkIn, checkOut, adults, children, guestName } = input;
      const created = await createBooking
        .executeWithOptions(
          { ...secondsDeadline(input.pmsTimeoutSeconds), summary: `book ${roomId} as ${reference}` },
          [
            {
              tenantId,
              reference,
              roomTypeId,
              roomId,
              checkIn,
              checkOut,
              adults,
              ...(children !== undefined ? { children } : {}),
              ...(guestName !== undefined ? { guestName } : {}),
              guestWaId: input.waId,
            },
          ],
        )
        .finally(() => keepAlive.cancel());
      await extending;
      if (created.kind === 'unavailable') {
        outcome = { kind: 'unavailable', reference };
        throw ApplicationFailure.nonRetryable('The PMS no longer has the room', 'RoomUnavailable');
      }
      status.bookingId = created.booking.bookingId;

      // 3. Tell the guest. If they cannot be told, the booking is undone: nobody would know it exists.
      setStep('confirming');
      const confirmation = t.confirmed(input.roomTypeName, input.checkIn, input.checkOut, reference, created.booking);
      await tell(confirmation, `confirm ${reference}`, 'confirmed', confirmationButtons(input, confirmation));
      compensations.length = 0; // confirmed: from here on nothing is undone

      // 4. The PMS holds the booking now; the Redis hold has done its job.
      setStep('releasing');
      await CancellationScope.nonCancellable(() =>
        holds.releaseHold(holdKey).catch((err: unknown) => {
          log.warn('Hold not released; it expires on its own', { reference, error: String(err) });
        }),
      );
      outcome = { kind: 'confirmed', reference, bookingId: created.booking.bookingId, roomId };
    });
  } catch (err) {
    const reason = describe(err);
    if (!cancelRequested) log.warn('Booking failed; compensating', { reference, reason });
    const configFailure = configFailureIn(err);
    outcome ??= cancelRequested
      ? { kind: 'cancelled', reference }
      : { kind: 'failed', reference, reason, ...(configFailure ? { configFailure } : {}) };
  }

  if (cancelRequested && outcome?.kind === 'confirmed') {
    // The guest cancelled as the booking completed: undo it now, as they asked.
    const confirmed = outcome;
    compensations.push({
      name: 'cancel booking',
      run: () => undo.cancelBooking({ tenantId: input.tenantId, bookingId: confirmed.bookingId }),
    });
    outcome = { kind: 'cancelled', reference };
  }

  if (outcome?.kind !== 'confirmed') {
    // Compensation runs to the end even though the work scope was cancelled; one step failing does not stop
    // the others, and the guest is told the truth either way.
    let undone = true;
    await CancellationScope.nonCancellable(async () => {
      setStep('compensating');
      for (const step of compensations) {
        setCurrentDetails(`Booking ${reference}: compensating (${step.name})`);
        try {
          await step.run();
        } catch (err) {
          undone = false;
          log.error('Compensation step failed; staff must finish it', {
            reference,
            step: step.name,
            error: describe(err),
          });
        }
      }
      const final = outcome ?? { kind: 'failed', reference, reason: 'unknown' };
      const text = !undone
        ? t.cancelFailed(reference)
        : final.kind === 'unavailable'
          ? t.unavailable(input.roomTypeName)
          : final.kind === 'cancelled'
            ? t.cancelled()
            : t.failed();
      await tell(text, `${final.kind} ${reference}`, final.kind).catch((err: unknown) => {
        log.warn('Guest could not be told about the booking outcome', { reference, error: String(err) });
      });
    });
  }
  const final = outcome ?? { kind: 'failed', reference, reason: 'unknown' };
  if (final.kind === 'confirmed' && input.stayMessages && patched(patches.stayMessages)) {
    await scheduleStayMessages(input, reference, input.stayMessages);
  }
  setStep(final.kind === 'confirmed' ? 'confirmed' : final.kind);
  return final;
}

/**
 * Starts the booking's pre-arrival and post-stay messages: a workflow of its own, abandoned (not cancelled) when this
 * saga ends a moment later, so its timers outlive the saga and the conversation's runs.
 */
async function scheduleStayMessages(
  input: BookingInput,
  reference: string,
  times: NonNullable<BookingInput['stayMessages']>,
): Promise<void> {
  await startChild(stayMessages, {
    workflowId: stayMessagesWorkflowId(reference),
    parentClosePolicy: ParentClosePolicy.ABANDON,
    staticSummary: `Pre-arrival and post-stay messages of booking ${reference}`,
    args: [
      {
        reference,
        tenantId: input.tenantId,
        phoneNumberId: input.phoneNumberId,
        waId: input.waId,
        tokenRef: input.tokenRef,
        language: input.language,
        roomTypeName: input.roomTypeName,
        checkIn: input.checkIn,
        checkOut: input.checkOut,
        ...(input.guestName !== undefined ? { guestName: input.guestName } : {}),
        ...times,
        ...(input.sendTimeoutSeconds !== undefined ? { sendTimeoutSeconds: input.sendTimeoutSeconds } : {}),
      },
    ],
  });
}

function describe(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) {
    return `${err.cause.type ?? 'Error'}: ${err.cause.message}`;
  }
  if (err instanceof ApplicationFailure) return `${err.type ?? 'Error'}: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}

/** The confirmation with its buttons (cancel, talk to reception) when the tenant has interactive messages on. */
function confirmationButtons(input: BookingInput, text: string): Interactive | undefined {
  if (!input.interactive) return undefined;
  const fitted = fitInteractive(bookingButtons(input.language, text));
  return fitted.ok ? fitted.message : undefined;
}
