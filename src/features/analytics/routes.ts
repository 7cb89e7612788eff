import { Readable } from 'node:stream';
import { z } from 'zod';
import type { AppContext } from '../../context.ts';
import { AppError } from '../../platform/errors.ts';
import type { App } from '../../platform/http/create-server.ts';
import { toErrorResponse } from '../../platform/http/create-server.ts';
import { commonErrors, dateTime, errorBody, pageOf, pageQuery } from '../../platform/http/schemas.ts';
import { contextOf } from '../access/check-access.ts';
import { recordAudit } from '../audit/service.ts';
import { renderTimeseriesPng } from './chart.ts';
import { EVENT_TYPES } from './events.ts';
import { eventsCsv, findEvents, summaryCsv, timeseriesCsv } from './raw-events.ts';
import { rebuildRollups } from './rollups.ts';
import { SHARE_REPORTS } from './schema.ts';
import {
  FUNNEL_STEPS,
  getFunnel,
  getReferrals,
  getSummary,
  getTimeseries,
  METRIC_NAMES,
  resolveScope,
} from './service.ts';
import {
  createShareLink,
  listShareLinks,
  MAX_SHARE_SECONDS,
  MIN_SHARE_SECONDS,
  openShareLink,
  revokeShareLink,
  sharedReport,
  toPublicShareLink,
} from './share-links.ts';
import { renderShareErrorPage, renderSharePage } from './share-page.ts';

const localDay = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD');

const reportQuery = z.object({
  from: localDay
    .optional()
    .describe("First day (the workspace's local date), inclusive; default 29 days before `to`"),
  to: localDay.optional().describe("Last day (the workspace's local date), inclusive; default today"),
  bot: z.uuid().optional().describe('Only this bot'),
  channel: z.uuid().optional().describe('Only this channel'),
});

const summarySchema = z
  .object({
    from: z.string(),
    to: z.string(),
    timezone: z.string(),
    botId: z.string().nullable(),
    channelId: z.string().nullable(),
    conversations: z
      .number()
      .describe('Contact-days: a contact active on a day is one conversation that day'),
    uniqueUsers: z.number(),
    uniqueUsersMethod: z
      .enum(['exact', 'hll'])
      .describe('exact (distinct table) or hll (HyperLogLog estimate, ±1.6 %) for long periods'),
    newUsers: z.number(),
    messagesIn: z.number(),
    messagesOut: z.number(),
    escalations: z.object({
      opened: z.number(),
      resolved: z.number(),
      handoffs: z.number(),
      medianFirstResponseSeconds: z.number().nullable(),
      medianResolutionSeconds: z.number().nullable(),
    }),
    searches: z.number(),
    zeroResultSearches: z.number(),
    productViews: z.number(),
    topQueries: z.array(z.object({ query: z.string(), count: z.number() })),
    topProducts: z.array(
      z.object({ productId: z.string(), title: z.string().nullable(), count: z.number() }),
    ),
    llm: z.object({
      calls: z.number(),
      failures: z.number(),
      tokens: z.number(),
      cost: z.number(),
      averageLatencyMs: z.number().nullable(),
    }),
    deliveryFailures: z.number(),
    buttonClicks: z.number(),
    commands: z.number(),
    contactsBlocked: z.number(),
    priceAlertsCreated: z.number(),
    priceAlertsFired: z.number(),
    errors: z.number(),
  })
  .meta({ id: 'AnalyticsSummary' });

const pointSchema = z.object({ at: dateTime, label: z.string(), value: z.number() });
const timeseriesSchema = z
  .object({
    metric: z.enum(METRIC_NAMES),
    interval: z.enum(['hour', 'day']),
    timezone: z.string(),
    from: z.string(),
    to: z.string(),
    points: z.array(pointSchema),
  })
  .meta({ id: 'AnalyticsTimeseries' });

const funnelSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    steps: z.array(
      z.object({
        step: z.enum(FUNNEL_STEPS),
        count: z.number(),
        ofStarted: z.number(),
        ofPrevious: z.number(),
      }),
    ),
  })
  .meta({ id: 'AnalyticsFunnel' });

const eventSchema = z
  .object({
    id: z.number(),
    type: z.string(),
    botId: z.string().nullable(),
    channelId: z.string().nullable(),
    contactId: z.string().nullable(),
    data: z.record(z.string(), z.unknown()),
    occurredAt: dateTime,
  })
  .meta({ id: 'AnalyticsEvent' });

const eventFilterQuery = z.object({
  type: z.enum(EVENT_TYPES).optional(),
  bot: z.uuid().optional(),
  channel: z.uuid().optional(),
  contact: z.uuid().optional(),
  from: z.iso.datetime({ offset: true }).optional().describe('Events at or after this instant'),
  to: z.iso.datetime({ offset: true }).optional().describe('Events before this instant'),
});

