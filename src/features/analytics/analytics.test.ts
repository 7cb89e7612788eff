import { parse } from 'csv-parse/sync';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeTelegram } from '../../../testkit/src/fake-telegram.ts';
import { startTestApp, type TestApp } from '../../../testkit/src/start-app.ts';
import { seedTelegramBot } from '../../../testkit/src/telegram-bot.ts';
import { addMember, createTestWorkspace, signUp, type TestUser } from '../../../testkit/src/users.ts';
import { uuidv7 } from '../../platform/db/columns.ts';
import { workspaces } from '../workspaces/schema.ts';
import { writeEventBatch } from './rollups.ts';
import { analyticsShareLinks } from './schema.ts';
import type { AnalyticsRow } from './tracker.ts';

let app: TestApp;
let fake: FakeTelegram;
let owner: TestUser;
let viewer: TestUser;
let ws = '';
let bot1 = { botId: '', channelId: '' };
let bot2 = { botId: '', channelId: '' };
const contacts = { a: uuidv7(), b: uuidv7(), c: uuidv7(), d: uuidv7() };

/** Berlin is UTC+2 in June: local 2026-06-01 10:00 is 08:00Z. */
const at = (local: string) => new Date(`${local}+02:00`);

async function write(rows: AnalyticsRow[]) {
  await writeEventBatch(app.ctx.db, rows, uuidv7());
}

function event(
  type: AnalyticsRow['type'],
  when: string,
  who: { botId: string; channelId: string },
  contactId: string | null,
  data: Record<string, unknown> = {},
): AnalyticsRow {
  return {
    workspaceId: ws,
    type,
    botId: who.botId,
    channelId: who.channelId,
    contactId,
    data,
    occurredAt: at(when),
  };
}

beforeAll(async () => {
  app = await startTestApp({ work: false });
  fake = await FakeTelegram.start({ rateLimits: false });
  owner = await signUp(app);
  ws = await createTestWorkspace(app, owner, 'Analytics');
  viewer = await addMember(app, owner, ws, 'viewer');
  await app.ctx.db.update(workspaces).set({ timezone: 'Europe/Berlin' }).where(eq(workspaces.id, ws));
  const one = await seedTelegramBot(app.ctx, fake, { workspaceId: ws });
  const two = await seedTelegramBot(app.ctx, fake, { workspaceId: ws });
  bot1 = { botId: one.bot.id, channelId: one.channel.id };
  bot2 = { botId: two.bot.id, channelId: two.channel.id };
  const { a, b, c, d } = contacts;
  await write([
    event('contact_new', '2026-06-01T10:00:00', bot1, a),
    event('command', '2026-06-01T10:00:00', bot1, a, { command: 'start', referrer: 'ads' }),
    event('message_in', '2026-06-01T10:00:00', bot1, a, { type: 'text', command: true }),
    event('message_in', '2026-06-01T10:00:02', bot1, a, { type: 'text' }),
    event('search', '2026-06-01T10:00:03', bot1, a, { query: 'Red  Shoes', results: 0 }),
    event('product_view', '2026-06-01T10:00:04', bot1, a, { productId: 'p1', title: 'Shoe' }),
    event('escalation_created', '2026-06-01T10:00:05', bot1, a, { reason: 'asked for a human' }),
    event('contact_new', '2026-06-01T11:00:00', bot1, b),
    event('command', '2026-06-01T11:00:00', bot1, b, { command: 'start', referrer: 'ads' }),
    event('message_in', '2026-06-01T11:00:01', bot1, b, { type: 'text' }),
    event('message_out', '2026-06-01T10:00:01', bot1, null),
    event('message_out', '2026-06-01T10:00:03', bot1, null),
    event('message_out', '2026-06-01T11:00:02', bot1, null),
  ]);
  await write([
    event('message_in', '2026-06-02T23:30:00', bot1, a, { type: 'text' }),
    event('handoff_started', '2026-06-02T23:31:00', bot1, a, { waitMs: 60_000 }),
    event('escalation_resolved', '2026-06-02T23:40:00', bot1, a, { resolutionMs: 600_000 }),
    event('contact_new', '2026-06-02T23:30:00', bot1, c),
    event('command', '2026-06-02T23:30:00', bot1, c, { command: 'start', referrer: 'blog' }),
    event('message_in', '2026-06-02T23:30:01', bot1, c, { type: 'text' }),
    event('product_view', '2026-06-02T23:30:02', bot1, c, { productId: 'p1', title: 'Shoe' }),
    event('product_view', '2026-06-02T23:30:03', bot1, c, { productId: 'p2', title: 'Hat' }),
    event('llm_call', '2026-06-02T23:30:01', bot1, c, { tokens: 100, cost: 0.002, latencyMs: 500, ok: true }),
    event('llm_call', '2026-06-02T23:30:02', bot1, c, { promptTokens: 40, completionTokens: 10, ok: false }),
    event('contact_new', '2026-06-02T23:35:00', bot2, d),
    event('message_in', '2026-06-02T23:35:00', bot2, d, { type: 'voice' }),
    event('delivery_failed', '2026-06-02T23:35:01', bot2, null, { method: 'sendMessage' }),
  ]);
});

