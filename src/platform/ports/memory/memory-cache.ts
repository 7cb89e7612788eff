import { ttlMilliseconds } from '../cache-ttl.ts';
import { decodeJson, encodeJson } from '../json-codec.ts';
import type { CachePort } from '../types.ts';

/** Expired entries are also dropped on read; the sweep only bounds memory held by keys nobody reads again. */
const SWEEP_INTERVAL_MS = 60_000;

interface Entry {
  text: string;
  expiresAt: number;
}

/** In-process cache; values are stored as JSON so reads never share objects with writers. */
export class MemoryCache implements CachePort {
  readonly #entries = new Map<string, Entry>();
  readonly #sweep: NodeJS.Timeout;

  constructor() {
    this.#sweep = setInterval(() => this.#dropExpired(), SWEEP_INTERVAL_MS);
    this.#sweep.unref();
  }

  async get<T>(key: string): Promise<T | undefined> {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return decodeJson<T>(entry.text);
  }

  async set(key: string, value: unknown, ttlSeconds: number): Promise<void> {
    const ttlMs = ttlMilliseconds(ttlSeconds);
    this.#entries.set(key, { text: encodeJson(value), expiresAt: Date.now() + ttlMs });
  }

  async delete(key: string): Promise<void> {
    this.#entries.delete(key);
  }

  async close(): Promise<void> {
    clearInterval(this.#sweep);
    this.#entries.clear();
  }

  #dropExpired(): void {
    const now = Date.now();
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAt <= now) this.#entries.delete(key);
    }
  }
}
