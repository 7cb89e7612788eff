import type { PortsLogger } from '../ports-logger.ts';
import type { QueueHooks } from '../queue-hooks.ts';
import type { Ports } from '../types.ts';
import { MemoryCache } from './memory-cache.ts';
import { MemoryLocks } from './memory-locks.ts';
import { MemoryPacer } from './memory-pacer.ts';
import { MemoryPubSub } from './memory-pub-sub.ts';
import { MemoryQueue } from './memory-queue.ts';
import { MemoryRateLimiter } from './memory-rate-limiter.ts';

/** In-process ports for the embedded (single process) shape. */
export function createMemoryPorts(options: { logger: PortsLogger; queueHooks?: QueueHooks }): Ports {
  const queue = new MemoryQueue({ hooks: options.queueHooks });
  const pubsub = new MemoryPubSub({ logger: options.logger });
  const cache = new MemoryCache();
  const pacer = new MemoryPacer();
  return {
    kind: 'memory',
    queue,
    pubsub,
    rateLimiter: new MemoryRateLimiter(),
    cache,
    locks: new MemoryLocks(),
    pacer,
    ping: async () => {},
    close: async () => {
      await queue.close();
      await pubsub.close();
      await cache.close();
      pacer.close();
    },
  };
}
