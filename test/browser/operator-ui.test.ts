import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { projectRoot } from '../../dev/paths';
import { getFreePort, waitFor } from '../../dev/process';
import { createAdminToken } from '../../lib/db/tokens';
import { staffReply } from '../../lib/domain/templates';
import { startTemporalDevServer, temporalBinary, type DevServer } from '../../temporal/dev-server';
import { launchChromium } from '../helpers/browser';
import { readableText } from '../helpers/histories';
import { startStack, type Stack } from '../helpers/stack';
import type { TestTenant } from '../helpers/tenants';
import { conversationIdFor, postSigned, testGuestRefs, textWebhook, uniqueWaId } from '../helpers/webhooks';

/**
 * The operator's console, in a real browser: the Temporal Web UI (the dev server's, UI 2.42.1) in headless Chromium
 * (Debian's package, driven by playwright-core), reading a conversation through the API's codec endpoint. The guest's
 * words and the replies are there to read; the guest's phone number is nowhere on any page. Without the codec,
 * `temporal workflow show` shows neither. Screenshots go to `.data/screenshots/`.
 */

export const screenshotsDir = path.join(projectRoot, '.data', 'screenshots');

let dir: string;
let server: DevServer;
let stack: Stack;
let api: Server;
let browser: Browser;
let apiUrl: string;
let uiUrl: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'hm-operator-ui-'));
  const [apiPort, uiPort] = [await getFreePort(), await getFreePort()];
  apiUrl = `http://localhost:${apiPort}`;
  // A dev server of its own, with the Web UI (the run's shared one is headless) pointed at this test's API.
  server = await startTemporalDevServer({ uiPort, logDir: dir, uiCodecEndpoint: `${apiUrl}/codec` });
  uiUrl = server.uiUrl!;
  stack = await startStack({ config: { TEMPORAL_ADDRESS: server.address, CODEC_CORS_ORIGINS: uiUrl } });
  // The browser reaches the API over HTTP, as an operator's does.
  api = await new Promise<Server>((resolve) => {
    const listening = stack.app.listen(apiPort, '127.0.0.1', () => resolve(listening));
  });
  browser = await launchChromium();
  mkdirSync(screenshotsDir, { recursive: true });
  for (const old of readdirSync(screenshotsDir).filter((f) => f.startsWith('operator-ui-'))) {
    rmSync(path.join(screenshotsDir, old));
  }
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => (api ? api.close(resolve) : resolve(undefined)));
  await stack?.stop();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * The conversation the operator opens: the guest asks for a person, the bot says someone will answer, and staff answer
 * through the admin API (the same send path as the bot). It is then in handoff: the status the operator filters on.
 */
async function playConversation(hotel: TestTenant, guest: string, token: string) {
  const guestText = 'Hola, quiero hablar con una persona: ¿tienen cuna para el bebé?';
  await postSigned(stack.app, textWebhook({ phoneNumberId: hotel.phoneNumberId, from: guest, body: guestText }));
  await waitFor('the reply', () => stack.whatsapp.sent.some((m) => m.to === guest));
  const operatorText = 'Buenas tardes, soy Marta de recepción: sí, le dejamos una cuna en la habitación.';
  const workflowId = conversationIdFor(hotel.phoneNumberId, guest);
  const res = await fetch(`${apiUrl}/admin/conversations/${encodeURIComponent(workflowId)}/reply`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ text: operatorText }),
  });
  expect(res.status).toBe(200);
  const answers = [staffReply('es', `Hotel ${hotel.id}`, { open: true }), operatorText];
  await waitFor("the operator's reply", () => stack.whatsapp.sent.filter((m) => m.to === guest).length === 2);
  expect(stack.whatsapp.sent.filter((m) => m.to === guest).map((m) => m.text)).toEqual(answers);
  return { status: 'handoff', guestText, answers };
}

const shot = (page: Page, name: string) =>
  page.screenshot({ path: path.join(screenshotsDir, `operator-ui-${name}.png`), fullPage: true });

/** Waits until `text` shows on the page (the UI decodes asynchronously, through the codec endpoint). */
const shows = (page: Page, text: string) =>
  page.getByText(text).filter({ visible: true }).first().waitFor({ timeout: 30_000 });

