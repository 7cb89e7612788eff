import { type SQL, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { DbOrTx } from '../../platform/db/index.ts';
import { queryRows, type Row, toNumber } from '../../platform/db/rows.ts';
import { AppError } from '../../platform/errors.ts';
import type { Summary, TimeseriesPoint } from './service.ts';

/** Filters of the raw event browser and the events export. */
export interface EventFilter {
  workspaceId: string;
  type?: string | undefined;
  botId?: string | undefined;
  channelId?: string | undefined;
  contactId?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
}

export interface RawEvent {
  id: number;
  type: string;
  botId: string | null;
  channelId: string | null;
  contactId: string | null;
  data: Record<string, unknown>;
  occurredAt: Date;
}

/** Keyset cursor over (occurred_at, id), newest first. */
const cursorSchema = z.object({ t: z.iso.datetime({ offset: true }), i: z.number().int() });

function encodeEventCursor(event: RawEvent): string {
  return Buffer.from(JSON.stringify({ t: event.occurredAt.toISOString(), i: event.id })).toString(
    'base64url',
  );
}

function decodeEventCursor(cursor: string | undefined): { at: Date; id: number } | undefined {
  if (!cursor) return undefined;
  try {
    const parsed = cursorSchema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    return { at: new Date(parsed.t), id: parsed.i };
  } catch (cause) {
    throw new AppError('BAD_REQUEST', { message: 'invalid cursor', cause });
  }
}

function whereOf(filter: EventFilter, after: { at: Date; id: number } | undefined): SQL {
  const parts: SQL[] = [sql`e.workspace_id = ${filter.workspaceId}`];
  if (filter.type) parts.push(sql`e.type = ${filter.type}`);
  if (filter.botId) parts.push(sql`e.bot_id = ${filter.botId}`);
  if (filter.channelId) parts.push(sql`e.channel_id = ${filter.channelId}`);
  if (filter.contactId) parts.push(sql`e.contact_id = ${filter.contactId}`);
  if (filter.from) parts.push(sql`e.occurred_at >= ${filter.from.toISOString()}::timestamptz`);
  if (filter.to) parts.push(sql`e.occurred_at < ${filter.to.toISOString()}::timestamptz`);
  if (after) parts.push(sql`(e.occurred_at, e.id) < (${after.at.toISOString()}::timestamptz, ${after.id})`);
  return sql.join(parts, sql` and `);
}

function toRawEvent(row: Row): RawEvent {
  const data = row.data;
  return {
    id: toNumber(row.id),
    type: String(row.type),
    botId: typeof row.bot_id === 'string' ? row.bot_id : null,
    channelId: typeof row.channel_id === 'string' ? row.channel_id : null,
    contactId: typeof row.contact_id === 'string' ? row.contact_id : null,
    data:
      typeof data === 'object' && data !== null && !Array.isArray(data)
        ? Object.fromEntries(Object.entries(data))
        : {},
    occurredAt: row.occurred_at instanceof Date ? row.occurred_at : new Date(String(row.occurred_at)),
  };
}

async function eventPage(
  db: DbOrTx,
  filter: EventFilter,
  after: { at: Date; id: number } | undefined,
  limit: number,
) {
  const rows = await queryRows(
    db,
    sql`select e.id, e.type, e.bot_id, e.channel_id, e.contact_id, e.data, e.occurred_at
    from analytics_events e where ${whereOf(filter, after)}
    order by e.occurred_at desc, e.id desc limit ${limit}`,
  );
  return rows.map(toRawEvent);
}

/** Raw events, newest first, with keyset pagination (stable under inserts, any depth). */
export async function findEvents(
  ctx: { db: DbOrTx },
  filter: EventFilter,
  page: { limit: number; cursor?: string | undefined },
) {
  const rows = await eventPage(ctx.db, filter, decodeEventCursor(page.cursor), page.limit + 1);
  const items = rows.slice(0, page.limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > page.limit && last ? encodeEventCursor(last) : null };
}

// ─── CSV ─────────────────────────────────────────────────────────────────────

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, quote or line break, quotes doubled.
 * Text starting with = + - @ (or tab/CR) gets a leading apostrophe so a spreadsheet does not
 * run it as a formula (OWASP "CSV injection").
 */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text =
    value instanceof Date
      ? value.toISOString()
      : typeof value === 'object'
        ? JSON.stringify(value)
        : String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvLine(values: unknown[]): string {
  return `${values.map(csvField).join(',')}\r\n`;
}

/** Rows fetched per page when exporting: memory stays at one page whatever the total. */
const EXPORT_PAGE = 5000;

/**
 * The events as CSV, newest first, pulled one keyset page at a time: used with
 * `Readable.from`, the next page is read only when the client has taken the previous one
 * (back-pressure), so millions of rows stream in constant memory.
 */
export async function* eventsCsv(ctx: { db: DbOrTx }, filter: EventFilter): AsyncGenerator<string> {
  yield csvLine(['id', 'occurred_at', 'type', 'bot_id', 'channel_id', 'contact_id', 'data']);
  let after: { at: Date; id: number } | undefined;
  for (;;) {
    const rows = await eventPage(ctx.db, filter, after, EXPORT_PAGE);
    if (rows.length === 0) return;
    let chunk = '';
    for (const event of rows)
      chunk += csvLine([
        event.id,
        event.occurredAt,
        event.type,
        event.botId,
        event.channelId,
        event.contactId,
        event.data,
      ]);
    yield chunk;
    const last = rows.at(-1);
    if (!last || rows.length < EXPORT_PAGE) return;
    after = { at: last.occurredAt, id: last.id };
  }
}

export function* timeseriesCsv(metric: string, points: TimeseriesPoint[]): Generator<string> {
  yield csvLine(['bucket_start', 'local', 'metric', 'value']);
  for (const point of points) yield csvLine([point.at, point.label, metric, point.value]);
}

export function* summaryCsv(summary: Summary): Generator<string> {
  yield csvLine(['metric', 'key', 'value']);
  const flat: Array<[string, string, unknown]> = [
    ['from', '', summary.from],
    ['to', '', summary.to],
    ['timezone', '', summary.timezone],
    ['bot_id', '', summary.botId],
    ['channel_id', '', summary.channelId],
    ['conversations', '', summary.conversations],
    ['unique_users', summary.uniqueUsersMethod, summary.uniqueUsers],
    ['new_users', '', summary.newUsers],
    ['messages_in', '', summary.messagesIn],
    ['messages_out', '', summary.messagesOut],
    ['escalations_opened', '', summary.escalations.opened],
    ['escalations_resolved', '', summary.escalations.resolved],
    ['handoffs', '', summary.escalations.handoffs],
    ['median_first_response_seconds', '', summary.escalations.medianFirstResponseSeconds],
    ['median_resolution_seconds', '', summary.escalations.medianResolutionSeconds],
    ['searches', '', summary.searches],
    ['zero_result_searches', '', summary.zeroResultSearches],
    ['product_views', '', summary.productViews],
    ['llm_calls', '', summary.llm.calls],
    ['llm_failures', '', summary.llm.failures],
    ['llm_tokens', '', summary.llm.tokens],
    ['llm_cost', '', summary.llm.cost],
    ['delivery_failures', '', summary.deliveryFailures],
    ['button_clicks', '', summary.buttonClicks],
    ['commands', '', summary.commands],
    ['contacts_blocked', '', summary.contactsBlocked],
    ['price_alerts_created', '', summary.priceAlertsCreated],
    ['price_alerts_fired', '', summary.priceAlertsFired],
    ['errors', '', summary.errors],
  ];
  for (const [metric, key, value] of flat) yield csvLine([metric, key, value]);
  for (const entry of summary.topQueries) yield csvLine(['top_query', entry.query, entry.count]);
  for (const entry of summary.topProducts) yield csvLine(['top_product', entry.productId, entry.count]);
}
