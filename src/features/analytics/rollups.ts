import { type SQL, sql } from 'drizzle-orm';
import type { Db, DbOrTx } from '../../platform/db/index.ts';
import { queryRows, toNumber } from '../../platform/db/rows.ts';
import { ACTIVE_CONTACTS } from './events.ts';
import { HLL_M, HLL_SQL } from './hll.ts';
import type { AnalyticsRow } from './tracker.ts';

/**
 * Rollups are maintained on write: the tracker's batch INSERT and the upserts of every rollup
 * it touches run as one statement, so in one transaction (`writeEventBatch`). Chosen over a
 * job rolling up raw events past an id watermark because:
 * - a bigserial watermark is unsafe with concurrent writers (ids are taken at insert, commits
 *   land in another order, so a job can pass an id whose row is not yet visible and skip it);
 * - dashboards are fresh to the tracker's last flush (≤ 1 s), with no "tail past the
 *   watermark" to add at read time;
 * - the cost is a few grouped upserts per batch (hundreds of events → tens of rollup rows),
 *   off the reply path like the insert itself.
 * Exactly once: each batch carries an id recorded in the same transaction, so a retry of a
 * batch that did commit (connection lost after COMMIT) is a no-op; a crash mid-batch rolls
 * everything back and the tracker writes it again. Upserts run in key order, so concurrent
 * writers (several instances) never deadlock.
 *
 * The same SQL, run over all of a workspace's raw events, rebuilds its rollups
 * (`rebuildRollups`: after a timezone change, or to backfill).
 */

/** Grain of an event without a bot or channel. */
export const NO_ID = '00000000-0000-0000-0000-000000000000';
/** Grain of the whole workspace (all bots, all channels). */
export const ALL_ID = 'ffffffff-ffff-ffff-ffff-ffffffffffff';

/** Durations are bucketed 2^(1/8) apart (~9 %): a median read from buckets is within ~4.5 %. */
export const DURATION_BUCKETS_PER_DOUBLING = 8;

const num = (path: string) =>
  `(case when jsonb_typeof(data->'${path}') = 'number' then (data->'${path}')::numeric end)`;
const str = (path: string) =>
  `(case when jsonb_typeof(data->'${path}') in ('string','number') then data->>'${path}' end)`;

/** Per-event measures computed from `data` (tolerant: wrong types count as absent). */
const MEASURES = `
  case when type = 'llm_call' then round(coalesce(${num('tokens')}, coalesce(${num('promptTokens')}, 0) + coalesce(${num('completionTokens')}, 0)))::bigint else 0 end as tokens,
  case when type = 'llm_call' then coalesce(${num('cost')}, 0)::float8 else 0 end as cost,
  case when type = 'search' and ${num('results')} = 0 then 1 else 0 end as zero_results,
  case when type = 'llm_call' and data->'ok' = 'false'::jsonb then 1 else 0 end as failures,
  coalesce(${num('latencyMs')}, ${num('waitMs')}, ${num('resolutionMs')}, ${num('durationMs')})::float8 as duration_ms`;

/**
 * The events to roll up (`events`: a relation with the raw table's columns, aliased `e`),
 * with the workspace's local day and hour, and their measures.
 */
function sourceSelect(events: SQL, filter: SQL): SQL {
  return sql`select e.workspace_id, coalesce(e.bot_id, ${NO_ID}::uuid) as bot_id,
      coalesce(e.channel_id, ${NO_ID}::uuid) as channel_id, e.contact_id, e.type, e.data, e.occurred_at,
      (e.occurred_at at time zone w.timezone)::date as day,
      date_trunc('hour', e.occurred_at, w.timezone) as hour,
      ${sql.raw(MEASURES)}
    from ${events} join workspaces w on w.id = e.workspace_id
    where ${filter}`;
}

/**
 * One rollup: helper CTEs (reading `src`, the events with their measures) and the upsert
 * itself. Run alone (`with src as …, helpers insert …`) or, on the tracker's write path, all
 * together as data-modifying CTEs of the batch's single statement.
 */
interface Rollup {
  helpers: SQL[];
  upsert: SQL;
}

