import { randomUUID } from 'node:crypto';
import { decodeJson, encodeJson } from '../json-codec.ts';
import { type QueueHooks, report } from '../queue-hooks.ts';
import { assertConcurrency, assertEveryMs, assertJobOptions, assertQueueName } from '../queue-validation.ts';
import type { JobHandler, JobOptions, QueuePort, QueueStats, WorkerOptions } from '../types.ts';

/** Defaults documented on `JobOptions`. */
const DEFAULT_ATTEMPTS = 5;
const DEFAULT_BACKOFF_MS = 1000;

interface PendingJob {
  id: string;
  /** Namespaced so a user jobId can never collide with a repeat schedule's key. */
  dedupeKey: string | undefined;
  payload: string;
  enqueuedAt: number;
  attemptsMade: number;
  attempts: number;
  backoffMs: number;
}

interface QueueState {
  name: string;
  waiting: PendingJob[];
  delayed: Map<PendingJob, NodeJS.Timeout>;
  running: Set<Promise<void>>;
  failed: number;
  /** Dedupe keys of jobs that are waiting, delayed (including between retries) or active. */
  dedupe: Set<string>;
  worker: { run: (job: PendingJob) => Promise<void>; concurrency: number } | undefined;
}

/**
 * In-process job queue: jobs live in memory and are lost on exit, which is acceptable in the embedded
 * (single process) shape. Every timer is unref'd so a pending retry or schedule never keeps the process up.
 */
export class MemoryQueue implements QueuePort {
  readonly #queues = new Map<string, QueueState>();
  readonly #schedules = new Map<string, NodeJS.Timeout>();
  readonly #hooks: QueueHooks;
  #closed = false;

  constructor(options: { hooks?: QueueHooks } = {}) {
    this.#hooks = options.hooks ?? {};
  }

