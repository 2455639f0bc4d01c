/**
 * Understanding guest messages: intent plus entities (stay dates, guests, info topic, booking reference,
 * the option picked from an offer). The default understander is rule-based, for Spanish and English;
 * `Understander` is the seam for another one (a model, a hosted NLU) behind the same activity.
 *
 * Everything here is deterministic in its input: "today" is the message's own timestamp rendered in the
 * hotel's timezone, never the worker's clock, so a retried or replayed message means the same thing.
 */
import {
  parseReplyId,
  type InfoTopic,
  type Intent,
  type StayProblem,
  type StayRequest,
  type Understanding,
} from '../lib/domain/intents';
import { detectLanguage, type Language } from '../lib/domain/language';

export interface UnderstandInput {
  /** What the guest wrote, or the title of the button or list row they tapped. */
  text?: string;
  /** The id of an interactive reply: `intent:<Intent>` or `choice:<n>` map straight to an intent. */
  replyId?: string;
  /** The conversation's language, used when the text gives no signal. */
  locale: Language;
  /** The hotel's IANA timezone; "today" and "tomorrow" are days there. */
  timezone: string;
  /** unix seconds, Meta's timestamp */
  messageTimestamp: number;
  /** Longer stays get `problem: 'too_long'`. */
  maxStayNights: number;
}

export interface Understander {
  understand(input: UnderstandInput): Promise<Understanding>;
}

// ---------------------------------------------------------------------------------------------------------
// Calendar arithmetic on day numbers (days since 1970-01-01), so no Date is ever read from the clock.

const dayMs = 86_400_000;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** The day number of a calendar date; months past 12 or before 1 roll the year. Undefined for 30 February. */
function dayNumber(year: number, month: number, day: number): number | undefined {
  const y = year + Math.floor((month - 1) / 12);
  const m = ((((month - 1) % 12) + 12) % 12) + 1;
  if (!Number.isInteger(day) || day < 1 || day > daysInMonth(y, m)) return undefined;
  return Date.UTC(y, m - 1, day) / dayMs;
}

function calendarDate(dn: number): { year: number; month: number; day: number } {
  const d = new Date(dn * dayMs);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

const isoDate = (dn: number): string => new Date(dn * dayMs).toISOString().slice(0, 10);

/** 0 = Monday ... 6 = Sunday (1970-01-01 was a Thursday). */
const weekdayOf = (dn: number): number => (((dn + 3) % 7) + 7) % 7;

const dateFormats = new Map<string, Intl.DateTimeFormat>();

/** The day number of the message's date in the hotel's timezone. Throws RangeError for an unknown timezone. */
function localDay(timestampSeconds: number, timeZone: string): number {
  let format = dateFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: 'numeric', day: 'numeric' });
    dateFormats.set(timeZone, format);
  }
  const parts = format.formatToParts(new Date(timestampSeconds * 1000));
  const part = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === type)?.value);
  const dn = dayNumber(part('year'), part('month'), part('day'));
  if (dn === undefined) throw new RangeError(`Cannot read a date from timestamp ${timestampSeconds} in ${timeZone}`);
  return dn;
}

// ---------------------------------------------------------------------------------------------------------
// Lexicon. Patterns run on normalized text: lower case, accents removed (ñ → n), ordinals stripped (3rd → 3).

// prettier-ignore
const monthNames: Record<string, number> = {
  enero: 1, ene: 1, january: 1, jan: 1,
  febrero: 2, feb: 2, february: 2,
  marzo: 3, mar: 3, march: 3,
  abril: 4, abr: 4, april: 4, apr: 4,
  mayo: 5, may: 5,
  junio: 6, jun: 6, june: 6,
  julio: 7, jul: 7, july: 7,
  agosto: 8, ago: 8, august: 8, aug: 8,
  septiembre: 9, setiembre: 9, september: 9, sept: 9, sep: 9,
  octubre: 10, oct: 10, october: 10,
  noviembre: 11, nov: 11, november: 11,
  diciembre: 12, dic: 12, december: 12, dec: 12,
};
const monthRe = Object.keys(monthNames)
  .sort((a, b) => b.length - a.length)
  .join('|');

// prettier-ignore
const weekdayNames: Record<string, number> = {
  lunes: 0, monday: 0, martes: 1, tuesday: 1, miercoles: 2, wednesday: 2, jueves: 3, thursday: 3,
  viernes: 4, friday: 4, sabado: 5, saturday: 5, domingo: 6, sunday: 6,
};
const weekdayRe = Object.keys(weekdayNames).join('|');

// prettier-ignore
const numberWords: Record<string, number> = {
  un: 1, uno: 1, una: 1, a: 1, an: 1, one: 1, dos: 2, two: 2, tres: 3, three: 3, cuatro: 4, four: 4,
  cinco: 5, five: 5, seis: 6, six: 6, siete: 7, seven: 7, ocho: 8, eight: 8, nueve: 9, nine: 9, diez: 10, ten: 10,
};
/** A count as digits or a word, including the articles "un/una/a/an" (one child, a night). */
const countRe = `(\\d{1,2}|${Object.keys(numberWords).join('|')})`;
/** A count without the articles, for "para dos", "for 2", "somos 4". */
const bareCountRe = `(\\d{1,2}|${Object.keys(numberWords)
  .filter((w) => !['un', 'una', 'a', 'an'].includes(w))
  .join('|')})`;

const toCount = (word: string): number => numberWords[word] ?? Number(word);

const adultWords = 'adultos?|adults?|mayores';
const childWords = 'ninos?|ninas?|children|child|kids?|bebes?|babies|baby|menores|crios?|hijos?|hijas?';
const peopleWords = 'personas?|people|persons?|pax|huespedes|guests?';
/** A number followed by one of these is a count of something, not a day of the month. */
const unitAfter =
  `\\s*(?:(?:${adultWords}|${childWords}|${peopleWords}|noches?|nights?|habitacion(?:es)?|rooms?|hab|camas?|beds?|` +
  'semanas?|weeks?|dias?|days?|horas?|hours?|h|hrs?|am|pm|euros?|eur|dolares|dollars|anos|years?|estrellas|stars|' +
  'minutos|mins?|km|metros|meters)\\b|[€$%])';

