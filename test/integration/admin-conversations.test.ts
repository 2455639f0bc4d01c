import type { Client } from '@temporalio/client';
import request from 'supertest';
import { englishDate } from '../../dev/dates';
import { waitFor } from '../../dev/process';
import type { WhatsAppStandin } from '../../dev/whatsapp-standin';
import type { Config } from '../../lib/config';
import { createAdminToken } from '../../lib/db/tokens';
import type { ConversationState } from '../../lib/domain/conversation';
import { auditRows } from '../helpers/admin';
import { acceptedUpdates, conversationIdOf } from '../helpers/conversations';
import { startStack, type Stack } from '../helpers/stack';
import { uniquePhoneNumberId, type TestTenant } from '../helpers/tenants';
import { postSigned, textWebhook, uniqueMessageId, uniqueWaId } from '../helpers/webhooks';

/**
 * Operators steer conversations through the admin API, on the real worker and stand-ins: the list of conversations
 * waiting for staff, one conversation's state, and handoff, reply, resume and close, each valid, refused by the
 * conversation (nothing recorded), for another tenant's token (404) and for a monitoring token (403).
 */
let stack: Stack;
let whatsapp: WhatsAppStandin;
let temporal: Client;
let config: Config;
let hotel: TestTenant;
let other: TestTenant;
/** Tokens: unrestricted admin, admin of `hotel`, admin of `other`, monitoring of `hotel`. */
const tokens = { root: '', hotel: '', other: '', monitoring: '' };
const ids = { root: '', hotel: '' };

beforeAll(async () => {
  stack = await startStack({
    config: {
      ADMIN_AUTH_FAILURE_LIMIT: '1000',
      CONVERSATION_DEDUP_WINDOW_SECONDS: '1',
      BOOKING_PMS_TIMEOUT_SECONDS: '60',
    },
  });
  ({ whatsapp, temporal, config } = stack);
  hotel = await stack.tenant({ name: 'Hotel Faro', locale: 'en', pmsHotelId: 1 });
  other = await stack.tenant({ name: 'Hotel Otro', locale: 'en' });
  const db = stack.worker.db;
  const make = (scope: 'admin' | 'monitoring', tenantId: string | null) =>
    createAdminToken(db, { name: 'test', scope, tenantId }, 'test');
  const root = await make('admin', null);
  const mine = await make('admin', hotel.id);
  tokens.root = root.token;
  tokens.hotel = mine.token;
  tokens.other = (await make('admin', other.id)).token;
  tokens.monitoring = (await make('monitoring', hotel.id)).token;
  ids.root = root.id;
  ids.hotel = mine.id;
});

afterAll(() => stack?.stop());

const api = (token: string) => {
  const agent = request(stack.app.callback());
  const auth = (t: request.Test) => t.set('authorization', `Bearer ${token}`);
  return {
    get: (path: string) => auth(agent.get(path)),
    post: (path: string, body?: object) => (body ? auth(agent.post(path)).send(body) : auth(agent.post(path))),
  };
};
const path = (id: string, action = '') => `/admin/conversations/${encodeURIComponent(id)}${action ? `/${action}` : ''}`;

async function say(from: string, body: string, to: TestTenant | { phoneNumberId: string } = hotel): Promise<void> {
  await postSigned(stack.app, textWebhook({ phoneNumberId: to.phoneNumberId, from, id: uniqueMessageId(), body }));
}
const repliesTo = (waId: string) => whatsapp.sent.filter((m) => m.to === waId).map((m) => m.text ?? '');

/** A guest who said hello and got the bot's answer; their conversation's workflow id. */
async function greeted(to: TestTenant | { phoneNumberId: string } = hotel): Promise<{ from: string; id: string }> {
  const from = uniqueWaId();
  await say(from, 'Hello', to);
  const id = await conversationIdOf(temporal, config, from);
  return { from, id };
}
const stateOf = async (id: string): Promise<ConversationState> =>
  (await api(tokens.root).get(path(id)).expect(200)).body.state as ConversationState;
const updatesOf = (id: string) => acceptedUpdates(temporal, temporal.workflow.getHandle(id));
const auditOf = async (action: string) =>
  (await auditRows(stack.worker.db, { tenantId: hotel.id })).filter((r) => r.action === action);

