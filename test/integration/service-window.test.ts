import request from 'supertest';
import { waitFor } from '../../dev/process';
import type { SentMessage } from '../../dev/whatsapp-standin';
import { createAdminToken } from '../../lib/db/tokens';
import type { ConversationState } from '../../lib/domain/conversation';
import { startStack, type Stack } from '../helpers/stack';
import type { TestTenant } from '../helpers/tenants';
import { conversationIdFor, postSigned, textWebhook, uniqueMessageId, uniqueWaId } from '../helpers/webhooks';

/**
 * Issue 12, point 3, at the WhatsApp stand-in: an operator's reply after the guest's 24 h window (4 s here) goes as
 * the tenant's approved template; with no template it is refused, with the reason in `state`, and staff are told;
 * WhatsApp's own 131047 takes the same path.
 */
const windowSeconds = 4;
let stack: Stack;
let withTemplate: TestTenant;
let withoutTemplate: TestTenant;
let token = '';

beforeAll(async () => {
  stack = await startStack({ config: { WHATSAPP_SERVICE_WINDOW_SECONDS: String(windowSeconds) } });
  withTemplate = await stack.tenant({
    name: 'Hotel Plantilla',
    locale: 'en',
    messaging: {
      templates: {
        late_reply: {
          name: 'staff_follow_up',
          languages: { en: 'en_US', es: 'es' },
          parameters: ['{hotel}', '{text}'],
        },
      },
    },
  });
  withoutTemplate = await stack.tenant({ name: 'Hotel Sin Plantilla', locale: 'en' });
  stack.whatsapp.templates.add('staff_follow_up');
  token = (await createAdminToken(stack.worker.db, { name: 'test', scope: 'admin', tenantId: null }, 'test')).token;
});

afterAll(() => stack?.stop());

const sentTo = (waId: string): SentMessage[] => stack.whatsapp.sent.filter((m) => m.to === waId);

/** A guest asks for a person; the bot answers once and the conversation waits for staff. */
async function handedOff(tenant: TestTenant): Promise<{ from: string; id: string }> {
  const from = uniqueWaId();
  const body = 'Can I talk to a person please?';
  await postSigned(stack.app, textWebhook({ phoneNumberId: tenant.phoneNumberId, from, id: uniqueMessageId(), body }));
  await waitFor('the handoff reply', () => sentTo(from).length === 1, { timeoutMs: 30_000, intervalMs: 100 });
  return { from, id: conversationIdFor(tenant.phoneNumberId, from) };
}

const admin = () => request(stack.app.callback());
const reply = (id: string, text: string) =>
  admin()
    .post(`/admin/conversations/${encodeURIComponent(id)}/reply`)
    .set('authorization', `Bearer ${token}`)
    .send({ text });
const stateOf = async (id: string): Promise<ConversationState> =>
  (
    await admin()
      .get(`/admin/conversations/${encodeURIComponent(id)}`)
      .set('authorization', `Bearer ${token}`)
      .expect(200)
  ).body.state as ConversationState;
/** Waits until the wall clock passes the window's end as the state shows it. */
async function windowClosed(id: string): Promise<void> {
  const closesAt = (await stateOf(id)).serviceWindow!.closesAt;
  expect(closesAt).toBeGreaterThan(Date.now());
  await waitFor('the window to close', () => Date.now() > closesAt + 100, {
    timeoutMs: (windowSeconds + 10) * 1000,
    intervalMs: 100,
  });
}

it('sends a late operator reply as the tenant’s template, in the guest’s language, with the text as a parameter', async () => {
  const { from, id } = await handedOff(withTemplate);
  expect((await stateOf(id)).serviceWindow?.closed).toBe(false);
  await windowClosed(id);
  const text = 'Sorry for the wait: your late checkout is confirmed.';
  const res = await reply(id, text).expect(200);
  expect(res.body.message).toMatchObject({ direction: 'out', type: 'template', text, status: 'sent' });
  expect(sentTo(from)).toHaveLength(2);
  expect(sentTo(from)[1]).toMatchObject({
    type: 'template',
    template: { name: 'staff_follow_up', language: 'en_US', parameters: ['Hotel Plantilla', text] },
  });
});

it('refuses a late reply when the tenant has no template: reason in state, staff told, nothing sent', async () => {
  const { from, id } = await handedOff(withoutTemplate);
  await windowClosed(id);
  const res = await reply(id, 'Are you still there?').expect(200);
  expect(res.body.message).toMatchObject({ status: 'failed' });
  expect(res.body.message.error).toMatch(/^window_closed: .*no late_reply template/);
  const state = await stateOf(id);
  expect(state.staffRequested).toBe(true);
  expect(state.lastMessages.at(-1)).toMatchObject({ status: 'failed', error: res.body.message.error });
  expect(sentTo(from)).toHaveLength(1);
});

it('takes the template path when WhatsApp itself answers 131047 inside our window', async () => {
  const { from, id } = await handedOff(withTemplate);
  stack.whatsapp.windowClosed.add(from);
  const res = await reply(id, 'Your taxi is booked.').expect(200);
  expect(res.body.message).toMatchObject({ type: 'template', status: 'sent' });
  expect(sentTo(from).at(-1)).toMatchObject({ type: 'template', template: { name: 'staff_follow_up' } });
  expect((await stateOf(id)).serviceWindow?.closed).toBe(true);
});
