import type { AppContext } from '../context.ts';
import type { Unsubscribe } from '../platform/ports/types.ts';

/** The pipeline's two loops: the processor (inbox → outbox) and the sender (outbox → channel). */
export type PipelineLoop = 'process' | 'send';

const WAKE_CHANNEL = 'pipeline:wake';

/**
 * A loop's sleep that a wake cuts short. A wake while the loop is busy is kept, so the next
 * sleep returns at once: work that arrived during a round is never left for the poll.
 */
export interface Waker {
  sleep(ms: number): Promise<void>;
  wake(): void;
}

export function createWaker(): Waker {
  let pending = false;
  let release: (() => void) | undefined;
  return {
    sleep(ms) {
      if (pending) {
        pending = false;
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.max(0, ms));
        function done() {
          clearTimeout(timer);
          release = undefined;
          pending = false;
          resolve();
        }
        release = done;
      });
    },
    wake() {
      if (release) release();
      else pending = true;
    },
  };
}

/**
 * Tells the `loop` on every instance (this one included) that there is work. Fire and forget:
 * a lost wake costs at most the loop's poll interval (the rows are in the database), never a
 * row, so a Redis outage cannot slow the caller. Callers wake once per batch, not per row.
 */
export function wakeWorkers(ctx: AppContext, loop: PipelineLoop): void {
  ctx.ports.pubsub.publish(WAKE_CHANNEL, { loop }).catch((error: unknown) => {
    ctx.logger.debug({ err: error, loop }, 'pipeline wake not published; the loops poll');
  });
}

/** Calls `wake` whenever any instance asks `loop` to look for work. */
export function onWake(ctx: AppContext, loop: PipelineLoop, wake: () => void): Promise<Unsubscribe> {
  return ctx.ports.pubsub.subscribe(WAKE_CHANNEL, (message) => {
    if (typeof message === 'object' && message !== null && (message as { loop?: unknown }).loop === loop)
      wake();
  });
}
