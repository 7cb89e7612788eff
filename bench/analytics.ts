import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { eventsCsv } from '../src/features/analytics/raw-events.ts';
import { buildSketches, rebuildRollups } from '../src/features/analytics/rollups.ts';
import {
  addDays,
  getSummary,
  getTimeseries,
  localDate,
  resolveScope,
} from '../src/features/analytics/service.ts';
import type { Tracker } from '../src/features/analytics/tracker.ts';
import { defaultBotConfig } from '../src/features/bots/bot-config.ts';
import { type Database, openDatabase } from '../src/platform/db/index.ts';
import { migrate } from '../src/platform/db/migrate.ts';
import { queryRows, toNumber } from '../src/platform/db/rows.ts';
import { FakeTelegram } from '../testkit/src/fake-telegram.ts';
import { startTestApp } from '../testkit/src/start-app.ts';
import { seedTelegramBot } from '../testkit/src/telegram-bot.ts';
import { createTestWorkspace, signUp } from '../testkit/src/users.ts';

/**
 * Analytics at volume, each figure beside a peer measured in the same run:
 *   generate  N events over D days for B bots with generate_series, then the rollups (one
 *             rebuild, the same SQL the tracker's batches run) and the HyperLogLog sketches;
 *   query     p50/p95 of the D-day summary and the D-day daily timeseries of one workspace,
 *             from the rollups (ours) vs computed from the raw events with the best index (peer);
 *   tracking  end-to-end updates/s (webhook → reply) with tracking on vs off, as a ratio;
 *   export    CSV of 1,000,000 raw events streamed: time and peak memory.
 * Usage: npm run bench -- analytics [--backend pg|pglite] [--events N] [--days 90] [--bots 100]
 *        [--parts generate,query,tracking,export] [--iterations 30] [--updates 2000] [--rounds 5] [--export 1000000]
 * PostgreSQL: DATABASE_URL (or BENCH_DATABASE_URL), e.g. postgres://postgres@127.0.0.1:5432/test;
 * the data lives in a schema of its own, dropped at the end. Default scale: 10,000,000 events on
 * PostgreSQL, 1,000,000 on PGlite.
 */

interface Options {
  backend: 'pg' | 'pglite';
  url: string | undefined;
  events: number;
  days: number;
  bots: number;
  contacts: number;
  iterations: number;
  updates: number;
  /** Alternating rounds of the tracking part, each way. */
  rounds: number;
  exportRows: number;
  parts: Set<string>;
}

const say = (line: string) => process.stdout.write(`${line}\n`);
const fmt = (value: number, digits = 0) => value.toFixed(digits);

function parseOptions(args: string[]): Options {
  const url = process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL;
  const values = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (!arg.startsWith('--')) throw new Error(`unexpected argument "${arg}"`);
    const [key, inline] = arg.slice(2).split('=');
    values.set(key ?? '', inline ?? args[++i] ?? '');
  }
  const backend = (values.get('backend') ?? (url ? 'pg' : 'pglite')) === 'pg' ? 'pg' : 'pglite';
  if (backend === 'pg' && !url) throw new Error('--backend pg needs DATABASE_URL (or BENCH_DATABASE_URL)');
  const number = (key: string, fallback: number) => {
    const raw = values.get(key);
    const value = raw === undefined ? fallback : Number(raw);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`bad --${key}`);
    return Math.round(value);
  };
  const events = number('events', backend === 'pg' ? 10_000_000 : 1_000_000);
  return {
    backend,
    url: backend === 'pg' ? url : undefined,
    events,
    days: number('days', 90),
    bots: number('bots', 100),
    contacts: number('contacts', Math.max(1000, Math.round(events / 50))),
    iterations: number('iterations', 30),
    updates: number('updates', 2000),
    rounds: number('rounds', 5),
    exportRows: number('export', 1_000_000),
    parts: new Set((values.get('parts') ?? 'generate,query,tracking,export').split(',')),
  };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function timeIt(n: number, run: () => Promise<unknown>) {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    await run();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p95: percentile(times, 95) };
}

