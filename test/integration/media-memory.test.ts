import { MockActivityEnvironment } from '@temporalio/testing';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { mediaActivities } from '../helpers/media';
import { waitFor } from '../../dev/process';
import { generatedBody, mediaSha256, startWhatsAppStandin, type WhatsAppStandin } from '../../dev/whatsapp-standin';
import { createHttpAgent } from '../../lib/http';
import { createLogger } from '../../lib/log';
import { createRedis, type Redis } from '../../lib/redis';
import { testConfig, testEnv, testSecrets } from '../helpers/env';

/**
 * Downloads a 100 MB document (the WhatsApp limit for documents) and samples this process's memory while it
 * streams. The stand-in runs in this same process and generates the file 64 KiB at a time, so any growth near
 * 100 MB would mean someone buffered the file.
 */

const MB = 1024 * 1024;
const size = 100 * MB;
let standin: WhatsAppStandin;
let redis: Redis;
let dir: string;
const http = createHttpAgent({ maxConnectionsPerOrigin: 4 });

interface Peak {
  rss: number;
  /** JS heap plus Buffers (ArrayBuffers live outside the heap). */
  heapAndBuffers: number;
}

interface Growth extends Peak {
  /** Heap and Buffers still held after a full GC once `fn` is done. */
  retained: number;
}

// A full GC before each measurement, so garbage left by earlier work neither inflates nor deflates the baseline.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

function sample(): Peak {
  const m = process.memoryUsage();
  return { rss: m.rss, heapAndBuffers: m.heapUsed + m.arrayBuffers };
}

/**
 * Runs `fn` while sampling memory every 5 ms (heap and Buffers every 250 ms, each after a full GC); returns the peak
 * growth over the level before it started, and what is still held after a GC at the end.
 */
async function peakGrowth(fn: () => Promise<unknown>): Promise<Growth> {
  gc();
  const base = sample();
  const peak = { ...base };
  let tick = 0;
  const timer = setInterval(() => {
    // Every 50th sample (250 ms) after a full GC: what the download holds, not the 64 KiB chunks already read and
    // waiting for V8 to collect them (the collector can lag far behind: those alone reached 151 MB in a CI run while
    // RSS grew 5 MB). A file held in memory would be there at every one of them; GCs more often slow the download.
    const collected = ++tick % 50 === 0;
    if (collected) gc();
    const now = sample();
    peak.rss = Math.max(peak.rss, now.rss);
    if (collected) peak.heapAndBuffers = Math.max(peak.heapAndBuffers, now.heapAndBuffers);
  }, 5);
  try {
    await fn();
  } finally {
    clearInterval(timer);
  }
  const end = sample();
  gc();
  return {
    rss: Math.max(peak.rss, end.rss) - base.rss,
    heapAndBuffers: Math.max(peak.heapAndBuffers, end.heapAndBuffers) - base.heapAndBuffers,
    retained: sample().heapAndBuffers - base.heapAndBuffers,
  };
}

beforeAll(async () => {
  standin = await startWhatsAppStandin({ accessToken: testSecrets.WHATSAPP_ACCESS_TOKEN });
  redis = createRedis(testEnv().redis.url);
  await waitFor('redis', () => redis.status === 'ready');
  dir = mkdtempSync(path.join(os.tmpdir(), 'media-memory-'));
});
afterAll(async () => {
  await standin.close();
  redis.disconnect();
  await http.close();
  rmSync(dir, { recursive: true, force: true });
});

it('keeps memory flat while downloading a 100 MB document (streamed to disk, never buffered)', async () => {
  const body = generatedBody(size, 7);
  const mediaId = `${Date.now()}100`;
  standin.addMedia(mediaId, {
    body,
    fileSize: size,
    sha256: await mediaSha256(body),
    mimeType: 'application/pdf',
  });
  const config = testConfig({ WHATSAPP_GRAPH_BASE_URL: standin.url, MEDIA_DIR: dir });
  const activities = mediaActivities({
    http,
    redis,
    config,
    secrets: () => undefined,
    log: createLogger({ level: 'silent' }),
  });
  const tenantId = `memory-${process.pid}`;

  // Warm up (module loading, connection pool, JIT) with a small file first.
  standin.addMedia('1', { body: Buffer.alloc(1000, 1), mimeType: 'application/pdf' });
  await new MockActivityEnvironment().run(activities.downloadMedia, {
    tenantId,
    mediaId: '1',
    type: 'document' as const,
  });

  let result: unknown;
  const growth = await peakGrowth(async () => {
    result = await new MockActivityEnvironment().run(activities.downloadMedia, {
      tenantId,
      mediaId,
      type: 'document' as const,
    });
  });
  expect(result).toMatchObject({ kind: 'stored', size });
  const { ref, sha256 } = result as { ref: string; sha256: string };
  expect(ref).toBe(`media/${tenantId}/${sha256}`);
  expect(statSync(path.join(dir, tenantId, sha256.slice(0, 2), sha256)).size).toBe(size);
  const mb = (n: number) => `${(n / MB).toFixed(1)} MB`;
  console.log(
    `100 MB download: peak growth rss ${mb(growth.rss)}, heap+buffers ${mb(growth.heapAndBuffers)}; retained ${mb(growth.retained)}`,
  );
  // Measured after forced GCs: heap+buffers 30-38 MB, retained within ±20 MB of the start (V8's own noise). Buffering
  // the file would add 100 MB to the first, keeping it to the second.
  expect(growth.heapAndBuffers).toBeLessThan(64 * MB);
  expect(growth.rss).toBeLessThan(64 * MB);
  expect(growth.retained).toBeLessThan(32 * MB);
}, 120_000);

it('would see a buffered file: the same sampler measures a 100 MB buffer', async () => {
  let held: Buffer | undefined;
  const growth = await peakGrowth(async () => {
    held = Buffer.alloc(size, 1);
    await new Promise((r) => setTimeout(r, 300));
  });
  expect(held?.length).toBe(size);
  held = undefined;
  expect(growth.heapAndBuffers).toBeGreaterThan(90 * MB);
});
