import { describe, expect, it } from 'vitest';
import { createLogger } from '../../platform/logger.ts';
import { createMetrics } from '../../platform/metrics.ts';
import { type AnalyticsRow, createTracker } from './tracker.ts';

const workspaceId = '01a20000-0000-7000-8000-000000000000';

function setup(write: (rows: AnalyticsRow[], batchId: string) => Promise<void>, options = {}) {
  const metrics = createMetrics({ defaultMetrics: false });
  const tracker = createTracker(
    { write, logger: createLogger({ level: 'silent' }), metrics },
    { flushIntervalMs: 60_000, ...options },
  );
  const metric = async (name: string) => {
    const found = (await metrics.registry.getMetricsAsJSON()).find((entry) => entry.name === name);
    return found?.values[0]?.value ?? 0;
  };
  return { tracker, metric };
}

describe('createTracker', () => {
  it('writes buffered events in multi-row batches', async () => {
    const batches: AnalyticsRow[][] = [];
    const { tracker, metric } = setup(
      async (rows) => {
        batches.push(rows);
      },
      { batchSize: 3 },
    );
    for (let i = 0; i < 7; i++) tracker.track({ workspaceId, type: 'message_in', data: { i } });
    await tracker.flush();
    expect(batches.map((batch) => batch.length)).toEqual([3, 3, 1]);
    expect(batches.flat().map((row) => row.data)).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => ({ i })));
    expect(await metric('switchboard_analytics_events_written_total')).toBe(7);
    await tracker.close();
  });

  it('leaves events that arrive during a write for the next round instead of writing them at once', async () => {
    const batches: number[] = [];
    let during: (() => void) | undefined;
    const { tracker } = setup(
      async (rows) => {
        batches.push(rows.length);
        during?.();
        await new Promise((resolve) => setTimeout(resolve, 20));
      },
      { batchSize: 100 },
    );
    // A full batch starts a write; five events arrive while it runs.
    during = () => {
      during = undefined;
      for (let i = 0; i < 5; i++) tracker.track({ workspaceId, type: 'message_out' });
    };
    for (let i = 0; i < 100; i++) tracker.track({ workspaceId, type: 'message_in' });
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(batches).toEqual([100]);
    await tracker.flush();
    expect(batches).toEqual([100, 5]);
    await tracker.close();
  });

  it('never throws into the caller and keeps events while the database is down, writing them when it returns', async () => {
    let down = true;
    const written: AnalyticsRow[] = [];
    const { tracker, metric } = setup(async (rows) => {
      if (down) throw new Error('connection refused');
      written.push(...rows);
    });
    expect(() => tracker.track({ workspaceId, type: 'message_out' })).not.toThrow();
    await tracker.flush();
    expect(written).toHaveLength(0);
    expect(await metric('switchboard_analytics_flush_failures_total')).toBe(1);
    expect(await metric('switchboard_analytics_buffer_events')).toBe(1);
    down = false;
    await tracker.flush();
    expect(written).toHaveLength(1);
    expect(await metric('switchboard_analytics_buffer_events')).toBe(0);
    await tracker.close();
  });

  it('bounds the buffer and counts what it drops', async () => {
    const { tracker, metric } = setup(
      async () => {
        throw new Error('slow database');
      },
      { maxBuffer: 3, batchSize: 100 },
    );
    for (let i = 0; i < 5; i++) tracker.track({ workspaceId, type: 'command' });
    expect(await metric('switchboard_analytics_events_dropped_total')).toBe(2);
    expect(await metric('switchboard_analytics_buffer_events')).toBe(3);
    await tracker.close();
  });

  it('retries the very same batch under the same id after a failure, backing off meanwhile', async () => {
    const calls: Array<{ batchId: string; n: number }> = [];
    let fail = true;
    const { tracker, metric } = setup(
      async (rows, batchId) => {
        calls.push({ batchId, n: rows.length });
        if (fail) throw new Error('connection terminated');
      },
      { batchSize: 2, backoffMs: 60_000 },
    );
    tracker.track({ workspaceId, type: 'search' });
    await tracker.flush();
    expect(calls).toHaveLength(1);
    // Backing off: a full batch no longer triggers a write by itself.
    for (let i = 0; i < 4; i++) tracker.track({ workspaceId, type: 'search' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(calls).toHaveLength(1);
    fail = false;
    await tracker.flush();
    // The failed batch again (same id, same single event), then the rest in new batches.
    expect(calls[1]).toEqual(calls[0]);
    expect(calls.slice(2).map((call) => call.n)).toEqual([2, 2]);
    expect(new Set(calls.map((call) => call.batchId)).size).toBe(3);
    expect(await metric('switchboard_analytics_events_written_total')).toBe(5);
    await tracker.close();
  });

  it('drops (and counts) a batch the database refuses for its content, and goes on', async () => {
    const written: AnalyticsRow[] = [];
    const { tracker, metric } = setup(
      async (rows) => {
        if (rows.some((row) => row.data?.bad))
          throw Object.assign(new Error('invalid input'), { code: '22P02' });
        written.push(...rows);
      },
      { batchSize: 1 },
    );
    tracker.track({ workspaceId, type: 'error', data: { bad: true } });
    tracker.track({ workspaceId, type: 'error', data: { bad: false } });
    await tracker.flush();
    expect(written).toHaveLength(1);
    expect(await metric('switchboard_analytics_events_dropped_total')).toBe(1);
    await tracker.close();
  });

  it('drops only the event the database refuses, not the others of its batch (other workspaces included)', async () => {
    const otherWorkspace = '01a20000-0000-7000-8000-000000000001';
    const written: AnalyticsRow[] = [];
    const attempts: number[] = [];
    const { tracker, metric } = setup(async (rows) => {
      attempts.push(rows.length);
      if (rows.some((row) => row.data?.bad))
        throw Object.assign(new Error('unsupported Unicode escape sequence'), { code: '22P05' });
      written.push(...rows);
    });
    for (let i = 0; i < 10; i++) {
      tracker.track({
        workspaceId: i % 2 ? otherWorkspace : workspaceId,
        type: 'search',
        data: { i, bad: i === 6 },
      });
    }
    await tracker.flush();
    expect(written.map((row) => row.data?.i).sort((a, b) => Number(a) - Number(b))).toEqual([
      0, 1, 2, 3, 4, 5, 7, 8, 9,
    ]);
    expect(await metric('switchboard_analytics_events_dropped_total')).toBe(1);
    expect(await metric('switchboard_analytics_events_written_total')).toBe(9);
    expect(await metric('switchboard_analytics_buffer_events')).toBe(0);
    // Halves, not one event at a time: a few statements for one bad event among many.
    expect(attempts.length).toBeLessThanOrEqual(1 + 2 * Math.ceil(Math.log2(10)));
    await tracker.close();
  });

  it('makes event text storable before writing: NUL and half an emoji become U+FFFD', async () => {
    const written: AnalyticsRow[] = [];
    const { tracker } = setup(async (rows) => {
      written.push(...rows);
    });
    const halfEmoji = '\u{1F600}'.repeat(3).slice(0, 5);
    tracker.track({
      workspaceId,
      type: 'search',
      data: { query: halfEmoji, nested: { list: ['a\u0000b'] } },
    });
    await tracker.flush();
    expect(written[0]?.data).toEqual({
      query: '\u{1F600}\u{1F600}\uFFFD',
      nested: { list: ['a\uFFFDb'] },
    });
    await tracker.close();
  });

  it('counts what it still cannot write at shutdown as dropped', async () => {
    const { tracker, metric } = setup(async () => {
      throw new Error('connection refused');
    });
    for (let i = 0; i < 3; i++) tracker.track({ workspaceId, type: 'message_in' });
    await tracker.close();
    expect(await metric('switchboard_analytics_events_dropped_total')).toBe(3);
    expect(await metric('switchboard_analytics_buffer_events')).toBe(0);
  });
});
