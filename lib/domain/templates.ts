import type { Language } from './language';

/** The replies the conversation sends, per language. Pure, so workflow code can use it. */
const replies = {
  es: {
    acknowledgement: (name?: string) => `¡Hola${name ? ` ${name}` : ''}! Hemos recibido tu mensaje.`,
    help: 'Puedo ayudarte con disponibilidad y reservas de habitaciones, información del hotel o ponerte en contacto con recepción. Escríbenos qué necesitas.',
    mediaReceived: 'Hemos recibido tu archivo. Nuestro equipo lo revisará.',
    locationReceived: 'Gracias, hemos recibido tu ubicación.',
    contactsReceived: 'Gracias, hemos recibido el contacto.',
  },
  en: {
    acknowledgement: (name?: string) => `Hello${name ? ` ${name}` : ''}! We have received your message.`,
    help: 'I can help with room availability and bookings, hotel information, or put you in touch with the front desk. Tell us what you need.',
    mediaReceived: 'We have received your file. Our team will review it.',
    locationReceived: 'Thank you, we have received your location.',
    contactsReceived: 'Thank you, we have received the contact.',
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
