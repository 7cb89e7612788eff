import type { Redis } from 'ioredis';
import type { PaceRule, PacerPort } from '../types.ts';

// GCRA in one atomic step, on Redis's clock so instances with skewed clocks agree.
const RESERVE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local slot = tat - tolerance
if slot < now then slot = now end
local next = tat + interval
redis.call('SET', KEYS[1], next, 'PX', math.ceil(next - now) + 1000)
return slot - now
`;

/** Evenly spaced slots shared by every instance with the same prefix. */
export class RedisPacer implements PacerPort {
  readonly #client: Redis;
  readonly #prefix: string;

  constructor(client: Redis, options: { prefix: string }) {
    this.#client = client;
    this.#prefix = `${options.prefix}:pace:`;
  }

  async reserve(key: string, rule: PaceRule): Promise<number> {
    const tolerance = (Math.max(1, rule.burst ?? 1) - 1) * rule.intervalMs;
    const wait = await this.#client.eval(
      RESERVE,
      1,
      this.#prefix + key,
      String(rule.intervalMs),
      String(tolerance),
    );
    return Number(wait);
  }
}
