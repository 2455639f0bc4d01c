import { waitFor } from '../dev/process';
import { converse, postSample, type Sample } from './e2e';
import { rssBytes } from './proc';
import { gauge, scrape } from './sdk-metrics';
import { summarize, type Summary } from './stats';
import { now, type System } from './system';
import { newGuest, textWebhook } from './webhooks';

export interface DensityResult {
  conversations: number;
  accepted: number;
  replies: number;
  /** Seconds from the first webhook until the last reply (or the deadline). */
  seconds: number;
  repliesPerSecond: number;
  workerRssBytes: { before: number | null; after: number | null };
  temporalDbBytes: { before: number | null; after: number | null };
  /** The worker's sticky cache: conversations held in memory, from the SDK's `sticky_cache_size`. */
  stickyCacheSize: number;
  rssPerCachedConversationBytes: number | null;
  dbPerConversationBytes: number | null;
  /** A follow-up to one of the first conversations (long evicted from the cache) and to one of the last. */
  evictedReply: Summary;
  cachedReply: Summary;
  /** Sticky cache misses while the evicted ones answered (each is a full history fetch and replay). */
  cacheMissesDuringEvicted: number;
}

/**
 * Opens `count` conversations (one message each) on a fresh worker, keeping `concurrency` webhooks in flight,
 * waits for their replies, then reads the worker's resident memory and the Temporal database's size, and times
 * follow-ups to the oldest conversations (evicted from the worker's cache once it is full) and the newest.
 */
export async function density(system: System, count: number, probes: number, concurrency = 20): Promise<DensityResult> {
  await system.restartWorker();
  const before = { rss: rssBytes(system.worker.pid), db: await system.temporal.dbBytes() };
  const samples: Sample[] = [];
  const started = now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        next++;
        const waId = newGuest();
        samples.push(await postSample(system, textWebhook(system.appSecret, system.phoneNumberId, waId, 'Hola'), waId));
      }
    }),
  );
  const accepted = samples.filter((s) => s.status === 200);
  console.log(`  density: ${accepted.length}/${count} webhooks accepted in ${((now() - started) / 1000).toFixed(0)} s`);
  await waitFor('every density reply', () => accepted.every((s) => s.replyAt !== undefined), {
    timeoutMs: Math.max(120_000, count * 100),
    intervalMs: 500,
  }).catch(() => undefined);
  const replied = accepted.filter((s) => s.replyAt !== undefined);
  const last = Math.max(...replied.map((s) => s.replyAt!), started);
  const seconds = (last - started) / 1000;
  const metrics = await scrape(system.worker.metricsUrl);
  const after = { rss: rssBytes(system.worker.pid), db: await system.temporal.dbBytes() };
  const cacheSize = gauge(metrics, 'temporal_sticky_cache_size');
  const timeFollowUps = async (guests: Sample[]) => {
    const ms: number[] = [];
    for (const guest of guests) {
      const s = await converse(system, guest.waId, '¿A qué hora es el check-in?', 60_000);
      ms.push(s.replyAt! - s.postedAt);
    }
    return summarize(ms);
  };
  const missesBefore = gauge(await scrape(system.worker.metricsUrl), 'temporal_sticky_cache_miss');
  const evictedReply = await timeFollowUps(replied.slice(0, probes));
  const missesAfter = gauge(await scrape(system.worker.metricsUrl), 'temporal_sticky_cache_miss');
  const cachedReply = await timeFollowUps(replied.slice(-probes));
  const delta = (a: number | null, b: number | null) => (a === null || b === null ? null : b - a);
  const rssDelta = delta(before.rss, after.rss);
  const dbDelta = delta(before.db, after.db);
  return {
    conversations: count,
    accepted: accepted.length,
    replies: replied.length,
    seconds: Number(seconds.toFixed(1)),
    repliesPerSecond: Number((replied.length / seconds).toFixed(1)),
    workerRssBytes: { before: before.rss, after: after.rss },
    temporalDbBytes: { before: before.db, after: after.db },
    stickyCacheSize: cacheSize,
    rssPerCachedConversationBytes: rssDelta === null || cacheSize === 0 ? null : Math.round(rssDelta / cacheSize),
    dbPerConversationBytes: dbDelta === null ? null : Math.round(dbDelta / replied.length),
    evictedReply,
    cachedReply,
    cacheMissesDuringEvicted: missesAfter - missesBefore,
  };
}
