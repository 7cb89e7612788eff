import { RateLimiterRes } from 'rate-limiter-flexible';
import type { RateLimiter, RateLimitResult, RateLimitRule } from './types.ts';

/** The part of a rate-limiter-flexible limiter (memory or Redis store) the port uses. */
export interface FlexibleLimiterBackend {
  consume(key: string, points?: number): Promise<RateLimiterRes>;
  get(key: string): Promise<RateLimiterRes | null>;
  delete(key: string): Promise<boolean>;
}

/**
 * Adapts a rate-limiter-flexible limiter to `RateLimiter`. The library rejects `consume` with a
 * `RateLimiterRes` on exhaustion; that is an answer here (allowed=false), while real errors
 * (e.g. Redis down) still throw.
 */
export class FlexibleRateLimiter implements RateLimiter {
  readonly #rule: RateLimitRule;
  readonly #backend: FlexibleLimiterBackend;

  constructor(rule: RateLimitRule, backend: FlexibleLimiterBackend) {
    this.#rule = rule;
    this.#backend = backend;
  }

  async consume(key: string, points = 1): Promise<RateLimitResult> {
    // RateLimiterRedis refuses non-integer points while RateLimiterMemory accepts them; refuse in both.
    if (!Number.isInteger(points) || points < 1) {
      throw new RangeError(`points must be a positive integer, got ${points}`);
    }
    try {
      const res = await this.#backend.consume(key, points);
      return { allowed: true, remaining: res.remainingPoints, retryAfterMs: 0 };
    } catch (error) {
      if (error instanceof RateLimiterRes) {
        return { allowed: false, remaining: error.remainingPoints, retryAfterMs: retryAfter(error) };
      }
      throw error;
    }
  }

  async peek(key: string): Promise<RateLimitResult> {
    const res = await this.#backend.get(key);
    if (res === null) {
      return { allowed: true, remaining: this.#rule.points, retryAfterMs: 0 };
    }
    const remaining = Math.max(this.#rule.points - res.consumedPoints, 0);
    return remaining > 0
      ? { allowed: true, remaining, retryAfterMs: 0 }
      : { allowed: false, remaining, retryAfterMs: retryAfter(res) };
  }

  async reset(key: string): Promise<void> {
    await this.#backend.delete(key);
  }
}

/** A key without expiry (durationSeconds 0) reports PTTL -1; never hand out a negative wait. */
function retryAfter(res: RateLimiterRes): number {
  return Math.max(res.msBeforeNext, 0);
}

/**
 * One limiter per name per instance. Two rules under one name would count against each other's keys
 * with different limits, so a conflicting definition is refused instead of silently sharing state.
 */
export class LimiterRegistry {
  readonly #limiters = new Map<string, { rule: RateLimitRule; limiter: RateLimiter }>();

  get(rule: RateLimitRule, create: () => RateLimiter): RateLimiter {
    const existing = this.#limiters.get(rule.name);
    if (existing) {
      if (existing.rule.points !== rule.points || existing.rule.durationSeconds !== rule.durationSeconds) {
        throw new Error(`Rate limiter "${rule.name}" is already defined with a different rule`);
      }
      return existing.limiter;
    }
    const limiter = create();
    this.#limiters.set(rule.name, { rule: { ...rule }, limiter });
    return limiter;
  }
}
