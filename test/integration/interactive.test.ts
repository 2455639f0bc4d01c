import { englishDate, spanishDate } from '../../dev/dates';
import { demoHotels, OrderState, type StandinHotel } from '../../dev/pms-standin';
import { waitFor } from '../../dev/process';
import type { SentMessage } from '../../dev/whatsapp-standin';
import { stateQuery } from '../../lib/domain/conversation';
import { startStack, type Stack } from '../helpers/stack';
import type { TestTenant } from '../helpers/tenants';
import {
  conversationIdFor,
  interactiveReplyWebhook,
  postSigned,
  textWebhook,
  uniqueMessageId,
  uniqueWaId,
} from '../helpers/webhooks';

/**
 * Issue 12, point 2, at the WhatsApp stand-in: a room offer sent as a list, chosen by tapping a row (Meta's
 * list-reply webhook), ending in a booking whose confirmation has reply buttons; a tap on "Cancel booking" cancels it.
 * A tenant with interactive messages off gets numbered text.
 */
const longRoom = 'Suite Presidencial Deluxe con Terraza Panorámica y Jacuzzi Privado';
const longHotel: StandinHotel = {
  id: 8,
  name: 'Gran Hotel Balneario',
  currency: 'EUR',
  taxRate: 0,
  roomTypes: [
    { id: 80, name: longRoom, pricePerNight: 950, maxAdults: 2, maxChildren: 0, rooms: [{ id: 800, number: '1' }] },
    { id: 81, name: 'Doble', pricePerNight: 90, maxAdults: 2, maxChildren: 0, rooms: [{ id: 810, number: '2' }] },
  ],
};

let stack: Stack;
let interactive: TestTenant;
let plain: TestTenant;

beforeAll(async () => {
  stack = await startStack({ pms: { hotels: [...demoHotels(), longHotel] } });
  interactive = await stack.tenant({
    name: 'Gran Hotel Balneario y Spa de las Termas Romanas de Santa María del Mar y Montaña',
    locale: 'es',
    pmsHotelId: 8,
    messaging: { interactive: true },
  });
  plain = await stack.tenant({ name: 'Hotel Texto', locale: 'en', pmsHotelId: 1, messaging: { interactive: false } });
});

afterAll(() => stack?.stop());

const sentTo = (waId: string): SentMessage[] => stack.whatsapp.sent.filter((m) => m.to === waId);
const waitSent = (waId: string, n: number) =>
  waitFor(`${n} messages`, () => sentTo(waId).length >= n, { timeoutMs: 30_000, intervalMs: 100 });

async function say(tenant: TestTenant, from: string, body: string) {
  await postSigned(stack.app, textWebhook({ phoneNumberId: tenant.phoneNumberId, from, id: uniqueMessageId(), body }));
}

function stay(offsetDays: number, nights: number) {
  const checkIn = new Date(Date.now() + offsetDays * 86_400_000);
  return { checkIn, checkOut: new Date(checkIn.getTime() + nights * 86_400_000) };
}

it('offers rooms as a list; a tapped row books the room; a tapped button cancels it', async () => {
  const from = uniqueWaId();
  const { checkIn, checkOut } = stay(12, 2);
  await say(interactive, from, `Hola, ¿tienen habitación del ${spanishDate(checkIn)} al ${spanishDate(checkOut)}?`);
  await waitSent(from, 1);
  const offer = sentTo(from)[0]!;
  expect(offer.type).toBe('interactive');
  expect(offer.interactive?.type).toBe('list');
  expect(offer.interactive?.header?.text).toHaveLength(60);
  const rows = offer.interactive!.action!.sections!.flatMap((s) => s.rows!);
  expect(rows).toEqual([
    { id: 'choice:1', title: 'Suite Presidencial Delu…', description: '950 EUR por noche · 1 libre' },
    { id: 'choice:2', title: 'Doble', description: '90 EUR por noche · 1 libre' },
  ]);

  const tap = interactiveReplyWebhook('list_reply', {
    phoneNumberId: interactive.phoneNumberId,
    from,
    id: 'choice:1',
    title: rows[0]!.title!,
    contextId: offer.id,
  });
  await postSigned(stack.app, tap.payload);
  await waitSent(from, 2);
  const confirmation = sentTo(from)[1]!;
  expect(confirmation.text).toMatch(/^¡Reserva confirmada! Suite Presidencial Deluxe con Terraza/);
  expect(confirmation.interactive?.action?.buttons).toEqual([
    { type: 'reply', reply: { id: 'intent:cancel_booking', title: 'Cancelar reserva' } },
    { type: 'reply', reply: { id: 'intent:human', title: 'Hablar con recepción' } },
  ]);
  const booked = stack.pms.bookings.filter((b) => b.hotelId === 8 && b.currentState !== OrderState.cancelled);
  expect(booked).toHaveLength(1);

  const handle = stack.temporal.workflow.getHandle(conversationIdFor(interactive.phoneNumberId, from));
  await waitFor('the booking settled', async () => (await handle.query(stateQuery)).booking?.status === 'confirmed');
  const cancel = interactiveReplyWebhook('button_reply', {
    phoneNumberId: interactive.phoneNumberId,
    from,
    id: 'intent:cancel_booking',
    title: 'Cancelar reserva',
    contextId: confirmation.id,
  });
  await postSigned(stack.app, cancel.payload);
  await waitSent(from, 3);
  expect(sentTo(from)[2]!.text).toBe('Hemos cancelado tu reserva. No queda nada reservado a tu nombre.');
  expect(stack.pms.bookings.filter((b) => b.hotelId === 8 && b.currentState !== OrderState.cancelled)).toHaveLength(0);
});

it('sends numbered text when the tenant has interactive messages off', async () => {
  const from = uniqueWaId();
  const { checkIn, checkOut } = stay(14, 2);
  await say(plain, from, `Do you have a room from ${englishDate(checkIn)} to ${englishDate(checkOut)} for 2 adults?`);
  await waitSent(from, 1);
  expect(sentTo(from)[0]).toMatchObject({ type: 'text' });
  expect(sentTo(from)[0]!.text).toContain('1. Standard Double');
  await say(plain, from, '1');
  await waitSent(from, 2);
  expect(sentTo(from)[1]).toMatchObject({ type: 'text' });
  expect(sentTo(from)[1]!.text).toMatch(/^Booking confirmed! Standard Double/);
});
