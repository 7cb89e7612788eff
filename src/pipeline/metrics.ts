import { sql } from 'drizzle-orm';
import { type Counter, Gauge, type Histogram } from 'prom-client';
import type { AppContext } from '../context.ts';
import { queryRows, toNumber } from '../platform/db/rows.ts';
import type { Metrics } from '../platform/metrics.ts';
import type { QueueStats } from '../platform/ports/types.ts';

/**
 * Prometheus metrics of the message pipeline, created once per registry (one app instance)
 * and looked up by the ingest, processor and sender where they count.
 */
export interface PipelineMetrics {
  /** Updates stored by ingest (`duplicate`: redeliveries already stored; `refused`: content the database refused). */
  updatesIngested: Counter<'outcome'>;
  /** Time to process one update (store → responder → outbox commit). */
  processSeconds: Histogram<'outcome'>;
  /** Outbox deliveries by channel type, bot and outcome (sent, failed, retry, rate_limited). */
  outbox: Counter<'channel' | 'bot' | 'outcome'>;
  /** 429 Too Many Requests answers received from the channel's API. */
  rateLimited: Counter<'channel' | 'bot'>;
}

const byRegistry = new WeakMap<Metrics, PipelineMetrics>();

export function pipelineMetrics(ctx: { metrics: Metrics }): PipelineMetrics {
  const existing = byRegistry.get(ctx.metrics);
  if (existing) return existing;
  const { metrics } = ctx;
  const created: PipelineMetrics = {
    updatesIngested: metrics.counter(
      'switchboard_pipeline_updates_ingested_total',
      'Inbound updates accepted by ingest, by outcome (stored, duplicate, refused)',
      ['outcome'] as const,
    ),
    processSeconds: metrics.histogram(
      'switchboard_pipeline_process_duration_seconds',
      'Processing time of one update (contact, message, responder, outbox commit), by outcome',
      ['outcome'] as const,
      [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    ),
    outbox: metrics.counter(
      'switchboard_outbox_total',
      'Outbox deliveries by channel type, bot and outcome (sent, failed, retry, rate_limited)',
      ['channel', 'bot', 'outcome'] as const,
    ),
    rateLimited: metrics.counter(
      'switchboard_outbox_rate_limited_total',
      '429 answers received from the channel API, by channel type and bot',
      ['channel', 'bot'] as const,
    ),
  };
  byRegistry.set(metrics, created);
  return created;
}

/** Work waiting in one place: a job queue, or a stage of the pipeline's tables. */
export interface Backlog {
  queue: string;
  stats: QueueStats;
}

/**
 * The pipeline's own backlog, read from its tables (it keeps no queue jobs): updates stored
 * but not yet processed (`pipeline-inbox`) and replies not yet handed to the channel
 * (`pipeline-outbox`), each with the age of its oldest row. Both counts ride partial indexes
 * over pending rows only.
 */
export async function pipelineBacklog(ctx: AppContext): Promise<Backlog[]> {
  const rows = await queryRows(
    ctx.db,
    sql`select 'pipeline-inbox' as queue, count(*)::int as waiting, 0 as active,
          coalesce(extract(epoch from now() - min(received_at)) * 1000, 0)::float8 as oldest_ms
        from inbox_updates where processed_at is null
        union all
        select 'pipeline-outbox', count(*) filter (where status = 'queued')::int,
          count(*) filter (where status = 'sending')::int,
          coalesce(extract(epoch from now() - min(created_at) filter (where status = 'queued')) * 1000, 0)::float8
        from outbox where status in ('queued', 'sending')`,
  );
  return rows.map((row) => ({
    queue: String(row.queue),
    stats: {
      waiting: toNumber(row.waiting),
      active: toNumber(row.active),
      delayed: 0,
      failed: 0,
      oldestWaitingMs: Math.max(0, Math.round(toNumber(row.oldest_ms))),
    },
  }));
}

/**
 * Queue depth and lag as gauges read at scrape time from the queue port's `stats()` (and the
 * pipeline's backlog, when given), and a non-critical `/health` check reporting each queue's
 * lag (a lagging queue is worth seeing, not a reason to take the instance out of the load
 * balancer).
 */
const observed = new WeakSet<Metrics>();

export function observeQueues(
  ctx: AppContext,
  queues: readonly string[],
  backlog: () => Promise<Backlog[]> = async () => [],
): void {
  // The pipeline may be started more than once on one context (a channel switched to long
  // polling restarts it); the gauges and the health check belong to the registry, once.
  if (observed.has(ctx.metrics)) return;
  observed.add(ctx.metrics);
  const stats = async (): Promise<Backlog[]> => {
    const [jobs, tables] = await Promise.all([
      Promise.all(queues.map(async (queue) => ({ queue, stats: await ctx.ports.queue.stats(queue) }))),
      backlog(),
    ]);
    return [...tables, ...jobs];
  };
  const lag = new Gauge({
    name: 'switchboard_queue_lag_seconds',
    help: 'Age of the oldest waiting job per queue',
    labelNames: ['queue'] as const,
    registers: [ctx.metrics.registry],
  });
  // prom-client calls `collect` before each scrape; a failing port leaves the last values.
  new Gauge({
    name: 'switchboard_queue_jobs',
    help: 'Jobs per queue and state (waiting, active, delayed, failed)',
    labelNames: ['queue', 'state'] as const,
    registers: [ctx.metrics.registry],
    async collect() {
      for (const entry of await stats().catch(() => [])) {
        this.set({ queue: entry.queue, state: 'waiting' }, entry.stats.waiting);
        this.set({ queue: entry.queue, state: 'active' }, entry.stats.active);
        this.set({ queue: entry.queue, state: 'delayed' }, entry.stats.delayed);
        this.set({ queue: entry.queue, state: 'failed' }, entry.stats.failed);
        lag.set({ queue: entry.queue }, entry.stats.oldestWaitingMs / 1000);
      }
    },
  });
  ctx.health.register(
    'queues',
    async () => {
      const info: Record<string, number> = {};
      for (const entry of await stats()) {
        info[`${entry.queue}.lagMs`] = entry.stats.oldestWaitingMs;
        info[`${entry.queue}.waiting`] = entry.stats.waiting;
      }
      return info;
    },
    { critical: false },
  );
}
