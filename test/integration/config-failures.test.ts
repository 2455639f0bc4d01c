import { type Client } from '@temporalio/client';
import { englishDate } from '../../dev/dates';
import { OrderState, type PmsStandin } from '../../dev/pms-standin';
import { waitFor } from '../../dev/process';
import type { WhatsAppStandin } from '../../dev/whatsapp-standin';
import { createMetrics, type Metrics } from '../../lib/metrics';
import { bookingStatusQuery } from '../../lib/domain/booking';
import { stateQuery, type ConversationState } from '../../lib/domain/conversation';
import type { RunningWorker } from '../helpers/env';
import { startStack, type Stack } from '../helpers/stack';
import { createTestTenant, type TestTenant } from '../helpers/tenants';
import { postSigned, textWebhook, uniqueWaId, conversationIdFor } from '../helpers/webhooks';

/**
 * Configuration and auth failures (a secret reference to nothing, a revoked WhatsApp token, a refused PMS key) are
 * retried for CONFIG_FAILURE_RETRY_SECONDS (3 s here), then recorded: the conversation flags staff and keeps
 * answering, a booking compensates instead of hanging, and config_failures_total moves.
 */
const pmsKey = 'CFGPMSKEY0123456789ABCDEFGHIJKLM';
const tenantToken = 'tenant-own-token-0123456789';
let stack: Stack;
let pms: PmsStandin;
let whatsapp: WhatsAppStandin;
let temporal: Client;
let worker: RunningWorker;
let app: Stack['app'];
let metrics: Metrics;
/** Tenants and the secret names the worker's environment holds for them. */
let missingSecret: TestTenant;
let revokedToken: TestTenant;
let wrongPmsKey: TestTenant;
let booking: TestTenant;
const secrets: Record<string, string> = {};

/** A reference inside the tenant's own namespace (`env:TENANT_<ID>_<NAME>`). */
const ref = (t: { id: string }, name: string) => `TENANT_${t.id.toUpperCase().replace(/-/g, '_')}_${name}`;

beforeAll(async () => {
  metrics = createMetrics();
  stack = await startStack({
    pms: { webserviceKey: pmsKey },
    config: { CONFIG_FAILURE_RETRY_SECONDS: '3', BOOKING_PMS_TIMEOUT_SECONDS: '60' },
    secrets,
    metrics,
  });
  ({ pms, whatsapp, temporal, worker, app } = stack);
  const db = worker.db;
  const pmsOf = (credentialsRef: string) => ({ baseUrl: pms.url, credentialsRef, hotelId: 1 });
  missingSecret = await createTestTenant(db, { locale: 'en' });
  await db.query('UPDATE tenants SET whatsapp_token_ref = $2 WHERE id = $1', [
    missingSecret.id,
    `env:${ref(missingSecret, 'WA_TOKEN')}`,
  ]);
  secrets[ref(missingSecret, 'WA_TOKEN_FIXED')] = tenantToken;
  revokedToken = await createTestTenant(db, { locale: 'en' });
  await db.query('UPDATE tenants SET whatsapp_token_ref = $2 WHERE id = $1', [
    revokedToken.id,
    `env:${ref(revokedToken, 'WA_TOKEN')}`,
  ]);
  secrets[ref(revokedToken, 'WA_TOKEN')] = tenantToken;
  wrongPmsKey = await createTestTenant(db, { locale: 'en' });
  await db.query('UPDATE tenants SET pms_base_url = $2, pms_credentials_ref = $3, pms_hotel_id = 1 WHERE id = $1', [
    wrongPmsKey.id,
    pms.url,
    `env:${ref(wrongPmsKey, 'PMS_KEY')}`,
  ]);
  secrets[ref(wrongPmsKey, 'PMS_KEY')] = 'WRONGKEY0123456789ABCDEFGHIJKLMN';
  booking = await createTestTenant(db, { locale: 'en', pms: pmsOf(`env:${ref({ id: 'x' }, 'UNUSED')}`) });
  await db.query('UPDATE tenants SET whatsapp_token_ref = $2, pms_credentials_ref = $3 WHERE id = $1', [
    booking.id,
    `env:${ref(booking, 'WA_TOKEN')}`,
    `env:${ref(booking, 'PMS_KEY')}`,
  ]);
  secrets[ref(booking, 'WA_TOKEN')] = tenantToken;
  secrets[ref(booking, 'PMS_KEY')] = pmsKey;
  whatsapp.acceptedTokens.add(tenantToken);
  await worker.tenants.reload();
});

