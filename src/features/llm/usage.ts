import { and, eq, gte, lt, sql } from 'drizzle-orm';
import type { Db, DbOrTx } from '../../platform/db/index.ts';
import type { Logger } from '../../platform/logger.ts';
import type { Metrics } from '../../platform/metrics.ts';
import { llmUsage } from './schema.ts';

export type LlmUsageRow = typeof llmUsage.$inferInsert;

export interface UsageRecorder {
  /** Buffers one row; never blocks, never throws. Overflow is dropped and counted. */
  record(row: LlmUsageRow): void;
  /** Writes what is buffered (tests, shutdown). */
  flush(): Promise<void>;
  /** Stops the timer and flushes. */
  close(): Promise<void>;
}

export interface UsageRecorderOptions {
  maxBuffer?: number;
  batchSize?: number;
  flushIntervalMs?: number;
}

/**
 * Usage rows off the reply path, like the analytics tracker: buffered, written in multi-row
 * INSERTs every second or when a batch fills. A batch that keeps failing (three times in a
 * row) is written row by row so that one bad row — say its workspace was deleted meanwhile —
 * cannot hold back the others; rows that still fail are dropped and counted.
 */
export function createUsageRecorder(
  deps: { db: Db; logger: Logger; metrics: Metrics },
  options: UsageRecorderOptions = {},
): UsageRecorder {
  const maxBuffer = options.maxBuffer ?? 20_000;
  const batchSize = options.batchSize ?? 500;
  const dropped = deps.metrics.counter(
    'switchboard_llm_usage_dropped_total',
    'LLM usage rows dropped (buffer full, or refused by the database)',
  );
  const failures = deps.metrics.counter(
    'switchboard_llm_usage_flush_failures_total',
    'Failed LLM usage batch writes (retried)',
  );
  let buffer: LlmUsageRow[] = [];
  let flushing: Promise<void> | undefined;
  let failedRounds = 0;

  const writeRowByRow = async (batch: LlmUsageRow[]) => {
    for (const row of batch) {
      try {
        await deps.db.insert(llmUsage).values(row);
      } catch (error) {
        dropped.inc();
        deps.logger.warn({ err: error, workspaceId: row.workspaceId }, 'llm usage row refused; dropped');
      }
    }
  };

  const writeOnce = async () => {
    while (buffer.length > 0) {
      const batch = buffer.slice(0, batchSize);
      try {
        if (failedRounds >= 3) await writeRowByRow(batch);
        else await deps.db.insert(llmUsage).values(batch);
        failedRounds = 0;
      } catch (error) {
        failedRounds += 1;
        failures.inc();
        deps.logger.warn({ err: error, buffered: buffer.length }, 'llm usage batch write failed; will retry');
        return;
      }
      buffer = buffer.slice(batch.length);
    }
  };

  const flush = (): Promise<void> => {
    flushing ??= writeOnce().finally(() => {
      flushing = undefined;
    });
    return flushing;
  };

  const timer = setInterval(() => void flush(), options.flushIntervalMs ?? 1000);
  timer.unref();

  return {
    record(row) {
      if (buffer.length >= maxBuffer) {
        dropped.inc();
        return;
      }
      buffer.push(row.createdAt ? row : { ...row, createdAt: new Date() });
      if (buffer.length >= batchSize && !flushing) void flush();
    },
    flush: async () => {
      await flushing;
      await flush();
    },
    async close() {
      clearInterval(timer);
      await this.flush();
    },
  };
}

// ─── Summary ─────────────────────────────────────────────────────────────────

export interface UsageSummaryRow {
  day: string;
  provider: string;
  model: string;
  purpose: string;
  calls: number;
  failed: number;
  promptTokens: number;
  completionTokens: number;
  avgLatencyMs: number;
}

export interface UsageSummary {
  from: Date;
  to: Date;
  totals: { calls: number; failed: number; promptTokens: number; completionTokens: number };
  rows: UsageSummaryRow[];
}

/**
 * Usage of a workspace (or one of its bots) between `from` (inclusive) and `to` (exclusive),
 * grouped by UTC day, provider, model and purpose, oldest day first.
 */
export async function summarizeLlmUsage(
  ctx: { db: DbOrTx },
  options: { workspaceId: string; from: Date; to: Date; botId?: string | undefined },
): Promise<UsageSummary> {
  const day = sql<string>`to_char(${llmUsage.createdAt} at time zone 'UTC', 'YYYY-MM-DD')`;
  const rows = await ctx.db
    .select({
      day,
      provider: llmUsage.provider,
      model: llmUsage.model,
      purpose: llmUsage.purpose,
      calls: sql<number>`count(*)::int`,
      failed: sql<number>`(count(*) filter (where not ${llmUsage.ok}))::int`,
      promptTokens: sql<number>`coalesce(sum(${llmUsage.promptTokens}), 0)::float8`,
      completionTokens: sql<number>`coalesce(sum(${llmUsage.completionTokens}), 0)::float8`,
      avgLatencyMs: sql<number>`coalesce(round(avg(${llmUsage.latencyMs})), 0)::int`,
    })
    .from(llmUsage)
    .where(
      and(
        eq(llmUsage.workspaceId, options.workspaceId),
        gte(llmUsage.createdAt, options.from),
        lt(llmUsage.createdAt, options.to),
        options.botId ? eq(llmUsage.botId, options.botId) : undefined,
      ),
    )
    .groupBy(day, llmUsage.provider, llmUsage.model, llmUsage.purpose)
    .orderBy(day, llmUsage.provider, llmUsage.model, llmUsage.purpose);
  const totals = { calls: 0, failed: 0, promptTokens: 0, completionTokens: 0 };
  for (const row of rows) {
    totals.calls += row.calls;
    totals.failed += row.failed;
    totals.promptTokens += row.promptTokens;
    totals.completionTokens += row.completionTokens;
  }
  return { from: options.from, to: options.to, totals, rows };
}
