import { inDays, spanishDate } from '../dev/dates';
import { waitFor } from '../dev/process';
import { summarize, type Summary } from './stats';
import { now, type System } from './system';
import { newGuest, textWebhook, type SignedWebhook } from './webhooks';

/** One webhook sent and what became of it: milliseconds of wall-clock time (see {@link now}). */
export interface Sample {
  waId: string;
  messageId: string;
  postedAt: number;
  /** When the API's answer arrived, and its status (-1: no answer). */
  answeredAt?: number;
  status?: number;
  /** When the Graph API stand-in accepted the reply to this message. */
  replyAt?: number;
}

export interface LoadResult {
  rate: number;
  seconds: number;
  sent: number;
  accepted: number;
  replies: number;
  /** Webhook posted → reply at the Graph API stand-in. */
  reply: Summary;
  /** Webhook posted → the API's 200. */
  webhook: Summary;
  /** Cores per process over the run (load phase and drain). */
  cpu?: Record<string, number | null>;
}

const sleepUntil = (t: number) => new Promise((r) => setTimeout(r, Math.max(0, t - now())));

/** Samples waiting for their reply, by message id; the stand-in's hook stamps them as replies arrive. */
const awaiting = new Map<string, Sample>();

function track(system: System, sample: Sample): void {
  system.onReply = (message, at) => {
    const waiting = message.replyTo === undefined ? undefined : awaiting.get(message.replyTo);
    if (!waiting) return;
    waiting.replyAt = at;
    awaiting.delete(message.replyTo!);
  };
  awaiting.set(sample.messageId, sample);
}

/** Posts one webhook and records the sample; never throws (a failed post is status -1). */
export async function postSample(system: System, hook: SignedWebhook, waId: string): Promise<Sample> {
  const sample: Sample = { waId, messageId: hook.messageId, postedAt: now() };
  track(system, sample);
  try {
    sample.status = await system.post(hook.body, hook.signature);
  } catch {
    sample.status = -1;
  }
  sample.answeredAt = now();
  if (sample.status !== 200) awaiting.delete(sample.messageId);
  return sample;
}

/**
 * Open-loop load: posts `rate` webhooks a second for `seconds` on schedule, whatever the answers take, then waits
 * up to `drainMs` for the replies. `next(i)` names the guest and text of the i-th message.
 */
export async function paced(
  system: System,
  rate: number,
  seconds: number,
  next: (i: number) => { waId: string; text: string },
  drainMs: number,
): Promise<{ result: LoadResult; samples: Sample[] }> {
  const count = Math.round(rate * seconds);
  const started = now();
  const posts: Promise<Sample>[] = [];
  for (let i = 0; i < count; i++) {
    await sleepUntil(started + (i * 1000) / rate);
    const { waId, text } = next(i);
    posts.push(postSample(system, textWebhook(system.appSecret, system.phoneNumberId, waId, text), waId));
  }
  const done = await Promise.all(posts);
  const accepted = done.filter((s) => s.status === 200);
  await waitFor('replies', () => accepted.every((s) => s.replyAt !== undefined), {
    timeoutMs: drainMs,
    intervalMs: 50,
  }).catch(() => undefined); // missing replies are counted, not thrown
  for (const s of done) awaiting.delete(s.messageId);
  return { result: loadResult(rate, seconds, done), samples: done };
}

export function loadResult(rate: number, seconds: number, samples: Sample[]): LoadResult {
  const accepted = samples.filter((s) => s.status === 200);
  const replied = accepted.filter((s) => s.replyAt !== undefined);
  return {
    rate,
    seconds,
    sent: samples.length,
    accepted: accepted.length,
    replies: replied.length,
    reply: summarize(replied.map((s) => s.replyAt! - s.postedAt)),
    webhook: summarize(accepted.map((s) => s.answeredAt! - s.postedAt)),
  };
}

/** Posts one message and waits for its reply (one at a time: no load but this). */
export async function converse(system: System, waId: string, text: string, timeoutMs = 30_000): Promise<Sample> {
  const sample = await postSample(system, textWebhook(system.appSecret, system.phoneNumberId, waId, text), waId);
  if (sample.status !== 200) throw new Error(`webhook answered ${sample.status}`);
  try {
    await waitFor('the reply', () => sample.replyAt !== undefined, { timeoutMs, intervalMs: 2 });
  } finally {
    awaiting.delete(sample.messageId);
  }
  return sample;
}

/** Greeting, then availability → offer, then the guest's choice → the saga's confirmation; one guest at a time. */
export async function bookingConversations(system: System, guests: number) {
  const offer: number[] = [];
  const confirmation: number[] = [];
  const bookingsBefore = system.pms.bookings.length;
  const failures: string[] = [];
  for (let g = 0; g < guests; g++) {
    const waId = newGuest();
    try {
      await converse(system, waId, 'Hola, buenas tardes');
      const ask = `¿Tienen habitación del ${spanishDate(inDays(14))} al ${spanishDate(inDays(16))} para 2 adultos?`;
      const offered = await converse(system, waId, ask);
      offer.push(offered.replyAt! - offered.postedAt);
      const chosen = await converse(system, waId, '1');
      confirmation.push(chosen.replyAt! - chosen.postedAt);
    } catch (err) {
      failures.push(err instanceof Error ? err.message : String(err));
    }
  }
  return {
    guests,
    offers: summarize(offer),
    confirmations: summarize(confirmation),
    bookedAtPms: system.pms.bookings.length - bookingsBefore,
    failures,
  };
}

/** Guests who have written once and got their answer: their conversations are open and cached. */
export async function openConversations(system: System, count: number, concurrency = 10): Promise<string[]> {
  const guests = Array.from({ length: count }, () => newGuest());
  for (let i = 0; i < guests.length; i += concurrency) {
    await Promise.all(guests.slice(i, i + concurrency).map((waId) => converse(system, waId, 'Hola', 60_000)));
  }
  return guests;
}
