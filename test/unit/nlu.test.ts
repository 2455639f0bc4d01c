import { MockActivityEnvironment } from '@temporalio/testing';
import { createNluActivities } from '../../activities/nlu';
import { createRuleBasedUnderstander, type UnderstandInput } from '../../lib/domain/understanding';
import { choiceReplyId, intents, replyIdFor, type StayProblem, type Understanding } from '../../lib/domain/intents';
import type { Language } from '../../lib/domain/language';
import { clarifyingQuestion } from '../../lib/domain/nlu-questions';

/** Wednesday 2026-11-25, 17:00 in Madrid; already Thursday 2026-11-26, 01:00 in Tokyo. */
const wednesday = Date.UTC(2026, 10, 25, 16) / 1000;
const at = (iso: string) => Date.parse(iso) / 1000;

const nlu = createRuleBasedUnderstander();

function understand(text: string, input: Partial<UnderstandInput> = {}): Promise<Understanding> {
  return nlu.understand({
    text,
    locale: 'es',
    timezone: 'Europe/Madrid',
    messageTimestamp: wednesday,
    maxStayNights: 30,
    ...input,
  });
}

/** Everything but the language, which has its own table. */
async function meaning(text: string, input: Partial<UnderstandInput> = {}): Promise<Omit<Understanding, 'language'>> {
  const { language: _language, ...rest } = await understand(text, input);
  return rest;
}

const stay = (checkIn: string, checkOut: string, guests: { adults?: number; children?: number } = {}) => ({
  checkIn,
  checkOut,
  ...guests,
});

