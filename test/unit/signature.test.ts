import { createHmac } from 'node:crypto';
import { isValidSignature, signBody } from '../../api/signature';

const secret = 'test-app-secret-0123456789';
const body = Buffer.from('{"object":"whatsapp_business_account","entry":[]}', 'utf8');

function hexOf(header: string): string {
  return header.slice('sha256='.length);
}

describe('signBody', () => {
  it('is sha256= and the lowercase hex HMAC-SHA256 of the body with the app secret', () => {
    const expected = createHmac('sha256', secret).update(body).digest('hex');
    expect(signBody(body, secret)).toBe(`sha256=${expected}`);
    expect(hexOf(signBody(body, secret))).toMatch(/^[0-9a-f]{64}$/);
  });

  it('signs a string and the same bytes as a Buffer alike', () => {
    expect(signBody(body.toString('utf8'), secret)).toBe(signBody(body, secret));
  });

  it('matches a known HMAC-SHA256 test vector (RFC 4231 case 2)', () => {
    expect(signBody('what do ya want for nothing?', 'Jefe')).toBe(
      'sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
  });
});

describe('isValidSignature', () => {
  it('accepts the signature signBody makes', () => {
    expect(isValidSignature(body, signBody(body, secret), secret)).toBe(true);
  });

  it('accepts uppercase hex digits', () => {
    const header = `sha256=${hexOf(signBody(body, secret)).toUpperCase()}`;
    expect(isValidSignature(body, header, secret)).toBe(true);
  });

  it('roundtrips an empty body', () => {
    const empty = Buffer.alloc(0);
    const header = signBody(empty, secret);
    expect(header).toBe(`sha256=${createHmac('sha256', secret).digest('hex')}`);
    expect(isValidSignature(empty, header, secret)).toBe(true);
    expect(isValidSignature(body, header, secret)).toBe(false);
    expect(isValidSignature(empty, signBody(body, secret), secret)).toBe(false);
  });

  it('roundtrips a non-ASCII body over its exact bytes', () => {
    const unicode = Buffer.from('{"text":"¿Tienen habitación? 👍"}', 'utf8');
    expect(isValidSignature(unicode, signBody(unicode, secret), secret)).toBe(true);
  });

  it('rejects a body that changed by one byte', () => {
    const header = signBody(body, secret);
    const tampered = Buffer.from(body);
    tampered[tampered.length - 2] = 0x20;
    expect(isValidSignature(tampered, header, secret)).toBe(false);
  });

  it('rejects re-serialised JSON (whitespace differs)', () => {
    const pretty = Buffer.from(JSON.stringify(JSON.parse(body.toString('utf8')), null, 2), 'utf8');
    expect(isValidSignature(pretty, signBody(body, secret), secret)).toBe(false);
  });

  it('rejects a signature made with another secret', () => {
    expect(isValidSignature(body, signBody(body, 'another-secret'), secret)).toBe(false);
  });

  it('rejects a missing or empty header', () => {
    expect(isValidSignature(body, undefined, secret)).toBe(false);
    expect(isValidSignature(body, '', secret)).toBe(false);
    expect(isValidSignature(body, 'sha256=', secret)).toBe(false);
  });

  it('rejects an uppercase SHA256= prefix', () => {
    expect(isValidSignature(body, `SHA256=${hexOf(signBody(body, secret))}`, secret)).toBe(false);
    expect(isValidSignature(body, `Sha256=${hexOf(signBody(body, secret))}`, secret)).toBe(false);
  });

  it('rejects other algorithms and a bare hex digest', () => {
    const hex = hexOf(signBody(body, secret));
    expect(isValidSignature(body, `sha1=${hex}`, secret)).toBe(false);
    expect(isValidSignature(body, hex, secret)).toBe(false);
    expect(isValidSignature(body, ` sha256=${hex}`, secret)).toBe(false);
  });

  describe('rejects hex of the wrong length', () => {
    const hex = () => hexOf(signBody(body, secret));

    it.each([
      ['one digit short', (h: string) => h.slice(0, -1)],
      ['one byte short', (h: string) => h.slice(0, -2)],
      ['half the digest', (h: string) => h.slice(0, 32)],
      ['one extra digit', (h: string) => `${h}0`],
      ['one extra byte', (h: string) => `${h}00`],
      ['the digest twice', (h: string) => h + h],
    ])('%s', (_label, mutate) => {
      expect(isValidSignature(body, `sha256=${mutate(hex())}`, secret)).toBe(false);
    });
  });

  it.each([
    ['trailing garbage', (h: string) => `${h}zz`],
    ['trailing whitespace', (h: string) => `${h} `],
    ['a non-hex digit inside', (h: string) => `${h.slice(0, 10)}g${h.slice(11)}`],
    ['a second header value appended', (h: string) => `${h},sha256=${h}`],
  ])('rejects malformed hex: %s', (_label, mutate) => {
    expect(isValidSignature(body, `sha256=${mutate(hexOf(signBody(body, secret)))}`, secret)).toBe(false);
  });
});