interface Row {
  part: string;
  metric: string;
  ours: string;
  peer: string;
  ratio: string;
}

const TIMEZONE = 'Europe/Berlin';

// ─── generate ─────────────────────────────────────────────────────────────────

/**
 * One SQL statement per million events: event type, bot, contact and time drawn from
 * PostgreSQL's random() (seeded), data shaped per type like the real producers send it.
 */
async function generate(database: Database, options: Options, workspaceId: string) {
  const { db } = database;
  await db.execute(sql`insert into workspaces (id, name, slug, timezone)
    values (${workspaceId}, 'Bench', ${`bench-${workspaceId}`}, ${TIMEZONE})`);
  // A second, small workspace: the measured one must be found among others.
  const other = '00000000-0000-4000-8000-0000000000ff';
  await db.execute(
    sql`insert into workspaces (id, name, slug, timezone) values (${other}, 'Other', 'bench-other', 'UTC')`,
  );
  // Bulk load: the raw table's indexes are built once after the rows, not row by row.
  await db.execute(sql`drop index analytics_events_workspace_time_idx`);
  await db.execute(sql`drop index analytics_events_workspace_type_time_idx`);
  await db.execute(sql`drop index analytics_events_contact_time_idx`);
  await db.execute(sql`select setseed(0.42)`);
  const chunk = 1_000_000;
  const started = performance.now();
  for (let done = 0; done < options.events; done += chunk) {
    const size = Math.min(chunk, options.events - done);
    await db.execute(sql`
      insert into analytics_events (workspace_id, bot_id, channel_id, contact_id, type, data, occurred_at)
      select ${workspaceId}::uuid,
        ('00000000-0000-4000-8000-' || lpad(to_hex(x.c % ${options.bots}), 12, '0'))::uuid,
        ('00000000-0000-4000-9000-' || lpad(to_hex(x.c % ${options.bots}), 12, '0'))::uuid,
        case when t.type in ('message_out', 'delivery_failed') then null
          else ('00000000-0000-4000-a000-' || lpad(to_hex(x.c), 12, '0'))::uuid end,
        t.type,
        case t.type
          when 'search' then jsonb_build_object('query', 'query ' || floor(x.r2 * x.r2 * 500)::int, 'results', floor(x.r2 * 7)::int % 4)
          when 'product_view' then jsonb_build_object('productId', 'p' || floor(x.r2 * x.r2 * 300)::int, 'title', 'Product ' || floor(x.r2 * x.r2 * 300)::int)
          when 'llm_call' then jsonb_build_object('provider', 'openai', 'model', 'gpt', 'promptTokens', 200 + floor(x.r2 * 800)::int,
            'completionTokens', 50 + floor(x.r2 * 200)::int, 'latencyMs', 300 + floor(x.r2 * 2000)::int, 'ok', x.r2 > 0.02, 'cost', round((x.r2 * 0.01)::numeric, 6))
          when 'command' then case when x.r2 < 0.3 then jsonb_build_object('command', 'start', 'referrer', 'src' || floor(x.r2 * 40)::int)
            else jsonb_build_object('command', 'help') end
          when 'handoff_started' then jsonb_build_object('waitMs', floor(5000 + x.r2 * 600000)::int)
          when 'escalation_resolved' then jsonb_build_object('resolutionMs', floor(60000 + x.r2 * 7200000)::int)
          when 'message_in' then jsonb_build_object('type', 'text')
          else '{}'::jsonb end,
        now() - x.r3 * ${`${options.days} days`}::interval
      from generate_series(1, ${size}) as g(i)
      cross join lateral (select floor(random() * ${options.contacts})::int as c, random() as r, random() as r2,
        random() as r3, g.i as i) as x
      cross join lateral (select case
        when x.r < 0.34 then 'message_in' when x.r < 0.66 then 'message_out' when x.r < 0.71 then 'command'
        when x.r < 0.79 then 'search' when x.r < 0.85 then 'product_view' when x.r < 0.91 then 'llm_call'
        when x.r < 0.94 then 'button_click' when x.r < 0.955 then 'contact_new' when x.r < 0.963 then 'escalation_created'
        when x.r < 0.968 then 'handoff_started' when x.r < 0.973 then 'escalation_resolved' when x.r < 0.98 then 'delivery_failed'
        when x.r < 0.985 then 'price_alert_created' when x.r < 0.99 then 'price_alert_fired' when x.r < 0.995 then 'contact_blocked'
        else 'error' end as type) as t`);
    process.stdout.write(
      `  generated ${done + size} events (${fmt((performance.now() - started) / 1000, 1)} s)\n`,
    );
  }
  await db.execute(sql`insert into analytics_events (workspace_id, type, occurred_at)
    select ${other}::uuid, 'message_in', now() - random() * interval '90 days' from generate_series(1, 10000)`);
  await db.execute(
    sql`create index analytics_events_workspace_time_idx on analytics_events (workspace_id, occurred_at, id)`,
  );
  await db.execute(
    sql`create index analytics_events_workspace_type_time_idx on analytics_events (workspace_id, type, occurred_at, id)`,
  );
  await db.execute(
    sql`create index analytics_events_contact_time_idx on analytics_events (contact_id, occurred_at)`,
  );
  await db.execute(sql`analyze analytics_events`);
  const generateSeconds = (performance.now() - started) / 1000;
  // An export-only run reads raw events alone: no rollups to build.
  if (!options.parts.has('query'))
    return { generateSeconds, rollupSeconds: 0, sketchSeconds: 0, sketchDays: 0 };
  const rollupStarted = performance.now();
  await rebuildRollups(db, workspaceId);
  const rollupSeconds = (performance.now() - rollupStarted) / 1000;
  const sketchStarted = performance.now();
  let built = 0;
  for (;;) {
    const n = await buildSketches(db, { limit: 1000, includeToday: true });
    built += n;
    if (n === 0) break;
  }
  const sketchSeconds = (performance.now() - sketchStarted) / 1000;
  await db.execute(sql`analyze`);
  return { generateSeconds, rollupSeconds, sketchSeconds, sketchDays: built };
}

