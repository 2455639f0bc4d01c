/**
 * Interactive messages (a list to choose from, reply buttons) and Meta's limits on them, checked before anything is
 * sent. Pure: no I/O, safe in workflow code. Limits from Meta's interactive list and reply-button pages
 * (https://developers.facebook.com/docs/whatsapp/cloud-api/messages/interactive-list-messages and
 * .../interactive-reply-buttons-messages); where Meta's pages disagree (a list's body: 4096 or 1024) the stricter.
 */

export const interactiveLimits = {
  header: 60,
  /** 4096 on the current list page, 1024 everywhere else: the stricter. */
  body: 1024,
  footer: 60,
  listButton: 20,
  sectionTitle: 24,
  rows: 10,
  rowId: 200,
  rowTitle: 24,
  rowDescription: 72,
  buttons: 3,
  buttonId: 256,
  buttonTitle: 20,
} as const;

export interface ListRow {
  id: string;
  title: string;
  description?: string;
}

export interface InteractiveList {
  type: 'list';
  header?: string;
  body: string;
  footer?: string;
  /** The label of the button that opens the list. */
  button: string;
  sections: { title?: string; rows: ListRow[] }[];
}

export interface ReplyButtons {
  type: 'button';
  header?: string;
  body: string;
  footer?: string;
  buttons: { id: string; title: string }[];
}

export type Interactive = InteractiveList | ReplyButtons;

/** What {@link fitInteractive} made of a message: fitted to Meta's limits, or refused with every reason. */
export type FittedInteractive = { ok: true; message: Interactive } | { ok: false; problems: string[] };

/** `text` cut to `max` characters (code points, so an emoji is never split), ending in an ellipsis when cut. */
export function truncate(text: string, max: number): string {
  const chars = Array.from(text.trim());
  return chars.length <= max ? chars.join('') : `${chars.slice(0, max - 1).join('')}…`;
}

const length = (text: string) => Array.from(text).length;

/** Checks an id: it carries the guest's choice, so it is never shortened, only refused. */
function idProblems(id: string, max: number, what: string, seen: Set<string>): string[] {
  const problems: string[] = [];
  if (id.length === 0) problems.push(`${what}: empty id`);
  if (length(id) > max) problems.push(`${what}: id longer than ${max} characters`);
  if (seen.has(id)) problems.push(`${what}: id ${id} used twice`);
  seen.add(id);
  return problems;
}

/**
 * Fits an interactive message to Meta's limits before it is sent: free text (header, body, footer, titles,
 * descriptions, labels) is cut with an ellipsis; what would break the guest's choice is refused — an id too long,
 * empty or repeated, too many or no rows or buttons, button titles that are equal once cut (WhatsApp requires them
 * unique), an empty body. A refused message should go out as numbered text instead.
 */
export function fitInteractive(message: Interactive): FittedInteractive {
  const L = interactiveLimits;
  const problems: string[] = [];
  const seen = new Set<string>();
  const body = truncate(message.body, L.body);
  if (body.length === 0) problems.push('body: empty');
  const common = {
    ...(message.header?.trim() ? { header: truncate(message.header, L.header) } : {}),
    body,
    ...(message.footer?.trim() ? { footer: truncate(message.footer, L.footer) } : {}),
  };
  if (message.type === 'list') {
    const rows = message.sections.flatMap((s) => s.rows);
    if (rows.length === 0) problems.push('list: no rows');
    if (rows.length > L.rows) problems.push(`list: ${rows.length} rows, at most ${L.rows}`);
    if (message.sections.some((s) => s.rows.length === 0)) problems.push('list: an empty section');
    const sections = message.sections.map((section, i) => ({
      // With more than one section each needs a title.
      ...(section.title?.trim() || message.sections.length > 1
        ? { title: truncate(section.title?.trim() || `${i + 1}`, L.sectionTitle) }
        : {}),
      rows: section.rows.map((row) => {
        problems.push(...idProblems(row.id, L.rowId, `row ${row.title}`, seen));
        const title = truncate(row.title, L.rowTitle);
        if (title.length === 0) problems.push(`row ${row.id}: empty title`);
        return {
          id: row.id,
          title,
          ...(row.description?.trim() ? { description: truncate(row.description, L.rowDescription) } : {}),
        };
      }),
    }));
    const button = truncate(message.button, L.listButton);
    if (button.length === 0) problems.push('list: empty button label');
    return problems.length > 0
      ? { ok: false, problems }
      : { ok: true, message: { type: 'list', ...common, button, sections } };
  }
  if (message.buttons.length === 0) problems.push('buttons: none');
  if (message.buttons.length > L.buttons) problems.push(`buttons: ${message.buttons.length}, at most ${L.buttons}`);
  const titles = new Set<string>();
  const buttons = message.buttons.map((b) => {
    problems.push(...idProblems(b.id, L.buttonId, `button ${b.title}`, seen));
    const title = truncate(b.title, L.buttonTitle);
    if (title.length === 0) problems.push(`button ${b.id}: empty title`);
    if (titles.has(title)) problems.push(`button ${b.id}: title "${title}" not unique`);
    titles.add(title);
    return { id: b.id, title };
  });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, message: { type: 'button', ...common, buttons } };
}

