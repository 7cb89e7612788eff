import {
  bigint,
  bigserial,
  customType,
  date,
  doublePrecision,
  index,
  jsonb,
  pgTable,
  primaryKey,
  smallint,
  text,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { createdAt, idColumn, ts } from '../../platform/db/columns.ts';
import { users } from '../identity/schema.ts';
import { workspaces } from '../workspaces/schema.ts';

const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({ dataType: () => 'bytea' });

const workspaceRef = () =>
  uuid('workspace_id')
    .notNull()
    .references(() => workspaces.id, { onDelete: 'cascade' });

/**
 * Raw analytics events, written in batches by the tracker (never in the reply path). No
 * foreign keys besides the workspace: an event outlives the bot or contact it mentions.
 * Dashboards never aggregate these; they read the rollups below. The indexes serve the raw
 * event browser and the CSV export (keyset over occurred_at, id).
 */
export const analyticsEvents = pgTable(
  'analytics_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    workspaceId: workspaceRef(),
    botId: uuid('bot_id'),
    channelId: uuid('channel_id'),
    contactId: uuid('contact_id'),
    type: text('type').notNull(),
    data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
    occurredAt: ts('occurred_at').notNull(),
  },
  (t) => [
    index('analytics_events_workspace_time_idx').on(t.workspaceId, t.occurredAt, t.id),
    index('analytics_events_workspace_type_time_idx').on(t.workspaceId, t.type, t.occurredAt, t.id),
    index('analytics_events_contact_time_idx').on(t.contactId, t.occurredAt),
  ],
);

/** Batch ids already written: a retried batch whose first attempt did commit is skipped. */
export const analyticsEventBatches = pgTable('analytics_event_batches', {
  id: uuid('id').primaryKey(),
  writtenAt: ts('written_at').notNull().defaultNow(),
});

/*
 * Rollups. Each row is one grain: a bot and channel (NO_ID when the event had none), or
 * ALL_ID/ALL_ID for the whole workspace, so an unfiltered dashboard reads a handful of rows per
 * day instead of one per bot. Hours and days are the workspace's local ones: `day` is the
 * local date, `hour` the instant the local hour starts (distinct instants across a DST change).
 */

const measures = () => ({
  events: bigint('events', { mode: 'number' }).notNull().default(0),
  /** LLM tokens (llm_call). */
  tokens: bigint('tokens', { mode: 'number' }).notNull().default(0),
  /** LLM cost in the workspace currency (llm_call.cost). */
  cost: doublePrecision('cost').notNull().default(0),
  /** search events with `results: 0`. */
  zeroResults: bigint('zero_results', { mode: 'number' }).notNull().default(0),
  /** llm_call events with `ok: false`. */
  failures: bigint('failures', { mode: 'number' }).notNull().default(0),
  /** Sum of the event's duration (latencyMs, waitMs, resolutionMs), for averages. */
  durationMs: doublePrecision('duration_ms').notNull().default(0),
});

export const analyticsHourly = pgTable(
  'analytics_hourly',
  {
    workspaceId: workspaceRef(),
    botId: uuid('bot_id').notNull(),
    hour: ts('hour').notNull(),
    type: text('type').notNull(),
    channelId: uuid('channel_id').notNull(),
    ...measures(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.botId, t.hour, t.type, t.channelId] })],
);

export const analyticsDaily = pgTable(
  'analytics_daily',
  {
    workspaceId: workspaceRef(),
    botId: uuid('bot_id').notNull(),
    day: date('day', { mode: 'string' }).notNull(),
    type: text('type').notNull(),
    channelId: uuid('channel_id').notNull(),
    ...measures(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.botId, t.day, t.type, t.channelId] })],
);

/** Durations per day in log-spaced buckets (2^(1/8) apart), for medians without raw rows. */
export const analyticsDailyDurations = pgTable(
  'analytics_daily_durations',
  {
    workspaceId: workspaceRef(),
    botId: uuid('bot_id').notNull(),
    day: date('day', { mode: 'string' }).notNull(),
    type: text('type').notNull(),
    channelId: uuid('channel_id').notNull(),
    bucket: smallint('bucket').notNull(),
    count: bigint('count', { mode: 'number' }).notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.botId, t.day, t.type, t.channelId, t.bucket] })],
);

