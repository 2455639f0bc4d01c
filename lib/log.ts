import pino, { type Logger } from 'pino';
import { logContextFields } from './log-context';

export type { Logger } from 'pino';

/** Field names whose values are secrets or personal data; pino replaces them wherever they appear. */
const redactPaths = [
  'token',
  'accessToken',
  'appSecret',
  'secret',
  'password',
  'authorization',
  'apiKey',
  'phone',
  'waId',
  'wa_id',
  'from',
  'to',
  'recipient_id',
  'body',
  'text',
  '*.token',
  '*.accessToken',
  '*.appSecret',
  '*.secret',
  '*.password',
  '*.authorization',
  '*.apiKey',
  '*.phone',
  '*.waId',
  '*.wa_id',
  '*.from',
  '*.to',
  '*.recipient_id',
  '*.body',
  '*.text',
  'req.headers.authorization',
  'req.headers["x-hub-signature-256"]',
  'headers.authorization',
  'headers["x-hub-signature-256"]',
];

/** Runs of 7-15 digits (optionally with a leading +) look like phone numbers; keep only the last 2 digits. */
const phoneLike = /\+?\d{5,13}(\d{2})\b/g;

/** Masks anything phone-like inside free text, e.g. a guest number quoted in an error message. */
export function maskPhones(text: string): string {
  return text.replace(phoneLike, '***$1');
}

function scrub(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return maskPhones(value);
  if (depth > 4 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) {
    return { type: value.name, message: maskPhones(value.message), stack: value.stack && maskPhones(value.stack) };
  }
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrub(v, depth + 1)]));
}

/**
 * The JSON logger every process uses. Secrets and phone numbers never reach the output in clear:
 * known fields are redacted by name, and phone-like digit runs are masked in every string value.
 */
export function createLogger(
  options: { level?: string; name?: string } = {},
  destination?: pino.DestinationStream,
): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      ...(options.name ? { name: options.name } : {}),
      redact: { paths: redactPaths, censor: '[redacted]' },
      // Inside an activity: its workflow id, run id, tenant and message id (activities/log-context.ts).
      mixin: () => logContextFields(),
      serializers: {
        // pino takes `msg` from an Error's message when no message is given, past the logMethod hook.
        msg: (msg: unknown) => (typeof msg === 'string' ? maskPhones(msg) : msg),
        // `scrub` has already turned the Error into { type, message, stack }; pino's own err serializer
        // would re-serialise that plain object and report its type as "Object".
        err: (err: unknown) => err,
      },
      formatters: {
        log: (object) => scrub(object) as Record<string, unknown>,
      },
      hooks: {
        logMethod(args, method) {
          const masked = args.map((a) => (typeof a === 'string' ? maskPhones(a) : a)) as Parameters<typeof method>;
          method.apply(this, masked);
        },
      },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
