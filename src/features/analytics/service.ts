import { and, eq, type SQL, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../platform/db/index.ts';
import { queryRows, type Row, toNumber } from '../../platform/db/rows.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import { bots } from '../bots/schema.ts';
import { channels } from '../channels/schema.ts';
import { workspaces } from '../workspaces/schema.ts';
import { ACTIVE_CONTACTS, type EventType } from './events.ts';
import { estimate, HLL_M, mergeRegisters } from './hll.ts';
import { ALL_ID, DURATION_BUCKETS_PER_DOUBLING } from './rollups.ts';

/*
 * Reports read the rollups (rollups.ts), never raw events: a 90-day summary touches a few
 * thousand rollup rows whatever the event volume. Dates are the workspace's local dates.
 */

export interface ReportQuery {
  workspaceId: string;
  botId?: string | undefined;
  channelId?: string | undefined;
  /** Local dates (YYYY-MM-DD), inclusive; default: the last 30 days ending today. */
  from?: string | undefined;
  to?: string | undefined;
}

export interface ReportScope {
  workspaceId: string;
  timezone: string;
  botId: string | undefined;
  channelId: string | undefined;
  from: string;
  to: string;
  days: number;
}

/** Longest period of a report; an hourly series is limited to `MAX_HOURLY_DAYS`. */
export const MAX_DAYS = 732;
export const MAX_HOURLY_DAYS = 31;
export const DEFAULT_DAYS = 30;

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The workspace's local date of an instant. */
export function localDate(at: Date, timezone: string): string {
  try {
    return new Intl.DateTimeFormat('en-CA', {
      timeZone: timezone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    }).format(at);
  } catch {
    return at.toISOString().slice(0, 10);
  }
}

export function addDays(day: string, n: number): string {
  const at = Date.parse(`${day}T00:00:00Z`) + n * 86_400_000;
  return new Date(at).toISOString().slice(0, 10);
}

export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000) + 1;
}

function validDate(day: string): boolean {
  return DATE.test(day) && !Number.isNaN(Date.parse(`${day}T00:00:00Z`)) && addDays(day, 0) === day;
}

/**
 * Checks the filters against the workspace (a bot or channel of another workspace is a 404)
 * and settles the period in the workspace's timezone.
 */
export async function resolveScope(
  ctx: { db: DbOrTx },
  query: ReportQuery,
  options: { maxDays?: number } = {},
): Promise<ReportScope> {
  const [workspace] = await ctx.db
    .select({ timezone: workspaces.timezone })
    .from(workspaces)
    .where(eq(workspaces.id, query.workspaceId));
  if (!workspace) throw notFound('Workspace');
  let botId = query.botId;
  if (query.channelId) {
    const [channel] = await ctx.db
      .select({ botId: channels.botId })
      .from(channels)
      .where(and(eq(channels.id, query.channelId), eq(channels.workspaceId, query.workspaceId)));
    if (!channel || (botId && channel.botId !== botId)) throw notFound('Channel');
    botId = channel.botId;
  } else if (botId) {
    const [channel] = await ctx.db
      .select({ id: channels.id })
      .from(channels)
      .where(and(eq(channels.botId, botId), eq(channels.workspaceId, query.workspaceId)))
      .limit(1);
    // A bot without channels has no events; its id must still belong to the workspace.
    if (!channel) {
      const [bot] = await ctx.db
        .select({ id: bots.id })
        .from(bots)
        .where(and(eq(bots.id, botId), eq(bots.workspaceId, query.workspaceId)));
      if (!bot) throw notFound('Bot');
    }
  }
  const today = localDate(new Date(), workspace.timezone);
  const to = query.to ?? today;
  const from = query.from ?? addDays(to, -(DEFAULT_DAYS - 1));
  for (const [name, value] of [
    ['from', from],
    ['to', to],
  ] as const) {
    if (!validDate(value))
      throw new AppError('BAD_REQUEST', { message: `${name} must be a date (YYYY-MM-DD)` });
  }
  const days = daysBetween(from, to);
  const maxDays = options.maxDays ?? MAX_DAYS;
  if (days < 1) throw new AppError('BAD_REQUEST', { message: 'from must not be after to' });
  if (days > maxDays)
    throw new AppError('BAD_REQUEST', { message: `The period may span at most ${maxDays} days` });
  return {
    workspaceId: query.workspaceId,
    timezone: workspace.timezone,
    botId,
    channelId: query.channelId,
    from,
    to,
    days,
  };
}