// ─── query ────────────────────────────────────────────────────────────────────

/**
 * The summary computed from raw events, the way a dashboard without rollups would: the same
 * figures (totals by type, LLM sums, distinct contacts, top queries/products, medians), its
 * queries run at once like ours, over a covering index built for it.
 */
async function peerSummary(db: Database['db'], workspaceId: string, from: Date, to: Date) {
  const range = sql`workspace_id = ${workspaceId} and occurred_at >= ${from.toISOString()}::timestamptz and occurred_at < ${to.toISOString()}::timestamptz`;
  return Promise.all([
    queryRows(db, sql`select type, count(*) from analytics_events where ${range} group by type`),
    queryRows(db, sql`select count(distinct contact_id) from analytics_events where ${range}`),
    queryRows(
      db,
      sql`select sum(coalesce((data->>'promptTokens')::int, 0) + coalesce((data->>'completionTokens')::int, 0)),
        sum((data->>'cost')::numeric), count(*) filter (where data->>'ok' = 'false')
      from analytics_events where ${range} and type = 'llm_call'`,
    ),
    queryRows(
      db,
      sql`select data->>'query' as q, count(*) as n from analytics_events where ${range} and type = 'search'
      group by 1 order by n desc limit 10`,
    ),
    queryRows(
      db,
      sql`select data->>'productId' as p, count(*) as n from analytics_events where ${range} and type = 'product_view'
      group by 1 order by n desc limit 10`,
    ),
    queryRows(
      db,
      sql`select type, percentile_cont(0.5) within group (order by coalesce((data->>'waitMs')::int, (data->>'resolutionMs')::int))
      from analytics_events where ${range} and type in ('handoff_started', 'escalation_resolved') group by type`,
    ),
  ]);
}

