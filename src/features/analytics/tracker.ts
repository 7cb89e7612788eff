import type { Db } from '../../platform/db/index.ts';
import type { Logger } from '../../platform/logger.ts';
import type { Metrics } from '../../platform/metrics.ts';
import { analyticsEvents } from './schema.ts';

export type EventType =
  | 'message_in'
  | 'message_out'
  | 'command'
  | 'button_click'
  | 'contact_new'
  | 'contact_blocked'
  | 'escalation_created'
  | 'delivery_failed'
  | 'error';

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

/** The tracker's database write: one multi-row INSERT. */
export function writeAnalyticsRows(db: Db) {
  return async (rows: AnalyticsRow[]) => {
    await db.insert(analyticsEvents).values(rows);
  };
}

export interface TrackerOptions {
  /** Events held at most; beyond it new events are dropped (and counted). */
  maxBuffer?: number;
  /** Rows per INSERT. */
  batchSize?: number;
  flushIntervalMs?: number;
}

/**
 * Event tracking off the reply path: events gather in memory and are written in multi-row
 * batches every second (or as soon as a batch is full). When the database is slow or down the
 * buffer is bounded — the oldest events stay, new ones are dropped — and every drop shows in
 * `switchboard_analytics_events_dropped_total`, never silently.
 */
export function createTracker(
  deps: { write: (rows: AnalyticsRow[]) => Promise<void>; logger: Logger; metrics: Metrics },
  options: TrackerOptions = {},
): Tracker {
  const maxBuffer = options.maxBuffer ?? 50_000;
  const batchSize = options.batchSize ?? 1000;
  const buffered = deps.metrics.gauge(
    'switchboard_analytics_buffer_events',
    'Analytics events waiting to be written',
  );
  const dropped = deps.metrics.counter(
    'switchboard_analytics_events_dropped_total',
    'Analytics events dropped because the buffer was full',
  );
  const written = deps.metrics.counter(
    'switchboard_analytics_events_written_total',
    'Analytics events written',
  );
  const failures = deps.metrics.counter(
    'switchboard_analytics_flush_failures_total',
    'Failed analytics batch writes (retried)',
  );
  let buffer: TrackedEvent[] = [];
  let flushing: Promise<void> | undefined;

  const writeOnce = async () => {
    while (buffer.length > 0) {
      const batch = buffer.slice(0, batchSize);
      try {
        await deps.write(
          batch.map((event) => ({
            workspaceId: event.workspaceId,
            type: event.type,
            botId: event.botId ?? null,
            channelId: event.channelId ?? null,
            contactId: event.contactId ?? null,
            data: event.data ?? {},
            occurredAt: event.at ?? new Date(),
          })),
        );
      } catch (error) {
        // Kept for the next round: a database outage delays events, the bound limits memory.
        failures.inc();
        deps.logger.warn({ err: error, buffered: buffer.length }, 'analytics batch write failed; will retry');
        return;
      }
      buffer = buffer.slice(batch.length);
      written.inc(batch.length);
      buffered.set(buffer.length);
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
    track(event) {
      if (buffer.length >= maxBuffer) {
        dropped.inc();
        return;
      }
      buffer.push(event.at ? event : { ...event, at: new Date() });
      buffered.set(buffer.length);
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
