import { setTimeout as sleep } from 'node:timers/promises';
import type { Update } from '@grammyjs/types';
import { and, eq, lt, sql } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import type { Lease, Unsubscribe } from '../../platform/ports/types.ts';
import { announceChannelChange, CHANNELS_CHANNEL, channelChangeSchema } from './channel-events.ts';
import { channels } from './schema.ts';
import { isSkippedUpdateMessage, recordSkippedUpdate } from './skipped-updates.ts';
import {
  callTelegram,
  isTokenRejected,
  TELEGRAM_ALLOWED_UPDATES,
  type TelegramFailure,
  telegramApiFor,
  telegramSignal,
} from './telegram-api.ts';

type ChannelRow = typeof channels.$inferSelect;

/** What the update handler learns about the channel: never its token. */
export type PolledChannel = Pick<
  ChannelRow,
  'id' | 'workspaceId' | 'botId' | 'type' | 'externalId' | 'username'
>;

/**
 * Stores a batch durably (the pipeline's ingest). The poller persists the next offset only
 * after it resolves, so a crash in between fetches the batch again instead of losing it: the
 * handler must ignore updates it already has (ingest is unique on channel + update_id).
 * When it keeps failing on a batch while the database answers, the poller hands it the
 * updates one at a time and skips (and records) the one that fails alone.
 */
export type TelegramUpdatesHandler = (channel: PolledChannel, updates: Update[]) => Promise<void>;

export interface TelegramPollerOptions {
  onUpdates: TelegramUpdatesHandler;
  /** getUpdates long-poll timeout in whole seconds (default 25; tests use 1). */
  timeoutSeconds?: number;
  /** How often the list of polling channels is re-read without an announcement (default 30 s). */
  resyncIntervalMs?: number;
  /**
   * Lease per channel, so only one instance polls a token (Telegram answers 409 to a second
   * poller). Renewed every third of it; a crashed instance's channels move after at most
   * this long. Default 30 s.
   */
  leaseTtlMs?: number;
  /** Retry delays after failures: doubling from `initialMs` up to `maxMs` (defaults 1 s, 60 s). */
  backoff?: { initialMs?: number; maxMs?: number };
  /**
   * Failed attempts at one batch before its updates are handed over one at a time and one
   * that still fails alone — while the database answers — is skipped and recorded as the
   * channel's `lastError` (default 3). Without it one update the handler cannot take would be
   * fetched and refused forever, and every later update of the bot would wait behind it.
   */
  skipAfterAttempts?: number;
}

export interface TelegramPoller {
  /** Ids of the channels this instance is polling now (it holds their lease). */
  polling(): string[];
  /** Re-reads the channels to poll at once. */
  resync(): Promise<void>;
  /** Stops every loop, waits for batches being handled, releases the leases. */
  stop(): Promise<void>;
}

const LIMIT = 100;

/**
 * Long-polls getUpdates for every active Telegram channel in polling mode. Channels connected,
 * switched or deleted at runtime are picked up through the `channels` announcements and a
 * periodic resync. A revoked token (401) puts the channel in status `error` and stops it;
 * conflicts, flood control and network failures back off and retry.
 */