async function benchQueries(database: Database, options: Options, workspaceId: string, rows: Row[]) {
  const { db } = database;
  const to = localDate(new Date(), TIMEZONE);
  const from = addDays(to, -(options.days - 1));
  const scope = await resolveScope({ db }, { workspaceId, from, to });
  const summary = await getSummary({ db }, scope);
  say(
    `  summary ${from}..${to}: messages in ${summary.messagesIn}, unique users ${summary.uniqueUsers} (${summary.uniqueUsersMethod}), conversations ${summary.conversations}, LLM tokens ${summary.llm.tokens}`,
  );
  const fromInstant = new Date(`${from}T00:00:00Z`);
  const toInstant = new Date(Date.now() + 86_400_000);
  // The peer's best indexes: covering ones for its scans (built outside the timing).
  const indexStarted = performance.now();
  await db.execute(
    sql`create index if not exists bench_events_cover on analytics_events (workspace_id, occurred_at) include (type, contact_id)`,
  );
  await db.execute(sql`analyze analytics_events`);
  say(`  peer covering index built in ${fmt((performance.now() - indexStarted) / 1000, 1)} s`);
  const exact = await queryRows(
    db,
    sql`select count(distinct contact_id) as n from analytics_events where workspace_id = ${workspaceId}
      and occurred_at >= ${fromInstant.toISOString()}::timestamptz`,
  );
  const exactUnique = toNumber(exact[0]?.n);
  say(
    `  unique users: ours ${summary.uniqueUsers} vs exact ${exactUnique} (error ${fmt((Math.abs(summary.uniqueUsers - exactUnique) / Math.max(1, exactUnique)) * 100, 2)} %)`,
  );

  await timeIt(3, () => getSummary({ db }, scope)); // warm-up
  const ours = await timeIt(options.iterations, () => getSummary({ db }, scope));
  const peerIterations = Math.max(3, Math.min(10, Math.round(options.iterations / 3)));
  await peerSummary(db, workspaceId, fromInstant, toInstant);
  const peer = await timeIt(peerIterations, () => peerSummary(db, workspaceId, fromInstant, toInstant));
  say(
    `  summary ${options.days} d   ours p50 ${fmt(ours.p50, 1)} ms p95 ${fmt(ours.p95, 1)} ms | peer (raw) p50 ${fmt(peer.p50, 1)} ms p95 ${fmt(peer.p95, 1)} ms`,
  );
  rows.push({
    part: 'query',
    metric: `summary ${options.days} d p50 / p95 (ms)`,
    ours: `${fmt(ours.p50, 1)} / ${fmt(ours.p95, 1)}`,
    peer: `${fmt(peer.p50, 1)} / ${fmt(peer.p95, 1)}`,
    ratio: fmt(ours.p95 / peer.p95, 4),
  });

  const series = () => getTimeseries({ db }, scope, { metric: 'messages_in', interval: 'day' });
  const peerSeries = () =>
    queryRows(
      db,
      sql`select (occurred_at at time zone ${TIMEZONE})::date as day, count(*) from analytics_events
      where workspace_id = ${workspaceId} and type = 'message_in'
        and occurred_at >= ${fromInstant.toISOString()}::timestamptz group by 1 order by 1`,
    );
  await timeIt(3, series);
  const oursSeries = await timeIt(options.iterations, series);
  await peerSeries();
  const peerSeriesTimes = await timeIt(peerIterations, peerSeries);
  say(
    `  timeseries ${options.days} d daily   ours p50 ${fmt(oursSeries.p50, 1)} ms p95 ${fmt(oursSeries.p95, 1)} ms | peer (raw) p50 ${fmt(peerSeriesTimes.p50, 1)} ms p95 ${fmt(peerSeriesTimes.p95, 1)} ms`,
  );
  rows.push({
    part: 'query',
    metric: `timeseries ${options.days} d p50 / p95 (ms)`,
    ours: `${fmt(oursSeries.p50, 1)} / ${fmt(oursSeries.p95, 1)}`,
    peer: `${fmt(peerSeriesTimes.p50, 1)} / ${fmt(peerSeriesTimes.p95, 1)}`,
    ratio: fmt(oursSeries.p95 / peerSeriesTimes.p95, 4),
  });
}