it('a guest who asks for a person waits for staff: listed as handoff, the bot silent, staff reply on WhatsApp, resume', async () => {
  const from = uniqueWaId();
  await say(from, 'Can I talk to a person please?');
  await waitFor('the bot says staff will answer', () => repliesTo(from).length === 1);
  expect(repliesTo(from)[0]).toMatch(/A person will answer/);
  const id = await conversationIdOf(temporal, config, from);

  // What the hotel's staff look at: every conversation of theirs waiting for staff.
  await waitFor('listed as waiting for staff', async () => {
    const res = await api(tokens.hotel).get(`/admin/conversations?tenantId=${hotel.id}&status=handoff`).expect(200);
    return (res.body.conversations as { workflowId: string }[]).some((c) => c.workflowId === id);
  });

  await say(from, 'Hello? I need a late checkout');
  await waitFor('the message kept for staff', async () =>
    (await stateOf(id)).lastMessages.some((m) => m.text === 'Hello? I need a late checkout'),
  );
  expect(repliesTo(from)).toHaveLength(1);

  const text = 'Hi, this is Marta at reception: late checkout until 14:00 is fine.';
  const res = await api(tokens.hotel).post(path(id, 'reply'), { text }).expect(200);
  expect(res.body.message).toMatchObject({ direction: 'out', text, status: 'sent', operator: ids.hotel });
  // On WhatsApp, from the hotel's number, to the guest.
  expect(whatsapp.sent.filter((m) => m.to === from).at(-1)).toMatchObject({ text, phoneNumberId: hotel.phoneNumberId });

  const detail = await api(tokens.hotel).get(path(id)).expect(200);
  expect(detail.body).toMatchObject({
    workflowId: id,
    status: 'handoff',
    tenantId: hotel.id,
    executionStatus: 'RUNNING',
  });
  expect(detail.body.state.handoff).toMatchObject({ by: 'guest' });
  expect(detail.body.state.lastMessages.slice(-2)).toEqual([
    expect.objectContaining({ direction: 'in', text: 'Hello? I need a late checkout' }),
    expect.objectContaining({ direction: 'out', text, operator: ids.hotel }),
  ]);

  const resumed = await api(tokens.hotel).post(path(id, 'resume')).expect(200);
  expect(resumed.body.state.status).toBe('active');
  await say(from, 'Thanks!');
  await waitFor('the bot answers again', () => repliesTo(from).length === 3);

  // Recorded with the token that acted: in the history, and in the audit log without the text.
  expect(await updatesOf(id)).toEqual([
    { name: 'operatorReply', args: [{ operator: { tokenId: ids.hotel }, text }] },
    { name: 'resume', args: [{ operator: { tokenId: ids.hotel } }] },
  ]);
  const [replied] = (await auditOf('conversation.reply')).filter((r) => r.actor === ids.hotel);
  expect(replied?.details).toMatchObject({ phoneNumberId: hotel.phoneNumberId, chars: text.length, status: 'sent' });
  expect(JSON.stringify(replied)).not.toContain(text);
  expect(JSON.stringify(replied)).not.toContain(from);
});

