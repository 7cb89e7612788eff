import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Lease, LockPort } from '../types.ts';

// Compare-and-delete / compare-and-extend: only the holder's token may touch the key, so a
// holder whose lease expired cannot release the next holder's lock.
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const EXTEND = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

/** Single-Redis leases (SET NX PX), the standard pattern for mutual exclusion across instances. */
export class RedisLocks implements LockPort {
  readonly #client: Redis;
  readonly #prefix: string;

  constructor(client: Redis, options: { prefix: string }) {
    this.#client = client;
    this.#prefix = `${options.prefix}:lock:`;
  }

  async tryAcquire(key: string, ttlMs: number): Promise<Lease | undefined> {
    const redisKey = this.#prefix + key;
    const token = randomUUID();
    const ok = await this.#client.set(redisKey, token, 'PX', ttlMs, 'NX');
    if (ok !== 'OK') return undefined;
    return {
      release: async () => {
        await this.#client.eval(RELEASE, 1, redisKey, token);
      },
      extend: async () => Number(await this.#client.eval(EXTEND, 1, redisKey, token, String(ttlMs))) === 1,
    };
  }

  async isHeld(key: string): Promise<boolean> {
    return (await this.#client.exists(this.#prefix + key)) === 1;
  }
}
