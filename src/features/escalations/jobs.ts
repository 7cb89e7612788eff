import type { AppContext } from '../../context.ts';
import { sweepPresence } from '../operators/service.ts';
import { notifyMissed, remindOverdue } from './service.ts';

export const ESCALATION_SWEEP_QUEUE = 'escalations-sweep';

/**
 * The repeatable sweep of the operator inbox (once per period across instances): operators
 * whose heartbeat stopped go offline and their work is re-queued; overdue escalations get
 * their one reminder; notifications a crash interrupted go out.
 */
export async function startEscalationJobs(ctx: AppContext): Promise<void> {
  ctx.ports.queue.work(ESCALATION_SWEEP_QUEUE, async () => {
    await sweepPresence(ctx);
    await remindOverdue(ctx);
    await notifyMissed(ctx, 30_000);
  });
  // A third of the presence timeout, so an operator goes offline at most ~1.3 timeouts after
  // their last heartbeat; never more often than every 250 ms nor less than every 10 s.
  const everyMs = Math.min(10_000, Math.max(250, Math.floor(ctx.config.OPERATOR_PRESENCE_TIMEOUT_MS / 3)));
  await ctx.ports.queue.repeat(ESCALATION_SWEEP_QUEUE, 'sweep', everyMs, {});
}
