import { createHmac, hkdfSync } from 'node:crypto';
import request from 'supertest';
import { englishDate, spanishDate } from '../../dev/dates';
import { waitFor } from '../../dev/process';
import { createAdminToken } from '../../lib/db/tokens';
import { createGuestRefs } from '../../lib/guest-refs';
import type { Figures, TenantAnalytics } from '../../lib/db/interactions';
import { normalizeForHash } from '../../lib/interactions';
import { startStack, type Stack } from '../helpers/stack';
import type { TestTenant } from '../helpers/tenants';
import { loadFixture, postSigned, textWebhook, uniqueMessageId, uniqueWaId } from '../helpers/webhooks';

/**
 * The analytics after a scripted two days of conversations, through the real API, worker and stand-ins: every figure
 * of `GET /admin/tenants/:id/analytics` checked against the script. The hotel is in Mexico City (UTC-6 all year), so
 * a message written at 20:00 local time on day 1 (02:00 UTC on day 2) shows that days are the hotel's own.
 *
 * First-response time runs from the conversation taking the message in to WhatsApp accepting the first reply; the
 * script holds some replies at the WhatsApp stand-in (2 s, 6 s), and each message's time must lie between what was
 * injected and what the test itself saw from posting the webhook to the reply arriving.
 */
let stack: Stack;
let hotel: TestTenant;
let other: TestTenant;

const timezone = 'America/Mexico_City';
/** Today in the hotel's time zone, YYYY-MM-DD. */
const hotelToday = () =>
  new Intl.DateTimeFormat('en-CA', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(
    new Date(),
  );
const shift = (date: string, days: number) =>
  new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
const day1 = shift(hotelToday(), -3);
const day2 = shift(hotelToday(), -2);
const day3 = shift(hotelToday(), -1);
/** Meta's timestamp (Unix seconds) of a local time in Mexico City (UTC-6, no daylight saving since 2022). */
const at = (date: string, time: string) => Date.parse(`${date}T${time}:00-06:00`) / 1000;

/** A stay two to three weeks ahead of now, so the PMS stand-in has rooms whatever the day. */
function stay(offsetDays: number) {
  const checkIn = new Date(Date.now() + offsetDays * 86_400_000);
  return { checkIn, checkOut: new Date(checkIn.getTime() + 2 * 86_400_000) };
}

beforeAll(async () => {
  stack = await startStack({ config: { PMS_BREAKER_CONSECUTIVE_FAILURES: '50' } });
  hotel = await stack.tenant({ name: 'Hotel Día', locale: 'es', timezone, pmsHotelId: 1 });
  other = await stack.tenant({ name: 'Hotel Otro', locale: 'es', timezone });
}, 60_000);

afterAll(() => stack?.stop());

/** What the test saw of one guest message: its id, and the window its first reply arrived in. */
interface Sent {
  id: string;
  postedAt: number;
  repliedAt?: number;
  /** Latency held at the WhatsApp stand-in for its reply. */
  injectedMs: number;
}

const repliesTo = (waId: string) => stack.whatsapp.sent.filter((m) => m.to === waId);

/** Posts a guest's text as Meta would, at the scripted time, and waits for the reply when one is expected. */
async function say(
  tenant: TestTenant,
  from: string,
  body: string,
  timestamp: number,
  { replies = 1, injectedMs = 0, id = uniqueMessageId() }: { replies?: number; injectedMs?: number; id?: string } = {},
): Promise<Sent> {
  const before = repliesTo(from).length;
  if (injectedMs > 0) stack.whatsapp.inject({ kind: 'latency', ms: injectedMs });
  const sent: Sent = { id, postedAt: Date.now(), injectedMs };
  await postSigned(stack.app, textWebhook({ phoneNumberId: tenant.phoneNumberId, from, id, body, timestamp }));
  if (replies > 0) {
    await waitFor(`the reply to "${body}"`, () => repliesTo(from).length >= before + replies, { intervalMs: 20 });
    sent.repliedAt = Date.now();
  }
  return sent;
}

/** Meta's reaction example from `from` to the tenant's number, at the scripted time. */
async function react(tenant: TestTenant, from: string, timestamp: number): Promise<string> {
  const payload = loadFixture('reaction') as any;
  const value = payload.entry[0].changes[0].value;
  value.metadata.phone_number_id = tenant.phoneNumberId;
  value.contacts[0].wa_id = from;
  const message = value.messages[0];
  message.from = from;
  message.id = uniqueMessageId();
  message.timestamp = String(timestamp);
  await postSigned(stack.app, payload);
  return message.id as string;
}

interface Row {
  direction: string;
  message_id: string | null;
  outcome: string;
  latency_ms: number | null;
  text_hash: string | null;
  booking_outcome: string | null;
}
const rows = async (tenantId: string) =>
  (
    await stack.worker.db.query<Row>(
      `SELECT direction, message_id, outcome, latency_ms, text_hash, booking_outcome
         FROM interactions WHERE tenant_id = $1 ORDER BY id`,
      [tenantId],
    )
  ).rows;
const inbound = async (tenantId: string, messageId: string) =>
  (await rows(tenantId)).find((r) => r.direction === 'in' && r.message_id === messageId);

async function token(scope: 'admin' | 'monitoring', tenantId: string | null = null): Promise<string> {
  return (await createAdminToken(stack.worker.db, { name: `analytics-${scope}`, scope, tenantId }, 'test')).token;
}

const analytics = (tenantId: string, bearer: string, query = `from=${day1}&to=${day3}`) =>
  request(stack.app.callback())
    .get(`/admin/tenants/${tenantId}/analytics?${query}`)
    .set('authorization', `Bearer ${bearer}`);

/** Nearest-rank percentile, as the endpoint computes it. */
function nearestRank(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil(p * sorted.length) - 1]!;
}

