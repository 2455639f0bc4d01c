import type { Client } from '@temporalio/client';
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Pool } from 'pg';
import { createApp } from '../../api/app';
import { startPmsStandin, type PmsStandin } from '../../dev/pms-standin';
import { serverControls, waitFor } from '../../dev/process';
import { mediaSha256, startWhatsAppStandin, type WhatsAppStandin } from '../../dev/whatsapp-standin';
import type { Config } from '../../lib/config';
import { createPool } from '../../lib/db/pool';
import { createRedis, type Redis } from '../../lib/redis';
import { captureLogger, startWorker, temporalClient, testConfig, testSecrets } from '../helpers/env';
import { createTestTenant, tenantSecretVariable } from '../helpers/tenants';
import { loadFixture, postSigned, uniqueMessageId, uniqueWaId } from '../helpers/webhooks';

/**
 * The worker owns every long-lived resource it opens, and `close()` closes each one: afterwards none of its
 * connections is open, to the PMS, the Graph API, the transcription service, Postgres or Redis. The servers here keep
 * idle connections for a minute (Node's default is 5 s), so a pool left open shows as an open connection rather than
 * timing out on its own before the test looks.
 */

const pmsKey = 'CLOSEPMSKEY0123456789ABCDEFGHIJK';
const keepAliveTimeoutMs = 60_000;
let pms: PmsStandin;
let whatsapp: WhatsAppStandin;
let transcription: http.Server;
let transcriptionConnections: () => Promise<number>;
let config: Config;
let temporal: Client;
/** The test's own Postgres and Redis connections, named apart from the worker's. */
let probeDb: Pool;
let probeRedis: Redis;

beforeAll(async () => {
  // OpenAI-compatible: a recording whose bytes carry `SAY:<words>|` is heard as those words.
  transcription = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const said = /SAY:([^|]*)\|/.exec(Buffer.concat(chunks).toString('latin1'));
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ text: said?.[1] ?? '' }));
    });
  });
  transcriptionConnections = serverControls(transcription, { keepAliveTimeoutMs }).openConnections;
  await new Promise<void>((resolve) => transcription.listen(0, '127.0.0.1', resolve));
  [pms, whatsapp] = await Promise.all([
    startPmsStandin({ webserviceKey: pmsKey, keepAliveTimeoutMs }),
    startWhatsAppStandin({ accessToken: testSecrets.WHATSAPP_ACCESS_TOKEN, keepAliveTimeoutMs }),
  ]);
  config = testConfig({
    WHATSAPP_GRAPH_BASE_URL: whatsapp.url,
    TRANSCRIPTION_URL: `http://127.0.0.1:${(transcription.address() as AddressInfo).port}`,
  });
  temporal = await temporalClient(config);
  probeDb = createPool(config.databaseUrl, { max: 2, applicationName: 'worker-close-probe' });
  probeRedis = createRedis(config.redisUrl, { connectionName: 'worker-close-probe' });
});

afterAll(async () => {
  await temporal?.connection.close();
  await probeDb?.end();
  probeRedis?.disconnect();
  await Promise.allSettled([pms?.close(), whatsapp?.close()]);
  transcription?.closeAllConnections();
  transcription?.close();
});

/** The connections the worker named `applicationName` has open now, by where they go. */
async function openByWorker(applicationName: string) {
  const { rows } = await probeDb.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1',
    [applicationName],
  );
  const clients = (await probeRedis.client('LIST')) as string;
  return {
    postgres: rows[0]?.n ?? -1,
    redis: clients.split('\n').filter((line) => line.includes(` name=${applicationName} `)).length,
    pms: await pms.openConnections(),
    graph: await whatsapp.openConnections(),
    transcription: await transcriptionConnections(),
  };
}

it('leaves no socket or Postgres connection of the worker open after close()', async () => {
  const applicationName = `worker-close-${randomUUID().slice(0, 8)}`;
  const secrets: Record<string, string> = {};
  const worker = await startWorker(config, { secrets, applicationName });
  let stopped = false;
  try {
    const tenant = await createTestTenant(probeDb, { locale: 'en', pms: { baseUrl: pms.url, hotelId: 1 } });
    secrets[tenantSecretVariable(tenant.id)] = pmsKey;
    await worker.tenants.reload();
    const app = createApp({ temporal, config, log: captureLogger().log, db: probeDb });

    // One voice note uses every client: the Graph media download, the transcription, the PMS and the Graph send.
    const day = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10);
    const said = `SAY:Do you have a room from ${day(45)} to ${day(47)} for 2 adults?|`;
    const body = Buffer.concat([Buffer.from('OggS'), Buffer.from(said), randomBytes(2_000)]);
    const mediaId = `audio-close-${Date.now()}`;
    whatsapp.addMedia(mediaId, { body, mimeType: 'audio/ogg; codecs=opus' });
    const payload = loadFixture('audio') as any;
    const value = payload.entry[0].changes[0].value;
    const from = uniqueWaId();
    value.metadata.phone_number_id = tenant.phoneNumberId;
    for (const contact of value.contacts ?? []) contact.wa_id = from;
    Object.assign(value.messages[0], { from, id: uniqueMessageId() });
    value.messages[0].audio = { ...value.messages[0].audio, id: mediaId, sha256: await mediaSha256(body) };
    await postSigned(app, payload);
    await waitFor('the offer', () => whatsapp.sent.some((m) => m.to === from && /Rooms available/.test(m.text ?? '')));

    const open = await openByWorker(applicationName);
    expect(open.postgres).toBeGreaterThanOrEqual(2); // the pool and the tenant directory's LISTEN connection
    expect(open.redis).toBe(1);
    expect(open.pms).toBeGreaterThanOrEqual(1);
    expect(open.graph).toBeGreaterThanOrEqual(1);
    expect(open.transcription).toBeGreaterThanOrEqual(1);

    stopped = true;
    await worker.stop();
    const none = { postgres: 0, redis: 0, pms: 0, graph: 0, transcription: 0 };
    // Closing is asynchronous at the far end (a FIN, a backend exiting): wait, with a deadline far below a minute.
    await waitFor(
      'every connection of the worker closed',
      async () => Object.values(await openByWorker(applicationName)).every((n) => n === 0),
      { timeoutMs: 5_000 },
    ).catch(() => undefined);
    expect(await openByWorker(applicationName)).toEqual(none);
  } finally {
    if (!stopped) await worker.stop();
  }
});
