import { monthNames, weekdayNames } from './lexicon';

/**
 * Text handling: normalizing a message, a scan that blanks what has been recognized so no later rule reads it twice,
 * and booking references, read from the original text (case kept), then blanked so their digits are not dates.
 */

export function normalize(text: string): string {
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

export interface Span {
  start: number;
  end: number;
}

/** The normalized text with what has been recognized blanked out, so no later rule reads it twice. */
export class Scan {
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

const referencePatterns = [
  // BK-1234, PMS_00042, booking:wa:123:456, BK1234
  /(?<![\w:.-])(?:[a-z][a-z0-9]*(?:[-_:.][a-z0-9]+)+|[a-z]{2,}\d{3,}[a-z0-9]*)(?![\w:-])/gi,
  // "reserva 123456", "booking number 98765"
  /\b(?:reserva|booking|reservation|localizador|referencia|reference|ref|confirmaci[oó]n|confirmation)\s*(?:n[ºo°.]?|#|number|n[uú]mero|code|c[oó]digo|:)?\s*(\d{4,})\b/gi,
];

export function extractReference(text: string): { reference?: string; rest: string } {
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