afterAll(async () => {
  await app?.close();
  await fake?.close();
});

const period = 'from=2026-06-01&to=2026-06-03';

describe('GET /api/workspaces/:ws/analytics/summary', () => {
  it('sums the period from the rollups, in the workspace timezone', async () => {
    const response = await app.api(`/api/workspaces/${ws}/analytics/summary?${period}`, {
      token: viewer.token,
    });
    expect(response.status).toBe(200);
    const summary = response.json;
    expect(summary).toMatchObject({
      from: '2026-06-01',
      to: '2026-06-03',
      timezone: 'Europe/Berlin',
      conversations: 5,
      uniqueUsers: 4,
      uniqueUsersMethod: 'exact',
      newUsers: 4,
      messagesIn: 6,
      messagesOut: 3,
      escalations: { opened: 1, resolved: 1, handoffs: 1 },
      searches: 1,
      zeroResultSearches: 1,
      productViews: 3,
      topQueries: [{ query: 'red shoes', count: 1 }],
      topProducts: [
        { productId: 'p1', title: 'Shoe', count: 2 },
        { productId: 'p2', title: 'Hat', count: 1 },
      ],
      llm: { calls: 2, failures: 1, tokens: 150, cost: 0.002 },
      deliveryFailures: 1,
      commands: 3,
    });
    // Medians come from log buckets 2^(1/8) apart: within ~5 %.
    const escalations = summary.escalations as Record<string, number>;
    expect(escalations.medianFirstResponseSeconds).toBeGreaterThan(57);
    expect(escalations.medianFirstResponseSeconds).toBeLessThan(63);
    expect(escalations.medianResolutionSeconds).toBeGreaterThan(570);
    expect(escalations.medianResolutionSeconds).toBeLessThan(630);
  });

  it('filters by bot and by channel, and refuses a channel of another workspace', async () => {
    const byBot = await app.api(`/api/workspaces/${ws}/analytics/summary?${period}&bot=${bot2.botId}`, {
      token: viewer.token,
    });
    expect(byBot.json).toMatchObject({
      uniqueUsers: 1,
      newUsers: 1,
      messagesIn: 1,
      deliveryFailures: 1,
      messagesOut: 0,
    });
    const byChannel = await app.api(
      `/api/workspaces/${ws}/analytics/summary?${period}&channel=${bot1.channelId}`,
      { token: viewer.token },
    );
    expect(byChannel.json).toMatchObject({
      botId: bot1.botId,
      uniqueUsers: 3,
      messagesIn: 5,
      messagesOut: 3,
    });
    const other = await app.api(`/api/workspaces/${ws}/analytics/summary?channel=${uuidv7()}`, {
      token: viewer.token,
    });
    expect(other.status).toBe(404);
    const reversed = await app.api(`/api/workspaces/${ws}/analytics/summary?from=2026-06-03&to=2026-06-01`, {
      token: viewer.token,
    });
    expect(reversed.status).toBe(400);
  });
});

