import type { Redis } from 'ioredis';
import { ttlMilliseconds } from '../cache-ttl.ts';
import { decodeJson, encodeJson } from '../json-codec.ts';
import type { CachePort } from '../types.ts';

/** Cache entries as plain Redis strings under `<prefix>:cache:`, expiring via PX. */
export class RedisCache implements CachePort {
  readonly #client: Redis;
  readonly #keyPrefix: string;

  constructor(client: Redis, options: { prefix: string }) {
    this.#client = client;
    this.#keyPrefix = `${options.prefix}:cache:`;
  }

  async get<T>(key: string): Promise<T | undefined> {
    const text = await this.#client.get(this.#keyPrefix + key);
    return text === null ? undefined : decodeJson<T>(text);
  }

  async set(key: string, value: unknown, ttlSeconds: number): Promise<void> {
    await this.#client.set(this.#keyPrefix + key, encodeJson(value), 'PX', ttlMilliseconds(ttlSeconds));
  }

  async delete(key: string): Promise<void> {
    await this.#client.del(this.#keyPrefix + key);
  }

  /** The client is shared with the other ports; `Ports.close()` closes it. */
  async close(): Promise<void> {}
}