it('shows an operator the decoded conversation, never the guest number; without the codec the history is ciphertext', async () => {
  const hotel = await stack.tenant({ locale: 'es' });
  const guest = uniqueWaId();
  const { token } = await createAdminToken(stack.worker.db, { name: 'platform-operator', scope: 'admin' }, 'test');
  const { status, guestText, answers } = await playConversation(hotel, guest, token);
  const workflowId = conversationIdFor(hotel.phoneNumberId, guest);
  const ref = testGuestRefs.of(guest);

  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  // Everything the browser was shown, to search for the number afterwards: each page's HTML and every codec answer.
  const seen: string[] = [];
  page.on('response', (res) => {
    if (res.url().startsWith(`${apiUrl}/codec/decode`))
      void res.text().then(
        (body) => seen.push(body),
        () => undefined,
      );
  });
  const record = async () => seen.push(await page.content());

  // 1. In the UI's Codec Server settings: the API's endpoint, with cross-origin credentials (the dev server sets only
  //    the endpoint, so "use my browser setting"). The settings live in the UI origin's localStorage.
  await page.goto(`${uiUrl}/robots.txt`);
  await page.evaluate((endpoint) => {
    const settings = {
      endpoint,
      includeCredentials: true,
      passAccessToken: false,
      overrideRemoteCodecConfiguration: true,
    };
    const { localStorage } = globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } };
    for (const [key, value] of Object.entries(settings)) localStorage.setItem(key, JSON.stringify(value));
  }, `${apiUrl}/codec`);

  // 2. Before the operator logs in, the codec refuses (401) and the UI shows the payloads as they are: encrypted.
  const refused = page.waitForResponse((res) => res.url().startsWith(`${apiUrl}/codec/decode`) && res.status() === 401);
  await page.goto(`${uiUrl}/namespaces/default/workflows/${encodeURIComponent(workflowId)}`);
  await refused;
  await shows(page, 'Codec Server could not connect');
  // The payload's metadata as stored, base64: encoding "binary/encrypted".
  await shows(page, Buffer.from('binary/encrypted').toString('base64'));
  expect(await page.content()).not.toContain(`guest:${ref}`);
  await record();
  await shot(page, '1-before-login-encrypted');

  // 3. The operator logs in to the codec endpoint with an unrestricted admin token (an HttpOnly cookie on /codec).
  await page.goto(`${apiUrl}/codec/login`);
  await page.fill('#token', token);
  await page.click('button[type=submit]');
  await shows(page, 'Logged in with admin token');
  await shot(page, '2-codec-login');

  // 4. Every conversation of this hotel in this status: one UI query.
  const query = `TenantId="${hotel.id}" AND ConversationStatus="${status}"`;
  await waitFor(
    'the conversation listed',
    async () => {
      await page.goto(`${uiUrl}/namespaces/default/workflows?query=${encodeURIComponent(query)}`);
      return page
        .getByRole('link', { name: workflowId })
        .waitFor({ timeout: 5_000 })
        .then(
          () => true,
          () => false,
        );
    },
    { timeoutMs: 60_000, intervalMs: 500 },
  );
  await record();
  await shot(page, '3-conversations-filtered');

  // 5. The conversation: its input decoded, the guest named by reference.
  await page.getByRole('link', { name: workflowId }).click();
  await shows(page, `guest:${ref}`);
  await record();
  await shot(page, '4-conversation-input');

  // 6. Its history, decoded event by event: the guest's message as it arrived.
  await page.locator('[data-testid=json]').click();
  await shows(page, 'WorkflowExecutionStarted');
  await waitFor(
    "the guest's message in the history",
    async () => {
      if ((await page.getByText(guestText).count()) > 0) return true;
      await page.getByRole('button', { name: 'Next' }).click();
      return false;
    },
    { timeoutMs: 30_000, intervalMs: 300 },
  );
  await record();
  await shot(page, '5-history-guest-message');

  // 7. The `state` query: the last messages both ways, as the operator reads them.
  await page.getByText('Queries', { exact: true }).click();
  await page.getByRole('button', { name: 'Run Query' }).click();
  for (const text of [guestText, ...answers]) await shows(page, text.slice(0, 60));
  await record();
  await shot(page, '6-state-query');

  const everything = seen.join('\n');
  expect(everything).toContain(guestText);
  for (const answer of answers) expect(everything).toContain(answer.slice(0, 60));
  expect(everything).toContain(`guest:${ref}`);
  // The number appears nowhere: not in a page, not in what the codec endpoint answered.
  expect(everything).not.toContain(guest);
  await page.close();
  const saved = readdirSync(screenshotsDir).filter((f) => f.startsWith('operator-ui-'));
  expect(saved).toHaveLength(6);

  // 8. Without the codec, as anyone with `temporal` on the cluster (or its database) reads it: ciphertext.
  const { stdout: history } = await promisify(execFile)(
    temporalBinary,
    ['workflow', 'show', '--workflow-id', workflowId, '--address', server.address, '--output', 'json'],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  expect(history).toContain(workflowId);
  // The JSON and every payload's bytes (a payload in clear would be base64 JSON there).
  const readable = readableText(history);
  for (const clear of [guest, guestText, 'cuna', ...answers.map((a) => a.slice(0, 30))]) {
    expect(readable).not.toContain(clear);
  }
}, 180_000);
