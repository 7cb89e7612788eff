import { and, desc, eq, isNull } from 'drizzle-orm';
import type { RequestContext } from '../../context.ts';
import { randomToken, sha256 } from '../../platform/crypto.ts';
import type { DbOrTx } from '../../platform/db/index.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import { recordAudit } from '../audit/service.ts';
import { workspaces } from '../workspaces/schema.ts';
import { analyticsShareLinks, type ShareScope } from './schema.ts';
import {
  addDays,
  getFunnel,
  getSummary,
  getTimeseries,
  localDate,
  METRICS,
  type MetricName,
  resolveScope,
} from './service.ts';

export type ShareLink = typeof analyticsShareLinks.$inferSelect;

/** Every share token starts with this, so a leaked one is recognisable. */
export const SHARE_TOKEN_PREFIX = 'sbr_';
export const MIN_SHARE_SECONDS = 3600;
export const MAX_SHARE_SECONDS = 30 * 86_400;

export function toPublicShareLink(link: ShareLink) {
  return {
    id: link.id,
    name: link.name,
    prefix: link.prefix,
    scope: link.scope,
    expiresAt: link.expiresAt,
    revokedAt: link.revokedAt,
    lastViewedAt: link.lastViewedAt,
    createdAt: link.createdAt,
  };
}

function isMetricName(value: string): value is MetricName {
  return value in METRICS;
}

/** Creates a read-only link; the token is in the result only (its SHA-256 is kept). */
export async function createShareLink(
  ctx: RequestContext,
  options: { workspaceId: string; name: string; scope: ShareScope; expiresInSeconds: number },
) {
  if (options.expiresInSeconds < MIN_SHARE_SECONDS || options.expiresInSeconds > MAX_SHARE_SECONDS)
    throw new AppError('BAD_REQUEST', { message: 'A share link expires after 1 hour to 30 days' });
  if (!options.scope.metrics.every(isMetricName))
    throw new AppError('BAD_REQUEST', { message: 'Unknown metric in scope.metrics' });
  // The filters must belong to the workspace, and a fixed period must be a valid one.
  await resolveScope(ctx, {
    workspaceId: options.workspaceId,
    botId: options.scope.botId,
    channelId: options.scope.channelId,
    ...(options.scope.period.kind === 'range'
      ? { from: options.scope.period.from, to: options.scope.period.to }
      : {}),
  });
  const token = `${SHARE_TOKEN_PREFIX}${randomToken(24)}`;
  return ctx.db.transaction(async (tx) => {
    const [link] = await tx
      .insert(analyticsShareLinks)
      .values({
        workspaceId: options.workspaceId,
        name: options.name.trim(),
        tokenHash: sha256(token),
        prefix: token.slice(0, 10),
        scope: options.scope,
        createdBy: ctx.actor.type === 'user' ? ctx.actor.userId : null,
        expiresAt: new Date(Date.now() + options.expiresInSeconds * 1000),
      })
      .returning();
    if (!link) throw notFound('Share link');
    await recordAudit(ctx, tx, {
      workspaceId: options.workspaceId,
      action: 'analytics_share_link.create',
      targetType: 'analytics_share_link',
      targetId: link.id,
      after: toPublicShareLink(link),
    });
    return { link, token };
  });
}

export async function listShareLinks(ctx: { db: DbOrTx }, workspaceId: string) {
  return ctx.db
    .select()
    .from(analyticsShareLinks)
    .where(eq(analyticsShareLinks.workspaceId, workspaceId))
    .orderBy(desc(analyticsShareLinks.createdAt))
    .limit(500);
}

export async function revokeShareLink(ctx: RequestContext, options: { workspaceId: string; linkId: string }) {
  return ctx.db.transaction(async (tx) => {
    const [link] = await tx
      .update(analyticsShareLinks)
      .set({ revokedAt: new Date() })
      .where(
        and(
          eq(analyticsShareLinks.id, options.linkId),
          eq(analyticsShareLinks.workspaceId, options.workspaceId),
          isNull(analyticsShareLinks.revokedAt),
        ),
      )
      .returning();
    if (!link) throw notFound('Share link');
    await recordAudit(ctx, tx, {
      workspaceId: options.workspaceId,
      action: 'analytics_share_link.revoke',
      targetType: 'analytics_share_link',
      targetId: link.id,
      before: { revokedAt: null },
      after: { revokedAt: link.revokedAt },
    });
    return link;
  });
}

/** The link a token opens: 404 when unknown, 410 when revoked or expired. */
export async function openShareLink(ctx: { db: DbOrTx }, token: string): Promise<ShareLink> {
  const [link] = await ctx.db
    .select()
    .from(analyticsShareLinks)
    .where(eq(analyticsShareLinks.tokenHash, sha256(token)));
  if (!link) throw notFound('Share link');
  if (link.revokedAt) throw new AppError('GONE', { message: 'This link was revoked' });
  if (link.expiresAt <= new Date()) throw new AppError('GONE', { message: 'This link has expired' });
  // Last-viewed is informational; a minute's precision keeps writes off repeated views.
  if (!link.lastViewedAt || Date.now() - link.lastViewedAt.getTime() > 60_000) {
    await ctx.db
      .update(analyticsShareLinks)
      .set({ lastViewedAt: new Date() })
      .where(eq(analyticsShareLinks.id, link.id));
  }
  return link;
}

/** The shared report, computed now from the rollups (always fresh). */
export async function sharedReport(ctx: { db: DbOrTx }, link: ShareLink) {
  const [workspace] = await ctx.db
    .select({ name: workspaces.name, timezone: workspaces.timezone })
    .from(workspaces)
    .where(eq(workspaces.id, link.workspaceId));
  if (!workspace) throw new AppError('GONE', { message: 'The workspace no longer exists' });
  const { period } = link.scope;
  const to = period.kind === 'range' ? period.to : localDate(new Date(), workspace.timezone);
  const from = period.kind === 'range' ? period.from : addDays(to, -(period.days - 1));
  const scope = await resolveScope(ctx, {
    workspaceId: link.workspaceId,
    botId: link.scope.botId,
    channelId: link.scope.channelId,
    from,
    to,
  }).catch((error: unknown) => {
    // The bot or channel was deleted since: the report is gone, not broken.
    if (error instanceof AppError && error.code === 'NOT_FOUND')
      throw new AppError('GONE', { message: 'The shared bot or channel no longer exists' });
    throw error;
  });
  const reports = new Set(link.scope.reports);
  const metrics = link.scope.metrics.filter(isMetricName);
  const [summary, funnel, timeseries] = await Promise.all([
    reports.has('summary') ? getSummary(ctx, scope) : undefined,
    reports.has('funnel') ? getFunnel(ctx, scope) : undefined,
    reports.has('timeseries')
      ? Promise.all(
          metrics.map(async (metric) => ({
            metric,
            interval: 'day' as const,
            points: await getTimeseries(ctx, scope, { metric, interval: 'day' }),
          })),
        )
      : undefined,
  ]);
  return {
    name: link.name,
    workspaceName: workspace.name,
    timezone: workspace.timezone,
    from: scope.from,
    to: scope.to,
    expiresAt: link.expiresAt,
    generatedAt: new Date(),
    ...(summary ? { summary } : {}),
    ...(funnel ? { funnel } : {}),
    ...(timeseries ? { timeseries } : {}),
  };
}

export type SharedReport = Awaited<ReturnType<typeof sharedReport>>;
