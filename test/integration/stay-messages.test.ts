import { englishDate } from '../../dev/dates';
import { waitFor } from '../../dev/process';
import type { SentMessage } from '../../dev/whatsapp-standin';
import { stateQuery } from '../../lib/domain/conversation';
import type { MessagingSettings } from '../../lib/domain/messaging-settings';
import {
  localDateTime,
  shortLocalTime,
  stayMessagesWorkflowId,
  type StayMessagesState,
} from '../../lib/domain/stay-messages';
import { startStack, type Stack } from '../helpers/stack';
import type { TestTenant } from '../helpers/tenants';
import { conversationIdFor, postSigned, textWebhook, uniqueMessageId, uniqueWaId } from '../helpers/webhooks';

/**
 * Issue 12, point 4, at the WhatsApp stand-in: a confirmed booking schedules, durably, a pre-arrival template before
 * check-in (with the check-in time and the hotel's address) and a thank-you after check-out, in their own workflow;
 * the guest's answer continues the same conversation; cancelling the booking cancels both. The tenant's offset is
 * chosen so that the pre-arrival message is due seconds after the booking.
 */
const timezone = 'Europe/Madrid';
const info = { address: 'Calle Mayor 1, Madrid', checkIn: '15:00', checkOut: '11:00' };
const templates: MessagingSettings['templates'] = {
  pre_arrival: {
    name: 'pre_arrival_note',
    languages: { en: 'en_US', es: 'es' },
    parameters: ['{hotel}', '{checkInDate}', '{checkInTime}', '{address}'],
  },
  post_stay: { name: 'thank_you_stay', languages: { en: 'en_US' }, parameters: ['{hotel}'] },
};
const checkIn = new Date(Date.now() + 10 * 86_400_000);
const checkOut = new Date(checkIn.getTime() + 2 * 86_400_000);
const checkInDate = checkIn.toISOString().slice(0, 10);
/** Seconds from now until check-in at 15:00 in Madrid, less `lead`: the pre-arrival message is due in `lead` s. */
const offsetFor = (leadSeconds: number) =>
  Math.floor((localDateTime(checkInDate, '15:00', timezone) - Date.now()) / 1000) - leadSeconds;

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
  stack.whatsapp.templates.add('pre_arrival_note');
  stack.whatsapp.templates.add('thank_you_stay');
});

afterAll(() => stack?.stop());

const sentTo = (waId: string): SentMessage[] => stack.whatsapp.sent.filter((m) => m.to === waId);
const waitSent = (waId: string, n: number, timeoutMs = 30_000) =>
  waitFor(`${n} messages`, () => sentTo(waId).length >= n, { timeoutMs, intervalMs: 100 });

async function say(tenant: TestTenant, from: string, body: string): Promise<string> {
  const id = uniqueMessageId();
  // Meta's timestamp is "today" for the understanding: now, not the fixture's.
  const timestamp = Math.floor(Date.now() / 1000);
  await postSigned(stack.app, textWebhook({ phoneNumberId: tenant.phoneNumberId, from, id, body, timestamp }));
  return id;
}

/** A guest books the first room; answers once the booking is confirmed in the conversation's state. */
async function book(tenant: TestTenant, from: string): Promise<string> {
  await say(tenant, from, `Do you have a room from ${englishDate(checkIn)} to ${englishDate(checkOut)} for 2 adults?`);
  await waitSent(from, 1);
  await say(tenant, from, '1');
  await waitSent(from, 2);
  expect(sentTo(from)[1]!.text).toMatch(/^Booking confirmed!/);
  const handle = stack.temporal.workflow.getHandle(conversationIdFor(tenant.phoneNumberId, from));
  await waitFor('the booking settled', async () => (await handle.query(stateQuery)).booking?.status === 'confirmed');
  return (await handle.query(stateQuery)).booking!.reference;
}

const details = async (workflowId: string): Promise<string> =>
  (
    await stack.temporal.workflow
      .getHandle(workflowId)
      .query<{ currentDetails?: string }>('__temporal_workflow_metadata')
  ).currentDetails ?? '';

it('sends the pre-arrival template at its time; the guest’s answer continues the same conversation', async () => {
  const tenant = await stack.tenant({
    name: 'Hotel Llegada',
    locale: 'en',
    timezone,
    info,
    pmsHotelId: 1,
    messaging: { templates, stayMessages: { preArrivalBeforeSeconds: offsetFor(8), postStayAfterSeconds: 3600 } },
  });
  const from = uniqueWaId();
  const reference = await book(tenant, from);
  const stay = stack.temporal.workflow.getHandle(stayMessagesWorkflowId(reference));
  const { preArrival } = await stay.query<StayMessagesState>('stayMessages');
  expect(preArrival.outcome).toBe('scheduled');
  expect(await details(stay.workflowId)).toBe(
    `Booking ${reference}: pre-arrival message on ${shortLocalTime(preArrival.at, timezone)}`,
  );
  expect(await details(conversationIdFor(tenant.phoneNumberId, from))).toContain(
    `pre-arrival message on ${shortLocalTime(preArrival.at, timezone)}`,
  );
  expect(sentTo(from)).toHaveLength(2);

  await waitSent(from, 3, 30_000);
  expect(Date.now()).toBeGreaterThanOrEqual(preArrival.at);
  expect(sentTo(from)[2]).toMatchObject({
    type: 'template',
    template: {
      name: 'pre_arrival_note',
      language: 'en_US',
      parameters: ['Hotel Llegada', checkInDate, '15:00', 'Calle Mayor 1, Madrid'],
    },
  });
  await waitFor('the pre-arrival recorded', async () => {
    const s = await stay.query<StayMessagesState>('stayMessages');
    return s.preArrival.outcome === 'sent' && s.postStay.outcome === 'scheduled';
  });
  expect(await details(stay.workflowId)).toMatch(new RegExp(`^Booking ${reference}: thank-you message on `));

  const answer = await say(tenant, from, 'What time is check-in?');
  await waitFor('the answer', () => sentTo(from).some((m) => m.replyTo === answer));
  expect(sentTo(from).find((m) => m.replyTo === answer)!.text).toBe('Check-in is from 15:00.');
  await stay.terminate('test over');
}, 90_000);

it('cancelling the booking cancels its pre-arrival and post-stay messages', async () => {
  const tenant = await stack.tenant({
    name: 'Hotel Cancela',
    locale: 'en',
    timezone,
    info,
    pmsHotelId: 1,
    messaging: { templates, stayMessages: { preArrivalBeforeSeconds: offsetFor(20) } },
  });
  const from = uniqueWaId();
  const reference = await book(tenant, from);
  await say(tenant, from, 'I want to cancel my booking');
  await waitSent(from, 3);
  expect(sentTo(from)[2]!.text).toBe('We have cancelled your booking. Nothing is booked in your name.');
  const result = await stack.temporal.workflow.getHandle(stayMessagesWorkflowId(reference)).result();
  expect(result).toMatchObject({ preArrival: { outcome: 'cancelled' }, postStay: { outcome: 'cancelled' } });
  expect(sentTo(from).filter((m) => m.type === 'template')).toHaveLength(0);
});
