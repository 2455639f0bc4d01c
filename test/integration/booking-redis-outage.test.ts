import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OrderState } from '../../dev/pms-standin';
import { waitFor } from '../../dev/process';
import { startRedis, type RedisServer } from '../../dev/redis';
import { stateQuery } from '../../lib/domain/conversation';
import { startStack, type Stack } from '../helpers/stack';
import { textWebhook, uniqueMessageId, uniqueWaId, postSigned, conversationIdFor } from '../helpers/webhooks';

/**
 * Redis (where room holds live) stopped while a guest books, on a Redis of this test's own: the hold
 * activity waits, and once Redis is back the booking completes — one booking, one confirmation.
 */
let dir: string;
let redis: RedisServer;
let stack: Stack;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'hm-redis-outage-'));
  redis = await startRedis({ dir });
  stack = await startStack({ config: { REDIS_URL: redis.url } });
});

afterAll(async () => {
  await stack?.stop();
  await redis?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

it('waits for Redis and then books once', async () => {
  const { pms, whatsapp, temporal, app } = stack;
  const tenant = await stack.tenant({ locale: 'en', pmsHotelId: 1 });
  const from = uniqueWaId();
  const say = async (body: string) => {
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
  };
  const replies = () => whatsapp.sent.filter((m) => m.to === from).map((m) => m.text ?? '');
  const checkIn = new Date(Date.now() + 45 * 86_400_000).toISOString().slice(0, 10);
  const checkOut = new Date(Date.now() + 47 * 86_400_000).toISOString().slice(0, 10);

  await say(`Do you have a room from ${checkIn} to ${checkOut} for 2 adults?`);
  await waitFor('the offer', () => replies().length === 1);
  expect(replies()[0]).toContain('Rooms available');

  await redis.stop();
  await say('1');
  const conversation = temporal.workflow.getHandle(conversationIdFor(tenant.phoneNumberId, from));
  await waitFor('the booking to start', async () => (await conversation.query(stateQuery)).booking !== undefined);
  const saga = temporal.workflow.getHandle((await conversation.query(stateQuery)).booking!.reference);
  await waitFor(
    'the hold to be retrying',
    async () => ((await saga.describe()).raw.pendingActivities?.[0]?.attempt ?? 0) >= 2,
    { timeoutMs: 20_000 },
  );
  const pending = (await saga.describe()).raw.pendingActivities?.[0];
  expect(pending?.activityType?.name).toBe('acquireHold');
  expect(pending?.lastFailure?.applicationFailureInfo?.type).toBe('HoldStoreUnavailable');
  expect(replies()).toHaveLength(1);

  await redis.start();
  await waitFor('the confirmation', () => replies().length === 2, { timeoutMs: 45_000 });
  expect(replies()[1]).toMatch(/^Booking confirmed!/);
  expect(pms.bookings.filter((b) => b.currentState !== OrderState.cancelled)).toHaveLength(1);
  expect(await saga.result()).toMatchObject({ kind: 'confirmed' });
  expect(replies()).toHaveLength(2);
}, 90_000);