// ─── export ───────────────────────────────────────────────────────────────────

/**
 * CSV export of the newest `exportRows` events, and — as the peer — of a tenth of them in the
 * same run: constant memory means the peak live heap does not grow with the row count (RSS is
 * reported too, but V8 and the allocator keep freed pages, so it says less). Run with
 * `NODE_OPTIONS=--expose-gc` for the live heap; without it the figure includes garbage.
 */
async function benchExport(database: Database, options: Options, workspaceId: string, rows: Row[]) {
  const small = await measureExport(database, workspaceId, Math.max(1, Math.round(options.exportRows / 10)));
  const large = await measureExport(database, workspaceId, options.exportRows);
  const mib = (value: number) => value / 2 ** 20;
  for (const run of [small, large]) {
    say(
      `  export: ${run.lines} rows, ${fmt(mib(run.bytes), 1)} MiB of CSV in ${fmt(run.seconds, 1)} s (${fmt(run.lines / run.seconds)} rows/s); peak RSS +${fmt(mib(run.peakRss), 1)} MiB, peak heap +${fmt(mib(run.peakHeap), 1)} MiB over the start`,
    );
  }
  rows.push(
    {
      part: 'export',
      metric: `CSV ${large.lines} rows (s)`,
      ours: fmt(large.seconds, 1),
      peer: '-',
      ratio: '-',
    },
    {
      part: 'export',
      metric: `peak ${globalThis.gc ? 'live ' : ''}heap growth, ${large.lines} vs ${small.lines} rows (MiB)`,
      ours: fmt(mib(large.peakHeap), 1),
      peer: fmt(mib(small.peakHeap), 1),
      ratio: fmt(large.peakHeap / Math.max(1, small.peakHeap), 2),
    },
    {
      part: 'export',
      metric: `peak RSS growth, ${large.lines} vs ${small.lines} rows (MiB)`,
      ours: fmt(mib(large.peakRss), 1),
      peer: fmt(mib(small.peakRss), 1),
      ratio: fmt(large.peakRss / Math.max(1, small.peakRss), 2),
    },
  );
}

