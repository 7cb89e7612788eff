import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../../testkit/src/start-app.ts';
import { uuidv7 } from '../../platform/db/columns.ts';
import { queryRows, toNumber } from '../../platform/db/rows.ts';
import { workspaces } from '../workspaces/schema.ts';
import { ACTIVE_CONTACTS, type EventType } from './events.ts';
import { ALL_ID, buildSketches, NO_ID, rebuildRollups, writeEventBatch } from './rollups.ts';
import { countUniqueUsers, localDate, resolveScope } from './service.ts';
import type { AnalyticsRow } from './tracker.ts';

let app: TestApp;

beforeAll(async () => {
  app = await startTestApp({ work: false });
});
afterAll(async () => {
  await app?.close();
});

async function createWorkspace(timezone: string): Promise<string> {
  const id = uuidv7();
  await app.ctx.db.insert(workspaces).values({ id, name: 'Rollups', slug: `rollups-${id}`, timezone });
  return id;
}

/** The local hour of an instant in a timezone, as `YYYY-MM-DD HH` (the oracle, via Intl). */
function localHour(at: Date, timezone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: timezone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(at);
  const get = (type: string) => parts.find((part) => part.type === type)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}`;
}

const TYPES: EventType[] = ['message_in', 'message_out', 'search', 'llm_call', 'product_view', 'contact_new'];
const BOTS = [randomUUID(), randomUUID()];
const CHANNELS = [randomUUID(), randomUUID(), randomUUID()];
const CONTACTS = Array.from({ length: 12 }, () => randomUUID());
const QUERIES = ['Red shoes', 'red  shoes', 'blue hat', ''];
// Around both 2026 DST changes of New York (8 March, 1 November) and a plain stretch.
const WINDOWS = [Date.parse('2026-03-07T12:00:00Z'), Date.parse('2026-10-31T12:00:00Z')];

const eventArb = fc.record({
  type: fc.constantFrom(...TYPES),
  bot: fc.option(fc.constantFrom(...BOTS), { nil: null }),
  channel: fc.constantFrom(...CHANNELS),
  contact: fc.option(fc.constantFrom(...CONTACTS), { nil: null }),
  window: fc.constantFrom(...WINDOWS),
  offsetMinutes: fc.integer({ min: 0, max: 3 * 24 * 60 }),
  tokens: fc.integer({ min: 0, max: 5000 }),
  results: fc.integer({ min: 0, max: 3 }),
  query: fc.constantFrom(...QUERIES),
});

type Generated = typeof eventArb extends fc.Arbitrary<infer T> ? T : never;

function toRow(workspaceId: string, event: Generated): AnalyticsRow {
  const data: Record<string, unknown> =
    event.type === 'llm_call'
      ? { tokens: event.tokens, cost: event.tokens / 1000, latencyMs: 100 + event.tokens }
      : event.type === 'search'
        ? { query: event.query, results: event.results }
        : event.type === 'product_view'
          ? { productId: `p${event.results}`, title: `Product ${event.results}` }
          : {};
  // A contact belongs to one channel (of one bot), as in the product.
  const index = event.contact ? CONTACTS.indexOf(event.contact) : -1;
  const botId = index >= 0 ? (index % 3 === 0 ? null : (BOTS[index % 2] ?? null)) : event.bot;
  const channelId =
    index >= 0 ? (botId ? (CHANNELS[index % 3] ?? null) : null) : event.bot ? event.channel : null;
  return {
    workspaceId,
    type: event.type,
    botId,
    channelId,
    contactId: event.contact,
    data,
    occurredAt: new Date(event.window + event.offsetMinutes * 60_000),
  };
}

function increment(map: Map<string, number>, key: string, by = 1) {
  map.set(key, (map.get(key) ?? 0) + by);
}

async function rollupTables(workspaceId: string) {
  const tables = [
    'analytics_hourly',
    'analytics_daily',
    'analytics_daily_durations',
    'analytics_daily_keys',
    'analytics_daily_contacts',
    'analytics_funnel',
  ];
  const out: Record<string, unknown[]> = {};
  for (const table of tables) {
    const rows = await queryRows(
      app.ctx.db,
      sql`select * from ${sql.identifier(table)} where workspace_id = ${workspaceId}`,
    );
    out[table] = rows
      .map((row) => JSON.stringify(Object.entries(row).sort(([a], [b]) => a.localeCompare(b))))
      .sort();
  }
  return out;
}

describe('writeEventBatch', () => {
  it('maintains hourly and daily rollups equal to a computation from the raw events, in a DST timezone, whatever the batching, retries included', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(eventArb, { minLength: 1, maxLength: 120 }),
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 10 }),
        fc.constantFrom('America/New_York', 'Asia/Kolkata', 'UTC'),
        async (events, splits, timezone) => {
          const workspaceId = await createWorkspace(timezone);
          const rows = events.map((event) => toRow(workspaceId, event));
          // Write in batches of the generated sizes; every other batch is written twice under
          // its id (a retry after an ambiguous failure) and must count once.
          let start = 0;
          let round = 0;
          while (start < rows.length) {
            const size = splits[round % splits.length] ?? 10;
            const batch = rows.slice(start, start + size);
            const batchId = uuidv7();
            await writeEventBatch(app.ctx.db, batch, batchId);
            if (round % 2 === 1) await writeEventBatch(app.ctx.db, batch, batchId);
            start += size;
            round += 1;
          }

          // The oracle, from the generated events alone.
          const daily = new Map<string, number>();
          const dailyByBot = new Map<string, number>();
          const hourly = new Map<string, number>();
          const tokensByDay = new Map<string, number>();
          const zeroByDay = new Map<string, number>();
          const contactsByDay = new Map<string, Set<string>>();
          const queries = new Map<string, number>();
          for (const row of rows) {
            const at = row.occurredAt ?? new Date();
            const day = localDate(at, timezone);
            increment(daily, `${day}/${row.type}`);
            increment(dailyByBot, `${day}/${row.type}/${row.botId ?? NO_ID}/${row.channelId ?? NO_ID}`);
            increment(hourly, `${localHour(at, timezone)}/${row.type}`);
            if (row.type === 'llm_call') increment(tokensByDay, day, Number(row.data?.tokens));
            if (row.type === 'search') {
              if (row.data?.results === 0) increment(zeroByDay, day);
              const query = String(row.data?.query).trim().replace(/\s+/g, ' ').toLowerCase();
              if (query) increment(queries, query);
            }
            if (row.contactId) {
              const set = contactsByDay.get(day) ?? new Set<string>();
              set.add(row.contactId);
              contactsByDay.set(day, set);
            }
          }

          const db = app.ctx.db;
          const dailyRows = await queryRows(
            db,
            sql`select day::text as day, type, bot_id, channel_id, events, tokens, zero_results
            from analytics_daily where workspace_id = ${workspaceId}`,
          );
          const gotDaily = new Map<string, number>();
          const gotDailyByBot = new Map<string, number>();
          const gotTokens = new Map<string, number>();
          const gotZero = new Map<string, number>();
          const gotActive = new Map<string, number>();
          for (const row of dailyRows) {
            const events = toNumber(row.events);
            if (row.type === ACTIVE_CONTACTS) {
              if (row.bot_id === ALL_ID) gotActive.set(String(row.day), events);
              continue;
            }
            if (row.bot_id === ALL_ID) {
              increment(gotDaily, `${row.day}/${row.type}`, events);
              if (toNumber(row.tokens) > 0) increment(gotTokens, String(row.day), toNumber(row.tokens));
              if (toNumber(row.zero_results) > 0)
                increment(gotZero, String(row.day), toNumber(row.zero_results));
            } else {
              increment(gotDailyByBot, `${row.day}/${row.type}/${row.bot_id}/${row.channel_id}`, events);
            }
          }
          expect(gotDaily).toEqual(daily);
          expect(gotDailyByBot).toEqual(dailyByBot);
          expect(gotTokens).toEqual(new Map([...tokensByDay].filter(([, value]) => value > 0)));
          expect(gotZero).toEqual(zeroByDay);
          expect(gotActive).toEqual(new Map([...contactsByDay].map(([day, set]) => [day, set.size])));

          const hourlyRows = await queryRows(
            db,
            sql`select to_char(hour at time zone ${timezone}, 'YYYY-MM-DD HH24') as local, type, events
            from analytics_hourly where workspace_id = ${workspaceId} and bot_id = ${ALL_ID}`,
          );
          const gotHourly = new Map<string, number>();
          for (const row of hourlyRows)
            increment(gotHourly, `${row.local}/${row.type}`, toNumber(row.events));
          expect(gotHourly).toEqual(hourly);

          const keyRows = await queryRows(
            db,
            sql`select key, sum(count) as n from analytics_daily_keys
            where workspace_id = ${workspaceId} and bot_id = ${ALL_ID} and kind = 'query' group by key`,
          );
          expect(new Map(keyRows.map((row) => [String(row.key), toNumber(row.n)]))).toEqual(queries);

          // Unique users over the whole period, exact and through HyperLogLog sketches.
          const allContacts = new Set(rows.flatMap((row) => (row.contactId ? [row.contactId] : [])));
          const days = [...contactsByDay.keys()].sort();
          if (days.length > 0) {
            const scope = await resolveScope(app.ctx, {
              workspaceId,
              from: days[0],
              to: days.at(-1),
            });
            const contactDays = [...contactsByDay.values()].reduce((sum, set) => sum + set.size, 0);
            expect((await countUniqueUsers(db, scope, contactDays)).value).toBe(allContacts.size);
            if (days.length > 1) {
              // Past the exact limit: merged sketches (built ones, and registers for the rest).
              await buildSketches(db, { includeToday: true });
              const viaSketch = await countUniqueUsers(db, scope, 1_000_000);
              expect(viaSketch.method).toBe('hll');
              // Linear counting is near exact at this size: within one contact.
              expect(Math.abs(viaSketch.value - allContacts.size)).toBeLessThanOrEqual(1);
            }
          }

          // Incremental == recomputed from scratch (the rebuild), and a rebuild is idempotent.
          const incremental = await rollupTables(workspaceId);
          await rebuildRollups(db, workspaceId);
          const rebuilt = await rollupTables(workspaceId);
          expect(rebuilt).toEqual(incremental);
          await rebuildRollups(db, workspaceId);
          expect(await rollupTables(workspaceId)).toEqual(incremental);
        },
      ),
      { numRuns: 12, seed: 20261122 },
    );
  });

  it('leaves nothing behind when the batch fails midway, so the retry counts it once', async () => {
    const workspaceId = await createWorkspace('Europe/Berlin');
    const rows: AnalyticsRow[] = [
      { workspaceId, type: 'message_in', contactId: randomUUID(), occurredAt: new Date() },
    ];
    const batchId = uuidv7();
    // A transaction that fails after the rollups ran (as a crash before COMMIT would).
    await expect(
      app.ctx.db.transaction(async (tx) => {
        await writeEventBatch(tx, rows, batchId);
        throw new Error('connection lost');
      }),
    ).rejects.toThrow('connection lost');
    const counted = async () =>
      queryRows(
        app.ctx.db,
        sql`select coalesce(sum(events), 0) as n from analytics_daily
        where workspace_id = ${workspaceId} and bot_id = ${ALL_ID} and type = 'message_in'`,
      );
    expect(toNumber((await counted())[0]?.n)).toBe(0);
    await writeEventBatch(app.ctx.db, rows, batchId);
    await writeEventBatch(app.ctx.db, rows, batchId);
    expect(toNumber((await counted())[0]?.n)).toBe(1);
  });

  it('keeps a sketch fresh only until a new contact arrives on its day', async () => {
    const workspaceId = await createWorkspace('UTC');
    const day = new Date('2026-05-01T10:00:00Z');
    const contacts = Array.from({ length: 30 }, () => randomUUID());
    await writeEventBatch(
      app.ctx.db,
      contacts.map((contactId) => ({ workspaceId, type: 'message_in', contactId, occurredAt: day })),
      uuidv7(),
    );
    expect(await buildSketches(app.ctx.db, { includeToday: true })).toBeGreaterThanOrEqual(1);
    const scope = await resolveScope(app.ctx, { workspaceId, from: '2026-04-30', to: '2026-05-02' });
    const fresh = async () =>
      queryRows(
        app.ctx.db,
        sql`select built_seq = dirty_seq as fresh from analytics_sketch_days where workspace_id = ${workspaceId}`,
      );
    expect(await fresh()).toEqual([{ fresh: true }]);
    const before = await countUniqueUsers(app.ctx.db, scope, 1_000_000);
    expect(before.method).toBe('hll');
    // 30 in 4096 registers: one collision is possible, so within one.
    expect(Math.abs(before.value - 30)).toBeLessThanOrEqual(1);
    // A late event with new contacts for that day: the stale sketch is bypassed at once.
    await writeEventBatch(
      app.ctx.db,
      Array.from({ length: 20 }, () => ({
        workspaceId,
        type: 'message_in' as const,
        contactId: randomUUID(),
        occurredAt: day,
      })),
      uuidv7(),
    );
    expect(await fresh()).toEqual([{ fresh: false }]);
    const late = await countUniqueUsers(app.ctx.db, scope, 1_000_000);
    expect(Math.abs(late.value - 50)).toBeLessThanOrEqual(2);
    await buildSketches(app.ctx.db, { includeToday: true });
    expect(await fresh()).toEqual([{ fresh: true }]);
    expect((await countUniqueUsers(app.ctx.db, scope, 1_000_000)).value).toBe(late.value);
  });
});