/** The rollup rows of the scope's grain (`t` aliases a rollup table). */
function rollupGrain(scope: ReportScope): SQL {
  if (!scope.botId) return sql`t.bot_id = ${ALL_ID}::uuid`;
  if (scope.channelId) return sql`t.bot_id = ${scope.botId} and t.channel_id = ${scope.channelId}`;
  return sql`t.bot_id = ${scope.botId}`;
}

/** The per-contact rows (distinct contacts, funnel) of the scope (`t` aliases the table). */
function contactGrain(scope: ReportScope): SQL {
  if (scope.channelId) return sql`t.channel_id = ${scope.channelId}`;
  if (scope.botId) return sql`t.bot_id = ${scope.botId}`;
  return sql`true`;
}

// ─── Summary ─────────────────────────────────────────────────────────────────

interface TypeTotals {
  events: number;
  tokens: number;
  cost: number;
  zeroResults: number;
  failures: number;
  durationMs: number;
}

async function totalsByType(db: DbOrTx, scope: ReportScope): Promise<Map<string, TypeTotals>> {
  const rows = await queryRows(
    db,
    sql`select t.type, sum(t.events) as events, sum(t.tokens) as tokens, sum(t.cost) as cost,
      sum(t.zero_results) as zero_results, sum(t.failures) as failures, sum(t.duration_ms) as duration_ms
    from analytics_daily t
    where t.workspace_id = ${scope.workspaceId} and ${rollupGrain(scope)}
      and t.day between ${scope.from}::date and ${scope.to}::date
    group by t.type`,
  );
  return new Map(
    rows.map((row) => [
      String(row.type),
      {
        events: toNumber(row.events),
        tokens: toNumber(row.tokens),
        cost: toNumber(row.cost),
        zeroResults: toNumber(row.zero_results),
        failures: toNumber(row.failures),
        durationMs: toNumber(row.duration_ms),
      },
    ]),
  );
}

async function medians(db: DbOrTx, scope: ReportScope): Promise<Map<string, number | null>> {
  const rows = await queryRows(
    db,
    sql`select t.type, t.bucket, sum(t.count) as n from analytics_daily_durations t
    where t.workspace_id = ${scope.workspaceId} and ${rollupGrain(scope)}
      and t.day between ${scope.from}::date and ${scope.to}::date
      and t.type in ('handoff_started', 'escalation_resolved')
    group by t.type, t.bucket order by t.type, t.bucket`,
  );
  const byType = new Map<string, Array<{ bucket: number; n: number }>>();
  for (const row of rows) {
    const list = byType.get(String(row.type)) ?? [];
    list.push({ bucket: toNumber(row.bucket), n: toNumber(row.n) });
    byType.set(String(row.type), list);
  }
  return new Map([...byType].map(([type, buckets]) => [type, medianOfBuckets(buckets)]));
}

/** The median of a log-bucketed histogram, as the bucket's geometric middle (ms). */
export function medianOfBuckets(buckets: Array<{ bucket: number; n: number }>): number | null {
  const total = buckets.reduce((sum, entry) => sum + entry.n, 0);
  if (total === 0) return null;
  let seen = 0;
  for (const entry of [...buckets].sort((a, b) => a.bucket - b.bucket)) {
    seen += entry.n;
    if (seen >= total / 2) return 2 ** ((entry.bucket + 0.5) / DURATION_BUCKETS_PER_DOUBLING);
  }
  return null;
}

export async function topKeys(
  db: DbOrTx,
  scope: ReportScope,
  kind: 'query' | 'product' | 'referrer',
  limit: number,
): Promise<Array<{ key: string; label: string | null; count: number }>> {
  // A plain hash aggregate: a product's label is its title, which rarely changes (max is one of them).
  const rows = await queryRows(
    db,
    sql`select t.key, sum(t.count) as n, max(t.label) as label from analytics_daily_keys t
    where t.workspace_id = ${scope.workspaceId} and ${rollupGrain(scope)} and t.kind = ${kind}
      and t.day between ${scope.from}::date and ${scope.to}::date
    group by t.key order by n desc, t.key limit ${limit}`,
  );
  return rows.map((row) => ({
    key: String(row.key),
    label: typeof row.label === 'string' ? row.label : null,
    count: toNumber(row.n),
  }));
}

