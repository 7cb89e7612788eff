import type { UserFromGetMe } from '@grammyjs/types';
import { and, asc, eq } from 'drizzle-orm';
import type { RequestContext } from '../../context.ts';
import { encryptSecret, randomToken } from '../../platform/crypto.ts';
import { uuidv7 } from '../../platform/db/columns.ts';
import type { DbOrTx } from '../../platform/db/index.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import { recordAudit } from '../audit/service.ts';
import { getBot } from '../bots/service.ts';
import { announceChannelChange } from './channel-events.ts';
import { type ChannelMode, channels } from './schema.ts';
import {
  callTelegram,
  createTelegramApi,
  forgetTelegramApi,
  isTokenRejected,
  releaseTelegramChannel,
  SETUP_TIMEOUT_MS,
  TELEGRAM_ALLOWED_UPDATES,
  type TelegramFailure,
  telegramApiFor,
  telegramTimeout,
} from './telegram-api.ts';

export type Channel = typeof channels.$inferSelect;

/** What a bot token looks like: `<bot id>:<secret>`; anything else never reaches Telegram. */
export const TELEGRAM_TOKEN_PATTERN = /^\d{1,20}:[A-Za-z0-9_-]{20,100}$/;

/** The channel as the API shows it: never the token nor the webhook secret. */
export function toPublicChannel(channel: Channel, publicUrl: string | undefined) {
  return {
    id: channel.id,
    botId: channel.botId,
    type: channel.type,
    mode: channel.mode,
    status: channel.status,
    externalId: channel.externalId,
    username: channel.username,
    displayName: channel.displayName,
    webhookUrl: channel.mode === 'webhook' && publicUrl ? webhookUrlOf(publicUrl, channel.id) : null,
    lastError: channel.lastError,
    lastErrorAt: channel.lastErrorAt,
    createdAt: channel.createdAt,
    updatedAt: channel.updatedAt,
  };
}

