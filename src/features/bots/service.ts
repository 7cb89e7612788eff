import { and, desc, eq, lt, max, ne, or, type SQL } from 'drizzle-orm';
import type { RequestContext } from '../../context.ts';
import type { DbOrTx } from '../../platform/db/index.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import { decodeCursor, toPage } from '../../platform/http/cursor.ts';
import { recordAudit } from '../audit/service.ts';
import { announceChannelChange } from '../channels/channel-events.ts';
import { channels } from '../channels/schema.ts';
import { forgetTelegramApi, releaseTelegramChannel } from '../channels/telegram-api.ts';
import { users } from '../identity/schema.ts';
import { workspaces } from '../workspaces/schema.ts';
import {
  type BotConfig,
  type BotConfigInput,
  botConfigSchema,
  defaultBotConfig,
  readBotConfig,
} from './bot-config.ts';
import { botConfigVersions, bots } from './schema.ts';

export type Bot = typeof bots.$inferSelect;
export type BotStatus = Bot['status'];
type VersionRow = typeof botConfigVersions.$inferSelect;

/** One version of a bot's config as the API shows it. */
export interface BotConfigVersion {
  version: number | null;
  status: VersionRow['status'];
  config: BotConfig;
  note: string;
  author: { id: string; email: string; name: string } | null;
  publishedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

// ─── Bots ────────────────────────────────────────────────────────────────────

/**
 * Creates a bot with version 1 of its config published at once, so it answers from its first
 * minute. The default language follows the workspace's.
 */
export async function createBot(
  ctx: RequestContext,
  options: { workspaceId: string; name: string; description?: string | undefined },
) {
  return ctx.db.transaction(async (tx) => {
    const [workspace] = await tx
      .select({ language: workspaces.language })
      .from(workspaces)
      .where(eq(workspaces.id, options.workspaceId));
    if (!workspace) throw notFound('Workspace');
    const language = workspace.language === 'ru' ? 'ru' : 'en';
    const [bot] = await tx
      .insert(bots)
      .values({
        workspaceId: options.workspaceId,
        name: options.name.trim(),
        description: options.description?.trim() ?? '',
        publishedVersion: 1,
      })
      .returning();
    if (!bot) throw new AppError('INTERNAL', { message: 'bot insert returned nothing' });
    const config = defaultBotConfig({ language });
    await tx.insert(botConfigVersions).values({
      workspaceId: bot.workspaceId,
      botId: bot.id,
      version: 1,
      status: 'published',
      config,
      note: 'Created with the default config',
      authorId: authorOf(ctx),
      publishedAt: new Date(),
    });
    await recordAudit(ctx, tx, {
      workspaceId: bot.workspaceId,
      action: 'bot.create',
      targetType: 'bot',
      targetId: bot.id,
      after: bot,
    });
    return { bot, config };
  });
}

/** Bots of a workspace, newest first, keyset-paginated. */
export async function listBots(
  ctx: { db: DbOrTx },
  options: { workspaceId: string; limit: number; cursor?: string | undefined },
) {
  const cursor = decodeCursor(options.cursor);
  const conditions: SQL[] = [eq(bots.workspaceId, options.workspaceId)];
  if (cursor) {
    const older = or(
      lt(bots.createdAt, cursor.createdAt),
      and(eq(bots.createdAt, cursor.createdAt), lt(bots.id, cursor.id)),
    );
    if (older) conditions.push(older);
  }
  const rows = await ctx.db
    .select()
    .from(bots)
    .where(and(...conditions))
    .orderBy(desc(bots.createdAt), desc(bots.id))
    .limit(options.limit + 1);
  return toPage(rows, options.limit);
}

/** A bot of the workspace; another workspace's bot is NOT_FOUND like a missing one. */
export async function getBot(ctx: { db: DbOrTx }, options: { workspaceId: string; botId: string }) {
  const [bot] = await ctx.db
    .select()
    .from(bots)
    .where(and(eq(bots.id, options.botId), eq(bots.workspaceId, options.workspaceId)));
  if (!bot) throw notFound('Bot');
  return bot;
}

export async function updateBot(
  ctx: RequestContext,
  options: {
    workspaceId: string;
    botId: string;
    patch: { name?: string | undefined; description?: string | undefined; status?: BotStatus | undefined };
  },
) {
  const { patch } = options;
  const after = await ctx.db.transaction(async (tx) => {
    const before = await getBot({ db: tx }, options);
    const [after] = await tx
      .update(bots)
      .set({
        // Always something to set, so an empty patch is a valid no-op rather than a drizzle error.
        updatedAt: new Date(),
        ...(patch.name === undefined ? {} : { name: patch.name.trim() }),
        ...(patch.description === undefined ? {} : { description: patch.description.trim() }),
        ...(patch.status === undefined ? {} : { status: patch.status }),
      })
      .where(eq(bots.id, before.id))
      .returning();
    if (!after) throw notFound('Bot');
    await recordAudit(ctx, tx, {
      workspaceId: options.workspaceId,
      action: 'bot.update',
      targetType: 'bot',
      targetId: before.id,
      before,
      after,
    });
    return { before, after };
  });
  // The pipeline reads the status with the config; a pause must reach every instance.
  if (after.before.status !== after.after.status) await ctx.botConfigs.announce(options.botId);
  return after.after;
}

/**
 * Deletes a bot with its versions and channels (cascade). Telegram is told first to stop
 * sending webhooks for its channels; a failure there is logged, not fatal, since the bot must
 * still be deletable when Telegram is unreachable or the token was revoked.
 */
export async function deleteBot(ctx: RequestContext, options: { workspaceId: string; botId: string }) {
  const bot = await getBot(ctx, options);
  const connected = await ctx.db.select().from(channels).where(eq(channels.botId, bot.id));
  for (const channel of connected) await releaseTelegramChannel(ctx, channel);
  await ctx.db.transaction(async (tx) => {
    const before = await getBot({ db: tx }, options);
    await recordAudit(ctx, tx, {
      workspaceId: options.workspaceId,
      action: 'bot.delete',
      targetType: 'bot',
      targetId: before.id,
      before: { ...before, channels: connected.map((channel) => channel.id) },
    });
    await tx.delete(bots).where(eq(bots.id, before.id));
  });
  for (const channel of connected) {
    forgetTelegramApi(ctx, channel.id);
    await announceChannelChange(ctx, channel.id);
  }
  await ctx.botConfigs.announce(bot.id);
}

// ─── Config versions ─────────────────────────────────────────────────────────

/** The published config and the draft, if any. */
export async function getBotConfigState(
  ctx: { db: DbOrTx },
  options: { workspaceId: string; botId: string },
) {
  const bot = await getBot(ctx, options);
  const rows = await selectVersions(ctx.db)
    .where(
      and(
        eq(botConfigVersions.botId, bot.id),
        or(eq(botConfigVersions.status, 'draft'), eq(botConfigVersions.version, bot.publishedVersion)),
      ),
    )
    .limit(2);
  const versions = rows.map(toVersion);
  const published = versions.find((version) => version.status === 'published');
  if (!published) throw new AppError('INTERNAL', { message: `bot ${bot.id} has no published config` });
  return { published, draft: versions.find((version) => version.status === 'draft') ?? null };
}

/**
 * Creates the bot's draft or replaces it. The config is validated and stored complete (defaults
 * filled in), so what a version shows is exactly what runs, even after the defaults change.
 */
export async function saveBotConfigDraft(
  ctx: RequestContext,
  options: { workspaceId: string; botId: string; config: BotConfigInput; note?: string | undefined },
) {
  const config = parseBotConfig(options.config);
  return ctx.db.transaction(async (tx) => {
    const bot = await lockBot(tx, options);
    const current = await findDraftOrPublished(tx, bot);
    const draft = current.find((row) => row.status === 'draft');
    const published = current.find((row) => row.status === 'published');
    const values = { config, note: options.note?.trim() ?? '', authorId: authorOf(ctx) };
    const [saved] = draft
      ? await tx
          .update(botConfigVersions)
          .set({ ...values, updatedAt: new Date() })
          .where(eq(botConfigVersions.id, draft.id))
          .returning()
      : await tx
          .insert(botConfigVersions)
          .values({ ...values, workspaceId: bot.workspaceId, botId: bot.id, status: 'draft', version: null })
          .returning();
    if (!saved) throw new AppError('INTERNAL', { message: 'draft write returned nothing' });
    const [withAuthor] = await selectVersions(tx).where(eq(botConfigVersions.id, saved.id));
    if (!withAuthor) throw new AppError('INTERNAL', { message: 'saved draft vanished' });
    await recordAudit(ctx, tx, {
      workspaceId: bot.workspaceId,
      action: draft ? 'bot_config.draft_update' : 'bot_config.draft_create',
      targetType: 'bot',
      targetId: bot.id,
      // What the draft changes, field by field, against the previous draft or else the live config.
      before: draft?.config ?? published?.config ?? null,
      after: config,
    });
    return toVersion(withAuthor);
  });
}

export async function discardBotConfigDraft(
  ctx: RequestContext,
  options: { workspaceId: string; botId: string },
): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    const bot = await lockBot(tx, options);
    const [removed] = await tx
      .delete(botConfigVersions)
      .where(and(eq(botConfigVersions.botId, bot.id), eq(botConfigVersions.status, 'draft')))
      .returning();
    if (!removed) throw new AppError('NOT_FOUND', { message: 'This bot has no draft' });
    await recordAudit(ctx, tx, {
      workspaceId: bot.workspaceId,
      action: 'bot_config.draft_discard',
      targetType: 'bot',
      targetId: bot.id,
      before: { note: removed.note, config: removed.config },
    });
  });
}