export async function startTelegramPoller(
  ctx: AppContext,
  options: TelegramPollerOptions,
): Promise<TelegramPoller> {
  const settings = {
    timeoutSeconds: options.timeoutSeconds ?? 25,
    resyncIntervalMs: options.resyncIntervalMs ?? 30_000,
    leaseTtlMs: options.leaseTtlMs ?? 30_000,
    initialBackoffMs: options.backoff?.initialMs ?? 1000,
    maxBackoffMs: options.backoff?.maxMs ?? 60_000,
    skipAfterAttempts: options.skipAfterAttempts ?? 3,
  };
  const loops = new Map<string, { controller: AbortController; done: Promise<void> }>();
  const leased = new Set<string>();
  let stopped = false;

  const startLoop = (channelId: string) => {
    const controller = new AbortController();
    const done = runChannel(ctx, channelId, controller.signal, {
      ...settings,
      onUpdates: options.onUpdates,
      leased,
    })
      .catch((error: unknown) => ctx.logger.error({ err: error, channelId }, 'telegram poll loop crashed'))
      .finally(() => {
        if (loops.get(channelId)?.controller === controller) loops.delete(channelId);
      });
    loops.set(channelId, { controller, done });
  };

  const stopLoop = async (channelId: string) => {
    const loop = loops.get(channelId);
    if (!loop) return;
    loop.controller.abort();
    await loop.done;
  };

  const syncNow = async (changed: string | undefined) => {
    if (stopped) return;
    const rows = await ctx.db
      .select({ id: channels.id })
      .from(channels)
      .where(and(eq(channels.type, 'telegram'), eq(channels.mode, 'polling'), eq(channels.status, 'active')));
    const wanted = new Set(rows.map((row) => row.id));
    for (const channelId of [...loops.keys()]) {
      // A changed channel restarts, so its loop reads the new token and offset.
      if (!wanted.has(channelId) || channelId === changed) await stopLoop(channelId);
    }
    if (stopped) return;
    for (const channelId of wanted) if (!loops.has(channelId)) startLoop(channelId);
  };

  // Syncs run one after another; a failed one is logged and the next timer tick tries again.
  let syncing: Promise<void> = Promise.resolve();
  const resync = (changed?: string) => {
    syncing = syncing
      .then(() => syncNow(changed))
      .catch((error: unknown) => ctx.logger.error({ err: error }, 'telegram poller resync failed'));
    return syncing;
  };

  const unsubscribe: Unsubscribe = await ctx.ports.pubsub.subscribe(CHANNELS_CHANNEL, (message) => {
    const parsed = channelChangeSchema.safeParse(message);
    if (parsed.success) void resync(parsed.data.channelId);
  });
  const timer = setInterval(() => void resync(), settings.resyncIntervalMs);
  timer.unref();
  await resync();

  return {
    polling: () => [...leased],
    resync: () => resync(),
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      await unsubscribe();
      await syncing;
      await Promise.all([...loops.keys()].map(stopLoop));
    },
  };
}

// ─── One channel ─────────────────────────────────────────────────────────────

interface LoopSettings {
  timeoutSeconds: number;
  leaseTtlMs: number;
  resyncIntervalMs: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  skipAfterAttempts: number;
  onUpdates: TelegramUpdatesHandler;
  leased: Set<string>;
}

/** Polls one channel while it is pollable, taking its lease first, until `signal` aborts. */
async function runChannel(ctx: AppContext, channelId: string, signal: AbortSignal, settings: LoopSettings) {
  const key = `telegram-poll:${channelId}`;
  let backoffMs = settings.initialBackoffMs;
  while (!signal.aborted) {
    let lease: Lease | undefined;
    try {
      lease = await ctx.ports.locks.tryAcquire(key, settings.leaseTtlMs);
    } catch (error) {
      ctx.logger.warn({ err: error, channelId }, 'taking the polling lease failed');
    }
    if (!lease) {
      // Another instance polls it (or the lock store is down); try again before its lease
      // could have lapsed.
      await pause(Math.min(settings.leaseTtlMs / 2, settings.resyncIntervalMs), signal);
      continue;
    }
    settings.leased.add(channelId);
    try {
      const outcome = await pollWhileLeased(ctx, channelId, lease, signal, settings);
      if (outcome === 'finished') return;
      backoffMs = settings.initialBackoffMs;
    } catch (error) {
      ctx.logger.error({ err: error, channelId }, 'telegram polling failed; retrying');
      await pause(backoffMs, signal);
      backoffMs = Math.min(backoffMs * 2, settings.maxBackoffMs);
    } finally {
      settings.leased.delete(channelId);
      await lease.release().catch((error: unknown) => {
        ctx.logger.warn({ err: error, channelId }, 'releasing the polling lease failed');
      });
    }
  }
}

/**
 * The getUpdates loop while this instance holds the lease. Returns `finished` when the channel
 * is no longer to be polled by anyone, `lease-lost` when the lease could not be renewed.
 */
