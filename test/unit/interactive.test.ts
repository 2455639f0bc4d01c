import {
  bookingButtons,
  fitInteractive,
  graphInteractive,
  interactiveLimits as L,
  offerList,
  truncate,
  type InteractiveList,
} from '../../lib/domain/interactive';

/** Issue 12, point 2: every interactive payload is fitted to Meta's limits before it is sent. */
const longHotel = 'Gran Hotel Balneario y Spa de las Termas Romanas de Santa María del Mar y Montaña';
const longRoom = 'Suite Presidencial Deluxe con Terraza Panorámica y Jacuzzi Privado';
const rooms = (n: number, name = longRoom) =>
  Array.from({ length: n }, (_, i) => ({ roomTypeName: `${name} ${i + 1}`, free: 2, price: '1234.56 EUR' }));

function fittedList(list: InteractiveList) {
  const fitted = fitInteractive(list);
  if (!fitted.ok) throw new Error(fitted.problems.join('; '));
  if (fitted.message.type !== 'list') throw new Error('not a list');
  return fitted.message;
}

it('cuts long hotel and room names with an ellipsis, keeping the row ids that carry the choice', () => {
  const list = fittedList(
    offerList('es', longHotel, { checkIn: '2031-03-01', checkOut: '2031-03-03', provisional: true, rooms: rooms(10) }),
  );
  expect(Array.from(list.header!)).toHaveLength(L.header);
  expect(list.header!.endsWith('…')).toBe(true);
  const rows = list.sections[0]!.rows;
  expect(rows.map((r) => r.id)).toEqual(Array.from({ length: 10 }, (_, i) => `choice:${i + 1}`));
  for (const row of rows) {
    expect(Array.from(row.title).length).toBeLessThanOrEqual(L.rowTitle);
    expect(Array.from(row.description!).length).toBeLessThanOrEqual(L.rowDescription);
  }
  expect(rows[0]!.title).toBe('Suite Presidencial Delu…');
  expect(rows[0]!.description).toBe('1234.56 EUR por noche · 2 libres');
  expect(Array.from(list.button).length).toBeLessThanOrEqual(L.listButton);
});

it('refuses more than 10 rooms rather than dropping one the guest might want', () => {
  const fitted = fitInteractive(
    offerList('en', 'Hotel', { checkIn: '2031-03-01', checkOut: '2031-03-03', provisional: false, rooms: rooms(11) }),
  );
  expect(fitted).toEqual({ ok: false, problems: ['list: 11 rows, at most 10'] });
});

it('refuses an id that is too long, empty or repeated: shortening it would break the choice', () => {
  const list: InteractiveList = {
    type: 'list',
    body: 'Pick one',
    button: 'Rooms',
    sections: [
      {
        rows: [
          { id: 'x'.repeat(201), title: 'A' },
          { id: '', title: 'B' },
          { id: 'choice:1', title: 'C' },
          { id: 'choice:1', title: 'D' },
        ],
      },
    ],
  };
  const fitted = fitInteractive(list);
  expect(fitted.ok).toBe(false);
  expect(!fitted.ok && fitted.problems).toEqual([
    'row A: id longer than 200 characters',
    'row B: empty id',
    'row D: id choice:1 used twice',
  ]);
});

it('fits reply buttons: at most 3, titles cut to 20 and unique once cut', () => {
  const buttons = fitInteractive(bookingButtons('es', '¡Reserva confirmada! '.repeat(100)));
  expect(buttons.ok).toBe(true);
  if (!buttons.ok || buttons.message.type !== 'button') throw new Error('not fitted');
  expect(Array.from(buttons.message.body)).toHaveLength(L.body);
  expect(buttons.message.buttons.map((b) => [b.id, b.title])).toEqual([
    ['intent:cancel_booking', 'Cancelar reserva'],
    ['intent:human', 'Hablar con recepción'],
  ]);
  const clash = fitInteractive({
    type: 'button',
    body: 'Which?',
    buttons: [
      { id: 'a', title: 'Habitación doble superior' },
      { id: 'b', title: 'Habitación doble superior vista mar' },
      { id: 'c', title: 'C' },
      { id: 'd', title: 'D' },
    ],
  });
  expect(!clash.ok && clash.problems).toEqual([
    'buttons: 4, at most 3',
    'button b: title "Habitación doble su…" not unique',
  ]);
});

it('never splits an emoji when cutting', () => {
  expect(truncate('🏨'.repeat(30), 24)).toBe(`${'🏨'.repeat(23)}…`);
  expect(truncate('short', 24)).toBe('short');
});

it("writes Meta's interactive object", () => {
  const list = fittedList(
    offerList('en', 'Hotel Mar', {
      checkIn: '2031-03-01',
      checkOut: '2031-03-03',
      provisional: false,
      rooms: [{ roomTypeName: 'Double', free: 1 }],
    }),
  );
  expect(graphInteractive(list)).toEqual({
    type: 'list',
    header: { type: 'text', text: 'Hotel Mar' },
    body: {
      text: 'Rooms available from 2031-03-01 to 2031-03-03. Tap "See rooms" and choose the one you would like to book.',
    },
    action: { button: 'See rooms', sections: [{ rows: [{ id: 'choice:1', title: 'Double', description: '1 free' }] }] },
  });
});