/**
 * Publishes the draft as the next version; the previous published version is archived.
 * Every instance answers with the new config once the announcement reaches it.
 */
export async function publishBotConfig(
  ctx: RequestContext,
  options: { workspaceId: string; botId: string; note?: string | undefined },
) {
  const published = await ctx.db.transaction(async (tx) => {
    const bot = await lockBot(tx, options);
    const [draft] = await tx
      .select()
      .from(botConfigVersions)
      .where(and(eq(botConfigVersions.botId, bot.id), eq(botConfigVersions.status, 'draft')));
    if (!draft) throw new AppError('CONFLICT', { message: 'Nothing to publish: save a draft first' });
    return promote(ctx, tx, bot, {
      action: 'bot_config.publish',
      config: readBotConfig(draft.config),
      note: options.note?.trim() || draft.note,
      draftId: draft.id,
    });
  });
  await ctx.botConfigs.announce(options.botId);
  return published;
}

/**
 * Publishes a copy of an older version as a new version, so history only grows and the
 * rollback itself can be rolled back. A draft, if any, is left as it is.
 */
export async function rollbackBotConfig(
  ctx: RequestContext,
  options: { workspaceId: string; botId: string; version: number; note?: string | undefined },
) {
  const published = await ctx.db.transaction(async (tx) => {
    const bot = await lockBot(tx, options);
    if (options.version === bot.publishedVersion) {
      throw new AppError('CONFLICT', { message: `Version ${options.version} is already published` });
    }
    const [source] = await tx
      .select()
      .from(botConfigVersions)
      .where(and(eq(botConfigVersions.botId, bot.id), eq(botConfigVersions.version, options.version)));
    if (!source) throw new AppError('NOT_FOUND', { message: `Version ${options.version} not found` });
    return promote(ctx, tx, bot, {
      action: 'bot_config.rollback',
      config: readBotConfig(source.config),
      note: options.note?.trim() || `Rollback to version ${options.version}`,
      rolledBackTo: options.version,
    });
  });
  await ctx.botConfigs.announce(options.botId);
  return published;
}

