import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { randomUUID } from 'node:crypto';
import { createInteractionActivities } from '../../activities/interactions';
import { createWhatsAppActivities } from '../../activities/whatsapp';
import { createGraphClient } from '../../clients/whatsapp-graph';
import { startWhatsAppStandin, type WhatsAppStandin } from '../../dev/whatsapp-standin';
import { waitFor } from '../../dev/process';
import { scrubInteractions } from '../../lib/db/interactions';
import { createPool } from '../../lib/db/pool';
import { ErrorType } from '../../lib/domain/errors';
import type { RecordInteractionsInput } from '../../lib/domain/interactions';
import type { SendResult } from '../../lib/domain/messages';
import { createGuestRefs } from '../../lib/guest-refs';
import { createHttpAgent } from '../../lib/http';
import { conversationRef, createInteractionLog, startInteractionsFlusher } from '../../lib/interactions';
import { createLogger } from '../../lib/log';
import type { OutboxFlusher } from '../../lib/outbox';
import { createRedis, type Redis } from '../../lib/redis';
import { createSecretResolver } from '../../lib/secrets';
import { testEnv } from '../helpers/env';

/**
 * The interaction log's writing side on the real Redis and Postgres: the activities' rows through the outbox, stored
 * once however often they are written or flushed, replies linked to the messages they answer whichever comes first,
 * and a Redis outage that fails no reply.
 */
const token = 'interaction-log-token';
const guestRefKey = 'interaction-log-test-key-0123456789abcdef';
const guestRefs = createGuestRefs(guestRefKey);
const log = createLogger({ level: 'silent' });
const http = createHttpAgent({ maxConnectionsPerOrigin: 4 });
const db = createPool(testEnv().postgres.url, { max: 2 });
let standin: WhatsAppStandin;
let redis: Redis;
let outboxKey: string;
let flusher: OutboxFlusher;

function activitiesOn(client: Redis) {
  const interactions = createInteractionLog({ redis: client, outboxKey, guestRefKey });
  const graph = createGraphClient({
    baseUrl: standin.url,
    apiVersion: 'v23.0',
    accessToken: token,
    timeoutMs: 2_000,
    downloadTimeoutMs: 2_000,
    allowedMediaHosts: ['127.0.0.1'],
    dispatcher: http,
  });
  return {
    ...createWhatsAppActivities({
      graph,
      secrets: createSecretResolver({}),
      interactions: { log: interactions, guestRefs },
      log,
    }),
    ...createInteractionActivities({ interactions, guestRefs }),
  };
}

beforeAll(async () => {
  standin = await startWhatsAppStandin({ accessToken: token });
  redis = createRedis(testEnv().redis.url);
  await waitFor('redis', () => redis.status === 'ready');
});

beforeEach(() => {
  // An outbox of this test's own, drained into the run's database.
  outboxKey = `interactions:outbox:test:${randomUUID()}`;
  flusher = startInteractionsFlusher({ redis, db, log, outboxKey, intervalMs: 60_000 });
});

afterEach(async () => {
  await flusher.stop();
  standin.reset();
});

afterAll(async () => {
  redis?.disconnect();
  await standin?.close();
  await Promise.all([http.close(), db.end()]);
});

const tenantId = () => `t-log-${randomUUID().slice(0, 8)}`;
const guest = { phoneNumberId: '106540352242922', waId: '16505551234' };
const report = (tenant: string, messageId: string, receivedAt: number): RecordInteractionsInput => ({
  tenantId: tenant,
  ...guest,
  messages: [
    {
      messageId,
      type: 'text',
      intent: 'availability',
      text: 'Do you have a room?',
      at: Date.parse('2031-03-01T18:00:00Z'),
      receivedAt,
      outcome: 'answered',
    },
  ],
});
const reply = (tenant: string, replyTo: string) => ({
  ...guest,
  to: guest.waId,
  text: 'Rooms available: ...',
  replyTo,
  tenantId: tenant,
});

interface Row {
  direction: string;
  conversation_ref: string;
  latency_ms: number | null;
  counts_at: Date;
  text_hash: string | null;
}
const rowsOf = async (tenant: string) =>
  (
    await db.query<Row>(
      'SELECT direction, conversation_ref, latency_ms, counts_at, text_hash FROM interactions WHERE tenant_id = $1 ORDER BY direction',
      [tenant],
    )
  ).rows;

