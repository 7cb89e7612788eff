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

/** Per context and loop: a wake being published, and whether another was asked for meanwhile. */
const publishing = new WeakMap<AppContext, Map<PipelineLoop, { again: boolean }>>();

/**
 * Tells the `loop` on every instance (this one included) that there is work. Fire and forget:
 * a lost wake costs at most the loop's poll interval (the rows are in the database), never a
 * row, so a Redis outage cannot slow the caller. Wakes asked for while one is being published
 * collapse into one more after it: at most one publish per loop in flight, however many
 * batches commit meanwhile (and a Redis outage piles up nothing).
 */
export function wakeWorkers(ctx: AppContext, loop: PipelineLoop): void {
  let loops = publishing.get(ctx);
  if (!loops) {
    loops = new Map();
    publishing.set(ctx, loops);
  }
  const inFlight = loops.get(loop);
  if (inFlight) {
    inFlight.again = true;
    return;
  }
  const state = { again: false };
  loops.set(loop, state);
  ctx.ports.pubsub
    .publish(WAKE_CHANNEL, { loop })
    .catch((error: unknown) => {
      ctx.logger.debug({ err: error, loop }, 'pipeline wake not published; the loops poll');
    })
    .finally(() => {
      loops.delete(loop);
      if (state.again) wakeWorkers(ctx, loop);
    });
}

/** Calls `wake` whenever any instance asks `loop` to look for work. */
export function onWake(ctx: AppContext, loop: PipelineLoop, wake: () => void): Promise<Unsubscribe> {
  return ctx.ports.pubsub.subscribe(WAKE_CHANNEL, (message) => {
    if (typeof message === 'object' && message !== null && (message as { loop?: unknown }).loop === loop)
      wake();
  });
}
