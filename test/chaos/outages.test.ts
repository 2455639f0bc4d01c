import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startPostgres, type PostgresServer } from '../../dev/postgres';
import { waitFor } from '../../dev/process';
import { migrate } from '../../lib/db/migrate';
import { createPool } from '../../lib/db/pool';
import { startTemporalDevServer, type DevServer } from '../../temporal/dev-server';
import { textWebhook, uniqueMessageId, uniqueWaId } from '../helpers/webhooks';
import { finalChecks, startChaosStack, type ChaosStack } from './harness';

/**
 * Outages of the stores and of Temporal itself, each on a server of this file's own (the shared ones serve other
 * files): Postgres stopped while new guests write; the Temporal dev server stopped and restarted on the same
 * database file while webhooks arrive (the API answers 503, the refused webhooks are posted again).
 */

const replied = (stack: ChaosStack, id: string) => stack.whatsapp.sent.some((m) => m.replyTo === id);

/** A new guest's first message; answers its id and payload. */
function newGuest(stack: ChaosStack) {
  const id = uniqueMessageId();
  return {
    id,
    payload: textWebhook({ phoneNumberId: stack.tenant.phoneNumberId, from: uniqueWaId(), id, body: 'Hello' }),
  };
}

describe('Postgres stopped while new guests write', () => {
  let dir: string;
  let postgres: PostgresServer;
  let stack: ChaosStack;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'hm-chaos-pg-'));
    chmodSync(dir, 0o755);
    postgres = await startPostgres({ dataDir: path.join(dir, 'pg'), fast: true });
    const pool = createPool(postgres.url, { max: 1 });
    await migrate(pool);
    await pool.end();
    stack = await startChaosStack({ config: { DATABASE_URL: postgres.url, TENANT_CACHE_REFRESH_SECONDS: '1' } });
    await stack.inProcessWorker();
  });
  afterAll(async () => {
    await stack?.stop();
    await postgres?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('every new guest is answered once, during the outage or after it', async () => {
    await postgres.stop();
    const guests = Array.from({ length: 5 }, () => newGuest(stack));
    // The webhook needs no Postgres: every one is accepted at once.
    for (const g of guests) expect(await stack.post(g.payload)).toBe(200);
    await new Promise((r) => setTimeout(r, 5_000));
    await postgres.start();
    await waitFor('every guest answered', () => guests.every((g) => replied(stack, g.id)), { timeoutMs: 60_000 });
    await finalChecks(stack, 'Postgres stopped while 5 new guests write, then restarted', {
      inbound: guests.map((g) => g.id),
    });
  }, 120_000);
});

describe('the Temporal dev server stopped and restarted on the same database file', () => {
  let dir: string;
  let server: DevServer;
  let port: number;
  let stack: ChaosStack;
  const startServer = () =>
    startTemporalDevServer({ headless: true, logDir: dir, dbFile: path.join(dir, 'temporal.db'), port });
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'hm-chaos-temporal-'));
    server = await startTemporalDevServer({ headless: true, logDir: dir, dbFile: path.join(dir, 'temporal.db') });
    port = Number(server.address.split(':').at(-1));
    stack = await startChaosStack({
      config: { TEMPORAL_ADDRESS: server.address, WEBHOOK_TEMPORAL_TIMEOUT_MS: '2000' },
    });
    await stack.inProcessWorker();
  });
  afterAll(async () => {
    await stack?.stop();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers 503 while it is down; the webhooks posted again are answered once, the conversations go on', async () => {
    const before = newGuest(stack);
    await stack.deliver(before.payload);
    await waitFor('the first reply', () => replied(stack, before.id));

    await server.stop();
    const during = Array.from({ length: 3 }, () => newGuest(stack));
    for (const g of during) expect(await stack.post(g.payload)).toBe(503);
    server = await startServer();
    // Meta retries what was refused; the conversation begun before the outage goes on too.
    for (const g of during) await stack.deliver(g.payload, 60_000);
    const again = uniqueMessageId();
    const first = before.payload as { entry: { changes: { value: { messages: { from: string }[] } }[] }[] };
    const from = first.entry[0]!.changes[0]!.value.messages[0]!.from;
    await stack.deliver(textWebhook({ phoneNumberId: stack.tenant.phoneNumberId, from, id: again, body: 'Hi again' }));
    await waitFor('every guest answered', () => [...during.map((g) => g.id), again].every((id) => replied(stack, id)), {
      timeoutMs: 90_000,
    });
    await finalChecks(stack, 'Temporal dev server stopped and restarted while webhooks arrive', {
      inbound: [before.id, ...during.map((g) => g.id), again],
    });
  }, 180_000);
});
