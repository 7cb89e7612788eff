import { createMemoryPorts } from './memory/create-memory-ports.ts';
import { consoleLogger, type PortsLogger } from './ports-logger.ts';
import type { QueueHooks } from './queue-hooks.ts';
import { createRedisPorts } from './redis/create-redis-ports.ts';
import type { Ports } from './types.ts';

export type { PortsLogger } from './ports-logger.ts';
export type * from './types.ts';

export interface CreatePortsOptions {
  /** Redis for the scaled shape; without it everything runs in-process. */
  redisUrl?: string;
  /** Namespace of every Redis key and channel (default 'sb'); instances sharing it share state. */
  prefix?: string;
  logger?: PortsLogger;
}

/**
 * Creates the infrastructure ports: Redis-backed when `redisUrl` is set, in-process otherwise.
 * Job failures are logged: a warning per failed attempt that will be retried, an error when the
 * last attempt failed.
 */
export async function createPorts(options: CreatePortsOptions = {}): Promise<Ports> {
  const logger = options.logger ?? consoleLogger;
  const queueHooks: QueueHooks = {
    onAttemptFailed: ({ error, ...job }) =>
      logger.warn({ err: error, ...job }, 'job attempt failed, will retry'),
    onFailed: ({ error, ...job }) =>
      logger.error({ err: error, ...job }, 'job failed after its last attempt'),
  };
  if (options.redisUrl) {
    return createRedisPorts({
      redisUrl: options.redisUrl,
      prefix: options.prefix ?? 'sb',
      logger,
      queueHooks,
    });
  }
  return createMemoryPorts({ logger, queueHooks });
}