afterAll(() => stack?.stop());

async function say(tenant: TestTenant, from: string, body: string): Promise<void> {
  await postSigned(
    app,
    textWebhook({ phoneNumberId: tenant.phoneNumberId, from, body, timestamp: Math.floor(Date.now() / 1000) }),
  );
}
const repliesTo = (waId: string) => whatsapp.sent.filter((m) => m.to === waId).map((m) => m.text ?? '');
const stateOf = (tenant: TestTenant, waId: string): Promise<ConversationState> =>
  temporal.workflow.getHandle(conversationIdFor(tenant.phoneNumberId, waId)).query(stateQuery);

/** config_failures_total for one tenant and kind, as /metrics shows it. */
async function configFailures(tenant: TestTenant, kind: string): Promise<number> {
  const text = await metrics.registry.metrics();
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`config_failures_total{tenant="${tenant.id}",kind="${kind}"}`));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

async function waitForConfigFailure(tenant: TestTenant, from: string, kind: string): Promise<ConversationState> {
  await waitFor(
    'the configuration failure recorded',
    async () => (await stateOf(tenant, from)).configFailure?.kind === kind,
    {
      timeoutMs: 30_000,
    },
  );
  return stateOf(tenant, from);
}

it('a reference to an unset variable: retried for the bound, then recorded, staff flagged; answers once it is fixed', async () => {
  const from = uniqueWaId();
  await say(missingSecret, from, 'Hello');
  const state = await waitForConfigFailure(missingSecret, from, 'secret');
  expect(state.staffRequested).toBe(true);
  expect(state.lastMessages.find((m) => m.direction === 'out')).toMatchObject({ status: 'failed' });
  expect(state.lastMessages.find((m) => m.direction === 'out')?.error).toMatch(/ConfigurationFailure/);
  expect(await configFailures(missingSecret, 'secret')).toBeGreaterThan(0);
  // The operator points the tenant at a variable that exists; the next message is answered with it.
  await worker.db.query('UPDATE tenants SET whatsapp_token_ref = $2 WHERE id = $1', [
    missingSecret.id,
    `env:${ref(missingSecret, 'WA_TOKEN_FIXED')}`,
  ]);
  await worker.tenants.reload();
  await say(missingSecret, from, 'Hello again');
  await waitFor('the next reply', () => repliesTo(from).length === 1, { timeoutMs: 20_000 });
});

it('a revoked WhatsApp token (401, code 190): recorded, staff flagged, and later messages are answered again', async () => {
  const from = uniqueWaId();
  whatsapp.acceptedTokens.delete(tenantToken);
  try {
    await say(revokedToken, from, 'Hello');
    const state = await waitForConfigFailure(revokedToken, from, 'whatsapp_auth');
    expect(state.staffRequested).toBe(true);
    expect(await configFailures(revokedToken, 'whatsapp_auth')).toBeGreaterThan(0);
  } finally {
    whatsapp.acceptedTokens.add(tenantToken);
  }
  await say(revokedToken, from, 'Hello again');
  await waitFor('the next reply', () => repliesTo(from).length === 1, { timeoutMs: 20_000 });
});