it.each(['reply first', 'message first'])(
  'links a reply and the message it answers (%s): latency from receipt, the reply on the message day',
  async (order) => {
    const acts = activitiesOn(redis);
    const env = new MockActivityEnvironment();
    const tenant = tenantId();
    const messageId = `wamid.in.${randomUUID()}`;
    const receivedAt = Date.now() - 1_500;
    if (order === 'message first') {
      await env.run(acts.recordInteractions, report(tenant, messageId, receivedAt));
      await flusher.flush();
    }
    await env.run(acts.sendMessage, reply(tenant, messageId));
    // The send does not wait for its row: wait for it in the outbox.
    await waitFor('the reply in the outbox', async () => (await redis.llen(outboxKey)) > 0);
    if (order === 'reply first') {
      await flusher.flush();
      await env.run(acts.recordInteractions, report(tenant, messageId, receivedAt));
    }
    await flusher.flush();

    const [incoming, outgoing] = await rowsOf(tenant);
    const ref = conversationRef(guestRefs, guest.phoneNumberId, guest.waId);
    expect(incoming).toMatchObject({ direction: 'in', conversation_ref: ref });
    expect(outgoing).toMatchObject({ direction: 'out', conversation_ref: ref, latency_ms: null });
    expect(incoming!.latency_ms).toBeGreaterThanOrEqual(1_500);
    expect(incoming!.latency_ms).toBeLessThan(10_000);
    // The reply, sent today, counts on the day the guest wrote (2031-03-01).
    expect(outgoing!.counts_at.toISOString()).toBe('2031-03-01T18:00:00.000Z');
    expect(incoming!.text_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(ref).not.toContain(guest.waId);
  },
);

it('stores a retried report and a batch flushed twice once', async () => {
  const acts = activitiesOn(redis);
  const env = new MockActivityEnvironment();
  const tenant = tenantId();
  const input = report(tenant, `wamid.in.${randomUUID()}`, Date.now());
  // A retry after the first attempt's rows were appended (the worker died before completing it).
  await env.run(acts.recordInteractions, input);
  await env.run(acts.recordInteractions, input);
  // Two workers' flushers read the same batch.
  const raw = await redis.lrange(outboxKey, 0, -1);
  const second = startInteractionsFlusher({ redis, db, log, outboxKey, intervalMs: 60_000 });
  try {
    await Promise.all([flusher.flush(), second.flush()]);
  } finally {
    await second.stop();
  }
  expect(raw).toHaveLength(2);
  expect(await rowsOf(tenant)).toHaveLength(1);
  expect(await redis.llen(outboxKey)).toBe(0);
});

it('while Redis is down, a report fails retryably and a reply is still sent and returned', async () => {
  // A client of a Redis that is not there (nothing listens on port 1): every command fails at once.
  const down = createRedis('redis://127.0.0.1:1');
  try {
    const acts = activitiesOn(down);
    const env = new MockActivityEnvironment();
    const tenant = tenantId();
    const sent: SendResult = await env.run(acts.sendMessage, reply(tenant, 'wamid.in.down'));
    expect(sent.messageId).toMatch(/^wamid\./);
    expect(standin.sent).toHaveLength(1);
    const failure = await env.run(acts.recordInteractions, report(tenant, 'wamid.in.down', Date.now())).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: ErrorType.InteractionLogUnavailable, nonRetryable: false });
  } finally {
    down.disconnect();
  }
});

it("scrubs a conversation for a guest's erasure and keeps the counts", async () => {
  const acts = activitiesOn(redis);
  const env = new MockActivityEnvironment();
  const tenant = tenantId();
  const messageId = `wamid.in.${randomUUID()}`;
  await env.run(acts.recordInteractions, report(tenant, messageId, Date.now()));
  await env.run(acts.sendMessage, reply(tenant, messageId));
  await waitFor('both rows in the outbox', async () => (await redis.llen(outboxKey)) === 2);
  await flusher.flush();
  // Other tenants' rows may share the reference (the same test guest): only this tenant's are counted here.
  const ref = conversationRef(guestRefs, guest.phoneNumberId, guest.waId);
  expect(await scrubInteractions(db, ref)).toBeGreaterThanOrEqual(2);
  const rows = await rowsOf(tenant);
  expect(rows).toHaveLength(2);
  expect(rows.every((r) => r.conversation_ref.startsWith('erased:') && r.text_hash === null)).toBe(true);
  expect(new Set(rows.map((r) => r.conversation_ref)).size).toBe(1);
});