/** Above this many contact-days a period's unique users come from the HyperLogLog sketches. */
export const EXACT_UNIQUE_LIMIT = 50_000;

export async function countUniqueUsers(
  db: DbOrTx,
  scope: ReportScope,
  contactDays: number,
): Promise<{ value: number; method: 'exact' | 'hll' }> {
  // One day's distinct contacts are rolled up exactly.
  if (scope.days === 1 || contactDays === 0) return { value: contactDays, method: 'exact' };
  if (contactDays <= EXACT_UNIQUE_LIMIT) {
    const [row] = await queryRows(
      db,
      sql`select count(distinct t.contact_id) as n from analytics_daily_contacts t
      where t.workspace_id = ${scope.workspaceId} and ${contactGrain(scope)}
        and t.day between ${scope.from}::date and ${scope.to}::date`,
    );
    return { value: toNumber(row?.n), method: 'exact' };
  }
  const sketchGrain = !scope.botId
    ? sql`k.bot_id = ${ALL_ID}::uuid`
    : scope.channelId
      ? sql`k.bot_id = ${scope.botId} and k.channel_id = ${scope.channelId}`
      : sql`k.bot_id = ${scope.botId}`;
  // Days without a fresh sketch (late events, or not built yet) are read from the exact table;
  // they are few, so they are listed first and looked up by day.
  const [sketches, staleDays] = await Promise.all([
    queryRows(
      db,
      sql`select k.registers from analytics_daily_sketches k
      join analytics_sketch_days d on d.workspace_id = k.workspace_id and d.day = k.day and d.built_seq = d.dirty_seq
      where k.workspace_id = ${scope.workspaceId} and ${sketchGrain}
        and k.day between ${scope.from}::date and ${scope.to}::date`,
    ),
    queryRows(
      db,
      sql`select d.day::text as day from analytics_sketch_days d where d.workspace_id = ${scope.workspaceId}
        and d.day between ${scope.from}::date and ${scope.to}::date and d.built_seq <> d.dirty_seq`,
    ),
  ]);
  const stale =
    staleDays.length === 0
      ? []
      : await queryRows(
          db,
          sql`select t.hll_idx, max(t.hll_rank) as rank from analytics_daily_contacts t
          where t.workspace_id = ${scope.workspaceId} and ${contactGrain(scope)}
            and t.day = any(${`{${staleDays.map((row) => String(row.day)).join(',')}}`}::date[])
          group by t.hll_idx`,
        );
  const registers = new Uint8Array(HLL_M);
  for (const row of sketches) {
    const value = row.registers;
    if (value instanceof Uint8Array) mergeRegisters(registers, value);
  }
  for (const row of stale) {
    const idx = toNumber(row.hll_idx);
    const rank = toNumber(row.rank);
    if (rank > (registers[idx] ?? 0)) registers[idx] = rank;
  }
  return { value: estimate(registers), method: 'hll' };
}

export interface Summary {
  from: string;
  to: string;
  timezone: string;
  botId: string | null;
  channelId: string | null;
  conversations: number;
  uniqueUsers: number;
  uniqueUsersMethod: 'exact' | 'hll';
  newUsers: number;
  messagesIn: number;
  messagesOut: number;
  escalations: {
    opened: number;
    resolved: number;
    handoffs: number;
    medianFirstResponseSeconds: number | null;
    medianResolutionSeconds: number | null;
  };
  searches: number;
  zeroResultSearches: number;
  productViews: number;
  topQueries: Array<{ query: string; count: number }>;
  topProducts: Array<{ productId: string; title: string | null; count: number }>;
  llm: { calls: number; failures: number; tokens: number; cost: number; averageLatencyMs: number | null };
  deliveryFailures: number;
  buttonClicks: number;
  commands: number;
  contactsBlocked: number;
  priceAlertsCreated: number;
  priceAlertsFired: number;
  errors: number;
}

/**
 * The dashboard summary. Its queries are independent and run at once (on PostgreSQL each on
 * its own pooled connection). "Conversations" are contact-days: a contact active on a day is
 * one conversation that day — the 24-hour window messaging platforms bill by.
 */
