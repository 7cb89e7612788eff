import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../../testkit/src/start-app.ts';
import { createTestWorkspace, signUp } from '../../../testkit/src/users.ts';
import { retryAfterOf } from '../../assistant/llm/llm-client.ts';
import { createMetrics } from '../../platform/metrics.ts';
import { llmUsage } from './schema.ts';
import { createUsageRecorder, type LlmUsageRow } from './usage.ts';

let app: TestApp;
let workspaceId: string;

beforeAll(async () => {
  app = await startTestApp({ work: false });
  workspaceId = await createTestWorkspace(app, await signUp(app), 'Usage rows');
});
afterAll(async () => {
  await app?.close();
});

function row(overrides: Partial<LlmUsageRow> = {}): LlmUsageRow {
  return {
    workspaceId,
    provider: 'platform',
    model: 'm',
    purpose: 'chat',
    promptTokens: 10,
    completionTokens: 2,
    latencyMs: 120,
    ok: true,
    ...overrides,
  };
}

describe('createUsageRecorder', () => {
  it('writes buffered rows in one batch on flush', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const recorder = createUsageRecorder(
      { db: app.ctx.db, logger: app.ctx.logger, metrics },
      { flushIntervalMs: 60_000 },
    );
    for (let i = 0; i < 5; i++) recorder.record(row({ model: 'batch-model', latencyMs: i }));
    await recorder.close();
    const rows = await app.ctx.db.select().from(llmUsage).where(eq(llmUsage.model, 'batch-model'));
    expect(rows).toHaveLength(5);
  });

  it('sets a poisoned row aside after repeated batch failures, keeping the good rows', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const recorder = createUsageRecorder(
      { db: app.ctx.db, logger: app.ctx.logger, metrics },
      { flushIntervalMs: 60_000 },
    );
    recorder.record(row({ model: 'good-1' }));
    // A workspace that does not exist (deleted meanwhile): the foreign key refuses the batch.
    recorder.record(row({ model: 'poison', workspaceId: '01900000-0000-7000-8000-0000000000aa' }));
    recorder.record(row({ model: 'good-2' }));
    for (let round = 0; round < 4; round++) await recorder.flush();
    const models = (await app.ctx.db.select({ model: llmUsage.model }).from(llmUsage)).map((r) => r.model);
    expect(models).toEqual(expect.arrayContaining(['good-1', 'good-2']));
    expect(models).not.toContain('poison');
    const text = await metrics.registry.metrics();
    expect(text).toContain('switchboard_llm_usage_dropped_total 1');
    expect(text).toContain('switchboard_llm_usage_flush_failures_total 3');
    await recorder.close();
  });

  it('drops and counts rows beyond the buffer bound instead of growing without limit', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const recorder = createUsageRecorder(
      { db: app.ctx.db, logger: app.ctx.logger, metrics },
      { maxBuffer: 2, batchSize: 100, flushIntervalMs: 60_000 },
    );
    for (let i = 0; i < 5; i++) recorder.record(row({ model: 'bounded' }));
    await recorder.close();
    expect(await app.ctx.db.select().from(llmUsage).where(eq(llmUsage.model, 'bounded'))).toHaveLength(2);
    expect(await metrics.registry.metrics()).toContain('switchboard_llm_usage_dropped_total 3');
  });
});

describe('retryAfterOf', () => {
  it('prefers retry-after-ms, then retry-after in seconds or as an HTTP date', () => {
    expect(retryAfterOf(new Headers({ 'retry-after-ms': '1500', 'retry-after': '9' }))).toBe(1500);
    expect(retryAfterOf(new Headers({ 'retry-after': '2' }))).toBe(2000);
    expect(retryAfterOf(new Headers({ 'retry-after': '0.25' }))).toBe(250);
    const inTenSeconds = new Date(Date.now() + 10_000).toUTCString();
    const fromDate = retryAfterOf(new Headers({ 'retry-after': inTenSeconds })) ?? 0;
    expect(fromDate).toBeGreaterThan(8000);
    expect(fromDate).toBeLessThanOrEqual(10_000);
    expect(retryAfterOf(new Headers({ 'retry-after': 'soon' }))).toBeUndefined();
    expect(retryAfterOf(new Headers())).toBeUndefined();
    expect(retryAfterOf(undefined)).toBeUndefined();
  });
});