describe('rule-based understanding (Madrid, Wednesday 25 November 2026)', () => {
  describe('greetings and thanks', () => {
    it.each([
      ['hola', 'greeting'],
      ['Hola, buenas tardes', 'greeting'],
      ['buenos días', 'greeting'],
      ['buenas noches', 'greeting'],
      ['hi', 'greeting'],
      ['Hello, good morning', 'greeting'],
      ['good evening', 'greeting'],
      ['gracias', 'thanks'],
      ['Muchas gracias, hasta mañana', 'thanks'],
      ['perfecto, gracias!', 'thanks'],
      ['thank you', 'thanks'],
      ['Thanks, see you tomorrow', 'thanks'],
    ] as const)('%j → %s', async (text, intent) => {
      expect(await meaning(text)).toStrictEqual({ intent });
    });
  });

  describe('availability with dates', () => {
    it.each([
      ['¿tienen habitación del 3 al 5 de diciembre para 2 adultos?', stay('2026-12-03', '2026-12-05', { adults: 2 })],
      ['3-5 diciembre', stay('2026-12-03', '2026-12-05')],
      ['del 3 de diciembre al 5', stay('2026-12-03', '2026-12-05')],
      ['3/12 al 5/12', stay('2026-12-03', '2026-12-05')],
      ['December 3 to 5', stay('2026-12-03', '2026-12-05')],
      ['Dec 3-5', stay('2026-12-03', '2026-12-05')],
      ['from the 3rd to the 5th of December', stay('2026-12-03', '2026-12-05')],
      ['3rd-5th Dec', stay('2026-12-03', '2026-12-05')],
      ['entre el 3 y el 5 de diciembre', stay('2026-12-03', '2026-12-05')],
      ['las noches del 3 y 4 de diciembre', stay('2026-12-03', '2026-12-05')],
      ['check in dec 3, check out dec 5', stay('2026-12-03', '2026-12-05')],
      ['llegada el 3 de diciembre y salida el 5', stay('2026-12-03', '2026-12-05')],
      // No month: this month if the check-out is still ahead, else the next.
      ['del 27 al 29', stay('2026-11-27', '2026-11-29')],
      ['del 3 al 5', stay('2026-12-03', '2026-12-05')],
      ['do you have a double room from the 5th to the 8th?', stay('2026-12-05', '2026-12-08')],
      ['del 28 al 2', stay('2026-11-28', '2026-12-02')],
      ['el 5', stay('2026-12-05', '2026-12-06')],
      // Across the new year, and years written out.
      ['del 30 de diciembre al 2 de enero', stay('2026-12-30', '2027-01-02')],
      ['from December 30 to January 2', stay('2026-12-30', '2027-01-02')],
      ['Dec 31 - Jan 2', stay('2026-12-31', '2027-01-02')],
      ['3 de enero', stay('2027-01-03', '2027-01-04')],
      ['December 3-5, 2027', stay('2027-12-03', '2027-12-05')],
      ['24/12/2026 - 26/12/2026', stay('2026-12-24', '2026-12-26')],
      ['2026-12-24 to 2026-12-26', stay('2026-12-24', '2026-12-26')],
      // Relative to the message's day.
      ['tomorrow for 2 nights', stay('2026-11-26', '2026-11-28')],
      ['mañana 3 noches', stay('2026-11-26', '2026-11-29')],
      ['Tienen habitaciones libres para mañana?', stay('2026-11-26', '2026-11-27')],
      ['Hey, any vacancies tonight?', stay('2026-11-25', '2026-11-26')],
      ['¿hay habitaciones para esta noche para 1 persona?', stay('2026-11-25', '2026-11-26', { adults: 1 })],
      ['desde hoy hasta el domingo', stay('2026-11-25', '2026-11-29')],
      ['del viernes al domingo', stay('2026-11-27', '2026-11-29')],
      ['el viernes 4 de diciembre', stay('2026-12-04', '2026-12-05')],
      ['del viernes 4 al domingo 6 de diciembre', stay('2026-12-04', '2026-12-06')],
      ['arriving Friday, leaving Sunday', stay('2026-11-27', '2026-11-29')],
      [
        '¿tenéis sitio para 4 personas el 8 de diciembre por 2 noches?',
        stay('2026-12-08', '2026-12-10', { adults: 4 }),
      ],
      ['una semana a partir del 1 de diciembre', stay('2026-12-01', '2026-12-08')],
      ['a week from December 1', stay('2026-12-01', '2026-12-08')],
      // Weekends: Friday to Sunday check-out.
      ['este fin de semana', stay('2026-11-27', '2026-11-29')],
      ['this weekend', stay('2026-11-27', '2026-11-29')],
      ['next weekend', stay('2026-12-04', '2026-12-06')],
      ['el próximo fin de semana', stay('2026-12-04', '2026-12-06')],
      ['el fin de semana que viene', stay('2026-12-04', '2026-12-06')],
      ['room for two next weekend', stay('2026-12-04', '2026-12-06', { adults: 2 })],
      ['el fin de semana del 12 de diciembre', stay('2026-12-11', '2026-12-13')],
      ['room for 2 adults 1 child 24-26 dec', stay('2026-12-24', '2026-12-26', { adults: 2, children: 1 })],
    ])('%j', async (text, expected) => {
      expect(await meaning(text)).toStrictEqual({ intent: 'availability', stay: expected });
    });
  });

  describe('guests without dates: availability that asks for the dates', () => {
    it.each([
      ['dos adultos', { adults: 2 }],
      ['two adults', { adults: 2 }],
      ['for two', { adults: 2 }],
      ['para 2 personas', { adults: 2 }],
      ['2 adults and 1 child', { adults: 2, children: 1 }],
      ['con un niño', { children: 1 }],
      ['somos 3 personas y 1 niño', { adults: 2, children: 1 }],
      ['somos una pareja con un niño', { adults: 2, children: 1 }],
      ['Necesito una habitación para dos adultos y dos niños', { adults: 2, children: 2 }],
      ['3 adultos y un bebé', { adults: 3, children: 1 }],
    ])('%j', async (text, guests) => {
      expect(await meaning(text)).toStrictEqual({ intent: 'availability', stay: guests, problem: 'missing_dates' });
    });
  });

  describe('booking', () => {
    it.each([
      // Accepting an offer needs no dates: the offer has them.
      ['quiero reservar', { intent: 'book' }],
      ['book it', { intent: 'book' }],
      ['me la quedo', { intent: 'book' }],
      // Asking for a room afresh does.
      ['quiero reservar una habitación', { intent: 'book', problem: 'missing_dates' }],
      ['I want to book a room for 2 adults', { intent: 'book', stay: { adults: 2 }, problem: 'missing_dates' }],
      [
        'quiero reservar del 3 al 5 de diciembre para 2 adultos',
        { intent: 'book', stay: stay('2026-12-03', '2026-12-05', { adults: 2 }) },
      ],
      ['I want to book a room from Dec 20 to Dec 23', { intent: 'book', stay: stay('2026-12-20', '2026-12-23') }],
      [
        'Hola, quiero reservar para este finde, somos 3',
        { intent: 'book', stay: stay('2026-11-27', '2026-11-29', { adults: 3 }) },
      ],
      ['reservar la 2', { intent: 'book', choice: 2 }],
      ['la segunda', { intent: 'book', choice: 2 }],
      ["I'll take the first one", { intent: 'book', choice: 1 }],
      ['book 2', { intent: 'book', choice: 2 }],
      ['1', { intent: 'book', choice: 1 }],
      ['opción 3', { intent: 'book', choice: 3 }],
      ['quiero la habitación 2', { intent: 'book', choice: 2 }],
      ['me quedo con la primera', { intent: 'book', choice: 1 }],
      ['the 2nd one', { intent: 'book', choice: 2 }],
      ["I'd like to book the second option", { intent: 'book', choice: 2 }],
    ])('%j', async (text, expected) => {
      expect(await meaning(text)).toStrictEqual(expected);
    });
  });

  describe('cancelling a booking', () => {
    it.each([
      ['cancelar mi reserva BK-123', { bookingReference: 'BK-123' }],
      ['cancel my booking', {}],
      ['Quiero anular la reserva 123456', { bookingReference: '123456' }],
      ['please cancel booking-wa:123:456', { bookingReference: 'booking-wa:123:456' }],
      ['cancelar mi reserva del 3 al 5 de diciembre', { stay: stay('2026-12-03', '2026-12-05') }],
    ])('%j', async (text, expected) => {
      expect(await meaning(text)).toStrictEqual({ intent: 'cancel_booking', ...expected });
    });
  });

  describe('hotel information', () => {
    it.each([
      ['¿dónde están?', 'address'],
      ['Dónde está el hotel', 'address'],
      ["What's your address?", 'address'],
      ['where are you located?', 'address'],
      ['¿a qué hora es el check-in?', 'check_in'],
      ['What time is check in?', 'check_in'],
      ['llegaremos tarde, sobre las 11', 'check_in'],
      ['check out time', 'check_out'],
      ['¿a qué hora hay que dejar la habitación?', 'check_out'],
      ['late check out possible?', 'check_out'],
      ['¿tienen parking?', 'parking'],
      ['Is there parking at the hotel?', 'parking'],
      ['¿dónde puedo aparcar?', 'parking'],
      ['wifi password', 'wifi'],
      ['¿cuál es la contraseña del wifi?', 'wifi'],
      ['¿el desayuno está incluido?', 'breakfast'],
      ['is breakfast included with the room?', 'breakfast'],
      ['¿admiten mascotas?', 'pets'],
      ['can I bring my dog?', 'pets'],
      ['¿cuál es la política de cancelación?', 'general'],
      ['tell me about the hotel', 'general'],
      ['¿tienen piscina?', 'general'],
    ])('%j → %s', async (text, infoTopic) => {
      expect(await meaning(text)).toStrictEqual({ intent: 'hotel_info', infoTopic });
    });
  });

  describe('a person, and what is not understood', () => {
    it.each([
      ['hablar con una persona', 'human'],
      ['Me gustaría hablar con una persona', 'human'],
      ['talk to a human', 'human'],
      ['Can I talk to a person please', 'human'],
      ['recepción', 'human'],
      ['hi, can I speak to the front desk?', 'human'],
      ['ok', 'unknown'],
      ['👍', 'unknown'],
      ['the first floor is fine', 'unknown'],
      ['la habitación 204 no tiene agua caliente', 'unknown'],
      ['room 12 has no towels', 'unknown'],
      ['', 'unknown'],
    ] as const)('%j → %s', async (text, intent) => {
      expect(await meaning(text)).toStrictEqual({ intent });
    });
  });

  describe('precedence when a message has cues for several intents', () => {
    it.each([
      ['hola, ¿tienen habitación del 3 al 5?', { intent: 'availability', stay: stay('2026-12-03', '2026-12-05') }],
      ['gracias, reservar la 2', { intent: 'book', choice: 2 }],
      [
        'Buenos días, quisiera reservar una habitación doble para el fin de semana',
        { intent: 'book', stay: stay('2026-11-27', '2026-11-29') },
      ],
      ['quiero hablar con alguien para cancelar mi reserva', { intent: 'human' }],
      ['¿hay habitaciones con wifi?', { intent: 'hotel_info', infoTopic: 'wifi' }],
      [
        'mi reserva para el 3 de diciembre, ¿a qué hora es el check-in?',
        { intent: 'hotel_info', infoTopic: 'check_in', stay: stay('2026-12-03', '2026-12-04') },
      ],
      [
        '¿tienen habitación con desayuno del 3 al 5 de diciembre?',
        { intent: 'availability', stay: stay('2026-12-03', '2026-12-05') },
      ],
      ['¿cuánto cuesta una noche?', { intent: 'availability', problem: 'missing_dates' }],
    ])('%j', async (text, expected) => {
      expect(await meaning(text)).toStrictEqual(expected);
    });
  });

  describe('invalid stays get a problem, not an error', () => {
    it.each<[string, Partial<UnderstandInput>, ReturnType<typeof stay> | undefined, StayProblem]>([
      ['del 5 al 3 de diciembre', {}, stay('2026-12-05', '2026-12-03'), 'checkout_before_checkin'],
      ['del 3 al 3 de diciembre', {}, stay('2026-12-03', '2026-12-03'), 'checkout_before_checkin'],
      ['del 20 al 27 de noviembre', {}, stay('2026-11-20', '2026-11-27'), 'in_the_past'],
      ['del 3 al 5 de diciembre de 2025', {}, stay('2025-12-03', '2025-12-05'), 'in_the_past'],
      ['ayer', {}, stay('2026-11-24', '2026-11-25'), 'in_the_past'],
      ['del 1 de diciembre al 15 de enero', {}, stay('2026-12-01', '2027-01-15'), 'too_long'],
      ['room for 2 on Dec 3 for 40 nights', {}, stay('2026-12-03', '2027-01-12', { adults: 2 }), 'too_long'],
      ['del 3 al 10 de diciembre', { maxStayNights: 6 }, stay('2026-12-03', '2026-12-10'), 'too_long'],
      ['¿tienen habitación?', {}, undefined, 'missing_dates'],
      ['is there a room available?', {}, undefined, 'missing_dates'],
    ])('%j', async (text, input, expectedStay, problem) => {
      expect(await meaning(text, input)).toStrictEqual({
        intent: 'availability',
        ...(expectedStay ? { stay: expectedStay } : {}),
        problem,
      });
    });

    it('allows a stay of exactly the maximum', async () => {
      expect(await meaning('del 3 al 10 de diciembre', { maxStayNights: 7 })).toStrictEqual({
        intent: 'availability',
        stay: stay('2026-12-03', '2026-12-10'),
      });
    });

    it('checks dates given with a booking too', async () => {
      expect(await meaning('quiero reservar del 5 al 3 de diciembre')).toStrictEqual({
        intent: 'book',
        stay: stay('2026-12-05', '2026-12-03'),
        problem: 'checkout_before_checkin',
      });
    });

    it.each<[StayProblem, Language, number, string]>([
      ['missing_dates', 'es', 30, '¿Para qué fechas?'],
      ['missing_dates', 'en', 30, 'For which dates?'],
      ['checkout_before_checkin', 'es', 30, 'La salida tiene que ser después de la llegada'],
      ['checkout_before_checkin', 'en', 30, 'Check-out has to be after check-in'],
      ['in_the_past', 'es', 30, 'Esas fechas ya han pasado'],
      ['in_the_past', 'en', 30, 'Those dates have already passed'],
      ['too_long', 'es', 14, 'hasta 14 noches'],
      ['too_long', 'en', 14, 'up to 14 nights'],
      ['too_long', 'es', 1, 'hasta 1 noche.'],
      ['too_long', 'en', 1, 'up to 1 night.'],
    ])('asks back for %s in %s (max %d nights)', (problem, language, max, expected) => {
      expect(clarifyingQuestion(problem, language, max)).toContain(expected);
    });

    it('asks in the language the guest wrote in', async () => {
      const u = await understand('from December 5 to December 3', { locale: 'es' });
      expect(u).toMatchObject({ language: 'en', problem: 'checkout_before_checkin' });
      expect(clarifyingQuestion(u.problem!, u.language, 30)).toMatch(/^Check-out has to be after check-in/);
    });
  });
});