  async add<T>(queue: string, data: T, options: JobOptions = {}): Promise<void> {
    this.#assertOpen();
    assertJobOptions(options);
    const state = this.#state(queue);
    const dedupeKey = options.jobId === undefined ? undefined : `job:${options.jobId}`;
    this.#enqueue(
      state,
      {
        id: options.jobId ?? randomUUID(),
        dedupeKey,
        payload: encodeJson(data),
        enqueuedAt: Date.now(),
        attemptsMade: 0,
        attempts: options.attempts ?? DEFAULT_ATTEMPTS,
        backoffMs: options.backoffMs ?? DEFAULT_BACKOFF_MS,
      },
      options.delayMs ?? 0,
    );
  }

  work<T>(queue: string, handler: JobHandler<T>, options: WorkerOptions = {}): void {
    this.#assertOpen();
    const state = this.#state(queue);
    if (state.worker) throw new Error(`Queue "${queue}" already has a worker on this instance`);
    const concurrency = options.concurrency ?? 1;
    assertConcurrency(concurrency);
    state.worker = {
      concurrency,
      run: (job) =>
        handler({
          id: job.id,
          queue,
          data: decodeJson<T>(job.payload),
          attempt: job.attemptsMade,
          enqueuedAt: job.enqueuedAt,
        }),
    };
    this.#pumpSoon(state);
  }

  async repeat<T>(queue: string, name: string, everyMs: number, data: T): Promise<void> {
    this.#assertOpen();
    assertEveryMs(everyMs);
    const state = this.#state(queue);
    const scheduleKey = `${queue}:${name}`;
    const payload = encodeJson(data);
    const tick = () => {
      const dedupeKey = `repeat:${name}`;
      // One run per period: skip the tick while the previous run is still queued or running.
      if (state.dedupe.has(dedupeKey)) return;
      // The next period is the retry, as with BullMQ job schedulers; no backoff retries in between.
      this.#enqueue(
        state,
        {
          id: `repeat:${name}:${Date.now()}`,
          dedupeKey,
          payload,
          enqueuedAt: Date.now(),
          attemptsMade: 0,
          attempts: 1,
          backoffMs: 0,
        },
        0,
      );
    };
    const previous = this.#schedules.get(scheduleKey);
    clearInterval(previous);
    // BullMQ runs an `every` scheduler at once when it is created but not when it is replaced; match it.
    if (previous === undefined) tick();
    const timer = setInterval(tick, everyMs);
    timer.unref();
    this.#schedules.set(scheduleKey, timer);
  }

  async stats(queue: string): Promise<QueueStats> {
    const state = this.#state(queue);
    const oldest = state.waiting[0];
    return {
      waiting: state.waiting.length,
      active: state.running.size,
      delayed: state.delayed.size,
      failed: state.failed,
      oldestWaitingMs: oldest ? Math.max(Date.now() - oldest.enqueuedAt, 0) : 0,
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const timer of this.#schedules.values()) clearInterval(timer);
    this.#schedules.clear();
    for (const state of this.#queues.values()) {
      for (const timer of state.delayed.values()) clearTimeout(timer);
      state.delayed.clear();
    }
    // Nothing new starts once closed, so waiting for the current runs drains every queue.
    const running = [...this.#queues.values()].flatMap((state) => [...state.running]);
    await Promise.all(running);
  }

  #state(queue: string): QueueState {
    let state = this.#queues.get(queue);
    if (!state) {
      assertQueueName(queue);
      state = {
        name: queue,
        waiting: [],
        delayed: new Map(),
        running: new Set(),
        failed: 0,
        dedupe: new Set(),
        worker: undefined,
      };
      this.#queues.set(queue, state);
    }
    return state;
  }

  #enqueue(state: QueueState, job: PendingJob, delayMs: number): void {
    if (job.dedupeKey !== undefined) {
      if (state.dedupe.has(job.dedupeKey)) return;
      state.dedupe.add(job.dedupeKey);
    }
    this.#schedule(state, job, delayMs);
  }

  #schedule(state: QueueState, job: PendingJob, delayMs: number): void {
    if (delayMs <= 0) {
      state.waiting.push(job);
      this.#pumpSoon(state);
      return;
    }
    // Timers count from the event loop's cached clock and may fire a little early by Date.now();
    // "no earlier than" is checked against the wall clock and the rest re-scheduled.
    const runAt = Date.now() + delayMs;
    const timer = setTimeout(() => {
      state.delayed.delete(job);
      this.#schedule(state, job, runAt - Date.now());
    }, delayMs);
    timer.unref();
    state.delayed.set(job, timer);
  }

  /** Starts jobs on a later tick so a handler never runs inside the caller's `add`. */
  #pumpSoon(state: QueueState): void {
    queueMicrotask(() => this.#pump(state));
  }

  #pump(state: QueueState): void {
    const worker = state.worker;
    if (!worker) return;
    while (!this.#closed && state.running.size < worker.concurrency) {
      const job = state.waiting.shift();
      if (!job) return;
      const running: Promise<void> = this.#run(state, worker.run, job).finally(() => {
        state.running.delete(running);
        this.#pump(state);
      });
      state.running.add(running);
    }
  }

  async #run(state: QueueState, run: (job: PendingJob) => Promise<void>, job: PendingJob): Promise<void> {
    job.attemptsMade += 1;
    try {
      await run(job);
      this.#release(state, job);
    } catch (error) {
      const failure = { queue: state.name, jobId: job.id, attempt: job.attemptsMade, error };
      if (job.attemptsMade < job.attempts) {
        // Exponential like BullMQ's 'exponential' backoff: base, 2×base, 4×base, ...
        if (!this.#closed) this.#schedule(state, job, job.backoffMs * 2 ** (job.attemptsMade - 1));
        report(this.#hooks.onAttemptFailed, failure);
        return;
      }
      state.failed += 1;
      this.#release(state, job);
      report(this.#hooks.onFailed, failure);
    }
  }

  #release(state: QueueState, job: PendingJob): void {
    if (job.dedupeKey !== undefined) state.dedupe.delete(job.dedupeKey);
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error('queue is closed');
  }
}