it('a PMS that refuses the key (401) or the request (403): the guest is told, staff flagged, the next message answered', async () => {
  const from = uniqueWaId();
  const { checkIn, checkOut } = stay(15, 2);
  await say(
    wrongPmsKey,
    from,
    `Do you have a room from ${englishDate(checkIn)} to ${englishDate(checkOut)} for 2 adults?`,
  );
  const state = await waitForConfigFailure(wrongPmsKey, from, 'pms_auth');
  expect(state.staffRequested).toBe(true);
  await waitFor('the answer', () => repliesTo(from).length === 1);
  expect(await configFailures(wrongPmsKey, 'pms_auth')).toBeGreaterThan(0);

  // 403: the key is known but not allowed this resource.
  const before = await configFailures(booking, 'pms_auth');
  const other = uniqueWaId();
  pms.inject({ kind: 'error', status: 403, message: 'Resource not allowed for this key' }, 1000);
  try {
    await say(
      booking,
      other,
      `Do you have a room from ${englishDate(checkIn)} to ${englishDate(checkOut)} for 2 adults?`,
    );
    await waitForConfigFailure(booking, other, 'pms_auth');
  } finally {
    pms.clearFaults();
  }
  expect(await configFailures(booking, 'pms_auth')).toBeGreaterThan(before);
  await say(wrongPmsKey, from, 'Thanks!');
  await waitFor('the next reply', () => repliesTo(from).length === 2);
});

it('a booking whose confirmation cannot be sent (token revoked) compensates instead of staying in confirming', async () => {
  const from = uniqueWaId();
  const { checkIn, checkOut } = stay(25, 1);
  await say(booking, from, `Do you have a room from ${englishDate(checkIn)} to ${englishDate(checkOut)} for 2 adults?`);
  await waitFor('the offer', () => repliesTo(from).length === 1);
  // The PMS is slow to book, and meanwhile the tenant's token is revoked.
  pms.inject({ kind: 'latency', ms: 2_000, match: { method: 'POST', resource: 'bookings' } });
  await say(booking, from, '1');
  const conversation = temporal.workflow.getHandle(conversationIdFor(booking.phoneNumberId, from));
  await waitFor('the booking at the PMS step', async () => {
    const reference = (await conversation.query(stateQuery)).booking?.reference;
    return (
      reference !== undefined &&
      (await temporal.workflow.getHandle(reference).query(bookingStatusQuery)).step === 'booking'
    );
  });
  whatsapp.acceptedTokens.delete(tenantToken);
  try {
    const reference = (await conversation.query(stateQuery)).booking!.reference;
    const outcome = await temporal.workflow.getHandle(reference).result();
    expect(outcome).toMatchObject({ kind: 'failed' });
    expect((await temporal.workflow.getHandle(reference).query(bookingStatusQuery)).step).toBe('failed');
    // Nobody could be told, so nothing stays booked.
    expect(pms.bookings.filter((b) => b.source === reference).map((b) => b.currentState)).toEqual([
      OrderState.cancelled,
    ]);
    const state = await waitForConfigFailure(booking, from, 'whatsapp_auth');
    expect(state.staffRequested).toBe(true);
    expect(state.booking?.status).toBe('failed');
  } finally {
    whatsapp.acceptedTokens.add(tenantToken);
  }
  await say(booking, from, 'Hello?');
  await waitFor('the next reply', () => repliesTo(from).length === 2, { timeoutMs: 20_000 });
}, 90_000);

it('a booking the PMS refuses to create (401) compensates and tells the guest', async () => {
  const from = uniqueWaId();
  const { checkIn, checkOut } = stay(35, 1);
  await say(booking, from, `Do you have a room from ${englishDate(checkIn)} to ${englishDate(checkOut)} for 2 adults?`);
  await waitFor('the offer', () => repliesTo(from).length === 1);
  pms.inject(
    { kind: 'error', status: 401, message: 'Authentification key is not active', match: { method: 'POST' } },
    1000,
  );
  try {
    await say(booking, from, '1');
    await waitFor('the guest told', () => repliesTo(from).length === 2, { timeoutMs: 30_000 });
  } finally {
    pms.clearFaults();
  }
  expect(repliesTo(from)[1]).toMatch(/^We could not complete your booking/);
  const state = await waitForConfigFailure(booking, from, 'pms_auth');
  expect(state.booking?.status).toBe('failed');
  expect(state.staffRequested).toBe(true);
}, 60_000);

/** A stay some weeks ahead, so tests do not depend on today's date. */
function stay(offsetDays: number, nights: number): { checkIn: Date; checkOut: Date } {
  const checkIn = new Date(Date.now() + offsetDays * 86_400_000);
  return { checkIn, checkOut: new Date(checkIn.getTime() + nights * 86_400_000) };
}
