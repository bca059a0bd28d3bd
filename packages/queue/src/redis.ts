import { Redis, type RedisOptions } from 'ioredis';

/** Redis cannot be reached: entry points print `message` as one line. */
export class RedisUnreachableError extends Error {
  override readonly name = 'RedisUnreachableError';
}

/**
 * A connection for BullMQ or pub/sub. `blocking` connections (workers, subscribers) wait for
 * Redis forever; the others fail fast so that an API request never hangs on a Redis outage.
 */
export function connectRedis(url: string, options: { blocking?: boolean } = {}): Redis {
  const extra: RedisOptions = options.blocking
    ? { maxRetriesPerRequest: null }
    : { maxRetriesPerRequest: 1, enableOfflineQueue: false };

  return new Redis(url, { ...extra, lazyConnect: false });
}

/** Waits until `redis` answers PING, or throws a one-line error naming REDIS_URL. */
export async function pingRedis(url: string, timeoutMs = 5000): Promise<void> {
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: timeoutMs,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    throw new RedisUnreachableError(
      `cannot reach Redis at REDIS_URL=${url} (${(err as Error).message}); start it ` +
        '(e.g. `redis-server --daemonize yes` or `docker-compose up -d redis`) or set REDIS_URL',
      { cause: err },
    );
  } finally {
    redis.disconnect();
  }
}