const shareScopeSchema = z.strictObject({
  reports: z.array(z.enum(SHARE_REPORTS)).min(1).max(3),
  botId: z.uuid().optional(),
  channelId: z.uuid().optional(),
  metrics: z.array(z.enum(METRIC_NAMES)).max(6).default(['messages_in', 'messages_out']),
  period: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('range'), from: localDay, to: localDay }),
    z.strictObject({ kind: z.literal('last_days'), days: z.number().int().min(1).max(366) }),
  ]),
});

const shareLinkSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    prefix: z.string(),
    scope: z.object({
      reports: z.array(z.enum(SHARE_REPORTS)),
      botId: z.string().optional(),
      channelId: z.string().optional(),
      metrics: z.array(z.string()),
      period: z.union([
        z.object({ kind: z.literal('range'), from: z.string(), to: z.string() }),
        z.object({ kind: z.literal('last_days'), days: z.number() }),
      ]),
    }),
    expiresAt: dateTime,
    revokedAt: dateTime.nullable(),
    lastViewedAt: dateTime.nullable(),
    createdAt: dateTime,
  })
  .meta({ id: 'AnalyticsShareLink' });

const sharedReportSchema = z
  .object({
    name: z.string(),
    workspaceName: z.string(),
    timezone: z.string(),
    from: z.string(),
    to: z.string(),
    expiresAt: dateTime,
    generatedAt: dateTime,
    summary: summarySchema.optional(),
    funnel: funnelSchema.shape.steps.optional(),
    timeseries: z
      .array(
        z.object({ metric: z.enum(METRIC_NAMES), interval: z.enum(['day']), points: z.array(pointSchema) }),
      )
      .optional(),
  })
  .meta({ id: 'AnalyticsSharedReport' });