async function measureExport(database: Database, workspaceId: string, exportRows: number) {
  const { db } = database;
  // The newest `exportRows` events of the workspace: from the instant that many back.
  const [edge] = await queryRows(
    db,
    sql`select occurred_at from analytics_events where workspace_id = ${workspaceId}
      order by occurred_at desc, id desc offset ${exportRows - 1} limit 1`,
  );
  const from = edge
    ? new Date(edge.occurred_at instanceof Date ? edge.occurred_at : String(edge.occurred_at))
    : new Date(0);
  // Live heap, not garbage: with --expose-gc the sampler collects before it reads, so the
  // figure is what the export holds, not how lazily V8 frees the strings it dropped.
  const gc = globalThis.gc;
  gc?.();
  const baseline = process.memoryUsage();
  let peakRss = baseline.rss;
  let peakHeap = baseline.heapUsed;
  const sampler = setInterval(() => {
    gc?.();
    const usage = process.memoryUsage();
    peakRss = Math.max(peakRss, usage.rss);
    peakHeap = Math.max(peakHeap, usage.heapUsed);
  }, 1000);
  let bytes = 0;
  let lines = 0;
  const started = performance.now();
  // The route's path: the generator behind Readable.from, into a sink that takes its time
  // like a socket would (back-pressure), counting what it gets.
  await pipeline(
    Readable.from(eventsCsv({ db }, { workspaceId, from })),
    new Writable({
      highWaterMark: 64 * 1024,
      write(chunk: Buffer | string, _encoding, callback) {
        const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
        bytes += Buffer.byteLength(text);
        for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lines += 1;
        setImmediate(callback);
      },
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  return {
    lines: lines - 1,
    bytes,
    seconds,
    peakRss: peakRss - baseline.rss,
    peakHeap: peakHeap - baseline.heapUsed,
  };
}

// ─── tracking overhead ────────────────────────────────────────────────────────

const noTracking: Tracker = { track: () => {}, flush: async () => {}, close: async () => {} };

/**
 * The reply path with tracking on and off in one app, alternating rounds so drift on a shared
 * machine hits both alike: webhook → ingest → process → reply at the fake Telegram.
 */
async function benchTracking(options: Options, rows: Row[]) {
  const fake = await FakeTelegram.start({ rateLimits: false, webhookDelivery: 'parallel' });
  const app = await startTestApp({ env: { TELEGRAM_API_ROOT: fake.url } });
  try {
    const owner = await signUp(app);
    const workspaceId = await createTestWorkspace(app, owner);
    const config = defaultBotConfig({ language: 'en', throttle: { perSecond: 100, burst: 100 } });
    // 50 bots so the sender's 30 msg/s per bot never binds.
    const tokens: string[] = [];
    for (let i = 0; i < 50; i++) {
      const bot = await seedTelegramBot(app.ctx, fake, {
        workspaceId,
        config,
        webhookBaseUrl: app.url,
        maxConnections: 40,
      });
      tokens.push(bot.token);
    }
    const tracking = app.ctx.analytics;
    let chat = 9_000_000;
    const round = async (n: number) => {
      const baseline = fake.sentCount();
      const started = performance.now();
      for (let i = 0; i < n; i++) {
        const chatId = chat++;
        fake.sendText(tokens[i % tokens.length] ?? '', {
          chatId,
          from: { id: chatId, first_name: 'Ann' },
          text: '/help',
        });
      }
      while (fake.sentCount() - baseline < n) await new Promise((resolve) => setTimeout(resolve, 5));
      const perSecond = n / ((performance.now() - started) / 1000);
      // Events of the round are written before the next starts (counted in neither).
      await tracking.flush();
      return perSecond;
    };
    app.ctx.analytics = tracking;
    await round(Math.min(300, options.updates));
    app.ctx.analytics = noTracking;
    await round(Math.min(300, options.updates));
    const on: number[] = [];
    const off: number[] = [];
    // Each pair runs in the opposite order of the one before (off-on, on-off, …): throughput
    // drifts down as the tables grow, and a fixed order would charge that drift to one side.
    for (let i = 0; i < options.rounds; i++) {
      for (const tracked of i % 2 === 0 ? [false, true] : [true, false]) {
        app.ctx.analytics = tracked ? tracking : noTracking;
        (tracked ? on : off).push(await round(options.updates));
      }
    }
    app.ctx.analytics = tracking;
    const median = (values: number[]) => {
      const sorted = [...values].sort((a, b) => a - b);
      const middle = Math.floor(sorted.length / 2);
      // An even count averages the two middle values instead of taking the upper one.
      return sorted.length % 2 === 1
        ? (sorted[middle] ?? 0)
        : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
    };
    const onRate = median(on);
    const offRate = median(off);
    // Each "on" round against the "off" round beside it: the machine's drift over the run
    // (shared, noisy) cancels out of the pair, so the median pair ratio is the figure to read.
    const paired = median(on.map((value, i) => value / (off[i] ?? value)));
    say(
      `  tracking on ${on.map((value) => fmt(value)).join(', ')} updates/s; off ${off.map((value) => fmt(value)).join(', ')}`,
    );
    say(
      `  medians ${fmt(onRate)} vs ${fmt(offRate)}; median of paired ratios ${fmt(paired, 3)}: ${fmt((1 - paired) * 100, 1)} % cost`,
    );
    rows.push(
      {
        part: 'tracking',
        metric: 'e2e updates/s on / off (medians)',
        ours: fmt(onRate),
        peer: fmt(offRate),
        ratio: fmt(onRate / offRate, 3),
      },
      {
        part: 'tracking',
        metric: 'on / off, median of paired rounds',
        ours: '-',
        peer: '-',
        ratio: fmt(paired, 3),
      },
    );
  } finally {
    await app.close();
    await fake.close();
  }
}

// ─── entry ────────────────────────────────────────────────────────────────────

export async function run(args: string[]) {
  const options = parseOptions(args);
  const cpus = os.cpus();
  say(
    `analytics bench: ${os.type()} ${os.release()}, ${cpus.length} × ${cpus[0]?.model ?? '?'}, node ${process.version}, ${options.backend === 'pg' ? 'PostgreSQL' : 'PGlite (embedded)'}; ${options.events} events over ${options.days} days, ${options.bots} bots, ${options.contacts} contacts`,
  );
  const rows: Row[] = [];
  const started = performance.now();
  const needsData = ['generate', 'query', 'export'].some((part) => options.parts.has(part));
  if (needsData) {
    const schemaName = `bench_analytics_${randomBytes(4).toString('hex')}`;
    const database = await openDatabase(
      options.backend === 'pg' ? { url: options.url, pgSchema: schemaName, poolSize: 10 } : {},
    );
    try {
      await migrate(database.db);
      const workspaceId = '00000000-0000-4000-8000-000000000001';
      say('generate:');
      const generated = await generate(database, options, workspaceId);
      say(
        `  ${options.events} raw events in ${fmt(generated.generateSeconds, 1)} s; rollups rebuilt in ${fmt(generated.rollupSeconds, 1)} s (${fmt(options.events / generated.rollupSeconds)} events/s); ${generated.sketchDays} days of sketches in ${fmt(generated.sketchSeconds, 1)} s`,
      );
      if (generated.rollupSeconds > 0)
        rows.push({
          part: 'generate',
          metric: `rollup of ${options.events} events (s)`,
          ours: fmt(generated.rollupSeconds, 1),
          peer: '-',
          ratio: '-',
        });
      if (options.parts.has('query')) {
        say('query:');
        await benchQueries(database, options, workspaceId, rows);
      }
      if (options.parts.has('export')) {
        say('export:');
        await benchExport(
          database,
          { ...options, exportRows: Math.min(options.exportRows, options.events) },
          workspaceId,
          rows,
        );
      }
    } finally {
      await database.close();
      if (process.env.BENCH_KEEP_SCHEMA) say(`kept schema ${schemaName}`);
      else if (options.backend === 'pg' && options.url) {
        const client = new pg.Client({ connectionString: options.url });
        await client.connect();
        await client.query(`drop schema if exists "${schemaName}" cascade`);
        await client.end();
      }
    }
  }
  if (options.parts.has('tracking')) {
    if (options.backend === 'pg' && options.url) process.env.TEST_DATABASE_URL = options.url;
    else delete process.env.TEST_DATABASE_URL;
    say(`tracking: ${options.updates} updates per round, ${options.rounds} rounds each way, 50 bots`);
    await benchTracking(options, rows);
  }
  say('');
  const widths = [9, 34, 18, 22, 10];
  const cells = (values: string[]) => values.map((value, i) => value.padEnd(widths[i] ?? 10)).join(' ');
  say(cells(['part', 'metric', 'ours', 'peer', 'ours/peer']));
  say(cells(widths.map((width) => '-'.repeat(width))));
  for (const row of rows) say(cells([row.part, row.metric, row.ours, row.peer, row.ratio]));
  say(`total ${fmt((performance.now() - started) / 1000, 1)} s`);
}
