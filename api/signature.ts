import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Checks Meta's `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body with the app secret>`
 * (https://developers.facebook.com/docs/graph-api/webhooks/getting-started#validate-payloads).
 * Compares in constant time, over the exact bytes received: a re-serialised JSON body would not match.
 */
export function isValidSignature(rawBody: Buffer, header: string | undefined, appSecret: string): boolean {
  if (!header?.startsWith('sha256=')) return false;
  const hex = header.slice('sha256='.length);
  // Buffer.from(…, 'hex') silently stops at the first non-hex digit, so check the whole value first.
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) return false;
  const received = Buffer.from(hex, 'hex');
  const expected = createHmac('sha256', appSecret).update(rawBody).digest();
  return received.length === expected.length && timingSafeEqual(received, expected);
}

/**
 * Whether `given` equals `expected`, in time that depends on neither where they differ nor how long `given` is:
 * both are hashed to 32 bytes first, then compared with `timingSafeEqual`. Used for the webhook verify token.
 */
export function tokensEqual(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** The header value Meta would send for `rawBody`; used by tests and the demo. */
export function signBody(rawBody: Buffer | string, appSecret: string): string {
  return `sha256=${createHmac('sha256', appSecret).update(rawBody).digest('hex')}`;
}