const zeroFigures = (): Figures => ({
  messagesIn: 0,
  messagesOut: 0,
  duplicatesDropped: 0,
  intents: {},
  types: {},
  outcomes: { answered: 0, handed_off: 0, failed: 0, no_reply: 0 },
  firstResponseMs: { count: 0, median: null, p95: null },
  conversations: 0,
  handedOffConversations: 0,
  handoffRate: null,
  bookings: { confirmed: 0, failed: 0, unavailable: 0, cancelled: 0 },
});

it('answers, per day and in the hotel time zone, every figure the scripted conversations produce', async () => {
  const [g1, g2, g3, g4, g5, g7] = [uniqueWaId(), uniqueWaId(), uniqueWaId(), uniqueWaId(), uniqueWaId(), uniqueWaId()];
  const booked = stay(14);
  const failing = stay(18);
  const timed: Sent[] = [];

  // ---- Day 1 ----
  // Guest 1 greets, asks for rooms and books the first one offered: the saga confirms.
  timed.push(await say(hotel, g1, 'Hola', at(day1, '10:00')));
  timed.push(
    await say(
      hotel,
      g1,
      `¿Tienen habitación del ${spanishDate(booked.checkIn)} al ${spanishDate(booked.checkOut)} para 2 adultos?`,
      at(day1, '10:01'),
    ),
  );
  expect(repliesTo(g1).at(-1)?.text).toContain('Habitaciones disponibles');
  timed.push(await say(hotel, g1, '1', at(day1, '10:02')));
  expect(repliesTo(g1).at(-1)?.text).toMatch(/^¡Reserva confirmada!/);
  // Guest 2 asks for a person (handed off); Meta redelivers that message (dropped); then thanks, answered 2 s late.
  const person = await say(hotel, g2, 'Quiero hablar con una persona', at(day1, '11:00'));
  timed.push(person);
  await postSigned(
    stack.app,
    textWebhook({
      phoneNumberId: hotel.phoneNumberId,
      from: g2,
      id: person.id,
      body: 'Quiero hablar con una persona',
      timestamp: at(day1, '11:00'),
    }),
  );
  timed.push(await say(hotel, g2, 'Gracias', at(day1, '11:05'), { injectedMs: 2_000 }));
  // Guest 3 writes at 20:00 in Mexico City, 02:00 UTC the next day: still day 1 for the hotel. Answered 6 s late.
  timed.push(await say(hotel, g3, 'Hello', at(day1, '20:00'), { injectedMs: 6_000 }));
  // Another hotel's guest, the same day: never in this hotel's figures.
  await say(other, g7, 'Hola', at(day1, '12:00'));

  // ---- Day 2 ----
  timed.push(await say(hotel, g1, 'Gracias', at(day2, '09:00')));
  // Guest 4 asks in English and books, but the PMS refuses the booking: the saga compensates and says so.
  timed.push(
    await say(
      hotel,
      g4,
      `Hi, do you have a room from ${englishDate(failing.checkIn)} to ${englishDate(failing.checkOut)} for 2 adults?`,
      at(day2, '10:00'),
    ),
  );
  stack.pms.inject({ kind: 'error', status: 400, message: 'Refused', match: { method: 'POST' } }, 1000);
  try {
    timed.push(await say(hotel, g4, '1', at(day2, '10:01')));
  } finally {
    stack.pms.clearFaults();
  }
  expect(repliesTo(g4).at(-1)?.text).toMatch(/^We could not complete your booking/);
  // Guest 5 cannot be reached (WhatsApp refuses every message to them): the greeting's reply fails. Their reaction
  // gets no reply by design.
  stack.whatsapp.undeliverable.add(g5);
  const unreachable = await say(hotel, g5, 'Hola', at(day2, '11:00'), { replies: 0 });
  await waitFor(
    'the failed reply recorded',
    async () => (await inbound(hotel.id, unreachable.id))?.outcome === 'failed',
  );
  const reaction = await react(hotel, g5, at(day2, '11:01'));
  await waitFor('the reaction recorded', async () => (await inbound(hotel.id, reaction)) !== undefined);

  // ---- What the endpoint answers, once the outbox has reached Postgres ----
  const admin = await token('admin');
  let body: TenantAnalytics | undefined;
  await waitFor(
    'every row in Postgres',
    async () => {
      body = (await analytics(hotel.id, admin).expect(200)).body as TenantAnalytics;
      const total = body.total;
      return total.messagesIn === 11 && total.messagesOut === 9 && total.firstResponseMs.count === 9;
    },
    { timeoutMs: 30_000 },
  );
  const answer = body!;
  expect(answer).toMatchObject({ tenantId: hotel.id, timezone, from: day1, to: day3 });
  expect(answer.days.map((d) => d.date)).toEqual([day1, day2, day3]);

  // Each message's first-response time lies between what the stand-in held and what the test saw.
  const stored = await rows(hotel.id);
  const latencyOf = (id: string) =>
    stored.find((r) => r.direction === 'in' && r.message_id === id && r.outcome !== 'duplicate_dropped')?.latency_ms;
  for (const sent of timed) {
    const latency = latencyOf(sent.id);
    expect(latency).toEqual(expect.any(Number));
    expect(latency).toBeGreaterThanOrEqual(sent.injectedMs);
    expect(latency).toBeLessThanOrEqual(sent.repliedAt! - sent.postedAt + 500);
  }
  expect(latencyOf(unreachable.id)).toBeNull();
  const latencies = (from: number, to: number) => timed.slice(from, to).map((s) => latencyOf(s.id)!);
  const day1Latencies = latencies(0, 6);
  const day2Latencies = latencies(6, 9);

  const [d1, d2, d3] = answer.days;
  expect(d1).toEqual({
    date: day1,
    messagesIn: 6,
    messagesOut: 6,
    duplicatesDropped: 1,
    intents: { greeting: 2, availability: 1, book: 1, human: 1, thanks: 1 },
    types: { text: 6 },
    outcomes: { answered: 5, handed_off: 1, failed: 0, no_reply: 0 },
    firstResponseMs: {
      count: 6,
      median: nearestRank(day1Latencies, 0.5),
      p95: nearestRank(day1Latencies, 0.95),
    },
    conversations: 3,
    handedOffConversations: 1,
    handoffRate: 1 / 3,
    bookings: { confirmed: 1, failed: 0, unavailable: 0, cancelled: 0 },
  });
  // The slowest reply of day 1 is the one held 6 s: its time is the day's p95.
  expect(d1!.firstResponseMs.p95).toBe(latencyOf(timed[5]!.id));
  expect(d1!.firstResponseMs.p95).toBeGreaterThanOrEqual(6_000);
  expect(d2).toEqual({
    date: day2,
    messagesIn: 5,
    messagesOut: 3,
    duplicatesDropped: 0,
    intents: { thanks: 1, availability: 1, book: 1, greeting: 1 },
    types: { text: 4, reaction: 1 },
    outcomes: { answered: 3, handed_off: 0, failed: 1, no_reply: 1 },
    firstResponseMs: {
      count: 3,
      median: nearestRank(day2Latencies, 0.5),
      p95: nearestRank(day2Latencies, 0.95),
    },
    conversations: 3,
    handedOffConversations: 0,
    handoffRate: 0,
    bookings: { confirmed: 0, failed: 1, unavailable: 0, cancelled: 0 },
  });
  expect(d3).toEqual({ date: day3, ...zeroFigures() });
  expect(answer.total).toEqual({
    messagesIn: 11,
    messagesOut: 9,
    duplicatesDropped: 1,
    intents: { greeting: 3, availability: 2, book: 2, human: 1, thanks: 2 },
    types: { text: 10, reaction: 1 },
    outcomes: { answered: 8, handed_off: 1, failed: 1, no_reply: 1 },
    firstResponseMs: {
      count: 9,
      median: nearestRank([...day1Latencies, ...day2Latencies], 0.5),
      p95: nearestRank([...day1Latencies, ...day2Latencies], 0.95),
    },
    // Guest 1 wrote on both days: one conversation over the range.
    conversations: 5,
    handedOffConversations: 1,
    handoffRate: 1 / 5,
    bookings: { confirmed: 1, failed: 1, unavailable: 0, cancelled: 0 },
  });

  // No text is stored: its keyed hash, the same for the same words ("Gracias" twice), not a plain hash of them.
  const key = Buffer.from(
    hkdfSync('sha256', stack.config.guestRefKey, 'hotel-messaging', 'interaction text hash v1', 32),
  );
  const gracias = createHmac('sha256', key).update(normalizeForHash('Gracias')).digest('hex');
  expect(stored.filter((r) => r.text_hash === gracias)).toHaveLength(2);
  const dump = JSON.stringify(
    await stack.worker.db.query('SELECT * FROM interactions WHERE tenant_id = $1', [hotel.id]),
  );
  for (const words of ['Quiero hablar', 'Gracias', 'Hola', g1, g2]) expect(dump).not.toContain(words);
  // A conversation is named by the guest's keyed reference, whoever wrote the row (the saga's confirmation too).
  const refs = await stack.worker.db.query<{ direction: string; conversation_ref: string }>(
    'SELECT direction, conversation_ref FROM interactions WHERE tenant_id = $1 AND conversation_ref LIKE $2',
    [hotel.id, `wa:${hotel.phoneNumberId}:${createGuestRefs(stack.config.guestRefKey).of(g1)}`],
  );
  expect(refs.rows.map((r) => r.direction).sort()).toEqual(['in', 'in', 'in', 'in', 'out', 'out', 'out', 'out']);

  // The other hotel's guest is in its own figures only.
  const theirs = (await analytics(other.id, admin).expect(200)).body as TenantAnalytics;
  expect(theirs.total).toMatchObject({ messagesIn: 1, messagesOut: 1, conversations: 1 });
}, 240_000);

