import { calendarDate, dayNumber, daysInMonth, weekdayOf } from './calendar';
import { countRe, monthNames, monthRe, toCount, unitAfter, weekdayNames, weekdayRe } from './lexicon';
import type { Scan, Span } from './text';

/** The stay's dates: absolute, relative, weekdays and weekends, ranges, a date plus nights. */

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
export function extractDates(scan: Scan, today: number, nights: number | undefined): Resolved | undefined {
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
export function extractLoneDay(scan: Scan, today: number): Resolved | undefined {
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

export function extractNights(scan: Scan): number | undefined {
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
