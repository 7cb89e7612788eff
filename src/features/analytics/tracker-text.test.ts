import { inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../../testkit/src/start-app.ts';
import { createTestWorkspace, signUp } from '../../../testkit/src/users.ts';
import { createMetrics } from '../../platform/metrics.ts';
import { analyticsEvents } from './schema.ts';
import { createTracker, writeAnalyticsRows } from './tracker.ts';

let app: TestApp;

beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app?.close();
});

describe('createTracker with writeAnalyticsRows', () => {
  it("writes a batch holding a split emoji and a NUL with replacements, other workspaces' events included", async () => {
    const owner = await signUp(app);
    const first = await createTestWorkspace(app, owner, 'First');
    const second = await createTestWorkspace(app, owner, 'Second');
    const tracker = createTracker(
      {
        write: writeAnalyticsRows(app.ctx.db),
        logger: app.ctx.logger,
        metrics: createMetrics({ defaultMetrics: false }),
      },
      { flushIntervalMs: 60_000 },
    );
    // What `.slice(0, 201)` makes of a query of emoji: the last one cut in half.
    const cut = '\u{1F600}'.repeat(150).slice(0, 201);
    tracker.track({ workspaceId: first, type: 'search', data: { query: cut, results: 0 } });
    tracker.track({ workspaceId: first, type: 'button_click', data: { data: 'a\u0000b' } });
    tracker.track({ workspaceId: second, type: 'search', data: { query: 'plain', results: 2 } });
    await tracker.close();

    const rows = await app.ctx.db
      .select({
        workspaceId: analyticsEvents.workspaceId,
        type: analyticsEvents.type,
        data: analyticsEvents.data,
      })
      .from(analyticsEvents)
      .where(inArray(analyticsEvents.workspaceId, [first, second]));
    expect(rows).toHaveLength(3);
    const data = rows.map((row) => row.data);
    expect(data).toContainEqual({ query: `${'\u{1F600}'.repeat(100)}\uFFFD`, results: 0 });
    expect(data).toContainEqual({ data: 'a\uFFFDb' });
    expect(data).toContainEqual({ query: 'plain', results: 2 });
  });
});
