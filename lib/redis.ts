import Redis from 'ioredis';

/**
 * The process's Redis client. No offline queue: while Redis is down a command fails at once, so the
 * activity fails and Temporal retries it with backoff, instead of commands piling up in memory.
 * The client keeps reconnecting in the background.
 */
export function createRedis(url: string, options: { connectionName?: string } = {}): Redis {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 3_000,
    retryStrategy: (times) => Math.min(200 * times, 2_000),
    ...(options.connectionName ? { connectionName: options.connectionName } : {}),
  });
  // Connection errors are expected during an outage; callers see them as failed commands.
  redis.on('error', () => undefined);
  return redis;
}

/**
 * Where Redis is only a cache or an index, an operation slower than `ms` is abandoned rather than waited for: the
 * promise, or a rejection once `ms` pass.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export type { Redis };
