import type { Redis } from 'ioredis';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { FlexibleRateLimiter, LimiterRegistry } from '../flexible-rate-limiter.ts';
import type { RateLimiter, RateLimiterPort, RateLimitRule } from '../types.ts';

/** Rate limits in Redis, so every instance with the same prefix draws from the same points. */
export class RedisRateLimiter implements RateLimiterPort {
  readonly #client: Redis;
  readonly #prefix: string;
  readonly #registry = new LimiterRegistry();

  constructor(client: Redis, options: { prefix: string }) {
    this.#client = client;
    this.#prefix = options.prefix;
  }

  limiter(rule: RateLimitRule): RateLimiter {
    return this.#registry.get(
      rule,
      () =>
        new FlexibleRateLimiter(
          rule,
          new RateLimiterRedis({
            storeClient: this.#client,
            keyPrefix: `${this.#prefix}:rl:${rule.name}`,
            points: rule.points,
            duration: rule.durationSeconds,
          }),
        ),
    );
  }
}