export async function getSummary(ctx: { db: DbOrTx }, scope: ReportScope, options: { top?: number } = {}) {
  const top = options.top ?? 10;
  const [totals, durations, queries, products] = await Promise.all([
    totalsByType(ctx.db, scope),
    medians(ctx.db, scope),
    topKeys(ctx.db, scope, 'query', top),
    topKeys(ctx.db, scope, 'product', top),
  ]);
  const of = (type: EventType | typeof ACTIVE_CONTACTS) => totals.get(type)?.events ?? 0;
  const contactDays = of(ACTIVE_CONTACTS);
  const unique = await countUniqueUsers(ctx.db, scope, contactDays);
  const llm = totals.get('llm_call');
  const seconds = (ms: number | null | undefined) => (ms == null ? null : Math.round(ms) / 1000);
  const summary: Summary = {
    from: scope.from,
    to: scope.to,
    timezone: scope.timezone,
    botId: scope.botId ?? null,
    channelId: scope.channelId ?? null,
    conversations: contactDays,
    uniqueUsers: unique.value,
    uniqueUsersMethod: unique.method,
    newUsers: of('contact_new'),
    messagesIn: of('message_in'),
    messagesOut: of('message_out'),
    escalations: {
      opened: of('escalation_created'),
      resolved: of('escalation_resolved'),
      handoffs: of('handoff_started'),
      medianFirstResponseSeconds: seconds(durations.get('handoff_started')),
      medianResolutionSeconds: seconds(durations.get('escalation_resolved')),
    },
    searches: of('search'),
    zeroResultSearches: totals.get('search')?.zeroResults ?? 0,
    productViews: of('product_view'),
    topQueries: queries.map((entry) => ({ query: entry.key, count: entry.count })),
    topProducts: products.map((entry) => ({ productId: entry.key, title: entry.label, count: entry.count })),
    llm: {
      calls: llm?.events ?? 0,
      failures: llm?.failures ?? 0,
      tokens: llm?.tokens ?? 0,
      cost: Math.round((llm?.cost ?? 0) * 1e6) / 1e6,
      averageLatencyMs: llm && llm.events > 0 ? Math.round(llm.durationMs / llm.events) : null,
    },
    deliveryFailures: of('delivery_failed'),
    buttonClicks: of('button_click'),
    commands: of('command'),
    contactsBlocked: of('contact_blocked'),
    priceAlertsCreated: of('price_alert_created'),
    priceAlertsFired: of('price_alert_fired'),
    errors: of('error'),
  };
  return summary;
}

// ─── Timeseries ──────────────────────────────────────────────────────────────

type Measure = 'events' | 'tokens' | 'cost' | 'zero_results' | 'failures';

/** What each timeseries metric sums; `dailyOnly` ones have no hourly rollup. */
export const METRICS = {
  messages_in: { type: 'message_in', measure: 'events' },
  messages_out: { type: 'message_out', measure: 'events' },
  conversations: { type: ACTIVE_CONTACTS, measure: 'events', dailyOnly: true },
  new_users: { type: 'contact_new', measure: 'events' },
  commands: { type: 'command', measure: 'events' },
  button_clicks: { type: 'button_click', measure: 'events' },
  searches: { type: 'search', measure: 'events' },
  zero_result_searches: { type: 'search', measure: 'zero_results' },
  product_views: { type: 'product_view', measure: 'events' },
  escalations_opened: { type: 'escalation_created', measure: 'events' },
  escalations_resolved: { type: 'escalation_resolved', measure: 'events' },
  handoffs: { type: 'handoff_started', measure: 'events' },
  llm_calls: { type: 'llm_call', measure: 'events' },
  llm_failures: { type: 'llm_call', measure: 'failures' },
  llm_tokens: { type: 'llm_call', measure: 'tokens' },
  llm_cost: { type: 'llm_call', measure: 'cost' },
  price_alerts_created: { type: 'price_alert_created', measure: 'events' },
  price_alerts_fired: { type: 'price_alert_fired', measure: 'events' },
  delivery_failures: { type: 'delivery_failed', measure: 'events' },
  contacts_blocked: { type: 'contact_blocked', measure: 'events' },
  errors: { type: 'error', measure: 'events' },
} as const satisfies Record<string, { type: string; measure: Measure; dailyOnly?: true }>;

export type MetricName = keyof typeof METRICS;
export const METRIC_NAMES = Object.keys(METRICS) as [MetricName, ...MetricName[]];