/** Where Telegram posts a channel's updates. */
export function webhookUrlOf(publicUrl: string, channelId: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/hooks/telegram/${channelId}`;
}

/**
 * Connects a Telegram bot token to a bot: checks the token with getMe, refuses a token that is
 * already connected anywhere, stores it encrypted and registers the delivery mode with
 * Telegram (setWebhook, or deleteWebhook for polling).
 *
 * The row is inserted `disabled` before Telegram is told anything: its unique (type,
 * external id) makes a concurrent connect of the same token fail with 409 before it could
 * point the webhook elsewhere. It turns `active`, with its audit row, once Telegram agreed.
 */
export async function connectTelegramChannel(
  ctx: RequestContext,
  options: { workspaceId: string; botId: string; token: string; mode: ChannelMode },
) {
  const bot = await getBot(ctx, options);
  assertModeAvailable(ctx, options.mode);
  const me = await identifyBot(ctx, options.token);
  await assertNotConnected(ctx.db, String(me.id));
  const id = uuidv7();
  const webhookSecret = options.mode === 'webhook' ? randomToken(32) : null;
  const [pending] = await ctx.db
    .insert(channels)
    .values({
      id,
      workspaceId: bot.workspaceId,
      botId: bot.id,
      type: 'telegram',
      mode: options.mode,
      status: 'disabled',
      externalId: String(me.id),
      username: me.username,
      displayName: me.first_name,
      encryptedToken: encryptSecret(ctx.keys.encryption, options.token),
      webhookSecret,
    })
    .onConflictDoNothing()
    .returning();
  if (!pending) throw alreadyConnected(me.username);
  try {
    await registerDelivery(ctx, { ...pending, status: 'active' });
  } catch (error) {
    await ctx.db.delete(channels).where(eq(channels.id, id));
    forgetTelegramApi(ctx, id);
    throw error;
  }
  const channel = await ctx.db.transaction(async (tx) => {
    const [active] = await tx
      .update(channels)
      .set({ status: 'active' })
      .where(eq(channels.id, id))
      .returning();
    if (!active) throw notFound('Channel');
    await recordAudit(ctx, tx, {
      workspaceId: bot.workspaceId,
      action: 'channel.create',
      targetType: 'channel',
      targetId: id,
      after: toPublicChannel(active, ctx.config.PUBLIC_URL),
    });
    return active;
  });
  await announceChannelChange(ctx, id);
  return channel;
}

export async function listChannels(ctx: { db: DbOrTx }, options: { workspaceId: string; botId: string }) {
  const bot = await getBot(ctx, options);
  return ctx.db
    .select()
    .from(channels)
    .where(and(eq(channels.botId, bot.id), eq(channels.workspaceId, options.workspaceId)))
    .orderBy(asc(channels.createdAt));
}

/** A channel of the bot in the workspace; anything else is NOT_FOUND. */
export async function getChannel(
  ctx: { db: DbOrTx },
  options: { workspaceId: string; botId: string; channelId: string },
): Promise<Channel> {
  const [channel] = await ctx.db
    .select()
    .from(channels)
    .where(
      and(
        eq(channels.id, options.channelId),
        eq(channels.botId, options.botId),
        eq(channels.workspaceId, options.workspaceId),
      ),
    );
  if (!channel) throw notFound('Channel');
  return channel;
}

export interface ChannelPatch {
  mode?: ChannelMode | undefined;
  /** `disabled` stops deliveries (updates wait at Telegram, up to 24 hours); `active` resumes. */
  status?: 'active' | 'disabled' | undefined;
  /** A new token of the same Telegram bot, e.g. after revoking the old one in @BotFather. */
  token?: string | undefined;
}

/**
 * Changes the mode, status or token and re-registers with Telegram whenever one of them
 * changed. A new token re-activates a channel that stopped on a revoked one.
 */
export async function updateChannel(
  ctx: RequestContext,
  options: { workspaceId: string; botId: string; channelId: string; patch: ChannelPatch },
) {
  const { patch } = options;
  const before = await getChannel(ctx, options);
  let encryptedToken = before.encryptedToken;
  let identity: Pick<Channel, 'username' | 'displayName'> = before;
  if (patch.token !== undefined) {
    const me = await identifyBot(ctx, patch.token);
    if (String(me.id) !== before.externalId) {
      throw new AppError('BAD_REQUEST', {
        message: `This token belongs to @${me.username}, not @${before.username ?? before.externalId}; connect it as a new channel instead`,
        details: { field: 'token' },
      });
    }
    encryptedToken = encryptSecret(ctx.keys.encryption, patch.token);
    identity = { username: me.username, displayName: me.first_name };
  }
  const mode = patch.mode ?? before.mode;
  const status =
    patch.status ?? (patch.token !== undefined && before.status === 'error' ? 'active' : before.status);
  const changed =
    mode !== before.mode || status !== before.status || encryptedToken !== before.encryptedToken;
  if (status === 'active') assertModeAvailable(ctx, mode);
  const next: Channel = {
    ...before,
    ...identity,
    mode,
    status,
    encryptedToken,
    webhookSecret: mode === 'webhook' ? (before.webhookSecret ?? randomToken(32)) : before.webhookSecret,
  };
  if (changed) await registerDelivery(ctx, next);
  const after = await ctx.db.transaction(async (tx) => {
    const [after] = await tx
      .update(channels)
      .set({
        updatedAt: new Date(),
        mode: next.mode,
        status: next.status,
        encryptedToken: next.encryptedToken,
        webhookSecret: next.webhookSecret,
        username: next.username,
        displayName: next.displayName,
        // A successful re-registration makes the last error moot (a revoked token replaced, a
        // conflict left behind by the switch of mode).
        ...(changed ? { lastError: null, lastErrorAt: null } : {}),
      })
      .where(eq(channels.id, before.id))
      .returning();
    if (!after) throw notFound('Channel');
    await recordAudit(ctx, tx, {
      workspaceId: options.workspaceId,
      action: 'channel.update',
      targetType: 'channel',
      targetId: before.id,
      before: toPublicChannel(before, ctx.config.PUBLIC_URL),
      after: {
        ...toPublicChannel(after, ctx.config.PUBLIC_URL),
        ...(patch.token === undefined ? {} : { tokenReplaced: true }),
      },
    });
    return after;
  });
  if (after.encryptedToken !== before.encryptedToken) forgetTelegramApi(ctx, before.id);
  await announceChannelChange(ctx, before.id);
  return after;
}

/** Tells Telegram to stop delivering (best effort), then deletes the channel. */
export async function deleteChannel(
  ctx: RequestContext,
  options: { workspaceId: string; botId: string; channelId: string },
): Promise<void> {
  const channel = await getChannel(ctx, options);
  await releaseTelegramChannel(ctx, channel);
  await ctx.db.transaction(async (tx) => {
    const [removed] = await tx.delete(channels).where(eq(channels.id, channel.id)).returning();
    if (!removed) throw notFound('Channel');
    await recordAudit(ctx, tx, {
      workspaceId: options.workspaceId,
      action: 'channel.delete',
      targetType: 'channel',
      targetId: channel.id,
      before: toPublicChannel(removed, ctx.config.PUBLIC_URL),
    });
  });
  forgetTelegramApi(ctx, channel.id);
  await announceChannelChange(ctx, channel.id);
}

// ─── Telegram ────────────────────────────────────────────────────────────────

function assertModeAvailable(ctx: RequestContext, mode: ChannelMode) {
  if (mode === 'webhook' && !ctx.config.PUBLIC_URL) {
    throw new AppError('BAD_REQUEST', {
      message:
        'Webhook mode needs PUBLIC_URL: the https address where Telegram can reach this server. Set PUBLIC_URL, or use mode "polling", which needs no public address.',
      details: { field: 'mode' },
    });
  }
}

/** getMe with the token: proves it is valid and tells which Telegram bot it belongs to. */
async function identifyBot(ctx: RequestContext, token: string): Promise<UserFromGetMe> {
  const api = createTelegramApi(ctx.config, token);
  const outcome = await callTelegram(() => api.getMe(telegramTimeout(SETUP_TIMEOUT_MS)));
  if (outcome.ok) return outcome.result;
  if (isTokenRejected(outcome)) {
    throw new AppError('BAD_REQUEST', {
      message: `Telegram rejected this bot token (${outcome.status} ${outcome.description}). Copy the token again from @BotFather; if it was revoked, issue a new one with /token.`,
      details: { field: 'token' },
    });
  }
  throw upstreamError('getMe', outcome);
}

async function assertNotConnected(db: DbOrTx, externalId: string) {
  const [existing] = await db
    .select({ username: channels.username })
    .from(channels)
    .where(and(eq(channels.type, 'telegram'), eq(channels.externalId, externalId)));
  if (existing) throw alreadyConnected(existing.username ?? undefined);
}

function alreadyConnected(username: string | undefined) {
  // Deliberately no hint at which workspace has it: that would leak another tenant's data.
  return new AppError('CONFLICT', {
    message: `Telegram bot ${username ? `@${username}` : 'with this token'} is already connected on this server. A token can serve one channel only; disconnect it there first.`,
    details: { field: 'token' },
  });
}

/**
 * Makes Telegram deliver the way the channel says: active webhook → setWebhook with our
 * secret and the update types we handle; active polling → deleteWebhook (the poller takes
 * over); disabled → deleteWebhook, and queued updates wait at Telegram.
 */
async function registerDelivery(ctx: RequestContext, channel: Channel): Promise<void> {
  const api = telegramApiFor(ctx, channel);
  const signal = telegramTimeout(SETUP_TIMEOUT_MS);
  const publicUrl = ctx.config.PUBLIC_URL;
  const outcome =
    channel.status === 'active' && channel.mode === 'webhook' && publicUrl
      ? await callTelegram(() =>
          api.setWebhook(
            webhookUrlOf(publicUrl, channel.id),
            {
              ...(channel.webhookSecret ? { secret_token: channel.webhookSecret } : {}),
              allowed_updates: TELEGRAM_ALLOWED_UPDATES,
              drop_pending_updates: false,
            },
            signal,
          ),
        )
      : await callTelegram(() => api.deleteWebhook({ drop_pending_updates: false }, signal));
  if (outcome.ok) return;
  if (isTokenRejected(outcome)) {
    throw new AppError('BAD_REQUEST', {
      message: `Telegram rejected the bot token (${outcome.status} ${outcome.description}); connect a new token`,
      details: { field: 'token' },
    });
  }
  if (outcome.kind === 'api' && outcome.status === 400) {
    throw new AppError('BAD_REQUEST', {
      message: `Telegram refused the webhook: ${outcome.description}. PUBLIC_URL must be an https address Telegram can reach (ports 443, 80, 88 or 8443).`,
      details: { field: 'mode' },
    });
  }
  throw upstreamError(outcome.method ?? 'setWebhook', outcome);
}

function upstreamError(method: string, failure: TelegramFailure) {
  return new AppError('UPSTREAM_ERROR', {
    message:
      failure.kind === 'network'
        ? `Telegram could not be reached (${method}): ${failure.description}. Check the server's internet access or TELEGRAM_API_ROOT, then try again.`
        : `Telegram failed (${method}: ${failure.status} ${failure.description}); try again later`,
    details: {
      method,
      status: failure.status,
      ...(failure.retryAfter === undefined ? {} : { retryAfter: failure.retryAfter }),
    },
  });
}