function rollups(): Rollup[] {
  const upsertMeasures = (table: string) =>
    sql.raw(`events = ${table}.events + excluded.events, tokens = ${table}.tokens + excluded.tokens,
      cost = ${table}.cost + excluded.cost, zero_results = ${table}.zero_results + excluded.zero_results,
      failures = ${table}.failures + excluded.failures, duration_ms = ${table}.duration_ms + excluded.duration_ms`);
  const sums = sql.raw(
    `count(*), sum(tokens), sum(cost), sum(zero_results), sum(failures), coalesce(sum(duration_ms), 0)`,
  );
  const all = sql.raw(`'${ALL_ID}'::uuid`);
  return [
    {
      helpers: [],
      upsert: sql`insert into analytics_hourly as t (workspace_id, bot_id, hour, type, channel_id, events, tokens, cost, zero_results, failures, duration_ms)
      select workspace_id, coalesce(bot_id, ${all}), hour, type, coalesce(channel_id, ${all}), ${sums}
      from src group by grouping sets ((workspace_id, hour, type, bot_id, channel_id), (workspace_id, hour, type))
      order by 1, 2, 3, 4, 5
      on conflict (workspace_id, bot_id, hour, type, channel_id) do update set ${upsertMeasures('t')}`,
    },
    {
      helpers: [],
      upsert: sql`insert into analytics_daily as t (workspace_id, bot_id, day, type, channel_id, events, tokens, cost, zero_results, failures, duration_ms)
      select workspace_id, coalesce(bot_id, ${all}), day, type, coalesce(channel_id, ${all}), ${sums}
      from src group by grouping sets ((workspace_id, day, type, bot_id, channel_id), (workspace_id, day, type))
      order by 1, 2, 3, 4, 5
      on conflict (workspace_id, bot_id, day, type, channel_id) do update set ${upsertMeasures('t')}`,
    },
    {
      helpers: [
        sql`durations as (
        select workspace_id, bot_id, channel_id, day, type,
          floor(ln(greatest(duration_ms, 1)) / ln(2) * ${DURATION_BUCKETS_PER_DOUBLING})::smallint as bucket
        from src where duration_ms is not null and duration_ms >= 0
          and type in ('escalation_resolved', 'handoff_started', 'llm_call'))`,
      ],
      upsert: sql`insert into analytics_daily_durations as t (workspace_id, bot_id, day, type, channel_id, bucket, count)
      select workspace_id, coalesce(bot_id, ${all}), day, type, coalesce(channel_id, ${all}), bucket, count(*)
      from durations group by grouping sets ((workspace_id, day, type, bucket, bot_id, channel_id), (workspace_id, day, type, bucket))
      order by 1, 2, 3, 4, 5, 6
      on conflict (workspace_id, bot_id, day, type, channel_id, bucket) do update set count = t.count + excluded.count`,
    },
    {
      helpers: [
        sql`keyed as (
        select workspace_id, bot_id, channel_id, day, occurred_at, 'query' as kind,
          left(lower(regexp_replace(btrim(${sql.raw(str('query'))}), '\\s+', ' ', 'g')), 200) as key, null::text as label
        from src where type = 'search'
        union all
        select workspace_id, bot_id, channel_id, day, occurred_at, 'product', left(${sql.raw(str('productId'))}, 200),
          left(${sql.raw(str('title'))}, 200)
        from src where type = 'product_view'
        union all
        select workspace_id, bot_id, channel_id, day, occurred_at, 'referrer', left(${sql.raw(str('referrer'))}, 200), null
        from src where type = 'command')`,
      ],
      upsert: sql`insert into analytics_daily_keys as t (workspace_id, bot_id, kind, day, key, channel_id, count, label)
      select workspace_id, coalesce(bot_id, ${all}), kind, day, key, coalesce(channel_id, ${all}), count(*),
        (array_agg(label order by occurred_at desc) filter (where label is not null))[1]
      from keyed where key is not null and key <> ''
      group by grouping sets ((workspace_id, kind, day, key, bot_id, channel_id), (workspace_id, kind, day, key))
      order by 1, 2, 3, 4, 5, 6
      on conflict (workspace_id, bot_id, kind, day, key, channel_id)
        do update set count = t.count + excluded.count, label = coalesce(excluded.label, t.label)`,
    },
    {
      // A contact's first event of a (local) day adds it to the exact table, counts it in the
      // day's active contacts and marks the day's sketch stale.
      helpers: [
        sql`day_contacts as (
        select distinct on (workspace_id, day, contact_id) workspace_id, day, contact_id, bot_id, channel_id,
          ${sql.raw(HLL_SQL.hash('contact_id'))} as h
        from src where contact_id is not null
        order by workspace_id, day, contact_id, occurred_at)`,
        sql`fresh as (
        insert into analytics_daily_contacts (workspace_id, day, contact_id, bot_id, channel_id, hll_idx, hll_rank)
        select workspace_id, day, contact_id, bot_id, channel_id, ${sql.raw(HLL_SQL.idx('h'))}, ${sql.raw(HLL_SQL.rank('h'))}
        from day_contacts order by 1, 2, 3
        on conflict do nothing
        returning workspace_id, day, bot_id, channel_id)`,
        sql`counted as (
        insert into analytics_daily as t (workspace_id, bot_id, day, type, channel_id, events)
        select workspace_id, coalesce(bot_id, ${all}), day, ${ACTIVE_CONTACTS}, coalesce(channel_id, ${all}), count(*)
        from fresh group by grouping sets ((workspace_id, day, bot_id, channel_id), (workspace_id, day))
        order by 1, 2, 3, 5
        on conflict (workspace_id, bot_id, day, type, channel_id) do update set events = t.events + excluded.events
        returning 1)`,
      ],
      upsert: sql`insert into analytics_sketch_days as t (workspace_id, day)
      select distinct workspace_id, day from fresh order by 1, 2
      on conflict (workspace_id, day) do update set dirty_seq = t.dirty_seq + 1`,
    },
    {
      helpers: [],
      upsert: sql`insert into analytics_funnel as t (workspace_id, contact_id, bot_id, channel_id, started_on, started_at, asked_at, viewed_at, escalated_at)
      select workspace_id, contact_id, (array_agg(bot_id))[1], (array_agg(channel_id))[1],
        min(day) filter (where type = 'contact_new'),
        min(occurred_at) filter (where type = 'contact_new'),
        min(occurred_at) filter (where type = 'message_in' and data->'command' is distinct from 'true'::jsonb
          and data->'edited' is distinct from 'true'::jsonb),
        min(occurred_at) filter (where type = 'product_view'),
        min(occurred_at) filter (where type = 'escalation_created')
      from src
      where contact_id is not null and type in ('contact_new', 'message_in', 'product_view', 'escalation_created')
      group by workspace_id, contact_id
      order by 1, 2
      on conflict (workspace_id, contact_id) do update set
        started_on = case when t.started_at is null or excluded.started_at < t.started_at then excluded.started_on else t.started_on end,
        started_at = least(t.started_at, excluded.started_at),
        asked_at = least(t.asked_at, excluded.asked_at),
        viewed_at = least(t.viewed_at, excluded.viewed_at),
        escalated_at = least(t.escalated_at, excluded.escalated_at)
      where excluded.started_at < t.started_at or (t.started_at is null and excluded.started_at is not null)
        or excluded.asked_at < t.asked_at or (t.asked_at is null and excluded.asked_at is not null)
        or excluded.viewed_at < t.viewed_at or (t.viewed_at is null and excluded.viewed_at is not null)
        or excluded.escalated_at < t.escalated_at or (t.escalated_at is null and excluded.escalated_at is not null)`,
    },
  ];
}

