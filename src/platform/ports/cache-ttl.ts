/**
 * Converts a cache TTL to whole milliseconds (Redis `PX` takes an integer). Redis rejects a
 * non-positive expiry, so both caches refuse it up front and agree.
 */
export function ttlMilliseconds(ttlSeconds: number): number {
  if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0) {
    throw new RangeError(`ttlSeconds must be a positive number, got ${ttlSeconds}`);
  }
  return Math.ceil(ttlSeconds * 1000);
}
