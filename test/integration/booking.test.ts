import { type Client } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { createQloAppsClient, createShopCache } from '../../clients/qloapps';
import { demoHotels, OrderState, type PmsStandin, type StandinHotel } from '../../dev/pms-standin';
import { englishDate, spanishDate } from '../../dev/dates';
import { waitFor } from '../../dev/process';
import type { WhatsAppStandin } from '../../dev/whatsapp-standin';
import type { Config } from '../../lib/config';
import { createHttpAgent } from '../../lib/http';
import { BookingReference } from '../../lib/domain/search-attributes';
import { bookingStatusQuery } from '../../lib/domain/booking';
import { booking } from '../../workflows/booking';
import { stateQuery } from '../../lib/domain/conversation';
import type { RunningWorker } from '../helpers/env';
import { startStack, type Stack } from '../helpers/stack';
import type { TestTenant } from '../helpers/tenants';
import { textWebhook, uniqueMessageId, uniqueWaId, postSigned, conversationIdFor } from '../helpers/webhooks';

/**
 * The booking saga end to end: webhook → conversation → availability at the PMS stand-in (QloApps
 * protocol) → booking child workflow (Redis hold, PMS booking, confirmation, release) → WhatsApp stand-in.
 */
const pmsKey = 'TESTPMSKEY0123456789ABCDEFGHIJKL';
const singleRoomHotel: StandinHotel = {
  id: 7,
  name: 'Hotel Uno',
  currency: 'EUR',
  taxRate: 0.1,
  roomTypes: [
    { id: 70, name: 'Only Room', pricePerNight: 100, maxAdults: 2, maxChildren: 0, rooms: [{ id: 700, number: '1' }] },
  ],
};
/** The stand-in's demo hotel (id 1, three room types) and a hotel with a single room. */
const hotels = (): StandinHotel[] => [...demoHotels(), singleRoomHotel];

let stack: Stack;
let pmsServer: PmsStandin;
let whatsapp: WhatsAppStandin;
let config: Config;
let temporal: Client;
let worker: RunningWorker;
let app: Stack['app'];
let demo: TestTenant;
let uno: TestTenant;

beforeAll(async () => {
  stack = await startStack({
    pms: { webserviceKey: pmsKey, hotels: hotels() },
    config: {
      PMS_BREAKER_CONSECUTIVE_FAILURES: '3',
      PMS_BREAKER_HALF_OPEN_AFTER_MS: '2000',
      // Each PMS request once, so the breaker test below counts failed requests one by one.
      PMS_REQUEST_ATTEMPTS: '1',
      BOOKING_PMS_TIMEOUT_SECONDS: '15',
      AVAILABILITY_CACHE_TTL_SECONDS: '1',
    },
  });
  ({ pms: pmsServer, whatsapp, config, temporal, worker, app } = stack);
  demo = await stack.tenant({ name: 'Hotel Demo Mar', locale: 'es', pmsHotelId: 1 });
  uno = await stack.tenant({ name: 'Hotel Uno', locale: 'en', pmsHotelId: 7 });
});

afterAll(() => stack?.stop());

afterEach(() => pmsServer.reset());

async function say(tenant: TestTenant, from: string, body: string): Promise<void> {
  const raw = JSON.stringify(
    textWebhook({
      phoneNumberId: tenant.phoneNumberId,
      from,
      id: uniqueMessageId(),
      body,
      timestamp: Math.floor(Date.now() / 1000),
    }),
  );
  await postSigned(app, raw);
}

const repliesTo = (waId: string) => whatsapp.sent.filter((m) => m.to === waId).map((m) => m.text ?? '');
const waitReplies = (waId: string, n: number, timeoutMs = 30_000) =>
  waitFor(`${n} replies`, () => repliesTo(waId).length >= n, { timeoutMs, intervalMs: 100 });
/** The hold audit of a booking, once the worker's flusher has moved both events from the outbox to Postgres. */
async function holdEvents(reference: string): Promise<string[]> {
  const read = async () =>
    (
      await worker.db.query<{ event: string }>('SELECT event FROM room_hold_events WHERE owner = $1 ORDER BY at, id', [
        reference,
      ])
    ).rows.map((r) => r.event);
  await waitFor('the hold audit in Postgres', async () => (await read()).length >= 2);
  return read();
}
const liveBookings = (hotelId: number) =>
  pmsServer.bookings.filter((b) => b.hotelId === hotelId && b.currentState !== OrderState.cancelled);

