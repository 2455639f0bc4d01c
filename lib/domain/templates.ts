import type { Language } from './language';
import type { StaffAvailability } from './tenants';

/** The replies the conversation sends, per language. Pure, so workflow code can use it. */
const replies = {
  es: {
    acknowledgement: (name?: string) => `¡Hola${name ? ` ${name}` : ''}! Hemos recibido tu mensaje.`,
    help: 'Puedo ayudarte con disponibilidad y reservas de habitaciones, información del hotel o ponerte en contacto con recepción. Escríbenos qué necesitas.',
    mediaReceived: 'Hemos recibido tu archivo. Nuestro equipo lo revisará.',
    voiceNoteForStaff: 'Hemos recibido tu nota de voz. Una persona del equipo la escuchará y te responderá.',
    mediaTooLarge: 'No hemos podido recibir tu archivo: es demasiado grande. ¿Puedes enviarlo más pequeño?',
    mediaNotAllowed: 'No podemos abrir ese tipo de archivo. ¿Puedes enviarlo como foto, PDF o nota de voz?',
    mediaLost: 'No hemos podido descargar tu archivo. ¿Puedes enviarlo de nuevo?',
    mediaQuotaExceeded:
      'No hemos podido guardar tu archivo: el espacio para archivos de huéspedes de este hotel está lleno. Una persona del equipo te responderá.',
    mediaStorageFull:
      'No hemos podido guardar tu archivo: nuestro almacenamiento está lleno en este momento. Una persona del equipo te responderá.',
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
    voiceNoteForStaff: 'We have received your voice note. A member of our team will listen to it and answer you.',
    mediaTooLarge: 'We could not receive your file: it is too large. Could you send a smaller one?',
    mediaNotAllowed: 'We cannot open that kind of file. Could you send it as a photo, a PDF or a voice note?',
    mediaLost: 'We could not download your file. Could you send it again?',
    mediaQuotaExceeded:
      'We could not keep your file: the space for guest files at this hotel is full. A member of our team will follow up.',
    mediaStorageFull:
      'We could not keep your file: our storage is full right now. A member of our team will follow up.',
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

/** What a booking costs, as the PMS recorded it: "3000 GBP", or undefined when it did not say. */
function bookedPrice(price: { total?: number; currency?: string } | undefined): string | undefined {
  return price?.total === undefined ? undefined : `${price.total} ${price.currency ?? ''}`.trim();
}

/** Messages of the booking saga and of availability answers. */
const bookingTexts = {
  es: {
    /** `price`: the booking as the PMS recorded it; its total is what the guest is told, when it is known. */
    confirmed: (
      room: string,
      checkIn: string,
      checkOut: string,
      reference: string,
      price?: { total?: number; currency?: string },
    ) => {
      const total = bookedPrice(price);
      return `¡Reserva confirmada! ${room}, del ${checkIn} al ${checkOut}.${total ? ` Total: ${total}.` : ''} Tu referencia es ${reference}.`;
    },
    unavailable: (room: string) =>
      `Lo sentimos, la habitación ${room} ya no está disponible para esas fechas. Escríbenos otras fechas o pide ver otras habitaciones.`,
    failed: () =>
      'No hemos podido completar tu reserva. No se ha reservado nada y la habitación ha quedado libre. Puedes intentarlo de nuevo o pedir hablar con recepción.',
    cancelled: () => 'Hemos cancelado tu reserva. No queda nada reservado a tu nombre.',
    nothingToCancel: () => 'No encontramos ninguna reserva tuya que cancelar.',
    cancelFailed: (reference: string) =>
      `No hemos podido cancelar la reserva ${reference} ahora mismo; sigue activa. Una persona de recepción te escribirá para cancelarla.`,
    inProgress: () => 'Estamos terminando tu reserva anterior. Te escribimos en cuanto esté lista.',
    noRooms: (checkIn: string, checkOut: string) =>
      `Lo sentimos, no quedan habitaciones del ${checkIn} al ${checkOut}. ¿Quieres probar otras fechas?`,
    offer: (checkIn: string, checkOut: string, lines: string[], provisional: boolean) =>
      `Habitaciones disponibles del ${checkIn} al ${checkOut}:\n${lines.join('\n')}\n\nResponde con el número de la habitación que quieres reservar.` +
      (provisional
        ? '\n\n(Disponibilidad provisional: nuestro sistema de reservas va lento; la confirmaremos al reservar.)'
        : ''),
    offerLine: (n: number, name: string, free: number, price?: string) =>
      `${n}. ${name} (${free} libre${free === 1 ? '' : 's'})${price ? `, ${price} por noche` : ''}`,
    availabilityDown: () =>
      'Ahora mismo no puedo consultar la disponibilidad. Inténtalo de nuevo en unos minutos o escribe "recepción" para hablar con una persona.',
    chooseFirst: () =>
      'Dime primero las fechas (por ejemplo, "del 3 al 5 de diciembre para 2 adultos") y te enseño las habitaciones.',
    badChoice: (max: number) => `Elige un número del 1 al ${max}, por favor.`,
    infoUnknown: () => 'No tengo ese dato a mano; se lo pregunto a recepción y te responderán.',
  },
  en: {
    confirmed: (
      room: string,
      checkIn: string,
      checkOut: string,
      reference: string,
      price?: { total?: number; currency?: string },
    ) => {
      const total = bookedPrice(price);
      return `Booking confirmed! ${room}, from ${checkIn} to ${checkOut}.${total ? ` Total: ${total}.` : ''} Your reference is ${reference}.`;
    },
    unavailable: (room: string) =>
      `Sorry, the ${room} is no longer available for those dates. Send us other dates or ask to see other rooms.`,
    failed: () =>
      'We could not complete your booking. Nothing has been booked and the room has been released. You can try again or ask to talk to the front desk.',
    cancelled: () => 'We have cancelled your booking. Nothing is booked in your name.',
    nothingToCancel: () => 'We could not find a booking of yours to cancel.',
    cancelFailed: (reference: string) =>
      `We could not cancel booking ${reference} right now; it still stands. Someone from the front desk will write to you to cancel it.`,
    inProgress: () => 'We are finishing your previous booking. We will write as soon as it is ready.',
    noRooms: (checkIn: string, checkOut: string) =>
      `Sorry, there are no rooms left from ${checkIn} to ${checkOut}. Would you like to try other dates?`,
    offer: (checkIn: string, checkOut: string, lines: string[], provisional: boolean) =>
      `Rooms available from ${checkIn} to ${checkOut}:\n${lines.join('\n')}\n\nReply with the number of the room you would like to book.` +
      (provisional
        ? '\n\n(Provisional availability: our booking system is slow; we will confirm it when you book.)'
        : ''),
    offerLine: (n: number, name: string, free: number, price?: string) =>
      `${n}. ${name} (${free} free)${price ? `, ${price} per night` : ''}`,
    availabilityDown: () =>
      'I cannot check availability right now. Please try again in a few minutes, or write "reception" to talk to a person.',
    chooseFirst: () =>
      'Tell me your dates first (for example, "December 3 to 5 for 2 adults") and I will show you the rooms.',
    badChoice: (max: number) => `Please choose a number from 1 to ${max}.`,
    infoUnknown: () => "I don't have that at hand; I will ask the front desk and they will answer you.",
  },
} as const;

export function bookingText(language: Language): (typeof bookingTexts)[Language] {
  return bookingTexts[language];
}

const infoLabels: Record<Language, Record<string, (v: string) => string>> = {
  es: {
    address: (v) => `Estamos en ${v}.`,
    check_in: (v) => `El check-in es a partir de las ${v}.`,
    check_out: (v) => `El check-out es hasta las ${v}.`,
    parking: (v) => `Aparcamiento: ${v}`,
    wifi: (v) => `Wifi: ${v}`,
    breakfast: (v) => `Desayuno: ${v}`,
    pets: (v) => `Mascotas: ${v}`,
  },
  en: {
    address: (v) => `We are at ${v}.`,
    check_in: (v) => `Check-in is from ${v}.`,
    check_out: (v) => `Check-out is until ${v}.`,
    parking: (v) => `Parking: ${v}`,
    wifi: (v) => `Wi-Fi: ${v}`,
    breakfast: (v) => `Breakfast: ${v}`,
    pets: (v) => `Pets: ${v}`,
  },
};

/** The answer to a hotel-information question, from the value in the tenant's settings. */
export function infoAnswer(language: Language, topic: string, value: string): string {
  return infoLabels[language][topic]?.(value) ?? value;
}

/** What the guest is told about a voice note nobody transcribed, or a file that could not be stored. */
export function mediaReply(
  language: Language,
  outcome:
    | 'voice_note_for_staff'
    | 'too_large'
    | 'mime_not_allowed'
    | 'corrupt'
    | 'not_found'
    | 'quota_exceeded'
    | 'storage_full',
): string {
  const t = replies[language];
  if (outcome === 'voice_note_for_staff') return t.voiceNoteForStaff;
  if (outcome === 'too_large') return t.mediaTooLarge;
  if (outcome === 'mime_not_allowed') return t.mediaNotAllowed;
  if (outcome === 'quota_exceeded') return t.mediaQuotaExceeded;
  if (outcome === 'storage_full') return t.mediaStorageFull;
  return t.mediaLost;
}
