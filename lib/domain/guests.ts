/**
 * Guests as the rest of the system may name them: by a keyed reference, never by phone number. Pure: no I/O, safe in
 * workflow code (the reference itself is computed with `GUEST_REF_KEY` by lib/guest-refs.ts, outside workflows).
 */

/** A guest reference: 20 lowercase hex digits (the first 80 bits of HMAC-SHA-256 under `GUEST_REF_KEY`). */
export const guestRefPattern = /^[0-9a-f]{20}$/;

/** Whether `value` is a guest reference ({@link guestRefPattern}). */
export function isGuestRef(value: string): boolean {
  return guestRefPattern.test(value);
}
