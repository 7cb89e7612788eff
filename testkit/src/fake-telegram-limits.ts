/**
 * Flood control modelled on the limits Telegram documents in its Bots FAQ
 * ("My bot is hitting limits, how do I avoid this?", https://core.telegram.org/bots/faq):
 * - "If you're sending messages inside a particular chat, avoid sending more than one message per
 *   second. We may allow short bursts that go over this limit, but eventually you'll begin
 *   receiving 429 errors." — hence a token bucket per chat with a small burst;
 * - "If you're sending messages to a group, bots are not able to send more than 20 messages per
 *   minute.";
 * - "If you're sending bulk notifications to multiple users, the API will not allow more than 30
 *   messages per second or so."
 * Telegram answers an excess request with 429 and `parameters.retry_after` in whole seconds.
 */

/** A token bucket: `burst` requests at once, refilled at `perSecond`. */
export interface BucketLimit {
  burst: number;
  perSecond: number;
}

/** Fully resolved limits; `false` disables that limit. */
export interface RateLimits {
  /** Every chat, private or group. Default: burst 3, then 1 per second. */
  perChat: BucketLimit | false;
  /** Additionally for groups and supergroups (negative chat ids). Default: 20 per minute. */
  perGroup: { perMinute: number } | false;
  /** Everything one bot sends, across chats. Default: 30 per second. */
  perBot: { perSecond: number } | false;
}

/** What tests pass in: any subset; omitted limits keep their defaults. */
export type RateLimitOptions = Partial<RateLimits>;

export const DEFAULT_RATE_LIMITS: RateLimits = {
  perChat: { burst: 3, perSecond: 1 },
  perGroup: { perMinute: 20 },
  perBot: { perSecond: 30 },
};

export function resolveRateLimits(options: RateLimitOptions | false | undefined): RateLimits | undefined {
  if (options === false) return undefined;
  return { ...DEFAULT_RATE_LIMITS, ...options };
}

class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly capacity: number,
    private readonly refillPerMs: number,
    now: number,
  ) {
    this.tokens = capacity;
    this.updatedAt = now;
  }

  /** Milliseconds until one token is available; 0 when one is available now. */
  waitMs(now: number): number {
    this.refill(now);
    if (this.tokens >= 1) return 0;
    return Math.ceil((1 - this.tokens) / this.refillPerMs);
  }

  take(now: number): void {
    this.refill(now);
    this.tokens -= 1;
  }

  private refill(now: number): void {
    this.tokens = Math.min(this.capacity, this.tokens + (now - this.updatedAt) * this.refillPerMs);
    this.updatedAt = now;
  }
}

/** Per-bot flood control for sending and editing methods. */
export class FloodControl {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly limits: RateLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Consumes one unit from every bucket that applies, or none of them when any is empty, and
   * returns the `retry_after` seconds to report in that case (at least 1, like Telegram).
   */
  acquire(botToken: string, chatId: number): number | undefined {
    const now = this.now();
    const buckets: TokenBucket[] = [];
    const { perChat, perGroup, perBot } = this.limits;
    if (perBot) buckets.push(this.bucket(`bot:${botToken}`, perBot.perSecond, perBot.perSecond, now));
    if (perChat)
      buckets.push(this.bucket(`chat:${botToken}:${chatId}`, perChat.burst, perChat.perSecond, now));
    if (perGroup && chatId < 0) {
      buckets.push(
        this.bucket(`group:${botToken}:${chatId}`, perGroup.perMinute, perGroup.perMinute / 60, now),
      );
    }
    const waitMs = Math.max(0, ...buckets.map((bucket) => bucket.waitMs(now)));
    if (waitMs > 0) return Math.max(1, Math.ceil(waitMs / 1000));
    for (const bucket of buckets) bucket.take(now);
    return undefined;
  }

  reset(): void {
    this.buckets.clear();
  }

  private bucket(key: string, capacity: number, perSecond: number, now: number): TokenBucket {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = new TokenBucket(capacity, perSecond / 1000, now);
      this.buckets.set(key, bucket);
    }
    return bucket;
  }
}