/** Each rollup as a statement of its own over the events of `table` (the rebuild's temporary table). */
export function rollupStatements(table: string): SQL[] {
  return rollups().map(
    (rollup) =>
      sql`with src as (select * from ${sql.identifier(table)})${sql.join(
        rollup.helpers.map((helper) => sql`, ${helper}`),
      )} ${rollup.upsert}`,
  );
}

/** JSON text PostgreSQL's jsonb accepts: no NUL characters (`\u0000` escapes), anywhere. */
function toJsonText(value: unknown): string {
  return JSON.stringify(value).replace(/(?<!\\)((?:\\\\)*)\\u0000/g, '$1');
}

/**
 * Writes one batch of events and its rollups in one statement; a batch id already written
 * is skipped. Events of a workspace deleted meanwhile are left out.
 */
export async function writeEventBatch(db: DbOrTx, rows: AnalyticsRow[], batchId: string): Promise<void> {
  if (rows.length === 0) return;
  const payload = toJsonText(
    rows.map((row) => ({
      workspace_id: row.workspaceId,
      bot_id: row.botId ?? null,
      channel_id: row.channelId ?? null,
      contact_id: row.contactId ?? null,
      type: row.type,
      data: row.data ?? {},
      occurred_at: (row.occurredAt ?? new Date()).toISOString(),
    })),
  );
  await db.execute(eventBatchStatement(payload, batchId));
}

/**
 * One statement: claim the batch id, insert the events, and upsert every rollup from the
 * inserted rows (RETURNING), as data-modifying CTEs — one round trip per batch instead of one
 * per table.
 */
export function eventBatchStatement(payload: string, batchId: string): SQL {
  const parts = rollups();
  const helpers = parts.flatMap((rollup) => rollup.helpers);
  const upserts = parts.map((rollup, index) => sql`${sql.raw(`rollup_${index}`)} as (${rollup.upsert})`);
  return sql`
    with claimed as (
      insert into analytics_event_batches (id) values (${batchId}) on conflict do nothing returning id
    ), inserted as (
      insert into analytics_events (workspace_id, bot_id, channel_id, contact_id, type, data, occurred_at)
      select r.workspace_id, r.bot_id, r.channel_id, r.contact_id, r.type, coalesce(r.data, '{}'::jsonb), r.occurred_at
      from jsonb_to_recordset(${payload}::jsonb) as r(workspace_id uuid, bot_id uuid, channel_id uuid,
        contact_id uuid, type text, data jsonb, occurred_at timestamptz)
      where exists (select 1 from claimed) and exists (select 1 from workspaces w where w.id = r.workspace_id)
      returning workspace_id, bot_id, channel_id, contact_id, type, data, occurred_at
    ), src as (${sourceSelect(sql`inserted e`, sql`true`)}),
    ${sql.join([...helpers, ...upserts], sql`, `)}
    select 1`;
}