export interface TimeseriesPoint {
  /** The instant the bucket starts. */
  at: Date;
  /** The bucket in the workspace's local time: `YYYY-MM-DD` or `YYYY-MM-DD HH:00`. */
  label: string;
  value: number;
}

/** One value per local day or hour of the period, zero-filled. */
export async function getTimeseries(
  ctx: { db: DbOrTx },
  scope: ReportScope,
  options: { metric: MetricName; interval: 'hour' | 'day' },
): Promise<TimeseriesPoint[]> {
  const metric: { type: string; measure: Measure; dailyOnly?: true } = METRICS[options.metric];
  const measure = sql.raw(`t.${metric.measure}`);
  if (options.interval === 'hour') {
    if (metric.dailyOnly)
      throw new AppError('BAD_REQUEST', { message: `${options.metric} is counted per day only` });
    if (scope.days > MAX_HOURLY_DAYS)
      throw new AppError('BAD_REQUEST', {
        message: `An hourly series may span at most ${MAX_HOURLY_DAYS} days`,
      });
    const rows = await queryRows(
      ctx.db,
      sql`select g.at, to_char(g.at at time zone ${scope.timezone}, 'YYYY-MM-DD HH24:00') as label,
        coalesce(sum(${measure}), 0) as value
      from generate_series(${scope.from}::timestamp at time zone ${scope.timezone},
        (${scope.to}::date + 1)::timestamp at time zone ${scope.timezone} - interval '1 hour', interval '1 hour') as g(at)
      left join analytics_hourly t on t.workspace_id = ${scope.workspaceId} and ${rollupGrain(scope)}
        and t.type = ${metric.type} and t.hour = g.at
      group by g.at order by g.at`,
    );
    return rows.map(toPoint);
  }
  const rows = await queryRows(
    ctx.db,
    sql`select g.day::timestamp at time zone ${scope.timezone} as at, to_char(g.day, 'YYYY-MM-DD') as label,
      coalesce(sum(${measure}), 0) as value
    from generate_series(${scope.from}::date, ${scope.to}::date, interval '1 day') as g(day)
    left join analytics_daily t on t.workspace_id = ${scope.workspaceId} and ${rollupGrain(scope)}
      and t.type = ${metric.type} and t.day = g.day::date
    group by g.day order by g.day`,
  );
  return rows.map(toPoint);
}

function toPoint(row: Row): TimeseriesPoint {
  const at = row.at instanceof Date ? row.at : new Date(String(row.at));
  return { at, label: String(row.label), value: toNumber(row.value) };
}

// ─── Funnel and referrals ────────────────────────────────────────────────────

export const FUNNEL_STEPS = ['started', 'asked', 'viewed_product', 'escalated'] as const;

/**
 * Contacts who started (first seen) in the period, and how many of them went on, in order, to
 * ask a first question (a message that is not a /command), view a product, and escalate.
 * Each step counts a contact whose first time at that step came at or after the previous one.
 */
export async function getFunnel(ctx: { db: DbOrTx }, scope: ReportScope) {
  const [row] = await queryRows(
    ctx.db,
    sql`select count(*) as started,
      count(*) filter (where t.asked_at >= t.started_at) as asked,
      count(*) filter (where t.asked_at >= t.started_at and t.viewed_at >= t.asked_at) as viewed,
      count(*) filter (where t.asked_at >= t.started_at and t.viewed_at >= t.asked_at
        and t.escalated_at >= t.viewed_at) as escalated
    from analytics_funnel t
    where t.workspace_id = ${scope.workspaceId} and ${contactGrain(scope)}
      and t.started_on between ${scope.from}::date and ${scope.to}::date`,
  );
  const counts = [row?.started, row?.asked, row?.viewed, row?.escalated].map(toNumber);
  const first = counts[0] ?? 0;
  return FUNNEL_STEPS.map((step, i) => {
    const count = counts[i] ?? 0;
    const previous = i === 0 ? count : (counts[i - 1] ?? 0);
    return {
      step,
      count,
      ofStarted: first > 0 ? count / first : 0,
      ofPrevious: previous > 0 ? count / previous : 0,
    };
  });
}

/** Deep-link sources: /start payloads of contacts who arrived through a link. */
export async function getReferrals(ctx: { db: DbOrTx }, scope: ReportScope, limit = 50) {
  const items = await topKeys(ctx.db, scope, 'referrer', limit);
  return items.map((item) => ({ source: item.key, starts: item.count }));
}
