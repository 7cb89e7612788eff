import type { AppContext } from '../../context.ts';
import { buildSketches, pruneBatchIds } from './rollups.ts';

export const ANALYTICS_QUEUE = 'analytics-maintenance';

/**
 * Background upkeep of the rollups, as a repeatable job (once per period across instances):
 * HyperLogLog sketches for finished days, and forgetting old batch ids.
 */
export async function startAnalyticsJobs(ctx: AppContext, options: { everyMs?: number } = {}): Promise<void> {
  ctx.ports.queue.work(ANALYTICS_QUEUE, async () => {
    // Bounded per run; a backlog (say, after a rebuild) drains over the next runs. Today is
    // included: its sketch stays fresh until a new contact shows up, then the day is read from
    // the exact table until the next run.
    await buildSketches(ctx.db, { limit: 200, includeToday: true });
    await pruneBatchIds(ctx.db);
  });
  await ctx.ports.queue.repeat(ANALYTICS_QUEUE, 'maintain', options.everyMs ?? 60_000, {});
}
