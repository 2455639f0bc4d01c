import type { StayRequest } from '../intents';
import { adultWords, bareCountRe, childWords, countRe, monthRe, peopleWords, toCount, unitAfter } from './lexicon';
import type { Scan } from './text';

/** How many guests (adults, children, people), and which option of an offer the guest picked. */

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
export function extractCountedGuests(scan: Scan): Guests {
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
export function extractBareGuests(scan: Scan, guests: Guests): void {
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

export function guestsOf(guests: Guests): Pick<StayRequest, 'adults' | 'children'> {
  const { children, people } = guests;
  let adults = guests.adults;
  if (adults === undefined && people !== undefined)
    adults = children !== undefined && people > children ? people - children : people;
  return {
    ...(adults !== undefined && adults > 0 ? { adults } : {}),
    ...(children !== undefined ? { children } : {}),
  };
}

// Picking an option from an offer.

// prettier-ignore
const ordinalWords: Record<string, number> = {
  primer: 1, primera: 1, primero: 1, first: 1, segunda: 2, segundo: 2, second: 2, tercer: 3, tercera: 3,
  tercero: 3, third: 3, cuarta: 4, fourth: 4, quinta: 5, quinto: 5, fifth: 5,
};
const ordinalRe = Object.keys(ordinalWords).join('|');
const notFloorOrTime = `(?!\\s+(?:vez|time|planta|piso|floor|dia|day|noche|night|semana|week|hora|hour|de|of)\\b)`;

export function extractChoice(scan: Scan): number | undefined {
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
