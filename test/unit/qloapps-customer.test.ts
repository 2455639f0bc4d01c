import { cleanName, customerName, customerPhone } from '../../clients/qloapps/customer';

/** QloApps' Validate::isName (classes/Validate.php:157-160), and the utf8mb3 columns that store names. */
const isName = (value: string) => /^[^0-9!<>,;?=+()@#"°{}_$%:]*$/u.test(value.replace(/\\(.?)/g, '$1'));
const utf8mb3 = (value: string) => !/[\u{10000}-\u{10FFFF}]/u.test(value);

describe('the customer QloApps records for a WhatsApp guest', () => {
  it.each([
    ['Ana María López', 'Ana', 'María López'],
    ['  Ana   López ', 'Ana', 'López'],
    ['R2-D2 :)', 'R-D', 'Guest'],
    ['John_Smith', 'John', 'Smith'],
    ['Zoë "the best" O’Brien', 'Zoë', 'the best O’Brien'],
    ['Ana 🙂', 'Ana', 'Guest'],
    ['👩‍💻', 'WhatsApp', 'Guest'],
    ['Ana\u0000\u200b López', 'Ana', 'López'],
    ['Back\\slash', 'Back', 'slash'],
    ['', 'WhatsApp', 'Guest'],
    ['東京 太郎', '東京', '太郎'],
  ])('names %j as %j / %j', (profile, firstname, lastname) => {
    expect(customerName(profile)).toEqual({ firstname, lastname });
  });

  it('gives names QloApps accepts and stores whole: isName, at most 32 characters, never empty, no emoji', () => {
    const samples = [
      'Ana',
      `${'Ñ'.repeat(40)} ${'x'.repeat(40)}`,
      '!<>,;?=+()@#"°{}_$%:0123456789',
      '🙂🙂🙂 Ana 😀',
      'a'.repeat(100),
      '\u{1F600}a\u{1F600}',
    ];
    for (const sample of samples) {
      const { firstname, lastname } = customerName(sample);
      for (const name of [firstname, lastname]) {
        expect(isName(name)).toBe(true);
        expect(utf8mb3(name)).toBe(true);
        expect([...name].length).toBeGreaterThan(0);
        expect([...name].length).toBeLessThanOrEqual(32);
        expect(name).toBe(name.trim());
      }
    }
    expect([...cleanName('é'.repeat(40))]).toHaveLength(32);
  });

  it('gives the phone as + and the digits of the WhatsApp id, which QloApps accepts', () => {
    expect(customerPhone('34600123456')).toBe('+34600123456');
    expect(customerPhone('+1 (650) 555-1234')).toBe('+16505551234');
    expect(customerPhone(undefined)).toBeUndefined();
    expect(customerPhone('abc')).toBeUndefined();
    expect(customerPhone('1'.repeat(40))).toBeUndefined();
    expect(/^\+?[\s\d.()-]*\d+$/.test(customerPhone('447700900123')!)).toBe(true);
  });
});
