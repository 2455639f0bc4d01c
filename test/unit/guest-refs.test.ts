import { createHash, createHmac } from 'node:crypto';
import { ConfigError, loadConfig } from '../../lib/config';
import { createGuestRefs, guestRefLength } from '../../lib/guest-refs';

const guest = '16505551234';
const key = 'k'.repeat(32);
const otherKey = 'o'.repeat(32);
const secrets = {
  WHATSAPP_APP_SECRET: 'app-secret-7f3a9c1e5b',
  WHATSAPP_VERIFY_TOKEN: 'verify-token-2d8e4a6c',
  WHATSAPP_ACCESS_TOKEN: 'EAAG-access-token-9b1f3d5e7a',
};

describe('guest references', () => {
  it('gives the same phone the same reference under the same key', () => {
    expect(createGuestRefs(key).of(guest)).toBe(createGuestRefs(key).of(guest));
  });

  it('gives a different reference under a different key, and to a different phone', () => {
    expect(createGuestRefs(key).of(guest)).not.toBe(createGuestRefs(otherKey).of(guest));
    expect(createGuestRefs(key).of(guest)).not.toBe(createGuestRefs(key).of('16505551235'));
  });

  it('is a keyed HMAC-SHA-256, not the old unsalted hash that anyone can recompute from the number', () => {
    const ref = createGuestRefs(key).of(guest);
    const unsalted = createHash('sha256').update(guest).digest('hex');
    expect(ref).not.toBe(unsalted.slice(0, 12));
    expect(unsalted).not.toContain(ref);
    expect(ref).toBe(createHmac('sha256', key).update(guest).digest('hex').slice(0, guestRefLength));
    expect(ref).toMatch(/^[0-9a-f]{20}$/);
    expect(ref).not.toContain(guest);
  });
});

describe('GUEST_REF_KEY', () => {
  function configError(env: Record<string, string>): ConfigError {
    try {
      loadConfig(env);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return err as ConfigError;
    }
    throw new Error('loadConfig accepted the environment');
  }

  it('is required in production, and the error names it', () => {
    const err = configError({ ...secrets, NODE_ENV: 'production' });
    expect(err.message).toMatch(/^ {2}GUEST_REF_KEY: is required in production/m);
  });

  it('must be at least 32 characters', () => {
    expect(configError({ ...secrets, GUEST_REF_KEY: 'short' }).message).toContain('GUEST_REF_KEY');
  });

  it('is read into the config', () => {
    const payloadKeys = 'k1:eePvX0inWwKQGekqagTpCE0/ZIqPGlaOfKhm3XvWnjk=';
    const production = { ...secrets, NODE_ENV: 'production', GUEST_REF_KEY: key, PAYLOAD_KEYS: payloadKeys };
    expect(loadConfig(production).guestRefKey).toBe(key);
  });
});
