import { type Job as BullJob, Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { PortsLogger } from '../ports-logger.ts';
import { type QueueHooks, report } from '../queue-hooks.ts';
import { assertConcurrency, assertEveryMs, assertJobOptions, assertQueueName } from '../queue-validation.ts';
import type { JobHandler, JobOptions, QueuePort, QueueStats, WorkerOptions } from '../types.ts';
import { closeClient } from './close-client.ts';

/** Defaults documented on `JobOptions`. */
const DEFAULT_ATTEMPTS = 5;
const DEFAULT_BACKOFF_MS = 1000;
/**
 * Finished jobs are only kept for inspection; bounded so Redis memory stays flat. BullMQ evicts
 * by age lazily, when a later job of the same kind finishes, so the count is the hard bound.
 */
const KEEP_COMPLETED = { age: 60 * 60, count: 1000 };
/** Failed jobs are kept longer, for diagnosis; `stats().failed` counts the ones still kept. */
const KEEP_FAILED = { age: 7 * 24 * 60 * 60, count: 5000 };

/**
 * BullMQ queues and workers under `<prefix>:bull`, so Ports instances with different prefixes
 * (tests, tenants of one Redis) never see each other's jobs.
 */
export class RedisQueue implements QueuePort {
  readonly #client: Redis;
  /** Template BullMQ duplicates for each worker's own (blocking) connections; never used itself. */
  readonly #workerConnection: Redis;
  readonly #prefix: string;
  readonly #logger: PortsLogger;
  readonly #hooks: QueueHooks;
  readonly #queues = new Map<string, Queue>();
  readonly #workers = new Map<string, Worker>();
  #closing: Promise<void> | undefined;

  constructor(client: Redis, options: { prefix: string; logger: PortsLogger; hooks?: QueueHooks }) {
    this.#client = client;
    // Workers block on BZPOPMIN and BullMQ refuses a worker connection that gives up on commands
    // (maxRetriesPerRequest must be null). lazyConnect: the template itself never opens a socket.
    this.#workerConnection = client.duplicate({ maxRetriesPerRequest: null, lazyConnect: true });
    this.#prefix = `${options.prefix}:bull`;
    this.#logger = options.logger;
    this.#hooks = options.hooks ?? {};
  }

  async add<T>(queue: string, data: T, options: JobOptions = {}): Promise<void> {
    this.#assertOpen();
    assertJobOptions(options);
    await this.#queue(queue).add(queue, data, {
      attempts: options.attempts ?? DEFAULT_ATTEMPTS,
      backoff: { type: 'exponential', delay: options.backoffMs ?? DEFAULT_BACKOFF_MS },
      delay: options.delayMs ?? 0,
      // BullMQ's own jobId would also block re-adding while the finished job is still kept
      // (KEEP_COMPLETED); deduplication holds exactly while the job is waiting, delayed or active.
      ...(options.jobId === undefined ? {} : { deduplication: { id: options.jobId } }),
      removeOnComplete: KEEP_COMPLETED,
      removeOnFail: KEEP_FAILED,
    });
  }

  work<T>(queue: string, handler: JobHandler<T>, options: WorkerOptions = {}): void {
    this.#assertOpen();
    assertQueueName(queue);
    if (this.#workers.has(queue)) throw new Error(`Queue "${queue}" already has a worker on this instance`);
    const concurrency = options.concurrency ?? 1;
    assertConcurrency(concurrency);
    const worker = new Worker<T>(
      queue,
      async (job: BullJob<T>) => {
        await handler({
          id: jobId(job),
          queue,
          data: job.data,
          // attemptsMade counts finished (failed) attempts, so the running one is the next.
          attempt: job.attemptsMade + 1,
          enqueuedAt: job.timestamp,
        });
      },
      { connection: this.#workerConnection, prefix: this.#prefix, concurrency },
    );
    worker.on('failed', (job, error) => {
      if (!job) return;
      const failure = { queue, jobId: jobId(job), attempt: job.attemptsMade, error };
      // 'failed' fires after every failed attempt; the last one is when no attempt is left.
      report(
        job.attemptsMade >= (job.opts.attempts ?? 1) ? this.#hooks.onFailed : this.#hooks.onAttemptFailed,
        failure,
      );
    });
    worker.on('error', (err) => this.#logger.error({ err, queue }, 'queue worker error'));
    this.#workers.set(queue, worker);
  }

  async repeat<T>(queue: string, name: string, everyMs: number, data: T): Promise<void> {
    this.#assertOpen();
    assertEveryMs(everyMs);
    // A job scheduler lives in Redis, so every instance upserting the same id shares one schedule
    // and each period yields one job, whichever worker takes it.
    await this.#queue(queue).upsertJobScheduler(
      escapeId(name),
      { every: everyMs },
      {
        name: queue,
        data,
        // The next period is the retry; no backoff retries in between.
        opts: { attempts: 1, removeOnComplete: KEEP_COMPLETED, removeOnFail: KEEP_FAILED },
      },
    );
  }

  async stats(queue: string): Promise<QueueStats> {
    const bull = this.#queue(queue);
    const [counts, oldest] = await Promise.all([
      bull.getJobCounts('waiting', 'active', 'delayed', 'failed'),
      // The wait list is pushed on the left and consumed from the right; ascending order starts at
      // the job that has waited longest.
      bull.getJobs(['waiting'], 0, 0, true),
    ]);
    const oldestJob = oldest[0];
    return {
      waiting: counts.waiting ?? 0,
      active: counts.active ?? 0,
      delayed: counts.delayed ?? 0,
      failed: counts.failed ?? 0,
      oldestWaitingMs: oldestJob ? Math.max(Date.now() - oldestJob.timestamp, 0) : 0,
    };
  }

  /** Idempotent: a second call waits for the first instead of closing connections twice. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    // Worker.close() without force lets active jobs finish before it resolves.
    await Promise.all([...this.#workers.values()].map((worker) => worker.close()));
    await Promise.all([...this.#queues.values()].map((queue) => queue.close()));
    this.#workers.clear();
    this.#queues.clear();
    await closeClient(this.#workerConnection);
  }

  #queue(queue: string): Queue {
    let bull = this.#queues.get(queue);
    if (!bull) {
      assertQueueName(queue);
      // Queues share the main client: BullMQ leaves a passed-in, non-blocking connection open on close.
      bull = new Queue(queue, { connection: this.#client, prefix: this.#prefix });
      bull.on('error', (err) => this.#logger.error({ err, queue }, 'queue error'));
      this.#queues.set(queue, bull);
    }
    return bull;
  }

  #assertOpen(): void {
    if (this.#closing) throw new Error('queue is closed');
  }
}

/** A deduplicated job is known by its jobId, as in the memory queue; others by BullMQ's id. */
function jobId(job: BullJob): string {
  return job.deduplicationId ?? job.id ?? '';
}

/** BullMQ forbids ':' in ids it builds keys from; escape it (and the escape char) reversibly. */
function escapeId(id: string): string {
  return id.replaceAll('%', '%25').replaceAll(':', '%3A');
}