describe('GET /api/workspaces/:ws/analytics/timeseries', () => {
  it('gives one zero-filled point per local day', async () => {
    const response = await app.api(
      `/api/workspaces/${ws}/analytics/timeseries?metric=messages_in&${period}`,
      {
        token: viewer.token,
      },
    );
    expect(response.status).toBe(200);
    const points = response.json.points as Array<{ label: string; value: number; at: string }>;
    expect(points.map((point) => [point.label, point.value])).toEqual([
      ['2026-06-01', 3],
      ['2026-06-02', 3],
      ['2026-06-03', 0],
    ]);
    expect(points[0]?.at).toBe('2026-05-31T22:00:00.000Z');
  });

  it('gives one point per local hour, the late evening events in their local hour', async () => {
    const response = await app.api(
      `/api/workspaces/${ws}/analytics/timeseries?metric=messages_in&interval=hour&from=2026-06-02&to=2026-06-02`,
      { token: viewer.token },
    );
    const points = response.json.points as Array<{ label: string; value: number }>;
    expect(points).toHaveLength(24);
    expect(points.filter((point) => point.value > 0)).toEqual([
      expect.objectContaining({ label: '2026-06-02 23:00', value: 3 }),
    ]);
    const tokens = await app.api(
      `/api/workspaces/${ws}/analytics/timeseries?metric=llm_tokens&from=2026-06-02&to=2026-06-02`,
      { token: viewer.token },
    );
    expect((tokens.json.points as Array<{ value: number }>)[0]?.value).toBe(150);
    const dailyOnly = await app.api(
      `/api/workspaces/${ws}/analytics/timeseries?metric=conversations&interval=hour&${period}`,
      { token: viewer.token },
    );
    expect(dailyOnly.status).toBe(400);
  });
});

describe('GET /api/workspaces/:ws/analytics/funnel and /referrals', () => {
  it('follows contacts who started in the period through the steps, in order', async () => {
    const response = await app.api(`/api/workspaces/${ws}/analytics/funnel?${period}`, {
      token: viewer.token,
    });
    expect(response.status).toBe(200);
    const steps = response.json.steps as Array<{ step: string; count: number }>;
    expect(steps.map((step) => [step.step, step.count])).toEqual([
      ['started', 4],
      ['asked', 4],
      ['viewed_product', 2],
      ['escalated', 1],
    ]);
  });

  it('ranks deep-link sources by starts', async () => {
    const response = await app.api(`/api/workspaces/${ws}/analytics/referrals?${period}`, {
      token: viewer.token,
    });
    expect(response.json.items).toEqual([
      { source: 'ads', starts: 2 },
      { source: 'blog', starts: 1 },
    ]);
  });
});

describe('GET /api/workspaces/:ws/analytics/events', () => {
  it('pages through raw events newest first with filters and a cursor', async () => {
    const seen: Array<{ id: number; occurredAt: string }> = [];
    let cursor: string | null = null;
    do {
      const query: string = `limit=4${cursor ? `&cursor=${cursor}` : ''}`;
      const response = await app.api(`/api/workspaces/${ws}/analytics/events?${query}`, {
        token: viewer.token,
      });
      expect(response.status).toBe(200);
      seen.push(...(response.json.items as Array<{ id: number; occurredAt: string }>));
      cursor = response.json.nextCursor as string | null;
    } while (cursor);
    expect(seen).toHaveLength(26);
    expect(new Set(seen.map((item) => item.id)).size).toBe(26);
    const times = seen.map((item) => Date.parse(item.occurredAt));
    expect(times).toEqual([...times].sort((x, y) => y - x));
    const filtered = await app.api(
      `/api/workspaces/${ws}/analytics/events?type=product_view&contact=${contacts.c}`,
      { token: viewer.token },
    );
    expect((filtered.json.items as unknown[]).length).toBe(2);
    const bad = await app.api(`/api/workspaces/${ws}/analytics/events?cursor=nonsense`, {
      token: viewer.token,
    });
    expect(bad.status).toBe(400);
  });
});