describe.each([
  {
    action: 'handoff',
    valid: { status: 'handoff' },
    /** A second handoff: the conversation's validator refuses it. */
    refused: { prepare: 'handoff', code: 'already_in_handoff' },
  },
  { action: 'resume', valid: { status: 'active' }, prepareValid: 'handoff', refused: { code: 'not_in_handoff' } },
  { action: 'close', valid: { status: 'closed' }, refused: { code: 'booking_in_progress' } },
  { action: 'reply', valid: { status: 'handoff' }, refused: { code: 'no_tenant' } },
])('POST /admin/conversations/:id/$action', ({ action, valid, prepareValid, refused }) => {
  const body = action === 'reply' ? { text: 'Hello from reception' } : undefined;

  it('acts for an admin of the conversation’s tenant, recorded with its token id and audited', async () => {
    const { from, id } = await greeted();
    await waitFor('the greeting', () => repliesTo(from).length === 1);
    if (prepareValid) await api(tokens.root).post(path(id, prepareValid)).expect(200);
    await api(tokens.hotel).post(path(id, action), body).expect(200);
    expect((await stateOf(id)).status).toBe(valid.status);
    const updates = await updatesOf(id);
    expect(updates.at(-1)).toEqual({
      name: action === 'reply' ? 'operatorReply' : action,
      args: [{ operator: { tokenId: ids.hotel }, ...(body ?? {}) }],
    });
    const rows = (await auditOf(`conversation.${action}`)).filter((r) => r.actor === ids.hotel);
    expect(rows.length).toBeGreaterThanOrEqual(1);
    if (action === 'reply') expect(repliesTo(from)).toEqual([expect.any(String), body!.text]);
    if (action === 'close') {
      expect(await temporal.workflow.getHandle(id).result()).toMatchObject({
        closedBy: { tokenId: ids.hotel, reason: 'operator' },
      });
    }
  });

  it('is refused by the conversation (409) and leaves nothing: no update in the history, no audit row', async () => {
    let id: string;
    if (refused.code === 'no_tenant') {
      // A number no hotel owns: the conversation has no tenant to send for.
      ({ id } = await greeted({ phoneNumberId: uniquePhoneNumberId() }));
      await waitFor('the tenant resolved as unknown', async () => (await stateOf(id)).tenant.kind === 'unknown');
    } else {
      ({ id } = await greeted());
      await waitFor('the greeting', async () => (await stateOf(id)).lastMessages.length === 2);
    }
    if (refused.prepare) await api(tokens.root).post(path(id, refused.prepare)).expect(200);
    const release = refused.code === 'booking_in_progress' ? await bookingInProgress(id) : () => undefined;
    const updatesBefore = await updatesOf(id);
    const auditBefore = (await auditOf(`conversation.${action}`)).length;
    try {
      const res = await api(tokens.root).post(path(id, action), body);
      expect([res.status, res.body.error?.code]).toEqual([409, refused.code]);
    } finally {
      release();
    }
    expect(await updatesOf(id)).toEqual(updatesBefore);
    expect((await auditOf(`conversation.${action}`)).length).toBe(auditBefore);
  });

  it('answers 404 to another tenant’s admin, as for a conversation that does not exist, and changes nothing', async () => {
    const { id } = await greeted();
    await waitFor('the greeting', async () => (await stateOf(id)).lastMessages.length === 2);
    if (prepareValid) await api(tokens.root).post(path(id, prepareValid)).expect(200);
    const before = await stateOf(id);
    const updatesBefore = await updatesOf(id);
    const res = await api(tokens.other).post(path(id, action), body);
    const missing = await api(tokens.other).post(path(`${id.slice(0, -1)}0`, action), body);
    expect(res.status).toBe(404);
    expect(res.body).toEqual(missing.body);
    expect(await updatesOf(id)).toEqual(updatesBefore);
    expect((await stateOf(id)).status).toBe(before.status);
  });

  it('answers 403 to a monitoring token of the same tenant, and changes nothing', async () => {
    const { id } = await greeted();
    await waitFor('the greeting', async () => (await stateOf(id)).lastMessages.length === 2);
    const updatesBefore = await updatesOf(id);
    const res = await api(tokens.monitoring).post(path(id, action), body);
    expect([res.status, res.body.error?.code]).toEqual([403, 'forbidden']);
    expect(await updatesOf(id)).toEqual(updatesBefore);
  });
});

/**
 * Makes the guest of conversation `id` start a booking whose PMS call hangs for a while: the conversation shows
 * `booking` until the returned function is called (or the PMS answers).
 */
async function bookingInProgress(id: string): Promise<() => void> {
  const waId = await waIdOf(id);
  const checkIn = new Date(Date.now() + 30 * 86_400_000);
  const checkOut = new Date(checkIn.getTime() + 2 * 86_400_000);
  await say(waId, `Do you have a room from ${englishDate(checkIn)} to ${englishDate(checkOut)} for 2 adults?`);
  await waitFor('the offer', async () => (await stateOf(id)).offer !== undefined);
  stack.pms.inject({ kind: 'latency', ms: 15_000, match: { method: 'POST', resource: 'bookings' } });
  await say(waId, '1');
  await waitFor('the booking shown', async () => (await stateOf(id)).status === 'booking');
  return () => stack.pms.clearFaults();
}

