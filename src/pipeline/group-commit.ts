/**
 * Group commit: items submitted while a write is in flight gather for the next one, so under
 * load one write (one transaction, a few multi-row statements) carries many items, and an idle
 * system still writes a lone item at once. `submit` resolves with the item's own result.
 *
 * When a batch's write fails, each of its items is written alone, so one bad item fails alone
 * and never its neighbours.
 */
export interface GroupCommit<I, R> {
  submit(item: I): Promise<R>;
  /** Waits until nothing is waiting or being written. */
  drain(): Promise<void>;
}

export function createGroupCommit<I, R>(
  write: (items: I[]) => Promise<R[]>,
  options: { maxItems: number },
): GroupCommit<I, R> {
  interface Waiter {
    item: I;
    resolve: (result: R) => void;
    reject: (error: unknown) => void;
  }
  let waiting: Waiter[] = [];
  let running: Promise<void> | undefined;

  async function writeBatch(batch: Waiter[]) {
    try {
      const results = await write(batch.map((waiter) => waiter.item));
      for (const [index, waiter] of batch.entries()) waiter.resolve(results[index] as R);
    } catch (error) {
      if (batch.length === 1) {
        batch[0]?.reject(error);
        return;
      }
      for (const waiter of batch) await writeBatch([waiter]);
    }
  }

  async function loop() {
    while (waiting.length > 0) {
      const batch = waiting.slice(0, options.maxItems);
      waiting = waiting.slice(batch.length);
      await writeBatch(batch);
    }
    running = undefined;
  }

  return {
    submit(item) {
      return new Promise<R>((resolve, reject) => {
        waiting.push({ item, resolve, reject });
        // The loop starts on the next turn of the event loop, so items submitted by the I/O
        // callbacks of this turn share the first write instead of the first going alone (PGlite
        // runs a statement within the microtask queue, before the next I/O callback is read).
        running ??= new Promise<void>((started) => setImmediate(started)).then(loop);
      });
    },
    async drain() {
      while (running) await running;
    },
  };
}