/** A stay a week or two ahead, so tests do not depend on today's date. */
function stay(offsetDays: number, nights: number): { checkIn: Date; checkOut: Date } {
  const checkIn = new Date(Date.now() + offsetDays * 86_400_000);
  return { checkIn, checkOut: new Date(checkIn.getTime() + nights * 86_400_000) };
}
const es = spanishDate;
const en = englishDate;

it('books a room in Spanish: availability, choice, confirmation, one booking at the PMS, hold released', async () => {
  const from = uniqueWaId();
  const { checkIn, checkOut } = stay(10, 2);
  await say(demo, from, `Hola, ¿tienen habitación del ${es(checkIn)} al ${es(checkOut)} para 2 adultos?`);
  await waitReplies(from, 1);
  expect(repliesTo(from)[0]).toContain('Habitaciones disponibles');
  expect(repliesTo(from)[0]).toContain('1. Standard Double');
  await say(demo, from, '1');
  await waitReplies(from, 2);
  expect(repliesTo(from)[1]).toMatch(/^¡Reserva confirmada! Standard Double.*Tu referencia es booking-/);

  const handle = temporal.workflow.getHandle(conversationIdFor(demo.phoneNumberId, from));
  await waitFor(
    'the conversation to settle the booking',
    async () => (await handle.query(stateQuery)).booking?.status === 'confirmed',
  );
  const state = await handle.query(stateQuery);
  expect(liveBookings(1)).toHaveLength(1);
  expect(JSON.stringify(liveBookings(1)[0])).toContain(state.booking!.reference);
  expect((await handle.describe()).typedSearchAttributes.get(BookingReference)).toBe(state.booking!.reference);
  expect(await holdEvents(state.booking!.reference)).toEqual(['acquired', 'released']);
});

it('books a room in English', async () => {
  const from = uniqueWaId();
  const { checkIn, checkOut } = stay(20, 3);
  await say(demo, from, `Hi, do you have a room from ${en(checkIn)} to ${en(checkOut)} for 2 adults?`);
  await waitReplies(from, 1);
  expect(repliesTo(from)[0]).toContain('Rooms available');
  await say(demo, from, '2');
  await waitReplies(from, 2);
  expect(repliesTo(from)[1]).toMatch(/^Booking confirmed! Superior Twin/);
});

it('confirms the price the PMS booked, which is the price quoted (issue 15, point 10)', async () => {
  const from = uniqueWaId();
  const { checkIn, checkOut } = stay(25, 3);
  await say(demo, from, `Hi, do you have a room from ${en(checkIn)} to ${en(checkOut)} for 2 adults?`);
  await waitReplies(from, 1);
  // Superior Twin: 110 a night and the 5 cleaning fee QloApps adds to each room, + 10 %.
  expect(repliesTo(from)[0]).toContain('2. Superior Twin (2 free), 126.5 EUR per night');
  await say(demo, from, '2');
  await waitReplies(from, 2);
  const [order] = liveBookings(1).filter((b) => b.customer.phone === `+${from}`);
  // What the order costs at the PMS, as its orders resource says (rooms, fees and tax).
  const orders = (await (
    await fetch(
      `${pmsServer.url}/api/orders?output_format=JSON&filter[id]=[${order!.id}]&display=[total_paid_tax_incl]`,
      {
        headers: { authorization: `Basic ${Buffer.from(`${pmsKey}:`).toString('base64')}` },
      },
    )
  ).json()) as { orders: { total_paid_tax_incl: string }[] };
  const booked = Number(orders.orders[0]!.total_paid_tax_incl);
  expect(booked).toBeCloseTo(126.5 * 3, 6);
  expect(repliesTo(from)[1]).toMatch(
    new RegExp(`^Booking confirmed! Superior Twin, .* Total: ${booked} EUR\\. Your reference`),
  );
});

it('50 guests racing for the same room: exactly one booking, the others are told it is gone', async () => {
  const guests = Array.from({ length: 50 }, () => uniqueWaId());
  const { checkIn, checkOut } = stay(30, 2);
  await Promise.all(
    guests.map((g) => say(uno, g, `Do you have a room from ${en(checkIn)} to ${en(checkOut)} for 2 adults?`)),
  );
  await waitFor('50 offers', () => guests.every((g) => repliesTo(g).length >= 1), {
    timeoutMs: 90_000,
    intervalMs: 250,
  });
  expect(guests.every((g) => repliesTo(g)[0]!.includes('1. Only Room'))).toBe(true);
  // Everybody was offered the one room; now everybody takes it at once.
  await Promise.all(guests.map((g) => say(uno, g, '1')));
  await waitFor('50 answers', () => guests.every((g) => repliesTo(g).length >= 2), {
    timeoutMs: 90_000,
    intervalMs: 250,
  });
  const answers = guests.map((g) => repliesTo(g)[1]!);
  expect(answers.filter((a) => a.startsWith('Booking confirmed!'))).toHaveLength(1);
  expect(answers.filter((a) => a.startsWith('Sorry, the Only Room is no longer available'))).toHaveLength(49);
  expect(liveBookings(7)).toHaveLength(1);
}, 180_000);

