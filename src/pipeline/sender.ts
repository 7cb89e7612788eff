import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { and, asc, eq, gt, inArray, isNull, lt, notInArray, or, type SQL, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { z } from 'zod';
import type { DeliveryResult } from '../channels/telegram/client.ts';
import type { AppContext } from '../context.ts';
import { contacts, conversations, messages } from '../features/conversations/schema.ts';
import type { Logger } from '../platform/logger.ts';
import type { Channel, ChannelCache } from './channel-cache.ts';
import { createGroupCommit } from './group-commit.ts';
import { pipelineMetrics } from './metrics.ts';
import { msFromNow, outbox } from './schema.ts';
import { createWaker, onWake } from './wake.ts';

type OutboxRow = typeof outbox.$inferSelect;

export interface SenderDeps {
  channels: ChannelCache;
  deliver: (channel: Channel, method: string, params: Record<string, unknown>) => Promise<DeliveryResult>;
  /** Called after a row reached a final state (for realtime and analytics). */
  onDelivered?: (row: OutboxRow, status: 'sent' | 'failed') => void;
}

export interface PacingLimits {
  /** Telegram's documented ceilings (Bots FAQ): ~30 messages/s per bot, ~1/s per chat, 20/min per group. */
  perBotPerSecond: number;
  perChatPerSecond: number;
  perGroupPerMinute: number;
}

export const DEFAULT_PACING: PacingLimits = {
  perBotPerSecond: 30,
  perChatPerSecond: 1,
  perGroupPerMinute: 20,
};

export interface Sender {
  /** Stops taking rows and waits for the deliveries in flight (rows not yet claimed are let go). */
  stop(): Promise<void>;
}

const MAX_ATTEMPTS = 8;
/** Rows being paced or delivered at once on one instance, by default. */
const MAX_IN_FLIGHT = 64;
// A row this instance holds (picked for pacing, or `sending`) carries a lease that the loop
// pushes out while it works (every LEASE_RENEW_MS): a row whose lease ran out was left by a
// process that is gone, not by a slow call (the Bot API client itself waits up to 60 s). Short,
// so the chats a killed instance held move on within seconds. Picked rows are skipped by the
// other instances' picks meanwhile, so two instances never both spend pacer slots on one.
const LEASE_MS = 10_000;
const LEASE_RENEW_MS = 3000;
// The longest idle sleep: what a lost wake (pub/sub down) or another instance's retry costs.
const IDLE_POLL_MS = 1000;
const SWEEP_EVERY_MS = 3000;
const ERROR_PAUSE_MS = 1000;
const AMBIGUOUS = 'process stopped during delivery; not retried to avoid a duplicate';

/**
 * The sender loop of this instance. Each round picks the head rows of chats — a chat's oldest
 * queued row that is due and has no older row queued or sending — oldest first, as many as free
 * delivery slots, and delivers them concurrently, each paced per bot, per chat and per group
 * through the pacer port (so with REDIS_URL the limits hold across instances). Claims and
 * successes of concurrent deliveries share statements (group commit).
 *
 * A chat's next row is a head only once the previous one is settled, so per-chat order holds on
 * one instance or many. 429 → queued again until retry_after; 5xx/network → exponential
 * backoff; 403 (blocked) → contact blocked, the chat's rows failed; other 4xx → failed. A row
 * still `sending` after its lease was left by a dead process and becomes `unknown`, never resent.
 */
export function startSender(
  ctx: AppContext,
  deps: SenderDeps,
  options: { concurrency?: number; pacing?: PacingLimits } = {},
): Sender {
  const pacing = options.pacing ?? DEFAULT_PACING;
  const maxInFlight = options.concurrency ?? MAX_IN_FLIGHT;
  const { outbox: sent, rateLimited } = pipelineMetrics(ctx);

  // A hair under the documented rates: Telegram measures on arrival, and requests sent on
  // exact slot boundaries can arrive bunched by network jitter.
  const SAFETY = 1.02;
  // Per chat the margin is wider: a slot is reserved before the send, and a busy event loop
  // can delay one send and not the next, bunching them on arrival; a tenth of a second per
  // message in one chat costs nothing a customer notices (the bot's 30/s is what matters).
  const CHAT_SAFETY = 1.1;
  const chatRule = { intervalMs: (1000 / pacing.perChatPerSecond) * CHAT_SAFETY, burst: 3 };
  const groupRule = { intervalMs: (60_000 / pacing.perGroupPerMinute) * SAFETY, burst: 3 };
  const botRule = { intervalMs: (1000 / pacing.perBotPerSecond) * SAFETY };

  const waker = createWaker();
  const stopping = new AbortController();
  // Every delivery in flight listens for the stop (a few listeners each).
  setMaxListeners(maxInFlight * 4, stopping.signal);
  const inFlight = new Map<number, Promise<void>>();
  /** Picked rows let go unclaimed at stop: their pick lease is cleared for the other instances. */
  const letGo: number[] = [];
  // One shared statement per turn of answers, not one per row (see group-commit.ts).
  const claim = createGroupCommit((ids: number[]) => claimRows(ctx, ids), { maxItems: MAX_IN_FLIGHT });
  const recordSent = createGroupCommit((items: SentItem[]) => markSent(ctx, items), {
    maxItems: MAX_IN_FLIGHT,
  });
  const subscription = onWake(ctx, 'send', () => waker.wake()).catch((error: unknown) => {
    ctx.logger.warn({ err: error }, 'sender not subscribed to wakes; polling');
    return undefined;
  });

  /**
   * Waits for the row's pacing slots (chat, group, bot) through the pacer port, which with
   * REDIS_URL is shared by every instance. A reserved slot is always used: giving the row back
   * to come at its slot later would reserve a second slot on its return, one interval further
   * out, and a group chat (one message per 3 s after its burst) would never reach its slot.
   * The wait holds one delivery slot at most per chat (a chat has one head row in flight).
   */
  async function pace(row: OutboxRow): Promise<void> {
    if (row.method === 'answerCallbackQuery') return; // not a message: no flood limit applies
    const chatKey = `${row.channelId}:${row.chatId}`;
    let wait = await ctx.ports.pacer.reserve(`chat:${chatKey}`, chatRule);
    if (row.chatId.startsWith('-'))
      wait = Math.max(wait, await ctx.ports.pacer.reserve(`group:${chatKey}`, groupRule));
    await pause(wait, stopping.signal);
    await pause(await ctx.ports.pacer.reserve(`bot:${row.channelId}`, botRule), stopping.signal);
  }

  async function deliver(row: OutboxRow): Promise<void> {
    const channel = await deps.channels.get(row.channelId);
    // Deleting a channel deletes its rows (on delete cascade): this one is going too.
    if (!channel) return;
    // Lines about this chat's deliveries carry its workspace, bot, channel and chat.
    const logger = ctx.logger.child({
      workspaceId: channel.workspaceId,
      botId: channel.botId,
      channelId: channel.id,
      chatId: row.chatId,
    });
    try {
      await unlessAborted(pace(row), stopping.signal);
    } catch (error) {
      logger.warn({ err: error }, 'pacer unavailable; delivery postponed');
      await postpone(ctx, row.id, ERROR_PAUSE_MS);
      return;
    }
    if (stopping.signal.aborted) {
      letGo.push(row.id);
      return;
    }
    // `sending` right before the call: if the process dies during it, the row is left
    // ambiguous and never sent a second time (see sweepAbandoned). Conditional: a row cancelled
    // (broadcast cancel) or taken by another instance meanwhile is left alone.
    if (!(await claim.submit(row.id))) return;
    const result = await deps.deliver(channel, row.method, row.params);
    const next = await withRetries(() => settle(ctx, logger, row, result, recordSent.submit));
    sent.labels(channel.type, channel.botId, next.outcome).inc();
    if (next.outcome === 'rate_limited') rateLimited.labels(channel.type, channel.botId).inc();
    if (next.outcome === 'sent' || next.outcome === 'failed') {
      deps.onDelivered?.(row, next.outcome);
      if (row.method !== 'answerCallbackQuery') {
        ctx.analytics.track({
          workspaceId: channel.workspaceId,
          botId: channel.botId,
          channelId: channel.id,
          type: next.outcome === 'sent' ? 'message_out' : 'delivery_failed',
          data: { method: row.method, ...(next.blocked ? { blocked: true } : {}) },
        });
      }
    }
  }

  function start(row: OutboxRow) {
    if (inFlight.has(row.id)) return;
    const delivery = deliver(row)
      .catch((error: unknown) => {
        // The row stays as it was: queued (picked again once its pick lease lapses) or
        // `sending` (the sweep makes it `unknown`).
        ctx.logger.error({ err: error, outboxId: row.id, channelId: row.channelId }, 'delivery interrupted');
      })
      .finally(() => {
        inFlight.delete(row.id);
        // The chat's next row may be a head now, and a slot is free.
        waker.wake();
      });
    inFlight.set(row.id, delivery);
  }

  /** One round; resolves to how long to sleep unless woken (by a wake or a finished delivery). */
  async function round(): Promise<number> {
    const free = maxInFlight - inFlight.size;
    if (free <= 0) return IDLE_POLL_MS;
    const rows = await pickHeads(ctx, free);
    for (const row of rows) start(row);
    if (rows.length > 0) return IDLE_POLL_MS;
    return Math.min(IDLE_POLL_MS, (await msUntilNextDue(ctx)) ?? IDLE_POLL_MS);
  }

  async function run() {
    // Embedded shape (in-process ports): this is the only sender, so a row `sending` at start
    // was left by the process before, whatever its lease says.
    let recovered = ctx.ports.kind === 'redis';
    let sweepAt = 0;
    let renewAt = Date.now() + LEASE_RENEW_MS;
    while (!stopping.signal.aborted) {
      try {
        if (!recovered) {
          await recoverAtStart(ctx);
          recovered = true;
        }
        if (Date.now() >= renewAt) {
          await renewLeases(ctx, [...inFlight.keys()]);
          renewAt = Date.now() + LEASE_RENEW_MS;
        }
        if (Date.now() >= sweepAt) {
          // Never this instance's own rows, even if a stalled event loop let their leases lapse.
          await sweepAbandoned(ctx, [...inFlight.keys()]);
          sweepAt = Date.now() + SWEEP_EVERY_MS;
        }
        await waker.sleep(await round());
      } catch (error) {
        ctx.logger.error({ err: error }, 'sender round failed; retrying');
        await pause(ERROR_PAUSE_MS, stopping.signal);
      }
    }
  }

  const loop = run();

  return {
    async stop() {
      stopping.abort();
      waker.wake();
      await loop;
      // Deliveries in flight finish (a Bot API call may take a while): their leases are still
      // renewed meanwhile, or another instance would take them for abandoned ones.
      const renewing = setInterval(() => {
        renewLeases(ctx, [...inFlight.keys()]).catch((error: unknown) =>
          ctx.logger.warn({ err: error }, 'sender leases not renewed'),
        );
      }, LEASE_RENEW_MS);
      try {
        await Promise.all(inFlight.values());
      } finally {
        clearInterval(renewing);
      }
      const ids = letGo.splice(0);
      if (ids.length > 0) {
        await ctx.db
          .update(outbox)
          .set({ leaseUntil: null })
          .where(and(inArray(outbox.id, ids), sql`${outbox.status} = 'queued'`))
          .catch((error: unknown) => ctx.logger.warn({ err: error }, 'picked rows not released'));
      }
      const unsubscribe = await subscription;
      await unsubscribe?.();
    },
  };
}

// ─── Statements ──────────────────────────────────────────────────────────────

/**
 * Picks up to `limit` head rows, oldest first, and leases them for pacing (LEASE_MS), in
 * one statement. A head is a chat's oldest queued row, due, with no older row of the chat
 * queued or sending. Status literals (not parameters) so the partial indexes apply.
 */
async function pickHeads(ctx: AppContext, limit: number): Promise<OutboxRow[]> {
  const older = alias(outbox, 'older');
  const heads = ctx.db.$with('heads').as(
    ctx.db
      .select({ id: outbox.id })
      .from(outbox)
      .where(
        and(
          sql`${outbox.status} = 'queued'`,
          sql`${outbox.notBefore} <= now()`,
          or(isNull(outbox.leaseUntil), lt(outbox.leaseUntil, sql`now()`)),
          // The chat's oldest pending row: one probe of outbox_pending_idx per candidate,
          // planned the same whatever the statistics say.
          eq(
            outbox.id,
            ctx.db
              .select({ id: older.id })
              .from(older)
              .where(
                and(
                  eq(older.channelId, outbox.channelId),
                  eq(older.chatId, outbox.chatId),
                  sql`${older.status} in ('queued','sending')`,
                ),
              )
              .orderBy(asc(older.id))
              .limit(1),
          ),
        ),
      )
      .orderBy(asc(outbox.id))
      .limit(limit)
      // Rows another instance is picking right now are skipped, not waited for.
      .for('update', { of: outbox, skipLocked: true }),
  );
  const rows = await ctx.db
    .with(heads)
    .update(outbox)
    .set({ leaseUntil: msFromNow(LEASE_MS) })
    .where(inArray(outbox.id, ctx.db.select({ id: heads.id }).from(heads)))
    .returning();
  return rows.sort((a, b) => a.id - b.id);
}

/** Claims rows still queued for delivery; answers per id whether it was claimed. */
async function claimRows(ctx: AppContext, ids: number[]): Promise<boolean[]> {
  const claimed = await ctx.db
    .update(outbox)
    .set({
      status: 'sending',
      attempts: sql`${outbox.attempts} + 1`,
      leaseUntil: msFromNow(LEASE_MS),
    })
    .where(and(inArray(outbox.id, ids), sql`${outbox.status} = 'queued'`))
    .returning({ id: outbox.id });
  const taken = new Set(claimed.map((row) => row.id));
  return ids.map((id) => taken.has(id));
}

interface SentItem {
  id: number;
  externalId: string | null;
}

/**
 * Records deliveries Telegram accepted: the outbox rows and their messages, in one statement
 * for the batch (the pipeline's hottest write). Two parameters per row, far below PostgreSQL's
 * 65,535.
 */
async function markSent(ctx: AppContext, items: SentItem[]): Promise<boolean[]> {
  const values = sql.join(
    items.map((item) => sql`(${item.id}::bigint, ${item.externalId}::text)`),
    sql`, `,
  );
  await ctx.db.execute(sql`
    with sent as (
      update ${outbox} set status = 'sent', sent_at = now(), external_id = v.external_id, error = null,
        lease_until = null
      from (values ${values}) as v(id, external_id)
      where ${outbox.id} = v.id
      returning ${outbox.messageId} as message_id, v.external_id
    )
    update ${messages} set status = 'sent', external_id = sent.external_id, updated_at = now()
    from sent where ${messages.id} = sent.message_id`);
  return items.map(() => true);
}

/** Puts a picked row back for later: due in `ms`, free for any instance's pick. */
async function postpone(ctx: AppContext, id: number, ms: number): Promise<void> {
  await ctx.db
    .update(outbox)
    .set({ notBefore: msFromNow(ms), leaseUntil: null })
    .where(and(eq(outbox.id, id), sql`${outbox.status} = 'queued'`));
}

/** Ms until the earliest queued row that is not yet due; undefined when there is none. */
async function msUntilNextDue(ctx: AppContext): Promise<number | undefined> {
  const [row] = await ctx.db
    .select({ ms: sql<number | null>`(extract(epoch from min(${outbox.notBefore}) - now()) * 1000)::float8` })
    .from(outbox)
    .where(and(sql`${outbox.status} = 'queued'`, gt(outbox.notBefore, sql`now()`)));
  return row?.ms ?? undefined;
}

/** Pushes out the leases of the rows this instance holds; a row settled meanwhile keeps none. */
async function renewLeases(ctx: AppContext, ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  await ctx.db
    .update(outbox)
    .set({ leaseUntil: msFromNow(LEASE_MS) })
    .where(
      and(
        inArray(outbox.id, ids),
        sql`${outbox.status} in ('queued','sending')`,
        sql`${outbox.leaseUntil} is not null`,
      ),
    );
}

/**
 * Rows left `sending` by a sender that died mid-call (their lease ran out; NULL: claimed by the
 * sender before leases): Telegram may or may not have delivered them, so they become `unknown`
 * rather than risk a duplicate. `ours` (rows this instance is delivering) are never touched.
 */
async function sweepAbandoned(ctx: AppContext, ours: number[]): Promise<void> {
  await markUnknown(
    ctx,
    and(
      or(isNull(outbox.leaseUntil), lt(outbox.leaseUntil, sql`now()`)),
      ours.length > 0 ? notInArray(outbox.id, ours) : undefined,
    ),
  );
}

/** The embedded shape's start: every `sending` row is from the process before, and so is every pick. */
async function recoverAtStart(ctx: AppContext): Promise<void> {
  await markUnknown(ctx, undefined);
  await ctx.db
    .update(outbox)
    .set({ leaseUntil: null })
    .where(and(sql`${outbox.status} = 'queued'`, sql`${outbox.leaseUntil} is not null`));
}

async function markUnknown(ctx: AppContext, condition: SQL | undefined): Promise<void> {
  const ambiguous = await ctx.db
    .update(outbox)
    .set({ status: 'unknown', leaseUntil: null, error: AMBIGUOUS })
    .where(and(sql`${outbox.status} = 'sending'`, condition))
    .returning({ messageId: outbox.messageId });
  if (ambiguous.length === 0) return;
  ctx.logger.warn({ rows: ambiguous.length }, 'outbox rows left sending by a stopped process marked unknown');
  const ids = ambiguous.flatMap((entry) => (entry.messageId ? [entry.messageId] : []));
  if (ids.length > 0)
    await ctx.db.update(messages).set({ status: 'unknown' }).where(inArray(messages.id, ids));
}

// ─── Settling one delivery ───────────────────────────────────────────────────

interface Settled {
  outcome: 'sent' | 'failed' | 'retry' | 'rate_limited';
  blocked?: boolean;
}

async function settle(
  ctx: AppContext,
  logger: Logger,
  row: OutboxRow,
  result: DeliveryResult,
  recordSent: (item: SentItem) => Promise<boolean>,
): Promise<Settled> {
  if (result.ok) {
    await recordSent({ id: row.id, externalId: messageIdOf(result.result) });
    return { outcome: 'sent' };
  }
  if (result.status === 429) {
    const retryInMs = (result.retryAfter ?? 1) * 1000;
    // Queued again and still the chat's head: the chat's next rows wait behind it.
    await ctx.db
      .update(outbox)
      .set({
        status: 'queued',
        notBefore: new Date(Date.now() + retryInMs),
        leaseUntil: null,
        error: result.description,
      })
      .where(eq(outbox.id, row.id));
    logger.warn({ retryAfter: result.retryAfter }, 'telegram 429; waiting');
    return { outcome: 'rate_limited' };
  }
  if (result.status === 403) {
    // The customer blocked the bot (or left): nothing more can reach them.
    await ctx.db.transaction(async (tx) => {
      const pending = await tx
        .update(outbox)
        .set({ status: 'failed', leaseUntil: null, error: result.description })
        .where(
          and(
            eq(outbox.channelId, row.channelId),
            eq(outbox.chatId, row.chatId),
            inArray(outbox.status, ['queued', 'sending']),
          ),
        )
        .returning({ messageId: outbox.messageId });
      const ids = pending.flatMap((entry) => (entry.messageId ? [entry.messageId] : []));
      if (ids.length > 0)
        await tx
          .update(messages)
          .set({ status: 'failed', error: result.description })
          .where(inArray(messages.id, ids));
      const [conversation] = await tx
        .select({ contactId: conversations.contactId })
        .from(conversations)
        .where(and(eq(conversations.channelId, row.channelId), eq(conversations.chatId, row.chatId)));
      if (conversation)
        await tx.update(contacts).set({ status: 'blocked' }).where(eq(contacts.id, conversation.contactId));
    });
    return { outcome: 'failed', blocked: true };
  }
  const transient = result.status === 0 || result.status >= 500;
  if (transient && row.attempts + 1 < MAX_ATTEMPTS) {
    const retryInMs = Math.min(60_000, 500 * 2 ** row.attempts);
    await ctx.db
      .update(outbox)
      .set({
        status: 'queued',
        notBefore: new Date(Date.now() + retryInMs),
        leaseUntil: null,
        error: result.description,
      })
      .where(eq(outbox.id, row.id));
    return { outcome: 'retry' };
  }
  await ctx.db.transaction(async (tx) => {
    await tx
      .update(outbox)
      .set({ status: 'failed', leaseUntil: null, error: result.description })
      .where(eq(outbox.id, row.id));
    if (row.messageId)
      await tx
        .update(messages)
        .set({ status: 'failed', error: result.description })
        .where(eq(messages.id, row.messageId));
  });
  logger.warn({ method: row.method, status: result.status, error: result.description }, 'delivery failed');
  return { outcome: 'failed' };
}

// ─── Helpers ─────────────────────────────────────────────────────────────────

function messageIdOf(result: unknown): string | null {
  const parsed = z.object({ message_id: z.number() }).safeParse(result);
  return parsed.success ? String(parsed.data.message_id) : null;
}

/** Sleeps `ms`, or less when `signal` aborts. */
async function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return;
  await sleep(ms, undefined, { signal }).catch(() => undefined);
}

/** `promise`'s value, or undefined as soon as `signal` aborts (a pacer call may hang while Redis is down). */
function unlessAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  return new Promise<T | undefined>((resolve, reject) => {
    const abort = () => resolve(undefined);
    if (signal.aborted) abort();
    signal.addEventListener('abort', abort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', abort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', abort);
        if (signal.aborted) resolve(undefined);
        else reject(error);
      },
    );
  });
}

/**
 * A settle that fails (database blip) after Telegram answered is tried again a few times: the
 * answer is known only here. If it still fails, the row stays `sending` and becomes `unknown`.
 */
async function withRetries<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt >= 4) throw error;
      await sleep(250 * 2 ** attempt);
    }
  }
}