describe('GET /api/workspaces/:ws/analytics/export.csv', () => {
  it('streams every raw event as RFC 4180 CSV, quoting and defusing what needs it', async () => {
    const other = await createTestWorkspace(app, owner, 'Export');
    const tricky = 'He said "hi", then\nleft';
    const total = 12_345;
    for (let start = 0; start < total; start += 2000) {
      const size = Math.min(2000, total - start);
      await writeEventBatch(
        app.ctx.db,
        Array.from({ length: size }, (_, i) => ({
          workspaceId: other,
          type: 'search' as const,
          data: { query: i % 2 === 0 ? tricky : '=HYPERLINK("x")', n: start + i },
          occurredAt: new Date(Date.UTC(2026, 0, 1) + (start + i) * 1000),
        })),
        uuidv7(),
      );
    }
    const response = await fetch(`${app.url}/api/workspaces/${other}/analytics/export.csv?kind=events`, {
      headers: { authorization: `Bearer ${owner.token}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(response.headers.get('content-disposition')).toMatch(/attachment; filename="analytics-events-/);
    const text = await response.text();
    const records: string[][] = parse(text);
    expect(records[0]).toEqual(['id', 'occurred_at', 'type', 'bot_id', 'channel_id', 'contact_id', 'data']);
    expect(records).toHaveLength(total + 1);
    const ns = records.slice(1).map((record) => JSON.parse(record[6] ?? '{}').n);
    expect(new Set(ns).size).toBe(total);
    const first = records[1] ?? [];
    expect(JSON.parse(first[6] ?? '{}').query).toBe(total % 2 === 1 ? tricky : '=HYPERLINK("x")');

    const summary = await app.api(`/api/workspaces/${ws}/analytics/export.csv?kind=summary&${period}`, {
      token: viewer.token,
    });
    const rows: string[][] = parse(String(summary.body));
    expect(rows).toContainEqual(['messages_in', '', '6']);
    expect(rows).toContainEqual(['top_query', 'red shoes', '1']);
    const series = await app.api(
      `/api/workspaces/${ws}/analytics/export.csv?kind=timeseries&metric=messages_in&${period}`,
      { token: viewer.token },
    );
    expect(parse(String(series.body))).toEqual([
      ['bucket_start', 'local', 'metric', 'value'],
      ['2026-05-31T22:00:00.000Z', '2026-06-01', 'messages_in', '3'],
      ['2026-06-01T22:00:00.000Z', '2026-06-02', 'messages_in', '3'],
      ['2026-06-02T22:00:00.000Z', '2026-06-03', 'messages_in', '0'],
    ]);
  });

  it('prefixes text that a spreadsheet would run as a formula', async () => {
    const { csvField } = await import('./raw-events.ts');
    expect(csvField('=SUM(A1)')).toBe("'=SUM(A1)");
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "x"')).toBe('"say ""x"""');
    expect(csvField(-3)).toBe('-3');
  });
});

describe('GET /api/workspaces/:ws/analytics/chart.png', () => {
  it('renders a timeseries to a PNG of the asked size on the server', async () => {
    const response = await fetch(
      `${app.url}/api/workspaces/${ws}/analytics/chart.png?metric=messages_in&${period}&width=640&height=320`,
      { headers: { authorization: `Bearer ${viewer.token}` } },
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/png');
    const png = Buffer.from(await response.arrayBuffer());
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(png.subarray(12, 16).toString('ascii')).toBe('IHDR');
    expect(png.readUInt32BE(16)).toBe(640);
    expect(png.readUInt32BE(20)).toBe(320);
    expect(png.length).toBeGreaterThan(2000);
  });
});

describe('share links', () => {
  it('open without login, show fresh figures, and answer 410 once revoked or expired', async () => {
    const created = await app.api(`/api/workspaces/${ws}/analytics/share-links`, {
      method: 'POST',
      token: owner.token,
      json: {
        name: 'June report',
        scope: {
          reports: ['summary', 'timeseries', 'funnel'],
          metrics: ['messages_in'],
          period: { kind: 'range', from: '2026-06-01', to: '2026-06-03' },
        },
        expiresInSeconds: 86_400,
      },
    });
    expect(created.status).toBe(201);
    const token = String(created.json.token);
    expect(String(created.json.url)).toMatch(new RegExp(`/share/${token}$`));
    const viewerCreate = await app.api(`/api/workspaces/${ws}/analytics/share-links`, {
      method: 'POST',
      token: viewer.token,
      json: {
        name: 'x',
        scope: { reports: ['summary'], period: { kind: 'last_days', days: 7 } },
        expiresInSeconds: 3600,
      },
    });
    expect(viewerCreate.status).toBe(403);
    const tooLong = await app.api(`/api/workspaces/${ws}/analytics/share-links`, {
      method: 'POST',
      token: owner.token,
      json: {
        name: 'x',
        scope: { reports: ['summary'], period: { kind: 'last_days', days: 7 } },
        expiresInSeconds: 31 * 86_400,
      },
    });
    expect(tooLong.status).toBe(400);

    const first = await app.api(`/api/share/${token}`);
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ name: 'June report', summary: { messagesIn: 6 } });
    expect(first.json.funnel).toHaveLength(4);

    // Fresh data: a new event shows at once.
    await write([event('message_in', '2026-06-03T09:00:00', bot1, contacts.b, { type: 'text' })]);
    const second = await app.api(`/api/share/${token}`);
    expect(second.json).toMatchObject({ summary: { messagesIn: 7 } });

    const page = await app.api(`/share/${token}`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(String(page.body)).toContain('June report');
    expect(String(page.body)).toContain('<svg');

    const list = await app.api(`/api/workspaces/${ws}/analytics/share-links`, { token: owner.token });
    const links = list.json.items as Array<{ id: string; name: string }>;
    const link = links.find((entry) => entry.name === 'June report');
    expect(link).toBeDefined();
    expect(JSON.stringify(list.body)).not.toContain(token);
    const revoked = await app.api(`/api/workspaces/${ws}/analytics/share-links/${link?.id}`, {
      method: 'DELETE',
      token: owner.token,
    });
    expect(revoked.status).toBe(204);
    expect((await app.api(`/api/share/${token}`)).status).toBe(410);
    const gonePage = await app.api(`/share/${token}`, { headers: { accept: 'text/html' } });
    expect(gonePage.status).toBe(410);
    expect(String(gonePage.body)).toContain('no longer available');

    // Expiry: a second link, whose time runs out.
    const rolling = await app.api(`/api/workspaces/${ws}/analytics/share-links`, {
      method: 'POST',
      token: owner.token,
      json: {
        name: 'Rolling',
        scope: { reports: ['summary'], period: { kind: 'last_days', days: 7 } },
        expiresInSeconds: 3600,
      },
    });
    const rollingToken = String(rolling.json.token);
    expect((await app.api(`/api/share/${rollingToken}`)).status).toBe(200);
    await app.ctx.db
      .update(analyticsShareLinks)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(analyticsShareLinks.name, 'Rolling'));
    const expired = await app.api(`/api/share/${rollingToken}`);
    expect(expired.status).toBe(410);
    expect(expired.json).toMatchObject({ error: { code: 'GONE' } });
    expect((await app.api('/api/share/sbr_unknown_token_000')).status).toBe(404);
  });
});