it('while the PMS fails, the breaker paces the retries; the booking completes when it recovers', async () => {
  const from = uniqueWaId();
  const { checkIn, checkOut } = stay(40, 1);
  await say(demo, from, `Do you have a room from ${en(checkIn)} to ${en(checkOut)} for 2 adults?`);
  await waitReplies(from, 1);
  // Every PMS request fails four times in a row: three trip the breaker (PMS_BREAKER_CONSECUTIVE_FAILURES),
  // the fourth is the half-open trial call after 2 s, which fails, so the breaker waits twice as long (4 s).
  pmsServer.inject({ kind: 'error', status: 503 }, 4);
  await say(demo, from, '1');
  const conversation = temporal.workflow.getHandle(conversationIdFor(demo.phoneNumberId, from));
  await waitFor('the booking to start', async () => (await conversation.query(stateQuery)).booking !== undefined);
  const reference = (await conversation.query(stateQuery)).booking!.reference;
  const saga = temporal.workflow.getHandle(reference);
  await waitReplies(from, 2, 30_000);
  const outcome = await saga.result();
  expect(outcome).toMatchObject({ kind: 'confirmed' });
  expect(repliesTo(from)[1]).toMatch(/^Booking confirmed!/);
  // From the saga's history: the attempt that succeeded came after one the open breaker refused at once,
  // with the retry delay set to the breaker's remaining open time (not Temporal's own backoff).
  const history = await saga.fetchHistory();
  const scheduled = history.events?.find(
    (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'createBooking',
  );
  const started = history.events?.find(
    (e) => e.activityTaskStartedEventAttributes?.scheduledEventId?.toString() === scheduled?.eventId?.toString(),
  )?.activityTaskStartedEventAttributes;
  expect(started?.lastFailure?.applicationFailureInfo?.type).toBe('PmsUnavailable');
  const delay = started?.lastFailure?.applicationFailureInfo?.nextRetryDelay;
  const delayMs = Number(delay?.seconds ?? 0) * 1000 + Math.round((delay?.nanos ?? 0) / 1e6);
  expect(delayMs).toBeGreaterThan(0);
  expect(delayMs).toBeGreaterThan(2_000);
  expect(delayMs).toBeLessThanOrEqual(4_000);
  // Four failing requests cost only a handful of attempts: the breaker, not a tight loop, set the pace.
  expect(Number(started?.attempt)).toBeLessThanOrEqual(8);
  expect(await saga.query(bookingStatusQuery)).toMatchObject({ step: 'confirmed' });
});

it('when the PMS keeps failing after the hold, compensation releases the hold and the guest is told', async () => {
  const from = uniqueWaId();
  const { checkIn, checkOut } = stay(50, 1);
  await say(demo, from, `Do you have a room from ${en(checkIn)} to ${en(checkOut)} for 2 adults?`);
  await waitReplies(from, 1);
  // Creating fails (retryably) for good; reading still works, so compensation can check what exists.
  pmsServer.inject({ kind: 'error', status: 503, match: { method: 'POST' } }, 1000);
  await say(demo, from, '1');
  await waitReplies(from, 2, 40_000);
  expect(repliesTo(from)[1]).toMatch(
    /^We could not complete your booking\. Nothing has been booked and the room has been released/,
  );
  const state = await temporal.workflow.getHandle(conversationIdFor(demo.phoneNumberId, from)).query(stateQuery);
  await waitFor(
    'the outcome',
    async () =>
      (await temporal.workflow.getHandle(conversationIdFor(demo.phoneNumberId, from)).query(stateQuery)).booking
        ?.status === 'failed',
  );
  expect(await holdEvents(state.booking!.reference)).toEqual(['acquired', 'released']);
  expect(liveBookings(1).filter((b) => JSON.stringify(b).includes(state.booking!.reference))).toHaveLength(0);
}, 60_000);

it('the guest can cancel while the booking runs: hold released, nothing booked, guest told', async () => {
  const from = uniqueWaId();
  const { checkIn, checkOut } = stay(60, 2);
  await say(demo, from, `Do you have a room from ${en(checkIn)} to ${en(checkOut)} for 2 adults?`);
  await waitReplies(from, 1);
  // Creating fails (retryably) for good; reading still works, so compensation can check what exists.
  pmsServer.inject({ kind: 'error', status: 503, match: { method: 'POST' } }, 1000);
  await say(demo, from, '1');
  const conversation = temporal.workflow.getHandle(conversationIdFor(demo.phoneNumberId, from));
  await waitFor('the booking to reach the PMS step', async () => {
    const reference = (await conversation.query(stateQuery)).booking?.reference;
    return (
      reference !== undefined &&
      (await temporal.workflow.getHandle(reference).query(bookingStatusQuery)).step === 'booking'
    );
  });
  await say(demo, from, 'Please cancel my booking');
  await waitReplies(from, 2, 30_000);
  expect(repliesTo(from)[1]).toBe('We have cancelled your booking. Nothing is booked in your name.');
  await waitFor('the outcome', async () => (await conversation.query(stateQuery)).booking?.status === 'cancelled');
  const reference = (await conversation.query(stateQuery)).booking!.reference;
  expect(await holdEvents(reference)).toEqual(['acquired', 'released']);
}, 60_000);

it('cancels a confirmed booking at the PMS when the guest asks afterwards', async () => {
  const from = uniqueWaId();
  const { checkIn, checkOut } = stay(70, 2);
  await say(demo, from, `Do you have a room from ${en(checkIn)} to ${en(checkOut)} for 2 adults?`);
  await waitReplies(from, 1);
  await say(demo, from, '1');
  await waitReplies(from, 2);
  expect(repliesTo(from)[1]).toMatch(/^Booking confirmed!/);
  const conversation = temporal.workflow.getHandle(conversationIdFor(demo.phoneNumberId, from));
  await waitFor(
    'the confirmed booking',
    async () => (await conversation.query(stateQuery)).booking?.status === 'confirmed',
  );
  const { reference } = (await conversation.query(stateQuery)).booking!;
  await say(demo, from, 'Please cancel my booking');
  await waitReplies(from, 3);
  expect(repliesTo(from)[2]).toBe('We have cancelled your booking. Nothing is booked in your name.');
  expect((await conversation.query(stateQuery)).booking?.status).toBe('cancelled');
  expect(
    pmsServer.bookings.filter((b) => JSON.stringify(b).includes(reference) && b.currentState !== OrderState.cancelled),
  ).toHaveLength(0);
});

it('compensation cancels every live order at the PMS that carries the booking reference', async () => {
  const from = uniqueWaId();
  const { checkIn, checkOut } = stay(80, 2);
  const [inDate, outDate] = [checkIn.toISOString().slice(0, 10), checkOut.toISOString().slice(0, 10)];
  const reference = `booking-${randomUUID()}`;
  // Two orders with our reference already at the PMS (say, two create attempts that raced): QloApps does not stop
  // a caller from giving two orders the same source, so the stand-in does not either.
  const http = createHttpAgent({ maxConnectionsPerOrigin: 2 });
  const qlo = createQloAppsClient({
    baseUrl: pmsServer.url,
    webserviceKey: pmsKey,
    hotelId: 1,
    timeoutMs: 5_000,
    maxResponseBytes: 1024 * 1024,
    dispatcher: http,
    cache: createShopCache({ ttlMs: 60_000 }),
  });
  for (const roomId of ['1', '2']) {
    const request = {
      reference,
      roomTypeId: '1',
      roomId,
      checkIn: inDate,
      checkOut: outDate,
      adults: 2,
      guestRef: 'g',
      guestWaId: from,
    };
    expect(await qlo.createBooking(request)).toMatchObject({ kind: 'booked' });
  }
  await http.close();
  expect(pmsServer.bookings.filter((b) => b.source === reference)).toHaveLength(2);
  // The guest cannot be told, so the booking is undone.
  whatsapp.undeliverable.add(from);
  const saga = await temporal.workflow.start(booking, {
    workflowId: reference,
    taskQueue: config.temporal.taskQueue,
    args: [
      {
        tenantId: demo.id,
        phoneNumberId: demo.phoneNumberId,
        waId: from,
        tokenRef: null,
        language: 'en',
        roomTypeId: '1',
        roomTypeName: 'Standard Double',
        roomIds: ['1'],
        checkIn: inDate,
        checkOut: outDate,
        adults: 2,
        holdTtlSeconds: 60,
        holdMaxExtensions: 1,
        pmsTimeoutSeconds: 15,
      },
    ],
  });
  expect(await saga.result()).toMatchObject({ kind: 'failed' });
  expect(pmsServer.bookings.filter((b) => b.source === reference).map((b) => b.currentState)).toEqual([
    OrderState.cancelled,
    OrderState.cancelled,
  ]);
});
