/**
 * A circuit breaker per LLM provider, in process memory (each instance learns on its own;
 * with a handful of instances that costs a few extra failed calls per outage, and needs no
 * shared state on the reply path).
 *
 * - `closed`: calls go through; consecutive failures are counted, a success resets the count.
 * - `open`: after `threshold` consecutive failures. Calls are refused without touching the
 *   network until `cooldownMs` has passed since it opened.
 * - `half_open`: after the cool-down exactly one call (the probe) goes through; the others are
 *   still refused. The probe's success closes the breaker, its failure opens it again for
 *   another cool-down.
 *
 * What counts as a failure is the caller's decision (the LLM client counts 429, 5xx, timeouts
 * and connection errors; a 400 proves the provider is up and counts as a success).
 */
export type BreakerState = 'closed' | 'open' | 'half_open';

export interface CircuitBreakerOptions {
  threshold: number;
  cooldownMs: number;
  /** Called on every state change (metrics, logs). */
  onChange?: (state: BreakerState) => void;
  now?: () => number;
}

export class CircuitBreaker {
  private current: BreakerState = 'closed';
  private failures = 0;
  private openedAt = 0;
  private probing = false;
  private readonly now: () => number;

  constructor(private readonly options: CircuitBreakerOptions) {
    this.now = options.now ?? Date.now;
  }

  /** The state as of now (an open breaker past its cool-down reads `half_open`). */
  get state(): BreakerState {
    if (this.current === 'open' && this.now() - this.openedAt >= this.options.cooldownMs) {
      this.transition('half_open');
    }
    return this.current;
  }

  /** Consecutive failures counted so far (reset by a success). */
  get consecutiveFailures(): number {
    return this.failures;
  }

  /** When an open breaker lets the next probe through (epoch ms), else undefined. */
  get retryAt(): number | undefined {
    return this.current === 'open' ? this.openedAt + this.options.cooldownMs : undefined;
  }

  /**
   * Asks to make one call. True when it may go: always when closed, once (the probe) when
   * half-open. Every granted call must end with `succeed()` or `fail()`.
   */
  tryAcquire(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'open' || this.probing) return false;
    this.probing = true;
    return true;
  }

  succeed(): void {
    this.probing = false;
    this.failures = 0;
    if (this.current !== 'closed') this.transition('closed');
  }

  fail(): void {
    this.probing = false;
    this.failures += 1;
    if (
      this.current === 'half_open' ||
      (this.current === 'closed' && this.failures >= this.options.threshold)
    ) {
      this.openedAt = this.now();
      this.transition('open');
    }
  }

  private transition(state: BreakerState) {
    if (state === this.current) return;
    this.current = state;
    this.options.onChange?.(state);
  }
}
