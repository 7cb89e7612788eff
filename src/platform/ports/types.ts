/**
 * Infrastructure ports. Each has an in-process implementation (embedded shape, one process)
 * and a Redis one (scaled shape, many instances), chosen by REDIS_URL in `createPorts`.
 * Features depend on these interfaces only. One contract suite (`ports.contract.test.ts`)
 * runs against both implementations.
 */

// ─── Queue ───────────────────────────────────────────────────────────────────

export interface JobOptions {
  /** Deduplication id: adding a job whose id is already waiting, delayed or active is a no-op. */
  jobId?: string;
  /** Run no earlier than this many ms from now. */
  delayMs?: number;
  /** Total attempts including the first (default 5). */
  attempts?: number;
  /** Base of the exponential backoff between attempts, in ms (default 1000). */
  backoffMs?: number;
}

export interface Job<T> {
  id: string;
  queue: string;
  data: T;
  /** 1 on the first run. */
  attempt: number;
  /** When the job was added (for queue lag). */
  enqueuedAt: number;
}

export type JobHandler<T> = (job: Job<T>) => Promise<void>;

export interface WorkerOptions {
  /** Jobs of this queue run at once on this instance (default 1). */
  concurrency?: number;
}

export interface QueueStats {
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  /** Age in ms of the oldest waiting job, 0 when none (queue lag). */
  oldestWaitingMs: number;
}

export interface QueuePort {
  add<T>(queue: string, data: T, options?: JobOptions): Promise<void>;
  /** Starts consuming `queue` on this instance. One worker per queue per instance. */
  work<T>(queue: string, handler: JobHandler<T>, options?: WorkerOptions): void;
  /**
   * A repeatable job every `everyMs`; on several instances it still runs once per period.
   * Calling again with the same name replaces the schedule.
   */
  repeat<T>(queue: string, name: string, everyMs: number, data: T): Promise<void>;
  stats(queue: string): Promise<QueueStats>;
  /** Stops taking new jobs and waits for running ones to finish. */
  close(): Promise<void>;
}

// ─── Pub/sub ─────────────────────────────────────────────────────────────────

export type Unsubscribe = () => Promise<void>;

export interface PubSubPort {
  /** Delivers `message` to every subscriber of `channel` on every instance (including this one). */
  publish(channel: string, message: unknown): Promise<void>;
  /** Messages arrive JSON-round-tripped (the same shape on both implementations). */
  subscribe(channel: string, handler: (message: unknown) => void): Promise<Unsubscribe>;
  close(): Promise<void>;
}

// ─── Rate limiter ────────────────────────────────────────────────────────────

export interface RateLimitRule {
  /** Namespace of the limiter; keys of different limiters never collide. */
  name: string;
  /** Allowed points per window. */
  points: number;
  /** Window length in seconds. */
  durationSeconds: number;
}

export interface RateLimitResult {
  allowed: boolean;
  remaining: number;
  /** When not allowed: ms until the next point is available. */
  retryAfterMs: number;
}

export interface RateLimiter {
  /** Takes `points` (default 1) for `key`; never throws on exhaustion, answers allowed=false. */
  consume(key: string, points?: number): Promise<RateLimitResult>;
  /** Reads without consuming. */
  peek(key: string): Promise<RateLimitResult>;
  reset(key: string): Promise<void>;
}

export interface RateLimiterPort {
  /** Limiters with the same name share state (across instances with Redis). */
  limiter(rule: RateLimitRule): RateLimiter;
}

// ─── Cache ───────────────────────────────────────────────────────────────────

export interface CachePort {
  /** Values are JSON-round-tripped; undefined when missing or expired. */
  get<T>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown, ttlSeconds: number): Promise<void>;
  delete(key: string): Promise<void>;
  close(): Promise<void>;
}

// ─── Pacer ───────────────────────────────────────────────────────────────────

export interface PaceRule {
  /** Spacing between slots: 1000 / rate-per-second. */
  intervalMs: number;
  /** Slots that may be taken at once after a quiet period (default 1: evenly spaced). */
  burst?: number;
}

/**
 * Evenly spaced slots (the generic cell rate algorithm): unlike fixed windows, never lets two
 * windows' worth through back to back at a boundary, so a sender kept at the slot rate stays
 * under a token-bucket limit like Telegram's.
 */
export interface PacerPort {
  /** Reserves the next slot for `key`; resolves to the ms to wait before using it (0 = now). */
  reserve(key: string, rule: PaceRule): Promise<number>;
}

// ─── Locks ───────────────────────────────────────────────────────────────────

export interface Lease {
  /** Releases the lock if this lease still holds it (never someone else's). */
  release(): Promise<void>;
  /** Pushes the expiry out by another `ttlMs`; false when the lease was lost meanwhile. */
  extend(): Promise<boolean>;
}

export interface LockPort {
  /**
   * Takes `key` for at most `ttlMs` unless released or extended; undefined when another holder
   * has it. The TTL bounds how long a crashed holder blocks others.
   */
  tryAcquire(key: string, ttlMs: number): Promise<Lease | undefined>;
  /** Whether anyone holds `key` now. */
  isHeld(key: string): Promise<boolean>;
}

// ─── All ports ───────────────────────────────────────────────────────────────

export interface Ports {
  kind: 'memory' | 'redis';
  queue: QueuePort;
  pubsub: PubSubPort;
  rateLimiter: RateLimiterPort;
  cache: CachePort;
  locks: LockPort;
  pacer: PacerPort;
  /** For /health: resolves when the backing store answers. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
