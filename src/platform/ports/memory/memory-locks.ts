import { randomUUID } from 'node:crypto';
import type { Lease, LockPort } from '../types.ts';

/** In-process locks with expiry, for the one-process shape. */
export class MemoryLocks implements LockPort {
  readonly #held = new Map<string, { token: string; expiresAt: number }>();

  async tryAcquire(key: string, ttlMs: number): Promise<Lease | undefined> {
    const now = Date.now();
    const current = this.#held.get(key);
    if (current && current.expiresAt > now) return undefined;
    const token = randomUUID();
    this.#held.set(key, { token, expiresAt: now + ttlMs });
    return {
      release: async () => {
        if (this.#held.get(key)?.token === token) this.#held.delete(key);
      },
      extend: async () => {
        const entry = this.#held.get(key);
        if (entry?.token !== token) return false;
        entry.expiresAt = Date.now() + ttlMs;
        return true;
      },
    };
  }

  async isHeld(key: string): Promise<boolean> {
    const current = this.#held.get(key);
    return current !== undefined && current.expiresAt > Date.now();
  }
}
