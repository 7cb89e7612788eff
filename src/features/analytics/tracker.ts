import { uuidv7 } from '../../platform/db/columns.ts';
import type { Db } from '../../platform/db/index.ts';
import type { Logger } from '../../platform/logger.ts';
import type { Metrics } from '../../platform/metrics.ts';
import { toStorableRecord } from '../../platform/text.ts';
import type { EventType } from './events.ts';
import { writeEventBatch } from './rollups.ts';
import type { analyticsEvents } from './schema.ts';

export type { EventType } from './events.ts';

export interface TrackedEvent {
  workspaceId: string;
  type: EventType;
  botId?: string | null;
  channelId?: string | null;
  contactId?: string | null;
  data?: Record<string, unknown>;
  /** Defaults to now. */
  at?: Date;
}

export interface Tracker {
  /** Buffers an event; never blocks, never throws. Overflow is dropped and counted. */
  track(event: TrackedEvent): void;
  /** Writes what is buffered (tests, shutdown). */
  flush(): Promise<void>;
  /** Stops the timer and flushes. */
  close(): Promise<void>;
}

export type AnalyticsRow = typeof analyticsEvents.$inferInsert;

/** Writes one batch: raw rows and their rollups in one transaction, once per batch id. */
export type BatchWriter = (rows: AnalyticsRow[], batchId: string) => Promise<void>;

/**
 * The tracker's database write: the raw rows and every rollup they touch, in one transaction,
 * skipped when `batchId` was already written (a retry after an ambiguous failure — say the
 * connection died after the commit — never counts twice). See rollups.ts.
 */
export function writeAnalyticsRows(db: Db): BatchWriter {
  return (rows, batchId) => writeEventBatch(db, rows, batchId);
}

export interface TrackerOptions {
  /** Events held at most (buffered + the batch being written); beyond it new events are dropped and counted. */
  maxBuffer?: number;
  /** Rows per INSERT. */
  batchSize?: number;
  flushIntervalMs?: number;
  /** First retry delay after a failed write; doubles per failure up to `maxBackoffMs`. */
  backoffMs?: number;
  maxBackoffMs?: number;
}

/**
 * Event tracking off the reply path: events gather in memory and are written in multi-row
 * batches every second (or as soon as a batch is full). `track` only pushes to an array: it
 * never awaits, never throws. When the database is slow or down the batch is retried with
 * exponential backoff (the same batch, under the same id, so a write that did commit is not
 * repeated) while the buffer stays bounded — the oldest events stay, new ones are dropped —
 * and every drop shows in `switchboard_analytics_events_dropped_total`, never silently.
 * `close()` (shutdown) writes what is left; what still cannot be written is counted as dropped.
 */