// ---------------------------------------------------------------------------------------------------------
// Text handling.

function normalize(text: string): string {
  return text
    .toLowerCase()
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[’‘`´]/g, "'")
    .replace(/([a-z])'([a-z])/g, '$1$2') // i'll → ill, don't → dont
    .replace(/(\d)(?:st|nd|rd|th|º|ª|°)(?![a-z])/g, '$1')
    .replace(/(?<!\d)\.|\.(?!\d)/g, ' ') // keep dots only inside numbers (3.12.2026)
    .replace(/[¿¡?!;"“”()*_…'+]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

interface Span {
  start: number;
  end: number;
}

/** The normalized text with what has been recognized blanked out, so no later rule reads it twice. */
class Scan {
  constructor(public text: string) {}

  /** Every match of a global pattern in the text as it is now. */
  all(pattern: RegExp): RegExpExecArray[] {
    return [...this.text.matchAll(pattern)];
  }

  take(span: Span): void {
    this.text = this.text.slice(0, span.start) + ' '.repeat(span.end - span.start) + this.text.slice(span.end);
  }

  takeMatch(m: RegExpExecArray): Span {
    const span = { start: m.index, end: m.index + m[0].length };
    this.take(span);
    return span;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Booking references: read from the original text (case kept), then blanked so their digits are not dates.

const referencePatterns = [
  // BK-1234, PMS_00042, booking:wa:123:456, BK1234
  /(?<![\w:.-])(?:[a-z][a-z0-9]*(?:[-_:.][a-z0-9]+)+|[a-z]{2,}\d{3,}[a-z0-9]*)(?![\w:-])/gi,
  // "reserva 123456", "booking number 98765"
  /\b(?:reserva|booking|reservation|localizador|referencia|reference|ref|confirmaci[oó]n|confirmation)\s*(?:n[ºo°.]?|#|number|n[uú]mero|code|c[oó]digo|:)?\s*(\d{4,})\b/gi,
];

function extractReference(text: string): { reference?: string; rest: string } {
  for (const pattern of referencePatterns) {
    for (const m of text.matchAll(pattern)) {
      const value = m[1] ?? m[0];
      const digits = value.replace(/\D/g, '').length;
      const head = value.split(/[-_:.\d]/)[0]?.toLowerCase() ?? '';
      if (digits < 3 || Object.hasOwn(monthNames, head) || Object.hasOwn(weekdayNames, head)) continue;
      return {
        reference: value,
        rest: text.slice(0, m.index) + ' '.repeat(m[0].length) + text.slice(m.index + m[0].length),
      };
    }
  }
  return { rest: text };
}

// ---------------------------------------------------------------------------------------------------------
// Dates.

type Anchor = Span &
  (
    | { kind: 'date'; day: number; month: number; year?: number }
    | { kind: 'bare'; day: number; year?: number }
    | { kind: 'relative'; offset: number }
    | { kind: 'weekday'; weekday: number }
    | { kind: 'weekend'; next: boolean }
  );

const fullYear = (y: string | undefined): number | undefined =>
  y === undefined ? undefined : y.length === 2 ? 2000 + Number(y) : Number(y);

const withYear = (y: string | undefined): { year?: number } => {
  const year = fullYear(y);
  return year === undefined ? {} : { year };
};

function dateAnchor(span: Span, day: number, month: number, year: string | undefined): Anchor | undefined {
  if (month < 1 || month > 12 || day < 1 || day > 31) return undefined;
  return { ...span, kind: 'date', day, month, ...withYear(year) };
}

/** Finds every date-like phrase that does not depend on context, blanking each as it goes. */
function findAnchors(scan: Scan): Anchor[] {
  const anchors: Anchor[] = [];
  const add = (a: Anchor | undefined) => {
    if (a) anchors.push(a);
  };

  // 2026-12-03
  for (const m of scan.all(/\b(\d{4})-(\d{1,2})-(\d{1,2})\b/g))
    add(dateAnchor(scan.takeMatch(m), Number(m[3]), Number(m[2]), m[1]));

  // 3/12, 3/12/2026, 3-12-2026, 3.12.26. Day first (as in Spain); month first only when the day cannot be.
  // With '-' or '.', a year is required: "3-5" is a range of days and "10.30" a time.
  for (const m of scan.all(/(?<![\d/.:-])(\d{1,2})([/.-])(\d{1,2})(?:\2(\d{4}|\d{2}))?(?![\d/.:-])/g)) {
    if (m[2] !== '/' && m[4] === undefined) continue;
    let day = Number(m[1]);
    let month = Number(m[3]);
    if (month > 12 && day <= 12) [day, month] = [month, day];
    add(dateAnchor(scan.takeMatch(m), day, month, m[4]));
  }

  // 3 de diciembre (de 2026), 5 of december, 3 dic, 3-dic
  const dayMonth = new RegExp(
    `\\b(\\d{1,2})(?:\\s*(?:de|of)\\s+|-|\\s*)(${monthRe})\\b(?:,?\\s*(?:de\\s+|del\\s+)?(\\d{4}))?(?!\\d)`,
    'g',
  );
  for (const m of scan.all(dayMonth)) add(dateAnchor(scan.takeMatch(m), Number(m[1]), monthNames[m[2]!] ?? 0, m[3]));

  // December 3 (2026), dec 3rd. Not "vista al mar 2" or "I may 3 ...".
  const monthDay = new RegExp(
    `(?<!\\b(?:al|el|del|la|i|we|you|it|they|he|she)\\s)\\b(${monthRe})\\s*(?:the\\s+)?(\\d{1,2})(?![\\d:/]|${unitAfter})(?:,?\\s*(\\d{4})(?!\\d))?`,
    'g',
  );
  for (const m of scan.all(monthDay)) add(dateAnchor(scan.takeMatch(m), Number(m[2]), monthNames[m[1]!] ?? 0, m[3]));

  const weekendNext =
    /\b(?:(?:el|the)\s+)?(?:(?:proximo|siguiente)\s+(?:fin\s+de\s+semana|finde)|(?:fin\s+de\s+semana|finde)\s+(?:que\s+viene|proximo|siguiente)|(?:next|following)\s+weekend)\b/g;
  for (const m of scan.all(weekendNext)) add({ ...scan.takeMatch(m), kind: 'weekend', next: true });
  const weekendThis =
    /(?<!\b(?:un|a|cada|every|todo el|all)\s)\b(?:(?:este|el|this|the|for the)\s+)?(?:fin\s+de\s+semana|finde|weekend)\b/g;
  for (const m of scan.all(weekendThis)) add({ ...scan.takeMatch(m), kind: 'weekend', next: false });

  const relative: [RegExp, number][] = [
    [/\b(?:pasado\s+manana|(?:the\s+)?day\s+after\s+tomorrow)\b/g, 2],
    // "por la mañana" is "in the morning"; "hasta mañana", "see you tomorrow" are goodbyes.
    [/(?<!\b(?:la|esta|hasta|vemos)\s)\bmanana\b/g, 1],
    [/(?<!\bsee you\s)\btomorrow\b/g, 1],
    [/\b(?:tonight|esta\s+noche|this\s+evening|hoy|today)\b/g, 0],
    [/\b(?:ayer|yesterday)\b/g, -1],
  ];
  for (const [pattern, offset] of relative)
    for (const m of scan.all(pattern)) add({ ...scan.takeMatch(m), kind: 'relative', offset });

  const weekday = new RegExp(
    `\\b(?:(?:next|this|this\\s+coming|coming|on|el|este|el\\s+proximo|proximo)\\s+)?(${weekdayRe})(?:\\s+(?:que\\s+viene|proximo))?\\b`,
    'g',
  );
  for (const m of scan.all(weekday)) add({ ...scan.takeMatch(m), kind: 'weekday', weekday: weekdayNames[m[1]!] ?? 0 });

  return anchors.sort((a, b) => a.start - b.start);
}

/** Numbers that may be a day of the month once context says so: 1-31, not a time, a price or a count. */
function bareDays(scan: Scan): Anchor[] {
  const pattern = new RegExp(
    `(?<![\\d:/.€$#]|\\b(?:a las|las|at|sobre las|hacia las|a la|hab|habitacion|room|numero|number|opcion|option)\\s*)\\b(\\d{1,2})\\b(?:,\\s*(\\d{4})\\b)?(?![:/.]\\d|${unitAfter})`,
    'g',
  );
  const days: Anchor[] = [];
  for (const m of scan.all(pattern)) {
    const day = Number(m[1]);
    if (day >= 1 && day <= 31)
      days.push({ start: m.index, end: m.index + m[0].length, kind: 'bare', day, ...withYear(m[2]) });
  }
  return days;
}

/** What may stand between check-in and check-out: "al", "-", "to the", "hasta el", "y salida el", ... */
const rangeConnector =
  /^[\s,]*(?:-|–|—|al|a|hasta|to|till|til|until|through|thru|(?:y\s+|and\s+)?(?:salida|salimos|salgo|nos vamos|me voy|check\s*-?\s*out|leaving|leave|departure|departing|out))[\s,]*(?:el|the|on(?:\s+the)?|dia|day)?[\s,]*$/;
const andConnector = /^[\s,]*(?:y|and|&)[\s,]*(?:el|the|dia)?[\s,]*$/;
/** "del 3 al 5", "from 3 to 5": two bare days make a range only after one of these. */
const rangeContext =
  /\b(?:del|de|desde|desde el|from|from the|entre|entre el|between|between the|para el|for the|el|the|dias|days)\s*$/;
const betweenContext = /\b(?:entre|between)(?:\s+(?:el|the|los dias|dias))?\s*$/;
/** "las noches del 3 y 4": the nights named, so check-out is the day after the last. */
const nightsContext = /\b(?:noches|nights)\s+(?:del|de|de los dias|of|of the|on the)?\s*$/;
/** "el 5", "on the 5th": a lone bare day is a date only after one of these. */
const singleDayContext =
  /\b(?:el|el dia|dia|day|on the|for the|on|del|para el|desde el|from the|llego el|llegamos el)\s*$/;

interface Resolved {
  checkIn: number;
  checkOut?: number;
  /** From two dates the guest gave (as opposed to one date and an assumed length). */
  range: boolean;
}

/** A stay "del 28 al 2" crosses into the next month only if that makes it this short. */
const maxWrapNights = 14;

function resolveSingle(a: Anchor, today: number): number | undefined {
  const t = calendarDate(today);
  switch (a.kind) {
    case 'date': {
      if (a.year !== undefined) return dayNumber(a.year, a.month, a.day);
      // The next occurrence on or after today ("3 de enero" written in December is next year).
      for (let y = t.year; y <= t.year + 4; y++) {
        const dn = dayNumber(y, a.month, a.day);
        if (dn !== undefined && dn >= today) return dn;
      }
      return undefined;
    }
    case 'bare': {
      for (let k = 0; k < 3; k++) {
        const dn = dayNumber(t.year, t.month + k, a.day);
        if (dn !== undefined && dn >= today) return dn;
      }
      return undefined;
    }
    case 'relative':
      return today + a.offset;
    case 'weekday':
      // The next one after today: "el viernes" said on a Friday is next week's.
      return today + ((a.weekday - weekdayOf(today) + 7) % 7 || 7);
    case 'weekend':
      return weekend(a.next, today)[0];
  }
}

/**
 * "This weekend" is Friday to Sunday (check-out) of the current Monday-Sunday week; on a Saturday it is
 * that Saturday to Sunday; on a Sunday, when it is over, the coming Friday. "Next weekend" is the Friday of
 * next week (Monday-Sunday weeks): 11 days ahead on a Monday, 7 on a Friday, 5 on a Sunday.
 */
function weekend(next: boolean, today: number): [number, number] {
  const wd = weekdayOf(today);
  const friday = today - wd + 4;
  if (next || wd === 6) return [friday + 7, friday + 9];
  return [Math.max(friday, today), friday + 2];
}

/** The weekend (Friday to Sunday check-out) that a Friday to Sunday falls in; from a Monday to Thursday, the next. */
function weekendOf(day: number): [number, number] {
  const wd = weekdayOf(day);
  const friday = day - wd + 4;
  return [friday, friday + 2];
}

/** Years for a pair of month-days: given ones, else chosen so the check-out is on or after today. */
function resolveDatePair(
  a: { day: number; month: number; year?: number },
  b: { day: number; month: number; year?: number },
  today: number,
): [number, number] | undefined {
  const wrap = b.month < a.month ? 1 : 0;
  let ya: number;
  let yb: number;
  if (a.year !== undefined) {
    ya = a.year;
    yb = b.year ?? a.year + wrap;
  } else if (b.year !== undefined) {
    yb = b.year;
    ya = b.year - wrap;
  } else {
    // The first year whose check-out is on or after today: a stay that has begun but not ended is
    // "in the past" rather than next year's ("del 30 de diciembre al 2 de enero" written on 1 January).
    ya = calendarDate(today).year - wrap;
    yb = ya + wrap;
    const out = dayNumber(yb, b.month, b.day);
    if (out !== undefined && out < today) {
      ya++;
      yb++;
    }
  }
  const checkIn = dayNumber(ya, a.month, a.day);
  const checkOut = dayNumber(yb, b.month, b.day);
  return checkIn === undefined || checkOut === undefined ? undefined : [checkIn, checkOut];
}

const shiftMonth = (month: number, by: number) => ((((month - 1 + by) % 12) + 12) % 12) + 1;

function resolveRange(a: Anchor, b: Anchor, today: number): Resolved | undefined {
  const t = calendarDate(today);
  let pair: [number, number] | undefined;
  if (a.kind === 'date' && b.kind === 'date') {
    pair = resolveDatePair(a, b, today);
  } else if (a.kind === 'date' && b.kind === 'bare') {
    // "del 3 de diciembre al 5": the month of check-in; "del 28 de diciembre al 2": the next one.
    const wraps = b.day < a.day && daysInMonth(a.year ?? t.year, a.month) - a.day + b.day <= maxWrapNights;
    pair = resolveDatePair(a, { day: b.day, month: shiftMonth(a.month, wraps ? 1 : 0), ...withYearOf(b) }, today);
  } else if (a.kind === 'bare' && b.kind === 'date') {
    // "del 3 al 5 de diciembre": the month of check-out; "del 28 al 2 de enero": the one before.
    const before = shiftMonth(b.month, -1);
    const wraps = a.day > b.day && daysInMonth(b.year ?? t.year, before) - a.day + b.day <= maxWrapNights;
    pair = resolveDatePair({ day: a.day, month: wraps ? before : b.month, ...withYearOf(a) }, b, today);
  } else if (a.kind === 'bare' && b.kind === 'bare') {
    // "del 3 al 5": this month, or the next one if the check-out day has passed ("del 28 al 2": the first
    // such range whose check-out is today or later, so on 1 December it is 28 November to 2 December).
    const wraps = b.day < a.day && daysInMonth(t.year, t.month) - a.day + b.day <= maxWrapNights;
    for (let k = wraps ? -1 : 0; k < 3 && !pair; k++) {
      const checkIn = dayNumber(t.year, t.month + k, a.day);
      const checkOut = dayNumber(t.year, t.month + k + (wraps ? 1 : 0), b.day);
      if (checkIn !== undefined && checkOut !== undefined && checkOut >= today) pair = [checkIn, checkOut];
    }
  } else {
    // Something relative at either end: check-in on its own, check-out counted from check-in.
    const checkIn = resolveSingle(a, today);
    if (checkIn === undefined) return undefined;
    const checkOut = resolveAfter(b, checkIn, today);
    if (checkOut === undefined) return undefined;
    pair = [checkIn, checkOut];
  }
  return pair && { checkIn: pair[0], checkOut: pair[1], range: true };
}

const withYearOf = (a: { year?: number }): { year?: number } => (a.year === undefined ? {} : { year: a.year });

/** A check-out written relative to a known check-in: "desde mañana hasta el 5", "from Friday to Sunday". */
function resolveAfter(b: Anchor, checkIn: number, today: number): number | undefined {
  const c = calendarDate(checkIn);
  switch (b.kind) {
    case 'weekday':
      return checkIn + ((b.weekday - weekdayOf(checkIn) + 7) % 7 || 7);
    case 'bare': {
      const wraps = b.day < c.day && daysInMonth(c.year, c.month) - c.day + b.day <= maxWrapNights;
      return dayNumber(c.year, c.month + (wraps ? 1 : 0), b.day);
    }
    case 'date':
      return resolveDatePair(c, b, today)?.[1];
    default:
      return resolveSingle(b, today);
  }
}

/** The stay's dates: a range if two anchors are joined ("del 3 al 5"), else one date plus nights (or one). */
function extractDates(scan: Scan, today: number, nights: number | undefined): Resolved | undefined {
  const anchors = findAnchors(scan);
  const days = bareDays(scan);
  // "viernes 3 de diciembre", "Friday, Dec 3": the weekday only names the date that follows it.
  const gapOf = (a: Span, b: Span) => scan.text.slice(a.end, b.start);
  const all = [...anchors, ...days]
    .sort((a, b) => a.start - b.start)
    .filter((a, i, list) => {
      const next = list[i + 1];
      return !(
        a.kind === 'weekday' &&
        next &&
        next.kind !== 'weekend' &&
        /^[\s,]*(?:el|the)?[\s,]*$/.test(gapOf(a, next))
      );
    });

  for (let i = 0; i + 1 < all.length; i++) {
    const a = all[i]!;
    const b = all[i + 1]!;
    if (a.kind === 'weekend' || b.kind === 'weekend') continue;
    const gap = gapOf(a, b);
    const before = scan.text.slice(Math.max(0, a.start - 24), a.start);
    const namedNights = andConnector.test(gap) && nightsContext.test(before);
    const joined = rangeConnector.test(gap) || namedNights || (andConnector.test(gap) && betweenContext.test(before));
    if (!joined) continue;
    if (a.kind === 'bare' && b.kind === 'bare' && !rangeContext.test(before) && !/^\s*-\s*$/.test(gap)) continue;
    const range = resolveRange(a, b, today);
    if (!range) continue;
    if (namedNights && range.checkOut !== undefined) range.checkOut++;
    for (const used of [a, b]) if (used.kind === 'bare') scan.take(used);
    return range;
  }

  const weekendAnchor = anchors.find((a) => a.kind === 'weekend');
  if (weekendAnchor && weekendAnchor.kind === 'weekend') {
    // "el fin de semana del 12 de diciembre": the weekend of that date.
    const of = all.find((x) => x.start >= weekendAnchor.end && (x.kind === 'date' || x.kind === 'bare'));
    const ofDay =
      of && /^\s*(?:del|de|of|of the|on the|on)?\s*$/.test(gapOf(weekendAnchor, of))
        ? resolveSingle(of, today)
        : undefined;
    const [checkIn, checkOut] = ofDay === undefined ? weekend(weekendAnchor.next, today) : weekendOf(ofDay);
    return { checkIn, checkOut: nights === undefined ? checkOut : checkIn + nights, range: nights === undefined };
  }

  const [first, second] = all.filter((a) => a.kind !== 'bare');
  if (first && second) {
    // "llegada 3/12, salida 5/12": two dates without a connector still read in order.
    const range = resolveRange(first, second, today);
    if (range) return range;
  }
  if (first) {
    const checkIn = resolveSingle(first, today);
    return checkIn === undefined ? undefined : { checkIn, range: false };
  }
  return undefined;
}

/** "el 5", "on the 5th": a lone day of the month, read only after options ("la 2") have been taken. */
function extractLoneDay(scan: Scan, today: number): Resolved | undefined {
  for (const day of bareDays(scan)) {
    const before = scan.text.slice(Math.max(0, day.start - 16), day.start);
    if (!singleDayContext.test(before)) continue;
    const checkIn = resolveSingle(day, today);
    if (checkIn === undefined) continue;
    scan.take(day);
    return { checkIn, range: false };
  }
  return undefined;
}

function extractNights(scan: Scan): number | undefined {
  const patterns: [RegExp, number][] = [
    [new RegExp(`\\b${countRe}\\s+(?:noches?|nights?)\\b`, 'g'), 1],
    [/\b(?:a\s+)?couple\s+of\s+(?:nights|days)\b/g, 2],
    [new RegExp(`\\b${countRe}\\s+(?:semanas?|weeks?)\\b`, 'g'), 7],
  ];
  for (const [pattern, unit] of patterns) {
    const m = scan.all(pattern)[0];
    if (!m) continue;
    scan.takeMatch(m);
    const count = m[1] === undefined ? 1 : toCount(m[1]);
    return count > 0 ? count * unit : undefined;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Guests.

interface Guests {
  adults?: number;
  children?: number;
  /** Everyone, adults and children ("3 personas", "somos 3"). */
  people?: number;
}

function firstCount(scan: Scan, pattern: RegExp): number | undefined {
  const m = scan.all(pattern)[0];
  if (!m) return undefined;
  scan.takeMatch(m);
  return toCount(m[1]!);
}

/** Counts with their nouns: "2 adultos", "un niño", "3 personas", "a couple". Run before dates. */
function extractCountedGuests(scan: Scan): Guests {
  const guests: Guests = {};
  const adults = firstCount(scan, new RegExp(`\\b${countRe}\\s+(?:${adultWords})\\b`, 'g'));
  const children = firstCount(scan, new RegExp(`\\b${countRe}\\s+(?:${childWords})\\b`, 'g'));
  // Not "hablar con una persona", "talk to a person".
  const people = firstCount(scan, new RegExp(`(?<!\\b(?:con|with|to)\\s)\\b${countRe}\\s+(?:${peopleWords})\\b`, 'g'));
  if (adults !== undefined) guests.adults = adults;
  if (children !== undefined) guests.children = children;
  if (people !== undefined) guests.people = people;
  const couple =
    /\b(?:una\s+pareja|a\s+couple|pareja|couple|mi\s+(?:mujer|marido|esposa|esposo|novia|novio)\s+y\s+yo|my\s+(?:wife|husband|partner|girlfriend|boyfriend)\s+and\s+(?:i|me)|(?:yo|me|i)\s+(?:y|and)\s+(?:mi|my)\s+(?:mujer|marido|esposa|esposo|novia|novio|pareja|wife|husband|partner|girlfriend|boyfriend))\b/g;
  const coupleMatch = scan.all(couple)[0];
  if (coupleMatch) {
    scan.takeMatch(coupleMatch);
    guests.adults ??= 2;
  }
  const alone = scan.all(/\b(?:solo\s+yo|yo\s+solo|yo\s+sola|just\s+me|only\s+me|myself)\b/g)[0];
  if (alone) {
    scan.takeMatch(alone);
    guests.adults ??= 1;
  }
  return guests;
}

/** "para dos", "for 2" (adults); "somos 4", "we are 4" (everyone). Run after dates, so "para el 2" is gone. */
function extractBareGuests(scan: Scan, guests: Guests): void {
  const notAfter = `(?!${unitAfter}|\\s*(?:de\\s+|of\\s+)?(?:${monthRe})\\b)`;
  const forN = firstCount(scan, new RegExp(`\\b(?:para|for)\\s+${bareCountRe}\\b${notAfter}`, 'g'));
  if (forN !== undefined && forN >= 1 && forN <= 20) guests.adults ??= forN;
  const weAre = firstCount(
    scan,
    new RegExp(
      `\\b(?:somos|seremos|vamos|we\\s+are|were|we\\s+will\\s+be|well\\s+be)\\s+${bareCountRe}\\b${notAfter}`,
      'g',
    ),
  );
  if (weAre !== undefined && weAre >= 1 && weAre <= 20) guests.people ??= weAre;
}

function guestsOf(guests: Guests): Pick<StayRequest, 'adults' | 'children'> {
  const { children, people } = guests;
  let adults = guests.adults;
  if (adults === undefined && people !== undefined)
    adults = children !== undefined && people > children ? people - children : people;
  return {
    ...(adults !== undefined && adults > 0 ? { adults } : {}),
    ...(children !== undefined ? { children } : {}),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Picking an option from an offer.

// prettier-ignore
const ordinalWords: Record<string, number> = {
  primer: 1, primera: 1, primero: 1, first: 1, segunda: 2, segundo: 2, second: 2, tercer: 3, tercera: 3,
  tercero: 3, third: 3, cuarta: 4, fourth: 4, quinta: 5, quinto: 5, fifth: 5,
};
const ordinalRe = Object.keys(ordinalWords).join('|');
const notFloorOrTime = `(?!\\s+(?:vez|time|planta|piso|floor|dia|day|noche|night|semana|week|hora|hour|de|of)\\b)`;

function extractChoice(scan: Scan): number | undefined {
  const digits: RegExp[] = [
    // "2", "la 2", "opción 2", "#2"
    /^\s*(?:(?:la|opcion|option|numero|number|#)\s*)?(\d{1,2})\s*(?:one|por favor|please|gracias|thanks)?\s*$/g,
    new RegExp(`\\b(?:opcion|option|numero|number)\\s*(\\d{1,2})\\b(?!${unitAfter})`, 'g'),
    new RegExp(
      `\\b(?:book|reserve|reservar|reservo|reserva|reservame|take|tomo|elijo|escojo|prefiero|choose|pick|go with|quiero|want|me quedo con|nos quedamos con)\\s+(?:(?:la|el|the|number|numero|opcion|option|habitacion|room|la\\s+habitacion|the\\s+room)\\s+)?(\\d{1,2})\\b(?!${unitAfter})(?:\\s+one\\b)?`,
      'g',
    ),
    new RegExp(`\\b(?:la\\s+(\\d{1,2})\\b(?!${unitAfter})|the\\s+(\\d{1,2})\\s+one\\b)`, 'g'),
  ];
  for (const pattern of digits) {
    const m = scan.all(pattern)[0];
    const n = Number(m?.[1] ?? m?.[2]);
    if (m && n >= 1) {
      scan.takeMatch(m);
      return n;
    }
  }
  const words: RegExp[] = [
    new RegExp(`^\\s*(${ordinalRe})(?:\\s+(?:one|opcion|option))?\\s*$`, 'g'),
    new RegExp(
      `\\b(?:la|el|the|con|with)\\s+(${ordinalRe})\\b(?:\\s+(?:one|opcion|option|habitacion|room))?${notFloorOrTime}`,
      'g',
    ),
    new RegExp(`\\b(${ordinalRe})\\s+(?:one|opcion|option)\\b`, 'g'),
  ];
  for (const pattern of words) {
    const m = scan.all(pattern)[0];
    if (m) {
      scan.takeMatch(m);
      return ordinalWords[m[1]!];
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Intents.

const cues = {
  humanStrong: [
    /\b(?:hablar|habla|hablo|contactar|comunicar(?:me|nos)?|pasar(?:me)?|poner(?:me)?|atender(?:me)?)\s+con\s+(?:(?:una|un|el|la|alguna|algun)\s+)?(?:persona|alguien|humano|ser humano|agente|recepcion|recepcionista|personal|empleado|encargado|gerente|responsable|operador)/,
    /\b(?:persona\s+real|ser\s+humano|humano|agente|recepcionista|operador|atencion\s+al\s+cliente)\b/,
    /\b(?:quiero|necesito|prefiero)\s+(?:una\s+persona|un\s+humano|alguien)\b/,
    /\b(?:talk|speak|chat)\s+(?:to|with)\s+(?:(?:a|an|the|your|some)\s+)?(?:person|human|someone|somebody|staff|reception|front\s+desk|agent|manager|representative|receptionist|real\s+person|operator|people)\b/,
    /\b(?:real\s+person|human\s+being|a\s+human|human|live\s+agent|customer\s+service|representative|operator)\b/,
    /\b(?:llamame|llamadme|me\s+pueden\s+llamar|call\s+me|can\s+you\s+call)\b/,
  ],
  humanWeak: [/\b(?:recepcion|reception|front\s+desk|receptionist|staff|personal\s+del\s+hotel|encargado|manager)\b/],
  cancel: [
    /\b(?:cancelar|cancela|cancelo|cancelad|cancelen|cancelame|cancelacion|anular|anula|anulo|anulen|anulacion|cancel|cancelling|canceling|cancellation)\b/,
  ],
  /** "¿Cuál es la política de cancelación?" asks about the hotel, it cancels nothing. */
  cancelPolicy: [
    /\b(?:politica|condiciones|policy|terms|gratis|gratuita|gratuito|free|fee|penalizacion|penalty|coste|cuesta|cost)\b/,
  ],
  book: [
    /\b(?:reservar|reservo|reservame|reservamela|reservamelo|reservarla|reservarlo|reservala|reservalo|reservemos|reservaria|reservariamos|reservad)\b/,
    /(?<!\b(?:mi|tu|su|nuestra|vuestra|la|esta|esa)\s)\breserva\s+(?:la|el|esa|ese|esta|este|para)\b/,
    /\b(?:hacer|quiero|quisiera|queremos|quisieramos|gustaria\s+hacer)\s+(?:una\s+)?reserva\b/,
    /\b(?:me\s+(?:la|lo)\s+quedo|nos\s+(?:la|lo)\s+quedamos|me\s+quedo\s+con|nos\s+quedamos\s+con|confirmo|confirmamos|la\s+quiero|lo\s+quiero|la\s+cojo|elijo|escojo)\b/,
    /\b(?:book|reserve)\b/,
    /\b(?:make|do|place)\s+a\s+(?:booking|reservation)\b/,
    /(?<!\b(?:my|our|the|your)\s)\b(?:booking|reservation)\s+for\b/,
    /\b(?:ill|i\s+will|well|we\s+will|id|i\s+would|wed|we\s+would)\s+(?:take|like\s+to\s+take|go\s+with)\b/,
    /\b(?:take\s+(?:it|that|this)|go\s+ahead|(?:i|we)\s+confirm|lets\s+do\s+it)\b/,
  ],
  /** Asking for rooms: wins over an info topic only when said outright ("disponibilidad", "habitación para"). */
  availabilityStrong: [
    /\b(?:disponibilidad|availability|vacanc(?:y|ies))\b/,
    /\b(?:habitacion(?:es)?|cuartos?|rooms?)\s+(?:para|for|libres?|disponibles?|available|free)\b/,
    /\b(?:busco|buscamos|necesito|necesitamos|quiero|quisiera|queremos|looking\s+for|need|want|would\s+like)\s+(?:(?:una|un|a|an)\s+)?(?:habitacion|cuarto|room|alojamiento|accommodation)\b/,
  ],
  availabilityRooms: [
    /\b(?:tienen|teneis|tiene|tienes|hay|habra|habria|queda|quedan|tendrian|tendrias|tendra|disponen|have|has|got|is\s+there|are\s+there|any)\b[^,.]{0,40}?\b(?:habitacion(?:es)?|hab|cuartos?|sitio|plazas?|hueco|camas?|rooms?|space|beds?|suites?|dobles?)\b/,
  ],
  availabilityWeak: [
    /\b(?:available|disponibles?|libres?|precio|precios|tarifas?|cuanto\s+(?:cuesta|vale|sale|es)|price|prices|rates?|how\s+much|cost)\b/,
  ],
  timeQuestion: [/\b(?:a\s+que\s+hora|que\s+hora|what\s+time|when|cuando|horario|hora\s+de|hours?)\b/],
  thanks: [
    /\b(?:gracias|agradezco|agradecid[oa]|thanks?|thank\s+you|thx|ty|cheers|much\s+appreciated|appreciate\s+it)\b/,
  ],
  greeting: [
    /\b(?:hola+|holi|buenas|buenos\s+dias|buen\s+dia|saludos|que\s+tal|hey|hi|hello|hiya|howdy|greetings|good\s+(?:morning|afternoon|evening|day))\b/,
  ],
};

/** Topics in the order they are tried: specific ones first ("¿dónde está el parking?" is about parking). */
const topics: [InfoTopic, RegExp][] = [
  [
    'parking',
    /\b(?:parking|aparcamiento|aparcar|aparco|estacionamiento|estacionar|garaje|garage|car\s+park|park\s+(?:my|the|our)\s+car)\b/,
  ],
  ['wifi', /\b(?:wi\s*-?\s*fi|internet|contrasena|password|clave\s+del\s+wifi|wireless)\b/],
  [
    'breakfast',
    /\b(?:desayunos?|desayunar|breakfast|media\s+pension|pension\s+completa|half\s+board|full\s+board|brunch)\b/,
  ],
  ['pets', /\b(?:mascotas?|perros?|perrito|perrita|gatos?|animales|pets?|dogs?|cats?|animals|pet\s*-?\s*friendly)\b/],
  [
    'check_out',
    /\b(?:check\s*-?\s*out|hora\s+de\s+salida|late\s+check|departure\s+time|(?:a\s+que\s+hora|cuando|hasta\s+que\s+hora)\s+(?:hay\s+que|tengo\s+que|tenemos\s+que|debo|debemos|se\s+debe|puedo|podemos)\s+(?:salir|dejar|irnos|irme)|what\s+time\s+(?:do|must|should)\s+(?:i|we)\s+(?:leave|check\s+out))\b/,
  ],
  [
    'check_in',
    /\b(?:check\s*-?\s*in|hora\s+de\s+(?:llegada|entrada)|early\s+check|arrival\s+time|(?:a\s+que\s+hora|cuando|desde\s+que\s+hora)\s+(?:puedo|podemos|se\s+puede)\s+(?:llegar|entrar)|what\s+time\s+can\s+(?:i|we)\s+(?:arrive|get\s+in)|(?:llegamos|llegare|llegaremos|llego)\s+(?:tarde|a\s+las|sobre\s+las|hacia\s+las)|late\s+arrival|(?:arrive|arriving|get\s+there|be\s+there)\s+(?:late|at|around))\b/,
  ],
  [
    'address',
    /\b(?:donde\s+(?:estan|esta|queda|quedan|se\s+encuentra|se\s+encuentran|se\s+ubica)|direccion|ubicacion|localizacion|como\s+(?:llego|llegar|se\s+llega|llegamos)|address|where\s+(?:are\s+you|is\s+the\s+hotel|is\s+it|is\s+the\s+property)|location|located|directions|how\s+(?:do|can)\s+(?:i|we)\s+get\s+there)\b/,
  ],
  [
    'general',
    /\b(?:informacion|info|information|servicios|amenities|facilities|instalaciones|piscina|pool|gimnasio|gym|spa|restaurante|restaurant|normas|house\s+rules|tell\s+me\s+about|sobre\s+el\s+hotel|about\s+the\s+hotel)\b/,
  ],
];

const englishHints =
  /\b(?:january|february|march|april|june|july|august|september|october|november|december|jan|apr|aug|oct|dec|monday|tuesday|wednesday|thursday|friday|saturday|sunday|tonight|tomorrow|weekend|nights?|adults?|child|children|kids|from|to|until|book|booking|cancel|breakfast|pets?|dogs?|see|availability|available|rooms?|price|we|will|arrive|arriving|leave|leaving|late|early|around)\b/g;
const spanishHints =
  /\b(?:enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|diciembre|ene|abr|ago|dic|lunes|martes|miercoles|jueves|viernes|sabado|domingo|manana|noches?|finde|adultos?|ninos?|al|del|hasta|reservar|reserva|recepcion|desayuno|aparcamiento|mascotas?|perros?|ver|disponibilidad|disponibles?|habitacion(?:es)?|precio|llegamos|llegaremos|llego|salimos|tarde|temprano)\b/g;

/** For texts `detectLanguage` has no opinion on ("Dec 3-5", "recepción"): the words of this module's lexicon. */
function languageHint(text: string): Language | undefined {
  const en = text.match(englishHints)?.length ?? 0;
  const es = text.match(spanishHints)?.length ?? 0;
  return en === es ? undefined : en > es ? 'en' : 'es';
}

const any = (patterns: RegExp[], text: string) => patterns.some((p) => p.test(text));

function topicOf(text: string): InfoTopic | undefined {
  return topics.find(([, pattern]) => pattern.test(text))?.[0];
}

interface Entities {
  stay: StayRequest;
  /** The dates came from two dates the guest gave, not one date and an assumed length. */
  range: boolean;
  choice?: number;
  topic?: InfoTopic;
}

/**
 * Which intent wins when a message has cues for several, first match wins:
 *  1. human, when asked outright ("hablar con una persona") — whatever else the message says;
 *  2. cancel_booking ("cancelar mi reserva"), unless it asks about the cancellation policy (hotel_info);
 *  3. book: a booking verb or an option picked ("reservar la 2"), with the stay if dates were given;
 *  4. availability when rooms are asked for ("¿tienen habitación…?", "room for two"), unless the message
 *     is really about an info topic and has no dates ("¿hay habitaciones con wifi?" is about wifi);
 *  5. hotel_info for a topic (address, check-in, parking, ...); but "check in dec 3, check out dec 5" with
 *     a date range and no "what time" is availability;
 *  6. availability when the message carries a stay (dates, nights or guests: "del 3 al 5", "2 adultos")
 *     or asks a price ("¿cuánto cuesta?");
 *  7. human for a bare "recepción" / "front desk";
 *  8. thanks, then greeting: the weakest, so "hola, ¿tienen habitación del 3 al 5?" is availability;
 *  9. unknown.
 */
function decideIntent(text: string, e: Entities, hasNights: boolean): Intent {
  if (any(cues.humanStrong, text)) return 'human';
  if (any(cues.cancel, text)) return any(cues.cancelPolicy, text) ? 'hotel_info' : 'cancel_booking';
  if (e.choice !== undefined || any(cues.book, text)) return 'book';
  const hasDates = e.stay.checkIn !== undefined;
  const timeQuestion = any(cues.timeQuestion, text);
  if (any(cues.availabilityStrong, text) || any(cues.availabilityRooms, text)) {
    const explicit = /\b(?:disponibilidad|availability|vacanc(?:y|ies)|libres?|disponibles?|available|free)\b/.test(
      text,
    );
    if (!(e.topic && !hasDates && !explicit)) return 'availability';
  }
  if (e.topic) {
    const stayAboutCheckInOut = (e.topic === 'check_in' || e.topic === 'check_out') && e.range && !timeQuestion;
    return stayAboutCheckInOut ? 'availability' : 'hotel_info';
  }
  const hasStay = hasDates || hasNights || e.stay.adults !== undefined || e.stay.children !== undefined;
  if (hasStay || any(cues.availabilityWeak, text)) return 'availability';
  if (any(cues.humanWeak, text)) return 'human';
  if (any(cues.thanks, text)) return 'thanks';
  if (any(cues.greeting, text)) return 'greeting';
  return 'unknown';
}

/** What is wrong with the stay for an availability or booking request; checked in this order. */
function stayProblem(stay: StayRequest, today: number, maxStayNights: number): StayProblem | undefined {
  if (stay.checkIn === undefined || stay.checkOut === undefined) return 'missing_dates';
  const checkIn = Date.parse(stay.checkIn) / dayMs;
  const checkOut = Date.parse(stay.checkOut) / dayMs;
  if (checkOut <= checkIn) return 'checkout_before_checkin';
  if (checkIn < today) return 'in_the_past';
  if (checkOut - checkIn > maxStayNights) return 'too_long';
  return undefined;
}

/** Reads a text message; the interactive-reply mapping is done by the caller. */
function understandText(raw: string, input: UnderstandInput, forced?: { intent: Intent } | { choice: number }) {
  const today = localDay(input.messageTimestamp, input.timezone);
  const { reference, rest } = extractReference(raw);
  const text = normalize(raw);
  const scan = new Scan(normalize(rest));

  const nights = extractNights(scan);
  const guests = extractCountedGuests(scan);
  let dates = extractDates(scan, today, nights);
  const choice = forced && 'choice' in forced ? forced.choice : extractChoice(scan);
  dates ??= extractLoneDay(scan, today);
  extractBareGuests(scan, guests);

  const stay: StayRequest = {};
  if (dates) {
    stay.checkIn = isoDate(dates.checkIn);
    stay.checkOut = isoDate(dates.checkOut ?? dates.checkIn + (nights ?? 1));
  }
  Object.assign(stay, guestsOf(guests));
  const topic = topicOf(text);
  const entities: Entities = {
    stay,
    range: dates?.range ?? false,
    ...(choice !== undefined ? { choice } : {}),
    ...(topic !== undefined ? { topic } : {}),
  };
  const intent = forced
    ? 'intent' in forced
      ? forced.intent
      : 'book'
    : decideIntent(text, entities, nights !== undefined);

  const understanding: Understanding = { intent, language: detectLanguage(raw) ?? languageHint(text) ?? input.locale };
  if (Object.keys(stay).length > 0) understanding.stay = stay;
  if (intent === 'hotel_info') understanding.infoTopic = topic ?? 'general';
  if (reference !== undefined) understanding.bookingReference = reference;
  if (choice !== undefined && intent === 'book') understanding.choice = choice;
  // A booking needs dates when it asks for a room afresh ("quiero reservar una habitación"), not when it
  // accepts an offer: "book it", "me la quedo", "la 2" carry no dates (the offer has them), so they get no
  // 'missing_dates'. Dates given with any booking are still checked.
  const asksForRoom =
    /\b(?:habitacion(?:es)?|cuartos?|rooms?|alojamiento|accommodation)\b/.test(text) || Object.keys(stay).length > 0;
  const checkStay =
    intent === 'availability' || (intent === 'book' && (dates !== undefined || (choice === undefined && asksForRoom)));
  const problem = checkStay ? stayProblem(stay, today, input.maxStayNights) : undefined;
  if (problem !== undefined) understanding.problem = problem;
  return understanding;
}

/**
 * The default understander: rules for Spanish and English. Interactive replies whose id is `intent:<Intent>`
 * or `choice:<n>` map straight to an intent (`choice:<n>` is `book` with that choice); any other reply is
 * read by its title like a typed message.
 */
export function createRuleBasedUnderstander(): Understander {
  return {
    understand(input: UnderstandInput): Promise<Understanding> {
      try {
        const forced = input.replyId === undefined ? undefined : parseReplyId(input.replyId);
        return Promise.resolve(understandText(input.text ?? '', input, forced));
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
    },
  };
}

/** The NLU activities; `createActivities` wires them to the understander the worker chose. */
export function createNluActivities({ nlu }: { nlu: Understander }) {
  return {
    /** Intent and entities of one guest message. Deterministic in its input, so safe to retry. */
    async understand(input: UnderstandInput): Promise<Understanding> {
      return nlu.understand(input);
    },
  };
}
