/**
 * The words the rules read, in Spanish and English. Patterns run on normalized text (text.ts): lower case,
 * accents removed (ñ → n), ordinals stripped (3rd → 3).
 */

// prettier-ignore
export const monthNames: Record<string, number> = {
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
export const monthRe = Object.keys(monthNames)
  .sort((a, b) => b.length - a.length)
  .join('|');

// prettier-ignore
export const weekdayNames: Record<string, number> = {
  lunes: 0, monday: 0, martes: 1, tuesday: 1, miercoles: 2, wednesday: 2, jueves: 3, thursday: 3,
  viernes: 4, friday: 4, sabado: 5, saturday: 5, domingo: 6, sunday: 6,
};
export const weekdayRe = Object.keys(weekdayNames).join('|');

// prettier-ignore
const numberWords: Record<string, number> = {
  un: 1, uno: 1, una: 1, a: 1, an: 1, one: 1, dos: 2, two: 2, tres: 3, three: 3, cuatro: 4, four: 4,
  cinco: 5, five: 5, seis: 6, six: 6, siete: 7, seven: 7, ocho: 8, eight: 8, nueve: 9, nine: 9, diez: 10, ten: 10,
};
/** A count as digits or a word, including the articles "un/una/a/an" (one child, a night). */
export const countRe = `(\\d{1,2}|${Object.keys(numberWords).join('|')})`;
/** A count without the articles, for "para dos", "for 2", "somos 4". */
export const bareCountRe = `(\\d{1,2}|${Object.keys(numberWords)
  .filter((w) => !['un', 'una', 'a', 'an'].includes(w))
  .join('|')})`;

export const toCount = (word: string): number => numberWords[word] ?? Number(word);

export const adultWords = 'adultos?|adults?|mayores';
export const childWords = 'ninos?|ninas?|children|child|kids?|bebes?|babies|baby|menores|crios?|hijos?|hijas?';
export const peopleWords = 'personas?|people|persons?|pax|huespedes|guests?';
/** A number followed by one of these is a count of something, not a day of the month. */
export const unitAfter =
  `\\s*(?:(?:${adultWords}|${childWords}|${peopleWords}|noches?|nights?|habitacion(?:es)?|rooms?|hab|camas?|beds?|` +
  'semanas?|weeks?|dias?|days?|horas?|hours?|h|hrs?|am|pm|euros?|eur|dolares|dollars|anos|years?|estrellas|stars|' +
  'minutos|mins?|km|metros|meters)\\b|[€$%])';
