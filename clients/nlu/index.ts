import { BrokenCircuitError, circuitBreaker, ConsecutiveBreaker, handleAll } from 'cockatiel';
import { request, type Dispatcher } from 'undici';
import { z } from 'zod';
import type { Understanding } from '../../lib/domain/intents';
import type { Understander, UnderstandInput } from '../../lib/domain/understanding';
import { understandingSchema } from '../../lib/domain/understanding/schema';
import { parseJsonOrUndefined, readCapped } from '../../lib/http';
import { addressRefusal } from '../../lib/network-policy';

/** An OpenAI-compatible chat-completions service (`NLU_*`). */
export interface NluService {
  url: string;
  apiKey: string | undefined;
  model: string;
  /** Longest wait for an answer; then the rules answer (the guest is waiting, typing shown). */
  timeoutMs: number;
  /** Consecutive failures that open the breaker, and how long it stays open before a trial call. */
  breakerFailures: number;
  breakerHalfOpenAfterMs: number;
}

/** Why the rules answered instead of the model. */
export type FallbackReason =
  'timeout' | 'network' | 'address_refused' | `http_${number}` | 'invalid_json' | 'wrong_shape' | 'breaker_open';

/** Thrown inside the breaker so each failure counts; carries the reason the rules answered. */
class ModelFailure extends Error {
  constructor(readonly reason: FallbackReason) {
    super(reason);
  }
}

const completionSchema = z.object({
  choices: z.array(z.object({ message: z.object({ content: z.string().nullable() }) })).min(1),
});

/** The endpoint to POST to: the service's base, its `/v1` root, or the full `/v1/chat/completions` URL. */
export function chatCompletionsEndpoint(url: string): string {
  const parsed = new URL(url);
  const pathname = parsed.pathname.replace(/\/+$/, '');
  if (/\/chat\/completions$/.test(pathname)) parsed.pathname = pathname;
  else if (/\/v\d+$/.test(pathname)) parsed.pathname = `${pathname}/chat/completions`;
  else parsed.pathname = `${pathname}/v1/chat/completions`;
  return parsed.toString();
}

/** The instructions: the `Understanding` shape, the hotel, and "today" in the hotel's timezone. */
function systemPrompt(input: UnderstandInput): string {
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: input.timezone }).format(
    new Date(input.messageTimestamp * 1000),
  );
  const context = input.context;
  return [
    'You read one message a hotel guest wrote on WhatsApp and answer ONLY a JSON object, no prose:',
    '{"intent": "greeting"|"availability"|"book"|"cancel_booking"|"hotel_info"|"human"|"thanks"|"unknown",',
    ' "language": "es"|"en", "stay"?: {"checkIn"?: "YYYY-MM-DD", "checkOut"?: "YYYY-MM-DD", "adults"?: n, "children"?: n},',
    ' "infoTopic"?: "address"|"check_in"|"check_out"|"parking"|"wifi"|"breakfast"|"pets"|"general",',
    ' "bookingReference"?: string, "choice"?: n (1-based option of an offer),',
    ' "problem"?: "checkout_before_checkin"|"in_the_past"|"too_long"|"missing_dates"}',
    `Today is ${today} at the hotel (${input.timezone}). Stays longer than ${input.maxStayNights} nights are too_long.`,
    `If the language is unclear, use "${input.locale}".`,
    ...(context ? [`The hotel: ${context.hotel}.`, `What guests may be told: ${JSON.stringify(context.info)}`] : []),
  ].join('\n');
}

/** Digit runs that may be a phone number, spaces, dots, dashes and brackets between the digits allowed. */
const phoneLike = /\+?\d[\d\s().-]{5,}\d/g;

/** A text with anything phone-like replaced: the model never sees a guest's (or anybody's) number. */
export function withoutPhones(text: string): string {
  return text.replace(phoneLike, (match) => (match.replace(/\D/g, '').length >= 7 ? '[phone]' : match));
}

