import { detectLanguage } from '../../lib/domain/language';

describe('detectLanguage', () => {
  it.each([
    'Hola, buenas tardes',
    'Buenos días, quisiera reservar una habitación doble para el fin de semana',
    'Necesito una habitación para dos adultos y dos niños',
    'Cuánto cuesta la noche?',
    'Tienen habitaciones libres para mañana?',
    'Quiero cancelar mi reserva',
    'Gracias por la ayuda',
    'Dónde está el hotel',
    'Hay parking en el hotel?',
    'Me gustaría hablar con una persona',
    'La llegada es el viernes y la salida el domingo',
    'Muchas gracias, hasta mañana',
    'buenas noches, llegamos tarde hoy',
    'precio de una habitacion con desayuno',
  ])('Spanish: %j', (text) => {
    expect(detectLanguage(text)).toBe('es');
  });

  it.each([
    'Hello, good morning',
    'Hi, I would like to book a room for the weekend',
    'Do you have any rooms available tomorrow?',
    'How much is a double room per night?',
    'I need to cancel my booking',
    'Thank you for the help!',
    'Where is the hotel?',
    'Is there parking at the hotel?',
    'Can I talk to a person please',
    'What time is check in?',
    'We are 2 adults and 2 kids',
    'Thanks, see you tomorrow',
    'hey, is breakfast included with the room',
    'I want to change my reservation',
  ])('English: %j', (text) => {
    expect(detectLanguage(text)).toBe('en');
  });

  it.each([
    '¿Tienen habitaciones?',
    '¿Is there a room?',
    '¡Hello!',
    'Niño',
    'the baño is broken',
    'Do you have a room for the NIÑOS',
  ])('a Spanish-only character forces es: %j', (text) => {
    expect(detectLanguage(text)).toBe('es');
  });

  it.each(['👍', '123', '', '   ', '?!', '12/05 - 14/05', 'ok', '🙏🙏', '+34 600 123 456'])(
    'no signal gives undefined: %j',
    (text) => {
      expect(detectLanguage(text)).toBeUndefined();
    },
  );

  it('is case-insensitive', () => {
    expect(detectLanguage('HOLA, QUIERO RESERVAR')).toBe('es');
    expect(detectLanguage('HELLO, I WANT TO BOOK')).toBe('en');
  });

  it('gives undefined when both languages are equally present', () => {
    expect(detectLanguage('hola hello')).toBeUndefined();
  });
});