/** Published and archived versions, newest first; the cursor is the last version number seen. */
export async function listBotConfigVersions(
  ctx: { db: DbOrTx },
  options: { workspaceId: string; botId: string; limit: number; cursor?: string | undefined },
) {
  const bot = await getBot(ctx, options);
  const before = options.cursor === undefined ? undefined : Number(options.cursor);
  if (before !== undefined && !Number.isSafeInteger(before)) {
    throw new AppError('BAD_REQUEST', { message: 'invalid cursor' });
  }
  const conditions: SQL[] = [eq(botConfigVersions.botId, bot.id), ne(botConfigVersions.status, 'draft')];
  if (before !== undefined) conditions.push(lt(botConfigVersions.version, before));
  const rows = await selectVersions(ctx.db)
    .where(and(...conditions))
    .orderBy(desc(botConfigVersions.version))
    .limit(options.limit + 1);
  const items = rows.slice(0, options.limit).map(toVersion);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > options.limit && last ? String(last.version) : null };
}

export async function getBotConfigVersion(
  ctx: { db: DbOrTx },
  options: { workspaceId: string; botId: string; version: number },
) {
  const bot = await getBot(ctx, options);
  const [row] = await selectVersions(ctx.db).where(
    and(eq(botConfigVersions.botId, bot.id), eq(botConfigVersions.version, options.version)),
  );
  if (!row) throw new AppError('NOT_FOUND', { message: `Version ${options.version} not found` });
  return toVersion(row);
}