describe('dates are days in the hotel timezone at the message time', () => {
  it.each([
    ['mañana', stay('2026-11-26', '2026-11-27'), stay('2026-11-27', '2026-11-28')],
    ['tonight', stay('2026-11-25', '2026-11-26'), stay('2026-11-26', '2026-11-27')],
    ['tomorrow for 2 nights', stay('2026-11-26', '2026-11-28'), stay('2026-11-27', '2026-11-29')],
    ['el viernes', stay('2026-11-27', '2026-11-28'), stay('2026-11-27', '2026-11-28')],
    ['this weekend', stay('2026-11-27', '2026-11-29'), stay('2026-11-27', '2026-11-29')],
    ['next weekend', stay('2026-12-04', '2026-12-06'), stay('2026-12-04', '2026-12-06')],
  ])('%j: Madrid (Wednesday) and Tokyo (already Thursday)', async (text, madrid, tokyo) => {
    expect((await understand(text, { timezone: 'Europe/Madrid' })).stay).toStrictEqual(madrid);
    expect((await understand(text, { timezone: 'Asia/Tokyo' })).stay).toStrictEqual(tokyo);
  });

  it('the same range is fine in Madrid and already begun in Tokyo', async () => {
    expect(await meaning('del 25 al 27', { timezone: 'Europe/Madrid' })).toStrictEqual({
      intent: 'availability',
      stay: stay('2026-11-25', '2026-11-27'),
    });
    expect(await meaning('del 25 al 27', { timezone: 'Asia/Tokyo' })).toStrictEqual({
      intent: 'availability',
      stay: stay('2026-11-25', '2026-11-27'),
      problem: 'in_the_past',
    });
  });

  describe('year rollover: Sunday 20 December 2026', () => {
    const sunday = at('2026-12-20T12:00:00Z');
    it.each([
      ['3 de enero', stay('2027-01-03', '2027-01-04')],
      ['Jan 3-5', stay('2027-01-03', '2027-01-05')],
      ['del 2 al 5 de enero', stay('2027-01-02', '2027-01-05')],
      ['del 30 de diciembre al 2 de enero', stay('2026-12-30', '2027-01-02')],
      ['del 28 al 2', stay('2026-12-28', '2027-01-02')],
      ['del 3 al 5', stay('2027-01-03', '2027-01-05')],
      ['este fin de semana', stay('2026-12-25', '2026-12-27')],
      ['next weekend', stay('2026-12-25', '2026-12-27')],
      ['el próximo viernes', stay('2026-12-25', '2026-12-26')],
    ])('%j', async (text, expected) => {
      expect((await understand(text, { messageTimestamp: sunday })).stay).toStrictEqual(expected);
    });
  });

  it('on New Year’s Eve in New York it is already 1 January in Madrid', async () => {
    const instant = at('2027-01-01T03:00:00Z');
    expect(
      (await understand('mañana', { messageTimestamp: instant, timezone: 'America/New_York' })).stay,
    ).toStrictEqual(stay('2027-01-01', '2027-01-02'));
    expect((await understand('mañana', { messageTimestamp: instant, timezone: 'Europe/Madrid' })).stay).toStrictEqual(
      stay('2027-01-02', '2027-01-03'),
    );
    // A stay that has begun is in the past, not moved to next year.
    expect(await meaning('del 30 de diciembre al 2 de enero', { messageTimestamp: instant })).toStrictEqual({
      intent: 'availability',
      stay: stay('2026-12-30', '2027-01-02'),
      problem: 'in_the_past',
    });
  });

  it.each([
    ['Monday', '2026-11-23T10:00:00Z', stay('2026-11-27', '2026-11-29'), stay('2026-12-04', '2026-12-06')],
    ['Friday', '2026-11-27T10:00:00Z', stay('2026-11-27', '2026-11-29'), stay('2026-12-04', '2026-12-06')],
    ['Saturday', '2026-11-28T10:00:00Z', stay('2026-11-28', '2026-11-29'), stay('2026-12-04', '2026-12-06')],
    ['Sunday', '2026-11-29T10:00:00Z', stay('2026-12-04', '2026-12-06'), stay('2026-12-04', '2026-12-06')],
  ])('weekends asked on a %s', async (_day, iso, thisWeekend, nextWeekend) => {
    const messageTimestamp = at(iso);
    expect((await understand('este fin de semana', { messageTimestamp })).stay).toStrictEqual(thisWeekend);
    expect((await understand('next weekend', { messageTimestamp })).stay).toStrictEqual(nextWeekend);
  });

  it('does not read the clock', async () => {
    const before = await understand('mañana para 2 adultos');
    jest.useFakeTimers({ now: new Date('2031-06-15T12:00:00Z') });
    try {
      expect(await understand('mañana para 2 adultos')).toStrictEqual(before);
    } finally {
      jest.useRealTimers();
    }
    expect(before.stay).toStrictEqual(stay('2026-11-26', '2026-11-27', { adults: 2 }));
  });
});

