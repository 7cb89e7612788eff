import { randomBytes } from 'node:crypto';
import { and, count, eq } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { FakeTelegram } from '../../../testkit/src/fake-telegram.ts';
import { startTestApp, type TestApp } from '../../../testkit/src/start-app.ts';
import { seedTelegramBot } from '../../../testkit/src/telegram-bot.ts';
import { createTestWorkspace, signUp } from '../../../testkit/src/users.ts';
import { analyticsEvents } from './schema.ts';

const databaseUrl = process.env.TEST_DATABASE_URL;
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function metricValue(app: TestApp, name: string): Promise<number> {
  const found = (await app.ctx.metrics.registry.getMetricsAsJSON()).find((entry) => entry.name === name);
  return Number(found?.values[0]?.value ?? 0);
}

// Needs a real server to kill connections on: PostgreSQL's pg_terminate_backend.
describe.runIf(databaseUrl)('analytics tracker under a database outage', () => {
  it("loses no reply when the app's database connections are killed during load; buffered events are written when it returns or counted as dropped", async () => {
    if (!databaseUrl) return;
    // The app's connections carry an application_name of their own, so only they are killed.
    const applicationName = `sb_outage_${randomBytes(4).toString('hex')}`;
    const url = new URL(databaseUrl);
    url.searchParams.set('application_name', applicationName);
    const fake = await FakeTelegram.start({
      rateLimits: false,
      webhookRetryBaseMs: 50,
      webhookRetryMaxMs: 500,
    });
    cleanups.push(() => fake.close());
    const app = await startTestApp({
      env: { TELEGRAM_API_ROOT: fake.url, DATABASE_URL: url.toString() },
    });
    cleanups.push(() => app.close());
    const owner = await signUp(app);
    const workspaceId = await createTestWorkspace(app, owner);
    const bot = await seedTelegramBot(app.ctx, fake, {
      workspaceId,
      webhookBaseUrl: app.url,
      maxConnections: 20,
    });

    const admin = new pg.Client({ connectionString: databaseUrl });
    await admin.connect();
    cleanups.push(() => admin.end());
    const kill = async () => {
      const result = await admin.query(
        'select count(pg_terminate_backend(pid)) as n from pg_stat_activity where application_name = $1',
        [applicationName],
      );
      return Number(result.rows[0]?.n ?? 0);
    };

    const n = 300;
    for (let i = 0; i < n; i++) {
      const chatId = 7_000_000 + i;
      fake.sendText(bot.token, { chatId, from: { id: chatId, first_name: 'Ann' }, text: '/help' });
    }
    // Kill every connection of the app three times while the updates flow.
    let killed = 0;
    for (let round = 0; round < 3; round++) {
      await waitFor(() => fake.sentMessages(bot.token).length >= ((round + 1) * n) / 5, 60_000, 'progress');
      killed += await kill();
    }
    expect(killed).toBeGreaterThan(0);

    await waitFor(() => fake.sentMessages(bot.token).length >= n, 120_000, `${n} replies`);
    const chats = fake.sentMessages(bot.token).map((message) => String(message.chat.id));
    expect(new Set(chats).size).toBe(n);
    expect(chats).toHaveLength(n);

    // Every message_in event is in the table, or counted as dropped — never silently gone.
    await app.ctx.analytics.flush();
    const written = async () => {
      const [row] = await app.ctx.db
        .select({ n: count() })
        .from(analyticsEvents)
        .where(and(eq(analyticsEvents.workspaceId, workspaceId), eq(analyticsEvents.type, 'message_in')));
      return row?.n ?? 0;
    };
    await waitFor(
      async () => {
        await app.ctx.analytics.flush();
        return (
          (await written()) + (await metricValue(app, 'switchboard_analytics_events_dropped_total')) >= n
        );
      },
      60_000,
      'events written or counted',
    );
    const dropped = await metricValue(app, 'switchboard_analytics_events_dropped_total');
    expect((await written()) + dropped).toBe(n);
    expect(await metricValue(app, 'switchboard_analytics_buffer_events')).toBe(0);
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    expect(metrics).toContain('switchboard_analytics_events_dropped_total');
    expect(metrics).toMatch(/switchboard_pipeline_updates_ingested_total\{outcome="stored"\} \d+/);
    expect(metrics).toMatch(
      /switchboard_outbox_total\{channel="telegram",bot="[0-9a-f-]+",outcome="sent"\} \d+/,
    );
    expect(metrics).toContain('switchboard_queue_lag_seconds');
    const health = await (await fetch(`${app.url}/health`)).json();
    expect(health).toMatchObject({ checks: { queues: { ok: true } } });
  }, 240_000);
});