async function pollWhileLeased(
  ctx: AppContext,
  channelId: string,
  lease: Lease,
  stop: AbortSignal,
  settings: LoopSettings,
): Promise<'finished' | 'lease-lost'> {
  const leaseLost = new AbortController();
  const heartbeat = setInterval(() => {
    lease.extend().then(
      (held) => {
        if (!held) leaseLost.abort();
      },
      // Ownership that cannot be confirmed is given up: two pollers would fight with 409s.
      () => leaseLost.abort(),
    );
  }, settings.leaseTtlMs / 3);
  const signal = AbortSignal.any([stop, leaseLost.signal]);
  const pollSignal = telegramSignal(signal);
  try {
    const channel = await loadChannel(ctx, channelId);
    if (!channel || !isPollable(channel)) return 'finished';
    // The offset is read after taking the lease: the previous holder may have moved it.
    let offset = channel.pollingOffset;
    let recordedError = channel.lastError;
    let backoffMs = settings.initialBackoffMs;
    /** Consecutive failed attempts at the batch starting with `updateId`. */
    let failing = { updateId: -1, attempts: 0 };
    const api = telegramApiFor(ctx, channel);
    const target = toPolledChannel(channel);
    while (!signal.aborted) {
      const outcome = await callTelegram(() =>
        api.getUpdates(
          {
            ...(offset > 0 ? { offset } : {}),
            limit: LIMIT,
            timeout: settings.timeoutSeconds,
            allowed_updates: TELEGRAM_ALLOWED_UPDATES,
          },
          pollSignal,
        ),
      );
      if (signal.aborted) break;
      if (outcome.ok) {
        const updates = outcome.result;
        const [first] = updates;
        const last = updates.at(-1);
        if (first && last) {
          if (failing.updateId !== first.update_id) failing = { updateId: first.update_id, attempts: 0 };
          let next = last.update_id + 1;
          try {
            await settings.onUpdates(target, updates);
          } catch (error) {
            failing.attempts += 1;
            if (failing.attempts < settings.skipAfterAttempts) {
              // Most likely storage is down for a moment: the same batch comes again.
              ctx.logger.warn(
                { err: error, channelId, attempts: failing.attempts },
                'storing polled updates failed; fetching them again',
              );
              await pause(backoffMs, signal);
              backoffMs = Math.min(backoffMs * 2, settings.maxBackoffMs);
              continue;
            }
            const handled = await handleOneByOne(ctx, target, updates, settings.onUpdates);
            if (handled.skipped) recordedError = handled.skipped;
            if (handled.next === undefined) {
              // Failed with the database unreachable: an outage, not a bad update.
              await pause(backoffMs, signal);
              backoffMs = Math.min(backoffMs * 2, settings.maxBackoffMs);
              continue;
            }
            next = handled.next;
          }
          await saveOffset(ctx, channelId, next);
          offset = next;
          failing = { updateId: -1, attempts: 0 };
        }
        // A skipped update stays on show; the poll's own failures are over once it works.
        if (recordedError !== null && !isSkippedUpdateMessage(recordedError)) {
          await recordError(ctx, channelId, null);
          recordedError = null;
        }
        backoffMs = settings.initialBackoffMs;
        continue;
      }
      if (isTokenRejected(outcome)) {
        await recordError(ctx, channelId, revokedMessage(outcome), 'error');
        ctx.logger.warn(
          { channelId, status: outcome.status },
          'telegram rejected the token; polling stopped',
        );
        await announceChannelChange(ctx, channelId);
        return 'finished';
      }
      if (outcome.kind === 'api' && outcome.status === 409) {
        // Also what a switch to webhook mode looks like from here, until its announcement
        // arrives: only an error if the channel still wants polling.
        const fresh = await loadChannel(ctx, channelId);
        if (!fresh || !isPollable(fresh)) return 'finished';
      }
      const message = failureMessage(outcome);
      if (message !== recordedError) {
        await recordError(ctx, channelId, message);
        recordedError = message;
      }
      ctx.logger.warn(
        { channelId, status: outcome.status, description: outcome.description },
        'getUpdates failed; backing off',
      );
      const delayMs = outcome.retryAfter === undefined ? backoffMs : outcome.retryAfter * 1000;
      await pause(delayMs, signal);
      backoffMs = Math.min(backoffMs * 2, settings.maxBackoffMs);
    }
    return leaseLost.signal.aborted && !stop.aborted ? 'lease-lost' : 'finished';
  } finally {
    clearInterval(heartbeat);
  }
}

// ─── Poisoned updates ────────────────────────────────────────────────────────