it('is tenant-scoped, monitoring tokens may read it, and a bad range is refused', async () => {
  const monitoring = await token('monitoring');
  expect((await analytics(hotel.id, monitoring).expect(200)).body).toMatchObject({ tenantId: hotel.id });
  const own = await token('monitoring', hotel.id);
  await analytics(hotel.id, own).expect(200);
  // Another tenant's token cannot tell this tenant from one that does not exist.
  const foreign = await token('admin', other.id);
  expect((await analytics(hotel.id, foreign).expect(404)).body.error.code).toBe('not_found');
  await analytics('no-such-hotel', await token('admin')).expect(404);
  await request(stack.app.callback()).get(`/admin/tenants/${hotel.id}/analytics`).expect(401);

  const admin = await token('admin');
  const refused = async (query: string) =>
    ((await analytics(hotel.id, admin, query).expect(400)).body as { error: { details: { fields: unknown[] } } }).error
      .details.fields;
  expect(await refused(`from=${day3}&to=${day1}`)).toEqual([
    expect.objectContaining({ in: 'query', path: 'from', message: 'must not be after `to`' }),
  ]);
  expect(await refused('from=2030-02-30&to=2030-03-01')).toEqual([
    expect.objectContaining({ in: 'query', path: 'from', message: 'must be a date that exists' }),
  ]);
  expect(await refused('from=2030-01-01&to=2031-06-01')).toEqual([
    expect.objectContaining({ path: 'from', message: 'the range must be at most 366 days' }),
  ]);
  await analytics(hotel.id, admin, 'from=yesterday').expect(400);
  await analytics(hotel.id, admin, 'days=3').expect(400);
  // Without a range: the last seven days, today included, in the hotel's time zone.
  const week = (await analytics(hotel.id, admin, '').expect(200)).body as TenantAnalytics;
  expect([week.from, week.to, week.days.length]).toEqual([shift(hotelToday(), -6), hotelToday(), 7]);
});
