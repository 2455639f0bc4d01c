/**
 * The customer QloApps records for a WhatsApp guest. QloApps validates a new customer's fields when it saves them
 * and, finding one invalid, fails the whole booking with an empty HTTP 500 (an uncaught PrestaShopException): so
 * names and phone are cleaned to its rules here, before they are sent.
 */

/**
 * Characters Validate::isName refuses (classes/Validate.php:157-160: `/^[^0-9!<>,;?=+()@#"°{}_$%:]*$/u`, after
 * stripslashes, so a backslash goes too): digits are dropped, the others stand for a space.
 */
const notInNames = /[!<>,;?=+()@#"°{}_$%:\\]/gu;
/** Customer::$definition: firstname and lastname are at most 32 characters. */
const maxNameLength = 32;

/**
 * A name part cleaned to QloApps' rule: refused characters and controls dropped, spaces folded, cut to 32. Characters
 * beyond the Basic Multilingual Plane (emoji, mostly) go too: QloApps' tables are utf8mb3, which stores each as "?",
 * and a stored name with "?" fails isName the next time the customer is saved, which every later booking or
 * cancellation for that customer does (an empty 500, the booking left as it was).
 */
export function cleanName(raw: string): string {
  return [...cleanText(raw)].slice(0, maxNameLength).join('').trim();
}

/** {@link cleanName} without the length cut. */
function cleanText(raw: string): string {
  return raw
    .normalize('NFC')
    .replace(/[\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/[0-9]/g, '')
    .replace(notInNames, ' ')
    .replace(/\p{C}/gu, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * First and last name from a WhatsApp profile name, each valid for QloApps and never empty (it requires both):
 * "Ana María López" → Ana / María López; "R2-D2 :)" → R-D / Guest; "Ana 🙂" → Ana / Guest; "" → WhatsApp / Guest.
 */
export function customerName(profileName: string | undefined): { firstname: string; lastname: string } {
  const words = cleanText(profileName ?? '')
    .split(' ')
    .filter(Boolean);
  const [first, ...rest] = words;
  return {
    firstname: cleanName(first ?? '') || 'WhatsApp',
    lastname: cleanName(rest.join(' ')) || 'Guest',
  };
}

/**
 * The guest's phone in international form (`+` and the digits of their WhatsApp id, which is their number), or
 * undefined when there is none to give. Validate::isPhoneNumber and the 32-character column both accept it.
 */
export function customerPhone(waId: string | undefined): string | undefined {
  const digits = (waId ?? '').replace(/\D/g, '');
  return digits.length >= 5 && digits.length <= 20 ? `+${digits}` : undefined;
}