/** Meta's `interactive` object for a fitted message (the body of `type: "interactive"`). */
export function graphInteractive(message: Interactive): Record<string, unknown> {
  const common = {
    ...(message.header !== undefined ? { header: { type: 'text', text: message.header } } : {}),
    body: { text: message.body },
    ...(message.footer !== undefined ? { footer: { text: message.footer } } : {}),
  };
  if (message.type === 'list') {
    return { type: 'list', ...common, action: { button: message.button, sections: message.sections } };
  }
  return {
    type: 'button',
    ...common,
    action: { buttons: message.buttons.map((b) => ({ type: 'reply', reply: { id: b.id, title: b.title } })) },
  };
}

/** A room offered to the guest, as the list shows it. */
export interface OfferedRoom {
  roomTypeName: string;
  free: number;
  /** "126.5 EUR", when the PMS gave a price. */
  price?: string;
}

const offerTexts = {
  es: {
    body: (checkIn: string, checkOut: string, provisional: boolean) =>
      `Habitaciones disponibles del ${checkIn} al ${checkOut}. Toca "Ver habitaciones" y elige la que quieres reservar.` +
      (provisional ? ' (Disponibilidad provisional: la confirmaremos al reservar.)' : ''),
    button: 'Ver habitaciones',
    description: (room: OfferedRoom) =>
      `${room.price ? `${room.price} por noche · ` : ''}${room.free} libre${room.free === 1 ? '' : 's'}`,
    cancel: 'Cancelar reserva',
    staff: 'Hablar con recepción',
  },
  en: {
    body: (checkIn: string, checkOut: string, provisional: boolean) =>
      `Rooms available from ${checkIn} to ${checkOut}. Tap "See rooms" and choose the one you would like to book.` +
      (provisional ? ' (Provisional availability: we will confirm it when you book.)' : ''),
    button: 'See rooms',
    description: (room: OfferedRoom) => `${room.price ? `${room.price} per night · ` : ''}${room.free} free`,
    cancel: 'Cancel booking',
    staff: 'Talk to reception',
  },
} as const;

/**
 * The room offer as a list: one row per room type (its name as the title, price and rooms free as the description),
 * row ids `choice:<n>` (1-based, as the understanding maps them), the hotel's name as the header.
 */
export function offerList(
  lang: 'es' | 'en',
  hotelName: string,
  offer: { checkIn: string; checkOut: string; provisional: boolean; rooms: OfferedRoom[] },
): InteractiveList {
  const t = offerTexts[lang];
  return {
    type: 'list',
    header: hotelName,
    body: t.body(offer.checkIn, offer.checkOut, offer.provisional),
    button: t.button,
    sections: [
      {
        rows: offer.rooms.map((room, i) => ({
          id: `choice:${i + 1}`,
          title: room.roomTypeName,
          description: t.description(room),
        })),
      },
    ],
  };
}

/** A confirmed booking's message with its buttons: cancel it (`intent:cancel_booking`) or talk to reception. */
export function bookingButtons(lang: 'es' | 'en', body: string): ReplyButtons {
  const t = offerTexts[lang];
  return {
    type: 'button',
    body,
    buttons: [
      { id: 'intent:cancel_booking', title: t.cancel },
      { id: 'intent:human', title: t.staff },
    ],
  };
}
