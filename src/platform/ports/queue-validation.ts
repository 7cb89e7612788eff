import type { JobOptions } from './types.ts';

/**
 * Input checks shared by both queues, so a call the Redis queue (BullMQ) would refuse is refused by
 * the memory queue too, instead of first failing in production.
 */

/** BullMQ rejects ':' in queue names (it separates key parts). */
export function assertQueueName(queue: string): void {
  if (queue.length === 0 || queue.includes(':')) {
    throw new Error(`Invalid queue name "${queue}": must be non-empty and must not contain ':'`);
  }
}

export function assertJobOptions(options: JobOptions): void {
  const { attempts, backoffMs, delayMs } = options;
  if (attempts !== undefined && (!Number.isInteger(attempts) || attempts < 1)) {
    throw new RangeError(`attempts must be a positive integer, got ${attempts}`);
  }
  if (backoffMs !== undefined && !(Number.isFinite(backoffMs) && backoffMs >= 0)) {
    throw new RangeError(`backoffMs must be a non-negative number, got ${backoffMs}`);
  }
  if (delayMs !== undefined && !(Number.isFinite(delayMs) && delayMs >= 0)) {
    throw new RangeError(`delayMs must be a non-negative number, got ${delayMs}`);
  }
}

export function assertConcurrency(concurrency: number): void {
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  }
}

export function assertEveryMs(everyMs: number): void {
  if (!Number.isFinite(everyMs) || everyMs < 1) {
    throw new RangeError(`everyMs must be a positive number, got ${everyMs}`);
  }
}
