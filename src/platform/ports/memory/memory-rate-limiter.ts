import { RateLimiterMemory } from 'rate-limiter-flexible';
import { FlexibleRateLimiter, LimiterRegistry } from '../flexible-rate-limiter.ts';
import type { RateLimiter, RateLimiterPort, RateLimitRule } from '../types.ts';

/** In-process rate limits: state lives in this process only. */
export class MemoryRateLimiter implements RateLimiterPort {
  readonly #registry = new LimiterRegistry();

  limiter(rule: RateLimitRule): RateLimiter {
    return this.#registry.get(
      rule,
      () =>
        new FlexibleRateLimiter(
          rule,
          new RateLimiterMemory({
            keyPrefix: rule.name,
            points: rule.points,
            duration: rule.durationSeconds,
          }),
        ),
    );
  }
}