// ─── Helpers ─────────────────────────────────────────────────────────────────

/** Validates a config for storage; the issues become a 400 with their paths. */
export function parseBotConfig(input: unknown): BotConfig {
  const result = botConfigSchema.safeParse(input);
  if (result.success) return result.data;
  throw new AppError('VALIDATION_ERROR', {
    message: `Invalid bot config: ${result.error.issues
      .map((issue) => `${issue.path.join('.') || '(root)'} ${issue.message}`)
      .join('; ')}`,
    details: result.error.issues.map((issue) => ({
      in: 'config',
      path: `/${issue.path.join('/')}`,
      message: issue.message,
    })),
  });
}

function authorOf(ctx: RequestContext): string | null {
  return ctx.actor.type === 'user' ? ctx.actor.userId : null;
}

/**
 * Reads the bot row FOR UPDATE: drafts, publishes and rollbacks of one bot queue behind each
 * other, so version numbers are handed out without gaps or races.
 */
async function lockBot(tx: DbOrTx, options: { workspaceId: string; botId: string }) {
  const [bot] = await tx
    .select()
    .from(bots)
    .where(and(eq(bots.id, options.botId), eq(bots.workspaceId, options.workspaceId)))
    .for('update');
  if (!bot) throw notFound('Bot');
  return bot;
}

function findDraftOrPublished(tx: DbOrTx, bot: Bot) {
  return tx
    .select()
    .from(botConfigVersions)
    .where(
      and(
        eq(botConfigVersions.botId, bot.id),
        or(eq(botConfigVersions.status, 'draft'), eq(botConfigVersions.version, bot.publishedVersion)),
      ),
    );
}

/** Makes `config` the next published version: archives the current one, points the bot at it. */
async function promote(
  ctx: RequestContext,
  tx: DbOrTx,
  bot: Bot,
  options: {
    action: 'bot_config.publish' | 'bot_config.rollback';
    config: BotConfig;
    note: string;
    draftId?: string;
    rolledBackTo?: number;
  },
) {
  const [top] = await tx
    .select({ version: max(botConfigVersions.version) })
    .from(botConfigVersions)
    .where(eq(botConfigVersions.botId, bot.id));
  const version = (top?.version ?? 0) + 1;
  const [previous] = await tx
    .update(botConfigVersions)
    .set({ status: 'archived' })
    .where(and(eq(botConfigVersions.botId, bot.id), eq(botConfigVersions.status, 'published')))
    .returning();
  const now = new Date();
  const values = {
    status: 'published' as const,
    version,
    config: options.config,
    note: options.note,
    authorId: authorOf(ctx),
    publishedAt: now,
  };
  const [row] = options.draftId
    ? await tx
        .update(botConfigVersions)
        .set({ ...values, updatedAt: now })
        .where(eq(botConfigVersions.id, options.draftId))
        .returning()
    : await tx
        .insert(botConfigVersions)
        .values({ ...values, workspaceId: bot.workspaceId, botId: bot.id })
        .returning();
  if (!row) throw new AppError('INTERNAL', { message: 'publish wrote nothing' });
  await tx.update(bots).set({ publishedVersion: version, updatedAt: now }).where(eq(bots.id, bot.id));
  await recordAudit(ctx, tx, {
    workspaceId: bot.workspaceId,
    action: options.action,
    targetType: 'bot',
    targetId: bot.id,
    before: { version: bot.publishedVersion, ...(previous?.config ?? {}) },
    after: {
      version,
      note: options.note,
      ...(options.rolledBackTo === undefined ? {} : { rolledBackTo: options.rolledBackTo }),
      ...options.config,
    },
  });
  const [withAuthor] = await selectVersions(tx).where(eq(botConfigVersions.id, row.id));
  if (!withAuthor) throw new AppError('INTERNAL', { message: 'published version vanished' });
  return toVersion(withAuthor);
}

function selectVersions(db: DbOrTx) {
  return db
    .select({ row: botConfigVersions, author: { id: users.id, email: users.email, name: users.name } })
    .from(botConfigVersions)
    .leftJoin(users, eq(users.id, botConfigVersions.authorId))
    .$dynamic();
}

function toVersion(entry: {
  row: VersionRow;
  author: { id: string; email: string; name: string } | null;
}): BotConfigVersion {
  const { row } = entry;
  return {
    version: row.version,
    status: row.status,
    config: readBotConfig(row.config),
    note: row.note,
    author: entry.author,
    publishedAt: row.publishedAt,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}
