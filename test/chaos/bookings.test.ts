import { temporal } from '@temporalio/proto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { waitFor } from '../../dev/process';
import { startRedis, type RedisServer } from '../../dev/redis';
import { stateQuery, type ConversationWorkflow } from '../../lib/domain/conversation';
import { conversationIdFor, textWebhook, uniqueMessageId, uniqueWaId } from '../helpers/webhooks';
import { finalChecks, startChaosStack, type ChaosStack } from './harness';

/**
 * Bookings under faults: the PMS flapping during 20 concurrent bookings, the worker SIGKILLed mid-booking, Redis (the
 * holds) killed during a booking and back 10 s later. No room-night is booked twice, no hold is left, each message
 * gets one answer.
 */

/** A stay 40-80 days ahead, different for each scenario so they never compete for rooms. */
function stay(offsetDays: number): { checkIn: string; checkOut: string } {
  const day = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10);
  return { checkIn: day(offsetDays), checkOut: day(offsetDays + 2) };
}

/** A guest of the stack's hotel: asks for rooms, then books the first offered. Answers the ids of their messages. */
function guest(stack: ChaosStack) {
  const from = uniqueWaId();
  const ids: string[] = [];
  const repliesTo = (id: string) => stack.whatsapp.sent.filter((m) => m.replyTo === id);
  const say = async (body: string) => {
    const id = uniqueMessageId();
    ids.push(id);
    await stack.deliver(textWebhook({ phoneNumberId: stack.tenant.phoneNumberId, from, id, body }));
    return id;
  };
  return {
    ids,
    conversation: stack.temporal.workflow.getHandle<ConversationWorkflow>(
      conversationIdFor(stack.tenant.phoneNumberId, from),
    ),
    async askRooms({ checkIn, checkOut }: { checkIn: string; checkOut: string }) {
      const id = await say(`Do you have a room from ${checkIn} to ${checkOut} for 2 adults?`);
      await waitFor('the offer', () => repliesTo(id).length === 1, { timeoutMs: 60_000 });
      expect(repliesTo(id)[0]!.text).toContain('Rooms available');
    },
    /** Says "1" and waits for the outcome (a confirmation, or why not). */
    async book(timeoutMs = 90_000) {
      const id = await say('1');
      await waitFor('the booking outcome', () => repliesTo(id).length >= 1, { timeoutMs, intervalMs: 250 });
      return repliesTo(id)[0]!.text ?? '';
    },
  };
}

describe('PMS flapping during 20 concurrent bookings', () => {
  let stack: ChaosStack;
  beforeAll(async () => {
    stack = await startChaosStack({
      config: { PMS_BREAKER_HALF_OPEN_AFTER_MS: '1000', PMS_BREAKER_CONSECUTIVE_FAILURES: '3' },
    });
    await stack.inProcessWorker();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('books each room-night at most once and answers every guest once', async () => {
    const dates = stay(40);
    const guests = Array.from({ length: 20 }, () => guest(stack));
    await Promise.all(guests.map((g) => g.askRooms(dates)));
    // The PMS fails, answers, and loses answers to bookings it made, while all 20 book at once.
    stack.pms.inject({ kind: 'error', status: 503 }, 4);
    stack.pms.inject({ kind: 'lostResponse', match: { resource: 'bookings', method: 'POST' } }, 2);
    stack.pms.inject({ kind: 'error', status: 503 }, 4);
    const outcomes = await Promise.all(guests.map((g) => g.book()));
    expect(outcomes.filter((t) => t.startsWith('Booking confirmed!')).length).toBeGreaterThan(0);
    await finalChecks(stack, 'PMS flapping during 20 concurrent bookings', { inbound: guests.flatMap((g) => g.ids) });
  }, 180_000);
});

describe('worker SIGKILLed mid-booking', () => {
  let stack: ChaosStack;
  beforeAll(async () => {
    stack = await startChaosStack();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('a new worker finishes the booking: one booking, one confirmation', async () => {
    const child = await stack.workerProcess();
    const g = guest(stack);
    await g.askRooms(stay(50));
    // The PMS takes its time to book: the worker dies while the request is in flight (the PMS still books it).
    stack.pms.inject({ kind: 'latency', ms: 4_000, match: { resource: 'bookings', method: 'POST' } });
    const booked = stack.pms.bookings.length;
    const outcome = g.book(120_000);
    await waitFor('the booking started', async () => (await g.conversation.query(stateQuery)).booking !== undefined);
    const saga = stack.temporal.workflow.getHandle((await g.conversation.query(stateQuery)).booking!.reference);
    await waitFor('createBooking in flight', async () =>
      ((await saga.describe()).raw.pendingActivities ?? []).some(
        (a) =>
          a.activityType?.name === 'createBooking' &&
          a.state === temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED,
      ),
    );
    child.kill('SIGKILL');
    await once(child, 'exit');
    await stack.inProcessWorker();
    expect(await outcome).toMatch(/^Booking confirmed!/);
    expect(stack.pms.bookings.length - booked).toBe(1);
    await finalChecks(stack, 'worker SIGKILLed mid-booking', { inbound: g.ids });
  }, 180_000);
});

describe('Redis killed during a booking, back 10 s later', () => {
  let dir: string;
  let redis: RedisServer;
  let stack: ChaosStack;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'hm-chaos-redis-'));
    redis = await startRedis({ dir });
    stack = await startChaosStack({ config: { REDIS_URL: redis.url } });
    await stack.inProcessWorker();
  });
  afterAll(async () => {
    await stack?.stop();
    await redis?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the hold waits for Redis; then one booking, one confirmation, the hold released', async () => {
    const g = guest(stack);
    await g.askRooms(stay(60));
    await redis.stop();
    const outcome = g.book(90_000);
    await new Promise((r) => setTimeout(r, 10_000));
    await redis.start();
    expect(await outcome).toMatch(/^Booking confirmed!/);
    await finalChecks(stack, 'Redis killed during a booking, restarted 10 s later', { inbound: g.ids });
  }, 150_000);
});
