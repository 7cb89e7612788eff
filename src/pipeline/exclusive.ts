import type { AppContext } from '../context.ts';

/**
 * Runs `fn` holding the lock `key` (one chat at a time, on one instance or several). When
 * another worker holds it, the job is put back with a short, growing delay instead of failing:
 * the holder drains everything pending for the chat, and the re-check catches what arrived
 * after its last look.
 */
export async function runExclusive<T extends { retry?: number }>(
  ctx: AppContext,
  options: { queue: string; key: string; data: T; ttlMs?: number },
  fn: (keepAlive: () => Promise<void>) => Promise<void>,
): Promise<void> {
  const ttlMs = options.ttlMs ?? 60_000;
  const lease = await ctx.ports.locks.tryAcquire(options.key, ttlMs);
  if (!lease) {
    const retry = (options.data.retry ?? 0) + 1;
    await ctx.ports.queue.add(
      options.queue,
      { ...options.data, retry },
      { delayMs: Math.min(2000, 25 * 2 ** Math.min(retry, 7)), jobId: `${options.key}-busy-${retry}` },
    );
    return;
  }
  try {
    await fn(async () => {
      if (!(await lease.extend())) throw new Error(`lost the lock ${options.key}`);
    });
  } finally {
    await lease.release();
  }
}