export function createTracker(
  deps: { write: BatchWriter; logger: Logger; metrics: Metrics },
  options: TrackerOptions = {},
): Tracker {
  const maxBuffer = options.maxBuffer ?? 50_000;
  const batchSize = options.batchSize ?? 1000;
  const backoffMs = options.backoffMs ?? 500;
  const maxBackoffMs = options.maxBackoffMs ?? 30_000;
  const buffered = deps.metrics.gauge(
    'switchboard_analytics_buffer_events',
    'Analytics events waiting to be written',
  );
  const dropped = deps.metrics.counter(
    'switchboard_analytics_events_dropped_total',
    'Analytics events dropped because the buffer was full (or still unwritten at shutdown)',
  );
  const written = deps.metrics.counter(
    'switchboard_analytics_events_written_total',
    'Analytics events written',
  );
  const failures = deps.metrics.counter(
    'switchboard_analytics_flush_failures_total',
    'Failed analytics batch writes (retried with backoff)',
  );
  let buffer: TrackedEvent[] = [];
  /** The batch being written, kept with its id until it is written. */
  let inFlight: { id: string; rows: AnalyticsRow[] } | undefined;
  /** Halves of a batch the database refused for its content, written before the buffer. */
  let split: Array<{ id: string; rows: AnalyticsRow[] }> = [];
  let flushing: Promise<void> | undefined;
  let failuresInRow = 0;
  let retryAt = 0;

  const held = () =>
    buffer.length + (inFlight?.rows.length ?? 0) + split.reduce((sum, part) => sum + part.rows.length, 0);

  const takeBatch = () => {
    const events = buffer.slice(0, batchSize);
    buffer = buffer.slice(events.length);
    return {
      id: uuidv7(),
      rows: events.map((event) => ({
        workspaceId: event.workspaceId,
        type: event.type,
        botId: event.botId ?? null,
        channelId: event.channelId ?? null,
        contactId: event.contactId ?? null,
        // One batch is one jsonb document for all workspaces: a NUL or half an emoji in one
        // event's text would make PostgreSQL refuse all of them.
        data: event.data ? toStorableRecord(event.data) : {},
        occurredAt: event.at ?? new Date(),
      })),
    };
  };

  /**
   * Writes the batch in flight, or the buffer's next batch; then more only while full batches
   * wait — or, with `drain` (flush, close), until the buffer is empty. Without that bound a
   * write taking 30 ms under load found 30 ms of new events and wrote them at once, so the
   * writer ran back to back in batches of a dozen events instead of once a second.
   */
  const writeOnce = async (drain: boolean) => {
    let first = true;
    while (
      inFlight ||
      split.length > 0 ||
      (buffer.length > 0 && (first || drain || buffer.length >= batchSize))
    ) {
      first = false;
      inFlight ??= split.shift() ?? takeBatch();
      try {
        await deps.write(inFlight.rows, inFlight.id);
      } catch (error) {
        if (isPermanentError(error)) {
          // The database refused this batch's content (not an outage): retrying it whole
          // would block every later event behind it. Its halves are written apart (under new
          // ids: nothing of it committed), down to the one event refused, which is dropped —
          // counted and logged — so other events, other workspaces' included, still count.
          const { rows } = inFlight;
          inFlight = undefined;
          if (rows.length > 1) {
            const middle = Math.ceil(rows.length / 2);
            split = [
              { id: uuidv7(), rows: rows.slice(0, middle) },
              { id: uuidv7(), rows: rows.slice(middle) },
              ...split,
            ];
            continue;
          }
          dropped.inc(rows.length);
          deps.logger.error(
            { err: error, event: rows[0] && { workspaceId: rows[0].workspaceId, type: rows[0].type } },
            'analytics event refused; dropped',
          );
          buffered.set(held());
          continue;
        }
        // Kept for the next round: a database outage delays events, the bound limits memory.
        failures.inc();
        failuresInRow += 1;
        const delay = Math.min(maxBackoffMs, backoffMs * 2 ** (failuresInRow - 1));
        retryAt = Date.now() + delay;
        deps.logger.warn(
          { err: error, buffered: held(), retryInMs: delay },
          'analytics batch write failed; will retry',
        );
        return;
      }
      written.inc(inFlight.rows.length);
      inFlight = undefined;
      failuresInRow = 0;
      retryAt = 0;
      buffered.set(held());
    }
  };

  const flush = (drain = false): Promise<void> => {
    flushing ??= writeOnce(drain).finally(() => {
      flushing = undefined;
    });
    return flushing;
  };

  // While backing off, the timer and full batches leave the database alone.
  const timer = setInterval(() => {
    if (Date.now() >= retryAt) void flush();
  }, options.flushIntervalMs ?? 1000);
  timer.unref();

  return {
    track(event) {
      if (held() >= maxBuffer) {
        dropped.inc();
        return;
      }
      buffer.push(event.at ? event : { ...event, at: new Date() });
      buffered.set(held());
      if (buffer.length >= batchSize && !flushing && Date.now() >= retryAt) void flush();
    },
    flush: async () => {
      await flushing;
      await flush(true);
    },
    async close() {
      clearInterval(timer);
      await this.flush();
      const left = held();
      if (left > 0) {
        dropped.inc(left);
        deps.logger.error(
          { events: left },
          'analytics events not written at shutdown (database unreachable)',
        );
        buffer = [];
        inFlight = undefined;
        split = [];
        buffered.set(0);
      }
    },
  };
}

/** SQLSTATE classes 22 (data), 23 (integrity), 42 (syntax/undefined): retrying cannot help. */
function isPermanentError(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 4; depth++) {
    if (typeof current === 'object' && 'code' in current && typeof current.code === 'string') {
      if (/^(22|23|42)[0-9A-Z]{3}$/.test(current.code)) return true;
    }
    current = current instanceof Error ? current.cause : undefined;
  }
  return false;
}
