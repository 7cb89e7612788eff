import { Redis } from 'ioredis';
import type { PortsLogger } from '../ports-logger.ts';
import type { QueueHooks } from '../queue-hooks.ts';
import type { Ports } from '../types.ts';
import { closeClient } from './close-client.ts';
import { RedisCache } from './redis-cache.ts';
import { RedisLocks } from './redis-locks.ts';
import { RedisPacer } from './redis-pacer.ts';
import { RedisPubSub } from './redis-pub-sub.ts';
import { RedisQueue } from './redis-queue.ts';
import { RedisRateLimiter } from './redis-rate-limiter.ts';

/**
 * Redis-backed ports for the scaled shape. Every key and channel starts with `prefix`, so instances
 * sharing a prefix share state and instances with different prefixes are invisible to each other.
 * Rejects when Redis cannot be reached, so a misconfigured REDIS_URL fails at startup.
 */
export async function createRedisPorts(options: {
  redisUrl: string;
  prefix: string;
  logger: PortsLogger;
  queueHooks?: QueueHooks;
}): Promise<Ports> {
  const { prefix, logger } = options;
  // lazyConnect so the first connection attempt can be awaited; duplicates inherit it and open on first use.
  const client = new Redis(options.redisUrl, { lazyConnect: true });
  client.on('error', (err) => logger.warn({ err }, 'redis connection error'));
  try {
    await client.connect();
  } catch (error) {
    // connect() rejects but ioredis would keep retrying in the background; stop it.
    client.disconnect();
    throw new Error(`Cannot connect to Redis at ${redactUrl(options.redisUrl)}`, { cause: error });
  }
  const queue = new RedisQueue(client, { prefix, logger, hooks: options.queueHooks });
  const pubsub = new RedisPubSub(client, { prefix, logger });
  const cache = new RedisCache(client, { prefix });
  let closing: Promise<void> | undefined;
  const close = async () => {
    // Queue first: running jobs may still publish, cache or rate-limit through the shared client.
    await queue.close();
    await pubsub.close();
    await cache.close();
    await closeClient(client);
  };
  return {
    kind: 'redis',
    queue,
    pubsub,
    rateLimiter: new RedisRateLimiter(client, { prefix }),
    cache,
    locks: new RedisLocks(client, { prefix }),
    pacer: new RedisPacer(client, { prefix }),
    ping: async () => {
      await client.ping();
    },
    // Idempotent: a second call waits for the first instead of closing connections twice.
    close: () => {
      closing ??= close();
      return closing;
    },
  };
}

/** The URL without its password, fit for an error message. */
function redactUrl(redisUrl: string): string {
  try {
    const url = new URL(redisUrl);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '(unparseable REDIS_URL)';
  }
}