/**
 * Hands the updates over one at a time, after their batch failed again and again. One that
 * fails alone while the database answers is poisoned (its content, not an outage, is the
 * problem): it is skipped, logged and recorded as the channel's `lastError`. Returns the
 * offset after the last update handled or skipped — `undefined` when one failed with the
 * database unreachable (nothing is skipped then: the batch comes again after a pause) — and
 * the `lastError` written, if any.
 */
async function handleOneByOne(
  ctx: AppContext,
  channel: PolledChannel,
  updates: Update[],
  onUpdates: TelegramUpdatesHandler,
): Promise<{ next: number | undefined; skipped: string | undefined }> {
  let next: number | undefined;
  let skipped: string | undefined;
  for (const update of updates) {
    try {
      await onUpdates(channel, [update]);
    } catch (error) {
      if (!(await isDatabaseReachable(ctx))) {
        ctx.logger.warn(
          { err: error, channelId: channel.id },
          'storing polled updates failed; database unreachable',
        );
        // Keeps what was handled before it: those are not fetched for nothing again.
        if (next !== undefined) await saveOffset(ctx, channel.id, next);
        return { next: undefined, skipped };
      }
      skipped = await recordSkippedUpdate(ctx, channel.id, {
        updateId: update.update_id,
        reason: `it could not be stored (${describeError(error)})`,
      });
    }
    next = update.update_id + 1;
  }
  return { next, skipped };
}

async function isDatabaseReachable(ctx: AppContext): Promise<boolean> {
  try {
    await ctx.db.execute(sql`select 1`);
    return true;
  } catch {
    return false;
  }
}

/** The innermost cause's message: drizzle's own repeats the whole query. */
function describeError(error: unknown): string {
  let current = error;
  for (let depth = 0; depth < 4 && current instanceof Error && current.cause instanceof Error; depth++) {
    current = current.cause;
  }
  return current instanceof Error ? current.message : String(current);
}

// ─── Helpers ─────────────────────────────────────────────────────────────────

async function loadChannel(ctx: AppContext, channelId: string): Promise<ChannelRow | undefined> {
  const [row] = await ctx.db.select().from(channels).where(eq(channels.id, channelId));
  return row;
}

function isPollable(channel: ChannelRow): boolean {
  return channel.type === 'telegram' && channel.mode === 'polling' && channel.status === 'active';
}

function toPolledChannel(channel: ChannelRow): PolledChannel {
  const { id, workspaceId, botId, type, externalId, username } = channel;
  return { id, workspaceId, botId, type, externalId, username };
}

/** Only ever forward: a poller that lost its lease late cannot move the offset back. */
async function saveOffset(ctx: AppContext, channelId: string, offset: number) {
  await ctx.db
    .update(channels)
    // updated_at tracks configuration changes, not traffic.
    .set({ pollingOffset: offset, updatedAt: sql`${channels.updatedAt}` })
    .where(and(eq(channels.id, channelId), lt(channels.pollingOffset, offset)));
}

async function recordError(
  ctx: AppContext,
  channelId: string,
  message: string | null,
  status?: 'error',
): Promise<void> {
  await ctx.db
    .update(channels)
    .set({
      lastError: message,
      lastErrorAt: message === null ? null : new Date(),
      updatedAt: sql`${channels.updatedAt}`,
      ...(status ? { status } : {}),
    })
    // Only while the channel still wants polling: a switch to webhook mode makes Telegram fail
    // the open getUpdates with 409 before the switch is committed, and that is no error.
    .where(
      and(
        eq(channels.id, channelId),
        ...(message === null ? [] : [eq(channels.mode, 'polling'), eq(channels.status, 'active')]),
      ),
    );
}

function revokedMessage(failure: TelegramFailure): string {
  return `Telegram rejected the bot token (${failure.status} ${failure.description}); polling stopped. Issue a new token in @BotFather and update the channel with it.`;
}

function failureMessage(failure: TelegramFailure): string {
  if (failure.kind === 'network') return `Telegram unreachable: ${failure.description}`;
  if (failure.status === 409) {
    return `Telegram refused getUpdates (${failure.description}). Another program may be polling this token or have set a webhook for it.`;
  }
  return `getUpdates failed: ${failure.status} ${failure.description}`;
}

/** Waits, or returns early when `signal` aborts. */
async function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return;
  await sleep(ms, undefined, { signal }).catch(() => undefined);
}