describe('language', () => {
  it.each<[string, Language, Language]>([
    ['hola', 'en', 'es'],
    ['hi', 'es', 'en'],
    ['¿tienen habitación?', 'en', 'es'],
    ['room for two next weekend', 'es', 'en'],
    ['Dec 3-5', 'es', 'en'],
    ['del 3 al 5', 'en', 'es'],
    ['recepción', 'en', 'es'],
    ['👍', 'en', 'en'],
    ['👍', 'es', 'es'],
    ['wifi?', 'en', 'en'],
  ])('%j with locale %s → %s', async (text, locale, language) => {
    expect((await understand(text, { locale })).language).toBe(language);
  });
});

describe('interactive replies', () => {
  it.each(intents)('intent:%s maps to that intent whatever the title says', async (intent) => {
    expect((await understand('lo que sea', { replyId: replyIdFor(intent) })).intent).toBe(intent);
  });

  it.each<[Partial<UnderstandInput>, Understanding]>([
    [
      { replyId: replyIdFor('human'), text: 'Hablar con recepción' },
      { intent: 'human', language: 'es' },
    ],
    [
      { replyId: replyIdFor('availability'), text: 'See availability', locale: 'es' },
      { intent: 'availability', language: 'en', problem: 'missing_dates' },
    ],
    [
      { replyId: replyIdFor('hotel_info'), text: 'Parking' },
      { intent: 'hotel_info', language: 'es', infoTopic: 'parking' },
    ],
    [
      { replyId: replyIdFor('greeting'), locale: 'en' },
      { intent: 'greeting', language: 'en' },
    ],
    [
      { replyId: choiceReplyId(2), text: 'Doble superior' },
      { intent: 'book', language: 'es', choice: 2 },
    ],
    [
      { replyId: choiceReplyId(12), text: 'Suite', locale: 'en' },
      { intent: 'book', language: 'en', choice: 12 },
    ],
    // Ids this module did not make: the title is read as text.
    [
      { replyId: 'intent:nonsense', text: 'gracias' },
      { intent: 'thanks', language: 'es' },
    ],
    [
      { replyId: 'choice:0', text: 'la 2' },
      { intent: 'book', language: 'es', choice: 2 },
    ],
    [
      { replyId: 'menu_rooms', text: '¿Tienen habitación para mañana?' },
      { intent: 'availability', language: 'es', stay: stay('2026-11-26', '2026-11-27') },
    ],
  ])('%j', async (input, expected) => {
    const base = { locale: 'es', timezone: 'Europe/Madrid', messageTimestamp: wednesday, maxStayNights: 30 } as const;
    expect(await nlu.understand({ ...base, ...input })).toStrictEqual(expected);
  });

  it('builds the ids the workflow sends', () => {
    expect(replyIdFor('cancel_booking')).toBe('intent:cancel_booking');
    expect(choiceReplyId(3)).toBe('choice:3');
  });
});

describe('createNluActivities', () => {
  it('runs understand as an activity', async () => {
    const { understand: activity } = createNluActivities({ nlu: createRuleBasedUnderstander() });
    const input: UnderstandInput = {
      text: 'Hi! Do you have a room for 2 adults and a child from December 3rd to 5th?',
      locale: 'es',
      timezone: 'Europe/Madrid',
      messageTimestamp: wednesday,
      maxStayNights: 30,
    };
    const result: Understanding = await new MockActivityEnvironment().run(activity, input);
    expect(result).toStrictEqual({
      intent: 'availability',
      language: 'en',
      stay: stay('2026-12-03', '2026-12-05', { adults: 2, children: 1 }),
    });
  });
});
