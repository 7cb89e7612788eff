import { and, asc, eq, inArray, lte, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { DeliveryResult } from '../channels/telegram/client.ts';
import type { AppContext } from '../context.ts';
import type { channels } from '../features/channels/schema.ts';
import { contacts, conversations, messages } from '../features/conversations/schema.ts';
import type { ChannelCache } from './channel-cache.ts';
import { runExclusive } from './exclusive.ts';
import { pipelineMetrics } from './metrics.ts';
import { outbox } from './schema.ts';

export const SEND_QUEUE = 'pipeline-send';

const jobSchema = z.object({ channelId: z.uuid(), chatId: z.string(), retry: z.number().optional() });

type Channel = typeof channels.$inferSelect;
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

const MAX_ATTEMPTS = 8;

/** Queues delivery of a chat's outbox. */
export async function enqueueSend(
  ctx: AppContext,
  channelId: string,
  chatId: string,
  delayMs = 0,
): Promise<void> {
  await ctx.ports.queue.add(
    SEND_QUEUE,
    { channelId, chatId },
    {
      jobId: `s-${channelId}-${chatId}${delayMs > 0 ? `-${Date.now() + delayMs}` : ''}`,
      ...(delayMs > 0 ? { delayMs } : {}),
    },
  );
}

/**
 * Consumes the send queue: for one chat at a time, delivers queued outbox rows in order,
 * paced per bot, per chat and per group through the pacer port (so with REDIS_URL the
 * limits hold across instances). 429 → wait retry_after; 5xx/network → exponential backoff;
 * 403 (blocked) → contact blocked, the chat's queue failed; other 4xx → failed.
 */
export function startSender(
  ctx: AppContext,
  deps: SenderDeps,
  options: { concurrency?: number; pacing?: PacingLimits } = {},
) {
  const pacing = options.pacing ?? DEFAULT_PACING;
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

  /**
   * Waits for the row's pacing slots (chat, group, bot) through the pacer port, which with
   * REDIS_URL is shared by every instance. Returns ms to come back later when the chat's next
   * slot is far off, so a long queue in one chat does not hold a worker.
   */
  async function pace(row: OutboxRow): Promise<number> {
    if (row.method === 'answerCallbackQuery') return 0; // not a message: no flood limit applies
    const chatKey = `${row.channelId}:${row.chatId}`;
    let wait = await ctx.ports.pacer.reserve(`chat:${chatKey}`, chatRule);
    if (row.chatId.startsWith('-'))
      wait = Math.max(wait, await ctx.ports.pacer.reserve(`group:${chatKey}`, groupRule));
    if (wait > 2000) return wait;
    await sleep(wait);
    await sleep(await ctx.ports.pacer.reserve(`bot:${row.channelId}`, botRule));
    return 0;
  }

  async function drain(channelId: string, chatId: string, keepAlive: () => Promise<void>): Promise<void> {
    const channel = await deps.channels.get(channelId);
    if (!channel) return;
    // Lines about this chat's deliveries carry its workspace, bot, channel and chat.
    const scoped = {
      ...ctx,
      logger: ctx.logger.child({ workspaceId: channel.workspaceId, botId: channel.botId, channelId, chatId }),
    };
    for (;;) {
      const [row] = await ctx.db
        .select()
        .from(outbox)
        .where(and(eq(outbox.channelId, channelId), eq(outbox.chatId, chatId), eq(outbox.status, 'queued')))
        .orderBy(asc(outbox.id))
        .limit(1);
      if (!row) return;
      const waitMs = Math.max(row.notBefore.getTime() - Date.now(), await pace(row));
      if (waitMs > 0) {
        await enqueueSend(ctx, channelId, chatId, waitMs);
        return;
      }
      // `sending` before the call: if the process dies during it, the row is left ambiguous
      // and never sent a second time (see the sweeper).
      // Conditional: a row cancelled (broadcast cancel) while this worker waited for its slot
      // stays cancelled.
      const [claimed] = await ctx.db
        .update(outbox)
        .set({ status: 'sending', attempts: sql`${outbox.attempts} + 1` })
        .where(and(eq(outbox.id, row.id), eq(outbox.status, 'queued')))
        .returning({ id: outbox.id });
      if (!claimed) continue;
      const result = await deps.deliver(channel, row.method, row.params);
      const next = await settle(scoped, channel, row, result);
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
      if (next.retryInMs !== undefined) {
        await enqueueSend(ctx, channelId, chatId, next.retryInMs);
        return;
      }
      await keepAlive();
    }
  }

  ctx.ports.queue.work<unknown>(
    SEND_QUEUE,
    async (job) => {
      const data = jobSchema.parse(job.data);
      await runExclusive(
        ctx,
        { queue: SEND_QUEUE, key: `send:${data.channelId}:${data.chatId}`, data },
        (keepAlive) => drain(data.channelId, data.chatId, keepAlive),
      );
    },
    { concurrency: options.concurrency ?? 32 },
  );
}

async function settle(
  ctx: AppContext,
  channel: Channel,
  row: OutboxRow,
  result: DeliveryResult,
): Promise<{ outcome: 'sent' | 'failed' | 'retry' | 'rate_limited'; retryInMs?: number; blocked?: boolean }> {
  if (result.ok) {
    const externalId = messageIdOf(result.result);
    // One statement for both rows: this runs once per message sent, the pipeline's hottest write.
    await ctx.db.execute(sql`
      with sent as (
        update ${outbox} set status = 'sent', sent_at = now(), external_id = ${externalId}, error = null
        where ${outbox.id} = ${row.id}
        returning message_id
      )
      update ${messages} set status = 'sent', external_id = ${externalId}, updated_at = now()
      from sent where ${messages.id} = sent.message_id`);
    return { outcome: 'sent' };
  }
  if (result.status === 429) {
    const retryInMs = (result.retryAfter ?? 1) * 1000;
    await ctx.db
      .update(outbox)
      .set({ status: 'queued', notBefore: new Date(Date.now() + retryInMs), error: result.description })
      .where(eq(outbox.id, row.id));
    ctx.logger.warn(
      { channelId: channel.id, chatId: row.chatId, retryAfter: result.retryAfter },
      'telegram 429; waiting',
    );
    return { outcome: 'rate_limited', retryInMs };
  }
  if (result.status === 403) {
    // The customer blocked the bot (or left): nothing more can reach them.
    await ctx.db.transaction(async (tx) => {
      const pending = await tx
        .update(outbox)
        .set({ status: 'failed', error: result.description })
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
      .set({ status: 'queued', notBefore: new Date(Date.now() + retryInMs), error: result.description })
      .where(eq(outbox.id, row.id));
    return { outcome: 'retry', retryInMs };
  }
  await ctx.db.transaction(async (tx) => {
    await tx.update(outbox).set({ status: 'failed', error: result.description }).where(eq(outbox.id, row.id));
    if (row.messageId)
      await tx
        .update(messages)
        .set({ status: 'failed', error: result.description })
        .where(eq(messages.id, row.messageId));
  });
  ctx.logger.warn(
    { channelId: channel.id, method: row.method, status: result.status, error: result.description },
    'delivery failed',
  );
  return { outcome: 'failed' };
}

function messageIdOf(result: unknown): string | null {
  const parsed = z.object({ message_id: z.number() }).safeParse(result);
  return parsed.success ? String(parsed.data.message_id) : null;
}

function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/**
 * Rows left `sending` by a process that died mid-call: when no live sender holds their chat,
 * Telegram may or may not have delivered them, so they become `unknown` rather than risk a
 * duplicate. Queued rows whose job was lost are re-enqueued.
 */
export async function sweepOutbox(ctx: AppContext, olderThanMs: number): Promise<void> {
  const cutoff = new Date(Date.now() - olderThanMs);
  const stuck = await ctx.db
    .selectDistinct({ channelId: outbox.channelId, chatId: outbox.chatId, status: outbox.status })
    .from(outbox)
    .where(and(inArray(outbox.status, ['queued', 'sending']), lte(outbox.notBefore, cutoff)))
    .limit(500);
  for (const row of stuck) {
    if (await ctx.ports.locks.isHeld(`send:${row.channelId}:${row.chatId}`)) continue;
    if (row.status === 'sending') {
      const ambiguous = await ctx.db
        .update(outbox)
        .set({
          status: 'unknown',
          error: 'process stopped during delivery; not retried to avoid a duplicate',
        })
        .where(
          and(
            eq(outbox.channelId, row.channelId),
            eq(outbox.chatId, row.chatId),
            eq(outbox.status, 'sending'),
          ),
        )
        .returning({ messageId: outbox.messageId });
      const ids = ambiguous.flatMap((entry) => (entry.messageId ? [entry.messageId] : []));
      if (ids.length > 0)
        await ctx.db.update(messages).set({ status: 'unknown' }).where(inArray(messages.id, ids));
    }
    await enqueueSend(ctx, row.channelId, row.chatId);
  }
}