/** The chat: the last messages (phone numbers masked), then the message to read. */
function chatMessages(input: UnderstandInput): { role: 'system' | 'user' | 'assistant'; content: string }[] {
  const history = (input.context?.history ?? []).map((m) => ({
    role: m.from === 'guest' ? ('user' as const) : ('assistant' as const),
    content: withoutPhones(m.text),
  }));
  return [
    { role: 'system', content: systemPrompt(input) },
    ...history,
    { role: 'user', content: withoutPhones(input.text ?? '') },
  ];
}

/** How often each understander answered, and why the rules answered instead of the model. */
export interface NluStats {
  model: number;
  rules: number;
  fallbacks: Partial<Record<FallbackReason, number>>;
}

/**
 * An understander that asks an OpenAI-compatible chat-completions model for the `Understanding` as JSON
 * (`response_format: json_object`), validated by the same schema as any understanding. On a timeout, an error answer,
 * an answer that is not JSON or not of that shape, or while its breaker is open, the rules answer instead; the
 * answer says which (`source`, `fallbackReason`). Interactive replies (`choice:<n>`, `intent:<intent>`) never need
 * the model. `http` applies the network policy (`NLU_ALLOW_PRIVATE_NETWORKS`).
 */
export function createModelUnderstander(
  service: NluService,
  http: Dispatcher,
  rules: Understander,
): Understander & { stats: NluStats } {
  const endpoint = chatCompletionsEndpoint(service.url);
  const breaker = circuitBreaker(handleAll, {
    halfOpenAfter: service.breakerHalfOpenAfterMs,
    breaker: new ConsecutiveBreaker(service.breakerFailures),
  });
  const stats: NluStats = { model: 0, rules: 0, fallbacks: {} };

  async function ask(input: UnderstandInput): Promise<Understanding> {
    let response: Dispatcher.ResponseData;
    try {
      response = await request(endpoint, {
        method: 'POST',
        dispatcher: http,
        headers: {
          'content-type': 'application/json',
          ...(service.apiKey ? { authorization: `Bearer ${service.apiKey}` } : {}),
        },
        body: JSON.stringify({
          model: service.model,
          temperature: 0,
          response_format: { type: 'json_object' },
          messages: chatMessages(input),
        }),
        headersTimeout: service.timeoutMs,
        bodyTimeout: service.timeoutMs,
        signal: AbortSignal.timeout(service.timeoutMs),
      });
    } catch (err) {
      if (addressRefusal(err)) throw new ModelFailure('address_refused');
      // AbortSignal.timeout's DOMException is not an Error in every Node version: read its name as it is.
      const name = typeof err === 'object' && err !== null ? String((err as { name?: unknown }).name) : '';
      throw new ModelFailure(/Timeout|Abort/.test(name) ? 'timeout' : 'network');
    }
    let body: string;
    try {
      body = await readCapped(response, 256 * 1024);
    } catch {
      throw new ModelFailure('timeout');
    }
    if (response.statusCode < 200 || response.statusCode >= 300) throw new ModelFailure(`http_${response.statusCode}`);
    const completion = completionSchema.safeParse(parseJsonOrUndefined(body));
    if (!completion.success) throw new ModelFailure('invalid_json');
    const content = parseJsonOrUndefined(completion.data.choices[0]!.message.content ?? '');
    if (content === undefined) throw new ModelFailure('invalid_json');
    const parsed = understandingSchema.safeParse(content);
    if (!parsed.success) throw new ModelFailure('wrong_shape');
    return { ...(parsed.data as Understanding), source: 'model' };
  }

  return {
    stats,
    async understand(input: UnderstandInput): Promise<Understanding> {
      if (input.replyId !== undefined && /^(choice|intent):/.test(input.replyId)) return rules.understand(input);
      try {
        const understanding = await breaker.execute(() => ask(input));
        stats.model++;
        return understanding;
      } catch (err) {
        const reason: FallbackReason =
          err instanceof ModelFailure ? err.reason : err instanceof BrokenCircuitError ? 'breaker_open' : 'network';
        stats.rules++;
        stats.fallbacks[reason] = (stats.fallbacks[reason] ?? 0) + 1;
        return { ...(await rules.understand(input)), source: 'rules', fallbackReason: reason };
      }
    },
  };
}
