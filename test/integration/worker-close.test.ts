import { randomBytes, randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { waitFor } from '../../dev/process';
import { mediaSha256 } from '../../dev/whatsapp-standin';
import { createPool } from '../../lib/db/pool';
import { createRedis, type Redis } from '../../lib/redis';
import { startStack, type Stack } from '../helpers/stack';
import { mediaWebhook, postSigned, uniqueWaId } from '../helpers/webhooks';

/**
 * The worker owns every long-lived resource it opens, and `close()` closes each one: afterwards none of its
 * connections is open, to the PMS, the Graph API, the transcription service, Postgres or Redis. The stand-ins keep
 * idle connections for a minute (Node's default is 5 s), so a pool left open shows as an open connection rather than
 * timing out on its own before the test looks.
 */

const applicationName = `worker-close-${randomUUID().slice(0, 8)}`;
let stack: Stack;
/** The test's own Postgres and Redis connections, named apart from the worker's. */
let probeDb: Pool;
let probeRedis: Redis;

beforeAll(async () => {
  stack = await startStack({ transcription: true, keepAliveTimeoutMs: 60_000, applicationName });
  probeDb = createPool(stack.config.databaseUrl, { max: 1, applicationName: 'worker-close-probe' });
  probeRedis = createRedis(stack.config.redisUrl, { connectionName: 'worker-close-probe' });
});

afterAll(async () => {
  await stack?.stop();
  await probeDb?.end();
  probeRedis?.disconnect();
});

/** The connections the worker has open now, by where they go. */
async function openByWorker() {
  const { rows } = await probeDb.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1',
    [applicationName],
  );
  const clients = (await probeRedis.client('LIST')) as string;
  return {
    postgres: rows[0]?.n ?? -1,
    redis: clients.split('\n').filter((line) => line.includes(` name=${applicationName} `)).length,
    pms: await stack.pms.openConnections(),
    graph: await stack.whatsapp.openConnections(),
    transcription: (await stack.transcription?.openConnections()) ?? -1,
  };
}

it('leaves no socket or Postgres connection of the worker open after close()', async () => {
  const { whatsapp } = stack;
  const tenant = await stack.tenant({ locale: 'en', pmsHotelId: 1 });

  // One voice note uses every client: the Graph media download, the transcription, the PMS and the Graph send.
  const day = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10);
  const said = `SAY:Do you have a room from ${day(45)} to ${day(47)} for 2 adults?|`;
  const body = Buffer.concat([Buffer.from('OggS'), Buffer.from(said), randomBytes(2_000)]);
  const mediaId = `audio-close-${Date.now()}`;
  whatsapp.addMedia(mediaId, { body, mimeType: 'audio/ogg; codecs=opus' });
  const from = uniqueWaId();
  const sha256 = await mediaSha256(body);
  const phoneNumberId = tenant.phoneNumberId;
  await postSigned(stack.app, mediaWebhook('audio', { phoneNumberId, from, mediaId, sha256, mimeType: 'audio/ogg' }));
  await waitFor('the offer', () => whatsapp.sent.some((m) => m.to === from && /Rooms available/.test(m.text ?? '')));

  const open = await openByWorker();
  expect(open.postgres).toBeGreaterThanOrEqual(2); // the pool and the tenant directory's LISTEN connection
  expect(open.redis).toBe(1);
  expect(open.pms).toBeGreaterThanOrEqual(1);
  expect(open.graph).toBeGreaterThanOrEqual(1);
  expect(open.transcription).toBeGreaterThanOrEqual(1);

  await stack.worker.stop();
  // Closing is asynchronous at the far end (a FIN, a backend exiting): wait, with a deadline far below a minute.
  const none = { postgres: 0, redis: 0, pms: 0, graph: 0, transcription: 0 };
  await waitFor(
    'every connection of the worker closed',
    async () => Object.values(await openByWorker()).every((n) => n === 0),
    {
      timeoutMs: 5_000,
    },
  ).catch(() => undefined);
  expect(await openByWorker()).toEqual(none);
});
