import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * Admin API tokens: `hm_<id>_<secret>`. The id is the `admin_tokens` primary key (16 hex digits, not a
 * secret), so a token is looked up by id and then its secret checked against the stored scrypt hash in
 * constant time. Only the hash is stored; the token itself is shown once, when it is created.
 */

export const adminScopes = ['admin', 'monitoring'] as const;
/** `admin` may do everything; `monitoring` may only read. */
export type AdminScope = (typeof adminScopes)[number];

const tokenPattern = /^hm_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

/** scrypt cost: N = 2^14, r = 8, p = 1 (Node's defaults, 16 MiB, tens of ms); 32-byte key, 16-byte salt. */
const defaults = { N: 16_384, r: 8, p: 1, keyLength: 32, saltLength: 16 };

function scryptAsync(secret: string, salt: Buffer, keyLength: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, keyLength, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** `scrypt$N$r$p$<salt base64>$<hash base64>` of `secret`, with a fresh salt. */
export async function hashSecret(secret: string): Promise<string> {
  const { N, r, p, keyLength, saltLength } = defaults;
  const salt = randomBytes(saltLength);
  const hash = await scryptAsync(secret, salt, keyLength, { N, r, p, maxmem: 64 * 1024 * 1024 });
  return ['scrypt', N, r, p, salt.toString('base64'), hash.toString('base64')].join('$');
}

/** Checks `secret` against a stored `scrypt$...` hash in constant time; false for a malformed hash. */
export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  // Bounds keep a corrupted row from asking for gigabytes of memory.
  if (![N, r, p].every(Number.isSafeInteger) || N < 2 || N > 2 ** 20 || r < 1 || r > 32 || p < 1 || p > 16) {
    return false;
  }
  const salt = Buffer.from(parts[4]!, 'base64');
  const expected = Buffer.from(parts[5]!, 'base64');
  if (salt.length === 0 || expected.length === 0) return false;
  const actual = await scryptAsync(secret, salt, expected.length, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 });
  return timingSafeEqual(actual, expected);
}

/** Splits `hm_<id>_<secret>`; `undefined` when the string is not shaped like a token. */
export function parseToken(token: string): { id: string; secret: string } | undefined {
  const match = tokenPattern.exec(token);
  return match ? { id: match[1]!, secret: match[2]! } : undefined;
}

/** A fresh token: the value to show once, its id, and the hash to store. */
export async function generateToken(): Promise<{ id: string; token: string; secretHash: string }> {
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { id, token: `hm_${id}_${secret}`, secretHash: await hashSecret(secret) };
}

let dummyHash: Promise<string> | undefined;

/**
 * Spends the same scrypt work as a real check. Used when the token id is unknown, so the response time
 * does not tell which ids exist.
 */
export async function burnVerification(secret: string): Promise<void> {
  dummyHash ??= hashSecret(randomBytes(32).toString('base64url'));
  await verifySecret(secret, await dummyHash);
}