/** The guest of a conversation, as the stand-in saw the bot's replies go to them. */
async function waIdOf(id: string): Promise<string> {
  const state = await stateOf(id);
  const replyId = state.lastMessages.find((m) => m.direction === 'out')?.id;
  const to = whatsapp.sent.find((m) => m.id === replyId)?.to;
  if (!to) throw new Error(`no reply of conversation ${id} at the stand-in`);
  return to;
}

describe('GET /admin/conversations', () => {
  it('lists a tenant’s conversations by status, a page at a time', async () => {
    const tenant = await stack.tenant({ locale: 'en' });
    const waiting: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { id } = await greeted(tenant);
      await api(tokens.root).post(path(id, 'handoff')).expect(200);
      waiting.push(id);
    }
    await greeted(tenant); // active, not listed
    const list = (query: string) =>
      api(tokens.root).get(`/admin/conversations?tenantId=${tenant.id}&status=handoff${query}`);
    await waitFor('all three listed', async () => (await list('&pageSize=100')).body.conversations.length === 3);
    const first = await list('&pageSize=2').expect(200);
    expect(first.body.conversations).toHaveLength(2);
    expect(first.body.nextPageToken).toEqual(expect.any(String));
    const second = await list(`&pageSize=2&pageToken=${first.body.nextPageToken as string}`).expect(200);
    expect(second.body.nextPageToken).toBeNull();
    const listed = [...first.body.conversations, ...second.body.conversations] as Record<string, unknown>[];
    expect(listed.map((c) => c.workflowId).sort()).toEqual([...waiting].sort());
    expect(listed[0]).toMatchObject({ status: 'handoff', tenantId: tenant.id, executionStatus: 'RUNNING' });

    // A token of another list, and one made up, are refused before they reach Temporal.
    const token = first.body.nextPageToken as string;
    const otherList = await api(tokens.root).get(
      `/admin/conversations?tenantId=${tenant.id}&pageSize=2&pageToken=${token}`,
    );
    const madeUp = await list(`&pageToken=${Buffer.from('{"LastRunID":"x"}').toString('base64url')}.${'A'.repeat(22)}`);
    for (const bad of [otherList, madeUp]) {
      expect([bad.status, bad.body.error.details.fields[0].path]).toEqual([400, 'pageToken']);
    }
  });

  it('keeps a restricted token to its own tenant, and shows monitoring tokens no message texts', async () => {
    const { id } = await greeted();
    await waitFor('the greeting', async () => (await stateOf(id)).lastMessages.length === 2);
    expect((await api(tokens.hotel).get(`/admin/conversations?tenantId=${other.id}`)).status).toBe(404);
    const own = await api(tokens.hotel).get('/admin/conversations?pageSize=100').expect(200);
    expect((own.body.conversations as { tenantId: string }[]).every((c) => c.tenantId === hotel.id)).toBe(true);
    expect((await api(tokens.other).get(path(id))).status).toBe(404);

    const seen = await api(tokens.monitoring).get(path(id)).expect(200);
    expect(seen.body.state.lastMessages).toHaveLength(2);
    for (const m of seen.body.state.lastMessages as Record<string, unknown>[]) expect(m.text).toBeUndefined();
  });

  it('refuses a malformed id or reply before it reaches the conversation (400), recording nothing', async () => {
    const { id } = await greeted();
    await waitFor('the greeting', async () => (await stateOf(id)).lastMessages.length === 2);
    expect((await api(tokens.root).get('/admin/conversations/not-a-conversation')).status).toBe(400);
    for (const body of [{ text: '   ' }, { text: 'x'.repeat(4097) }, { text: 'hi', extra: true }, {}]) {
      const res = await api(tokens.root).post(path(id, 'reply'), body);
      expect([res.status, res.body.error.code]).toEqual([400, 'validation_failed']);
    }
    expect(await updatesOf(id)).toEqual([]);
  });
});
