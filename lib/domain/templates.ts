import type { Language } from './language';
import type { StaffAvailability } from './tenants';

/** The replies the conversation sends, per language. Pure, so workflow code can use it. */
const replies = {
  es: {
    acknowledgement: (name?: string) => `¡Hola${name ? ` ${name}` : ''}! Hemos recibido tu mensaje.`,
    help: 'Puedo ayudarte con disponibilidad y reservas de habitaciones, información del hotel o ponerte en contacto con recepción. Escríbenos qué necesitas.',
    mediaReceived: 'Hemos recibido tu archivo. Nuestro equipo lo revisará.',
    locationReceived: 'Gracias, hemos recibido tu ubicación.',
    contactsReceived: 'Gracias, hemos recibido el contacto.',
    staffComing: (hotel: string) =>
      `Te ponemos en contacto con el equipo de ${hotel}. Una persona te responderá en breve.`,
    staffClosed: (hotel: string, day: string, time: string) =>
      `El equipo de ${hotel} no está disponible ahora. Volverá el ${day} a las ${time} y te responderá entonces.`,
    staffClosedNoHours: (hotel: string) =>
      `El equipo de ${hotel} no está disponible ahora. Te responderá en cuanto vuelva.`,
    days: {
      mon: 'lunes',
      tue: 'martes',
      wed: 'miércoles',
      thu: 'jueves',
      fri: 'viernes',
      sat: 'sábado',
      sun: 'domingo',
    },
  },
  en: {
    acknowledgement: (name?: string) => `Hello${name ? ` ${name}` : ''}! We have received your message.`,
    help: 'I can help with room availability and bookings, hotel information, or put you in touch with the front desk. Tell us what you need.',
    mediaReceived: 'We have received your file. Our team will review it.',
    locationReceived: 'Thank you, we have received your location.',
    contactsReceived: 'Thank you, we have received the contact.',
    staffComing: (hotel: string) => `We are putting you in touch with the ${hotel} team. A person will answer shortly.`,
    staffClosed: (hotel: string, day: string, time: string) =>
      `The ${hotel} team is not available right now. They are back on ${day} at ${time} and will answer you then.`,
    staffClosedNoHours: (hotel: string) =>
      `The ${hotel} team is not available right now. They will answer as soon as they are back.`,
    days: {
      mon: 'Monday',
      tue: 'Tuesday',
      wed: 'Wednesday',
      thu: 'Thursday',
      fri: 'Friday',
      sat: 'Saturday',
      sun: 'Sunday',
    },
  },
} as const;

export function acknowledgementWithHelp(language: Language, name?: string): string {
  const t = replies[language];
  return `${t.acknowledgement(name)}\n\n${t.help}`;
}

export function receivedReply(language: Language, kind: 'media' | 'location' | 'contacts'): string {
  const t = replies[language];
  if (kind === 'location') return t.locationReceived;
  if (kind === 'contacts') return t.contactsReceived;
  return t.mediaReceived;
}

/** The answer to a guest who asks for a person: someone is coming, or when the team is back. */
export function staffReply(language: Language, hotel: string, availability: StaffAvailability): string {
  const t = replies[language];
  if (availability.open) return t.staffComing(hotel);
  if (!availability.next) return t.staffClosedNoHours(hotel);
  return t.staffClosed(hotel, t.days[availability.next.day], availability.next.time);
}
