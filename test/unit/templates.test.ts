import type { MediaRejectionReason } from '../../lib/domain/media';
import {
  acknowledgementWithHelp,
  bookingText,
  infoAnswer,
  mediaReply,
  receivedReply,
  staffReply,
} from '../../lib/domain/templates';

describe('the replies guests read', () => {
  it('greets by name when the guest has one, in their language, and says what the bot can do', () => {
    expect(acknowledgementWithHelp('es', 'Ana')).toMatch(/^¡Hola Ana! Hemos recibido tu mensaje\.\n\nPuedo ayudarte/);
    expect(acknowledgementWithHelp('en')).toMatch(/^Hello! We have received your message\.\n\nI can help/);
  });

  it('tells a guest who asks for a person when the team is back, with the weekday in their language', () => {
    const closed = { open: false, next: { day: 'mon', time: '08:00' } } as const;
    expect(staffReply('es', 'Hotel Sol', closed)).toBe(
      'El equipo de Hotel Sol no está disponible ahora. Volverá el lunes a las 08:00 y te responderá entonces.',
    );
    expect(staffReply('en', 'Hotel Sol', closed)).toContain('They are back on Monday at 08:00');
    expect(staffReply('en', 'Hotel Sol', { open: true })).toMatch(
      /^We are putting you in touch with the Hotel Sol team/,
    );
  });

  it('numbers the rooms of an offer and marks a provisional one', () => {
    const t = bookingText('en');
    const offer = t.offer('2031-03-10', '2031-03-12', [t.offerLine(1, 'Standard Double', 2, '€90')], true);
    expect(offer).toContain('1. Standard Double (2 free), €90 per night');
    expect(offer).toContain('Provisional availability');
    expect(bookingText('es').offerLine(1, 'Doble', 1)).toBe('1. Doble (1 libre)');
  });

  it('confirms a booking with the total the PMS recorded, and without one when it said none', () => {
    expect(
      bookingText('es').confirmed('Doble', '2031-03-10', '2031-03-12', 'booking-1', { total: 209, currency: 'EUR' }),
    ).toBe('¡Reserva confirmada! Doble, del 2031-03-10 al 2031-03-12. Total: 209 EUR. Tu referencia es booking-1.');
    expect(bookingText('en').confirmed('Double', '2031-03-10', '2031-03-12', 'booking-1', { total: 3000 })).toBe(
      'Booking confirmed! Double, from 2031-03-10 to 2031-03-12. Total: 3000. Your reference is booking-1.',
    );
    expect(bookingText('en').confirmed('Double', '2031-03-10', '2031-03-12', 'booking-1')).toBe(
      'Booking confirmed! Double, from 2031-03-10 to 2031-03-12. Your reference is booking-1.',
    );
  });

  it('answers hotel information from the tenant’s value, or the bare value for a topic without a label', () => {
    expect(infoAnswer('es', 'check_in', '15:00')).toBe('El check-in es a partir de las 15:00.');
    expect(infoAnswer('en', 'spa', 'Open 9-21')).toBe('Open 9-21');
  });

  it('has an answer in both languages for every media refusal', () => {
    const reasons: MediaRejectionReason[] = [
      'too_large',
      'mime_not_allowed',
      'corrupt',
      'not_found',
      'quota_exceeded',
      'storage_full',
    ];
    for (const language of ['es', 'en'] as const) {
      const answers = reasons.map((reason) => mediaReply(language, reason));
      expect(answers.every((a) => a.length > 0)).toBe(true);
      expect(receivedReply(language, 'location')).not.toBe(receivedReply(language, 'contacts'));
    }
    expect(mediaReply('en', 'too_large')).toContain('too large');
  });
});
