import { createHmac } from 'node:crypto';

/** Hex characters of a guest reference: 80 bits, plenty to tell guests apart, short enough to read in a log. */
export const guestRefLength = 20;

/**
 * Pseudonyms for guests (phone numbers, e-mail identifiers), used wherever a guest is referred to outside the
 * conversation itself: audit rows, Temporal summaries, PMS placeholders, logs. A plain hash of a phone number can
 * be reversed by hashing every number of a country (minutes of work); an HMAC under a server key cannot be
 * recomputed without the key.
 */
export interface GuestRefs {
  /** The guest's reference: the first {@link guestRefLength} hex digits of HMAC-SHA-256(key, identifier). */
  of(identifier: string): string;
}

/** Guest references under `key` (`GUEST_REF_KEY`); the same identifier and key always give the same reference. */
export function createGuestRefs(key: string): GuestRefs {
  if (key.length === 0) throw new RangeError('the guest reference key must not be empty');
  return {
    of: (identifier) => createHmac('sha256', key).update(identifier).digest('hex').slice(0, guestRefLength),
  };
}
