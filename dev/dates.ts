/** Dates written the way guests write them, for the demo and the tests: "7 de diciembre", "December 7". */
const esMonths = 'enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre'.split(' ');
const enMonths = 'January February March April May June July August September October November December'.split(' ');

/** The date `days` from now (UTC). */
export const inDays = (days: number): Date => new Date(Date.now() + days * 86_400_000);
export const spanishDate = (d: Date): string => `${d.getUTCDate()} de ${esMonths[d.getUTCMonth()]}`;
export const englishDate = (d: Date): string => `${enMonths[d.getUTCMonth()]} ${d.getUTCDate()}`;