/** Rollup tables a workspace's rebuild clears. */
const ROLLUP_TABLES = [
  'analytics_hourly',
  'analytics_daily',
  'analytics_daily_durations',
  'analytics_daily_keys',
  'analytics_daily_contacts',
  'analytics_daily_sketches',
  'analytics_sketch_days',
  'analytics_funnel',
] as const;

/**
 * Recomputes a workspace's rollups from its raw events (after a timezone change, or to
 * backfill raw rows written around the tracker). Writers wait meanwhile: the raw table is
 * locked in SHARE mode, so no batch commits between the delete and the recomputation.
 */
export async function rebuildRollups(db: Db, workspaceId: string): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.execute(sql`lock table analytics_events in share mode`);
    for (const table of ROLLUP_TABLES)
      await tx.execute(sql`delete from ${sql.identifier(table)} where workspace_id = ${workspaceId}`);
    // The events are read, joined and measured once into a temporary table the statements share.
    await tx.execute(sql`set local work_mem = '256MB'`);
    await tx.execute(
      sql`create temporary table analytics_rebuild_src on commit drop as ${sourceSelect(sql`analytics_events e`, sql`e.workspace_id = ${workspaceId}`)}`,
    );
    await tx.execute(sql`analyze analytics_rebuild_src`);
    for (const statement of rollupStatements('analytics_rebuild_src')) await tx.execute(statement);
  });
}

/**
 * Builds HyperLogLog sketches for past days whose sketch is missing or stale (a contact
 * arrived after it was built). The day's freshness row is locked while building, so a writer
 * adding a contact to that day waits and then marks it stale again: never a sketch that
 * misses a contact yet looks fresh. Returns how many days were built.
 */
export async function buildSketches(db: Db, options: { limit?: number; includeToday?: boolean } = {}) {
  const due = await queryRows(
    db,
    sql`
    select s.workspace_id, s.day::text as day from analytics_sketch_days s
    join workspaces w on w.id = s.workspace_id
    where s.built_seq < s.dirty_seq
      ${options.includeToday ? sql`` : sql`and s.day < (now() at time zone w.timezone)::date`}
    order by s.day limit ${options.limit ?? 100}`,
  );
  let built = 0;
  for (const row of due) {
    const workspaceId = String(row.workspace_id);
    const day = String(row.day);
    await db.transaction(async (tx) => {
      const [state] = await queryRows(
        tx,
        sql`select dirty_seq from analytics_sketch_days
          where workspace_id = ${workspaceId} and day = ${day} for update`,
      );
      if (!state) return;
      const registers = await queryRows(
        tx,
        sql`
        select coalesce(bot_id, ${ALL_ID}::uuid) as bot_id, coalesce(channel_id, ${ALL_ID}::uuid) as channel_id,
          hll_idx, max(hll_rank) as rank
        from analytics_daily_contacts where workspace_id = ${workspaceId} and day = ${day}
        group by grouping sets ((bot_id, channel_id, hll_idx), (hll_idx))`,
      );
      const sketches = new Map<string, { botId: string; channelId: string; registers: Uint8Array }>();
      for (const entry of registers) {
        const botId = String(entry.bot_id);
        const channelId = String(entry.channel_id);
        const key = `${botId}/${channelId}`;
        let sketch = sketches.get(key);
        if (!sketch) {
          sketch = { botId, channelId, registers: new Uint8Array(HLL_M) };
          sketches.set(key, sketch);
        }
        sketch.registers[Number(entry.hll_idx)] = Number(entry.rank);
      }
      await tx.execute(
        sql`delete from analytics_daily_sketches where workspace_id = ${workspaceId} and day = ${day}`,
      );
      for (const sketch of sketches.values()) {
        await tx.execute(sql`insert into analytics_daily_sketches (workspace_id, day, bot_id, channel_id, registers)
          values (${workspaceId}, ${day}, ${sketch.botId}, ${sketch.channelId}, ${Buffer.from(sketch.registers)})`);
      }
      await tx.execute(sql`update analytics_sketch_days set built_seq = ${toNumber(state.dirty_seq)}
        where workspace_id = ${workspaceId} and day = ${day}`);
      built += 1;
    });
  }
  return built;
}

/** Forgets batch ids older than a day: a retry comes seconds after its first attempt. */
export async function pruneBatchIds(db: DbOrTx): Promise<void> {
  await db.execute(sql`delete from analytics_event_batches where written_at < now() - interval '1 day'`);
}
