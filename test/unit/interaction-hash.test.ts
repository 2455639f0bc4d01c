import { createHash } from 'node:crypto';
import { createGuestRefs } from '../../lib/guest-refs';
import { createTextHasher } from '../../lib/interactions';

const key = 'a-guest-reference-key-of-32-characters!!';

describe('the keyed hash of a message text', () => {
  const hash = createTextHasher(key);

  it('is the same for the same words, whatever the case, spacing or Unicode form', () => {
    expect(hash('  Hola,   ¿tienen HABITACIÓN? ')).toBe(hash('hola, ¿tienen habitación?'));
    // "ó" as one code point and as "o" + combining accent.
    expect(hash('habitaci\u00f3n')).toBe(hash('habitacio\u0301n'));
    expect(hash('Hola')).not.toBe(hash('Adiós'));
  });

  it('cannot be recomputed without the key: not a plain hash, not another key’s, not a guest reference', () => {
    const text = '+34600123456';
    expect(hash(text)).toMatch(/^[0-9a-f]{64}$/);
    expect(hash(text)).not.toBe(createHash('sha256').update(text).digest('hex'));
    expect(hash(text)).not.toBe(createTextHasher(`${key}-other`)(text));
    expect(hash(text).startsWith(createGuestRefs(key).of(text))).toBe(false);
  });

  it('needs a key', () => {
    expect(() => createTextHasher('')).toThrow(RangeError);
  });
});