/** Counts per day and key: search queries, viewed products, referral sources. */
export const analyticsDailyKeys = pgTable(
  'analytics_daily_keys',
  {
    workspaceId: workspaceRef(),
    botId: uuid('bot_id').notNull(),
    kind: text('kind').$type<'query' | 'product' | 'referrer'>().notNull(),
    day: date('day', { mode: 'string' }).notNull(),
    key: text('key').notNull(),
    channelId: uuid('channel_id').notNull(),
    count: bigint('count', { mode: 'number' }).notNull().default(0),
    /** A display name (a product's title), the latest seen. */
    label: text('label'),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.botId, t.kind, t.day, t.key, t.channelId] })],
);

/**
 * Exact distinct contacts per local day. A contact belongs to one channel, so its bot and
 * channel ride along. `hll_idx`/`hll_rank` are the contact's HyperLogLog register and rank
 * (from a 64-bit hash of its id, computed in SQL), so sketches are built by a GROUP BY.
 */
export const analyticsDailyContacts = pgTable(
  'analytics_daily_contacts',
  {
    workspaceId: workspaceRef(),
    day: date('day', { mode: 'string' }).notNull(),
    contactId: uuid('contact_id').notNull(),
    botId: uuid('bot_id').notNull(),
    channelId: uuid('channel_id').notNull(),
    hllIdx: smallint('hll_idx').notNull(),
    hllRank: smallint('hll_rank').notNull(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.day, t.contactId] })],
);

/** HyperLogLog sketches of a day's contacts per grain, merged for long ranges. */
export const analyticsDailySketches = pgTable(
  'analytics_daily_sketches',
  {
    workspaceId: workspaceRef(),
    day: date('day', { mode: 'string' }).notNull(),
    botId: uuid('bot_id').notNull(),
    channelId: uuid('channel_id').notNull(),
    registers: bytea('registers').notNull(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.day, t.botId, t.channelId] })],
);

/**
 * Freshness of a day's sketches: writers bump `dirty_seq` when a new contact appears on that
 * day; the sketch job records the `dirty_seq` it built from. Sketches are used only while
 * `built_seq = dirty_seq`; otherwise the day is read from the exact table.
 */
export const analyticsSketchDays = pgTable(
  'analytics_sketch_days',
  {
    workspaceId: workspaceRef(),
    day: date('day', { mode: 'string' }).notNull(),
    dirtySeq: bigint('dirty_seq', { mode: 'number' }).notNull().default(1),
    builtSeq: bigint('built_seq', { mode: 'number' }).notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.day] })],
);

/** First time each contact reached each funnel step; cohorts by the local day they started. */
export const analyticsFunnel = pgTable(
  'analytics_funnel',
  {
    workspaceId: workspaceRef(),
    contactId: uuid('contact_id').notNull(),
    botId: uuid('bot_id').notNull(),
    channelId: uuid('channel_id').notNull(),
    startedOn: date('started_on', { mode: 'string' }),
    startedAt: ts('started_at'),
    askedAt: ts('asked_at'),
    viewedAt: ts('viewed_at'),
    escalatedAt: ts('escalated_at'),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.contactId] }),
    index('analytics_funnel_started_idx').on(t.workspaceId, t.startedOn),
  ],
);

export const SHARE_REPORTS = ['summary', 'timeseries', 'funnel'] as const;
export type ShareReport = (typeof SHARE_REPORTS)[number];

export interface ShareScope {
  reports: ShareReport[];
  botId?: string | undefined;
  channelId?: string | undefined;
  /** Timeseries metrics shown (the first is the chart). */
  metrics: string[];
  /** A fixed period, or a rolling one ending today (the workspace's today). */
  period: { kind: 'range'; from: string; to: string } | { kind: 'last_days'; days: number };
}

/** Read-only links to a report. The token is shown once; only its SHA-256 is kept. */
export const analyticsShareLinks = pgTable(
  'analytics_share_links',
  {
    id: idColumn(),
    workspaceId: workspaceRef(),
    name: text('name').notNull(),
    tokenHash: text('token_hash').notNull(),
    prefix: text('prefix').notNull(),
    scope: jsonb('scope').$type<ShareScope>().notNull(),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    expiresAt: ts('expires_at').notNull(),
    revokedAt: ts('revoked_at'),
    lastViewedAt: ts('last_viewed_at'),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('analytics_share_links_hash_key').on(t.tokenHash),
    index('analytics_share_links_workspace_idx').on(t.workspaceId, t.createdAt),
  ],
);