/** Analytics: dashboards from rollups, raw events, exports, charts and share links. */
export function registerAnalyticsRoutes(app: App, ctx: AppContext) {
  const tags = ['analytics'];
  const security = [{ bearer: [] }];
  const wsParams = z.object({ ws: z.uuid() });
  const base = '/api/workspaces/:ws/analytics';
  const scopeOf = (ws: string, query: z.infer<typeof reportQuery>, maxDays?: number) =>
    resolveScope(
      ctx,
      { workspaceId: ws, botId: query.bot, channelId: query.channel, from: query.from, to: query.to },
      maxDays ? { maxDays } : {},
    );

  app.get(
    `${base}/summary`,
    {
      config: { access: { role: 'viewer' } },
      schema: {
        tags,
        security,
        summary: 'Dashboard summary for a period (read from the rollups)',
        params: wsParams,
        querystring: reportQuery,
        response: { 200: summarySchema, ...commonErrors },
      },
    },
    async (request) => getSummary(ctx, await scopeOf(request.params.ws, request.query)),
  );

  const timeseriesQuery = reportQuery.extend({
    metric: z.enum(METRIC_NAMES).default('messages_in'),
    interval: z.enum(['hour', 'day']).default('day'),
  });

  app.get(
    `${base}/timeseries`,
    {
      config: { access: { role: 'viewer' } },
      schema: {
        tags,
        security,
        summary: 'One metric per local hour or day, zero-filled',
        description: 'Hourly series span at most 31 days; `conversations` is per day only.',
        params: wsParams,
        querystring: timeseriesQuery,
        response: { 200: timeseriesSchema, ...commonErrors },
      },
    },
    async (request) => {
      const scope = await scopeOf(request.params.ws, request.query);
      const { metric, interval } = request.query;
      const points = await getTimeseries(ctx, scope, { metric, interval });
      return { metric, interval, timezone: scope.timezone, from: scope.from, to: scope.to, points };
    },
  );

  app.get(
    `${base}/funnel`,
    {
      config: { access: { role: 'viewer' } },
      schema: {
        tags,
        security,
        summary: 'Contacts who started in the period: start → first question → product view → escalation',
        params: wsParams,
        querystring: reportQuery,
        response: { 200: funnelSchema, ...commonErrors },
      },
    },
    async (request) => {
      const scope = await scopeOf(request.params.ws, request.query);
      return { from: scope.from, to: scope.to, steps: await getFunnel(ctx, scope) };
    },
  );

  app.get(
    `${base}/referrals`,
    {
      config: { access: { role: 'viewer' } },
      schema: {
        tags,
        security,
        summary: 'Deep-link sources (/start payloads) by number of starts',
        params: wsParams,
        querystring: reportQuery.extend({ limit: z.coerce.number().int().min(1).max(200).default(50) }),
        response: {
          200: z.object({
            from: z.string(),
            to: z.string(),
            items: z.array(z.object({ source: z.string(), starts: z.number() })),
          }),
          ...commonErrors,
        },
      },
    },
    async (request) => {
      const scope = await scopeOf(request.params.ws, request.query);
      return { from: scope.from, to: scope.to, items: await getReferrals(ctx, scope, request.query.limit) };
    },
  );

  app.get(
    `${base}/events`,
    {
      config: { access: { role: 'viewer' } },
      schema: {
        tags,
        security,
        summary: 'Raw events, newest first, with filters and cursor pagination',
        params: wsParams,
        querystring: pageQuery.extend(eventFilterQuery.shape),
        response: { 200: pageOf(eventSchema), ...commonErrors },
      },
    },
    async (request) => {
      const { limit, cursor, ...filter } = request.query;
      return findEvents(ctx, toEventFilter(request.params.ws, filter), { limit, cursor });
    },
  );

  app.get(
    `${base}/export.csv`,
    {
      config: { access: { role: 'viewer' } },
      schema: {
        tags,
        security,
        summary: 'CSV export of raw events, a timeseries or the summary (streamed)',
        description:
          'kind=events takes the raw-event filters (type, contact, from/to instants, bot, channel); kind=timeseries takes metric and interval with a local-date period; kind=summary a local-date period. Events stream page by page in constant memory.',
        params: wsParams,
        querystring: eventFilterQuery.extend({
          kind: z.enum(['events', 'timeseries', 'summary']),
          metric: z.enum(METRIC_NAMES).default('messages_in'),
          interval: z.enum(['hour', 'day']).default('day'),
          from: z.string().max(40).optional(),
          to: z.string().max(40).optional(),
        }),
        produces: ['text/csv', 'application/json'],
        response: {
          200: z.any().meta({ type: 'string', description: 'CSV (RFC 4180), header row first' }),
          ...commonErrors,
        },
      },
    },
    async (request, reply) => {
      const { ws } = request.params;
      const { kind, metric, interval, ...query } = request.query;
      let lines: AsyncIterable<string> | Iterable<string>;
      if (kind === 'events') {
        const instant = z.iso.datetime({ offset: true }).optional();
        const from = instant.safeParse(query.from);
        const to = instant.safeParse(query.to);
        if (!from.success || !to.success)
          throw new AppError('BAD_REQUEST', { message: 'from/to of an events export are ISO 8601 instants' });
        lines = eventsCsv(ctx, toEventFilter(ws, { ...query, from: from.data, to: to.data }));
      } else {
        const scope = await scopeOf(ws, { ...query, from: query.from, to: query.to });
        lines =
          kind === 'timeseries'
            ? timeseriesCsv(metric, await getTimeseries(ctx, scope, { metric, interval }))
            : summaryCsv(await getSummary(ctx, scope));
      }
      const name = `analytics-${kind}-${new Date().toISOString().slice(0, 10)}.csv`;
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${name}"`)
        .header('cache-control', 'no-store')
        .send(Readable.from(lines));
    },
  );

  app.get(
    `${base}/chart.png`,
    {
      config: { access: { role: 'viewer' } },
      schema: {
        tags,
        security,
        summary: 'PNG chart of a timeseries, rendered on the server',
        params: wsParams,
        querystring: timeseriesQuery.extend({
          width: z.coerce.number().int().min(200).max(2400).default(800),
          height: z.coerce.number().int().min(150).max(1600).default(400),
          bars: z.enum(['true', 'false']).default('false'),
        }),
        produces: ['image/png', 'application/json'],
        response: {
          200: z.any().meta({ type: 'string', format: 'binary', description: 'PNG image' }),
          ...commonErrors,
        },
      },
    },
    async (request, reply) => {
      const scope = await scopeOf(request.params.ws, request.query);
      const { metric, interval, width, height, bars } = request.query;
      const points = await getTimeseries(ctx, scope, { metric, interval });
      const png = renderTimeseriesPng(points, {
        title: `${metric.replaceAll('_', ' ')} · ${scope.from} – ${scope.to}`,
        width,
        height,
        bars: bars === 'true',
      });
      return reply.type('image/png').header('cache-control', 'no-store').send(png);
    },
  );

  app.post(
    `${base}/rebuild`,
    {
      config: { access: { role: 'admin' } },
      schema: {
        tags,
        security,
        summary: "Recompute the workspace's rollups from its raw events",
        description:
          "Needed after the workspace's timezone changes (days and hours are local) or to backfill raw events. Event writes wait while it runs.",
        params: wsParams,
        response: { 200: z.object({ ok: z.literal(true) }), ...commonErrors },
      },
    },
    async (request) => {
      const rc = contextOf(ctx, request);
      await ctx.analytics.flush();
      await rebuildRollups(ctx.db, request.params.ws);
      await ctx.db.transaction(async (tx) => {
        await recordAudit(rc, tx, {
          workspaceId: request.params.ws,
          action: 'analytics.rebuild',
          targetType: 'workspace',
          targetId: request.params.ws,
        });
      });
      return { ok: true as const };
    },
  );

  // ─── Share links ───────────────────────────────────────────────────────────

  app.get(
    `${base}/share-links`,
    {
      config: { access: { role: 'admin' } },
      schema: {
        tags,
        security,
        summary: 'Read-only report links (never the token)',
        params: wsParams,
        response: { 200: z.object({ items: z.array(shareLinkSchema) }), ...commonErrors },
      },
    },
    async (request) => ({ items: (await listShareLinks(ctx, request.params.ws)).map(toPublicShareLink) }),
  );

  app.post(
    `${base}/share-links`,
    {
      config: { access: { role: 'admin' } },
      schema: {
        tags,
        security,
        summary: 'Create a read-only link to a report; the token is in this response only',
        description: `Expiry between ${MIN_SHARE_SECONDS} s (1 hour) and ${MAX_SHARE_SECONDS} s (30 days). Anyone with the link sees fresh figures until it expires or is revoked.`,
        params: wsParams,
        body: z.strictObject({
          name: z.string().trim().min(1).max(120),
          scope: shareScopeSchema,
          expiresInSeconds: z.number().int().min(MIN_SHARE_SECONDS).max(MAX_SHARE_SECONDS),
        }),
        response: {
          201: z.object({ link: shareLinkSchema, token: z.string(), url: z.string(), apiUrl: z.string() }),
          ...commonErrors,
        },
      },
    },
    async (request, reply) => {
      const { link, token } = await createShareLink(contextOf(ctx, request), {
        workspaceId: request.params.ws,
        name: request.body.name,
        scope: request.body.scope,
        expiresInSeconds: request.body.expiresInSeconds,
      });
      const origin = ctx.config.PUBLIC_URL ?? `${request.protocol}://${request.host}`;
      return reply.code(201).send({
        link: toPublicShareLink(link),
        token,
        url: `${origin.replace(/\/$/, '')}/share/${token}`,
        apiUrl: `${origin.replace(/\/$/, '')}/api/share/${token}`,
      });
    },
  );

  app.delete(
    `${base}/share-links/:linkId`,
    {
      config: { access: { role: 'admin' } },
      schema: {
        tags,
        security,
        summary: 'Revoke a share link; it answers 410 from now on',
        params: z.object({ ws: z.uuid(), linkId: z.uuid() }),
        response: { 204: z.null(), ...commonErrors },
      },
    },
    async (request, reply) => {
      await revokeShareLink(contextOf(ctx, request), {
        workspaceId: request.params.ws,
        linkId: request.params.linkId,
      });
      return reply.code(204).send(null);
    },
  );

  const tokenParams = z.object({ token: z.string().min(10).max(200) });

  app.get(
    '/api/share/:token',
    {
      config: { access: 'public' },
      schema: {
        tags,
        summary: 'A shared report as JSON (no login; 410 once expired or revoked)',
        params: tokenParams,
        response: { 200: sharedReportSchema, 404: errorBody, 410: errorBody, 400: errorBody },
      },
    },
    async (request, reply) => {
      const link = await openShareLink(ctx, request.params.token);
      return reply.header('cache-control', 'no-store').send(await sharedReport(ctx, link));
    },
  );

  app.get(
    '/share/:token',
    {
      config: { access: 'public' },
      schema: {
        tags,
        summary: 'A shared report as a page (no login; 410 once expired or revoked)',
        params: tokenParams,
        produces: ['text/html', 'application/json'],
        response: { 200: z.string().describe('HTML page'), 404: errorBody, 410: errorBody, 400: errorBody },
      },
    },
    async (request, reply) => {
      const wantsHtml = (request.headers.accept ?? '').includes('text/html');
      try {
        const link = await openShareLink(ctx, request.params.token);
        const page = renderSharePage(await sharedReport(ctx, link));
        return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(page);
      } catch (error) {
        // A browser gets a page; an API client the usual error body.
        if (!wantsHtml) throw error;
        const { status, body } = toErrorResponse(error);
        if (status !== 404 && status !== 410 && status !== 400) throw error;
        return reply
          .code(status)
          .type('text/html; charset=utf-8')
          .send(renderShareErrorPage(status, body.error.message));
      }
    },
  );
}

function toEventFilter(
  workspaceId: string,
  query: {
    type?: string | undefined;
    bot?: string | undefined;
    channel?: string | undefined;
    contact?: string | undefined;
    from?: string | undefined;
    to?: string | undefined;
  },
) {
  return {
    workspaceId,
    type: query.type,
    botId: query.bot,
    channelId: query.channel,
    contactId: query.contact,
    from: query.from ? new Date(query.from) : undefined,
    to: query.to ? new Date(query.to) : undefined,
  };
}
