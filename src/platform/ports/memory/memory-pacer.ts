import type { PaceRule, PacerPort } from '../types.ts';

/** In-process GCRA: one "theoretical arrival time" per key. */
export class MemoryPacer implements PacerPort {
  readonly #tat = new Map<string, number>();
  readonly #sweep: NodeJS.Timeout;

  constructor() {
    // Keys whose time has passed hold no information; drop them so idle chats cost nothing.
    this.#sweep = setInterval(() => {
      const now = Date.now();
      for (const [key, tat] of this.#tat) if (tat < now) this.#tat.delete(key);
    }, 60_000);
    this.#sweep.unref();
  }

  async reserve(key: string, rule: PaceRule): Promise<number> {
    const now = Date.now();
    const tolerance = (Math.max(1, rule.burst ?? 1) - 1) * rule.intervalMs;
    const tat = Math.max(this.#tat.get(key) ?? now, now);
    const slot = Math.max(now, tat - tolerance);
    this.#tat.set(key, tat + rule.intervalMs);
    return slot - now;
  }

  close(): void {
    clearInterval(this.#sweep);
  }
}
