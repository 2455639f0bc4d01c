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

export type { Redis };
