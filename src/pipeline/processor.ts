import { and, asc, desc, eq, getTableColumns, isNull, sql } from 'drizzle-orm';
import { z } from 'zod';
import {
  describeMessage,
  type Inbound,
  readUpdate,
  type TelegramUser,
} from '../channels/telegram/normalize.ts';
import type { AppContext } from '../context.ts';
import type { channels } from '../features/channels/schema.ts';
import { contacts, conversations, messages } from '../features/conversations/schema.ts';
import { openEscalation } from '../features/escalations/service.ts';
import { afterUpdateProcessed, type ProcessedEscalation } from '../features/handoff/pipeline-events.ts';
import type { DbOrTx } from '../platform/db/index.ts';
import type { ChannelCache } from './channel-cache.ts';
import { runExclusive } from './exclusive.ts';
import type { StoredUpdate } from './ingest.ts';
import { pipelineMetrics } from './metrics.ts';
import { type OutgoingMessage, queueOutgoing } from './outgoing.ts';
import { inboxUpdates } from './schema.ts';
import {
  type Responder,
  type ResponderAction,
  type ResponderConfig,
  type ResponderInbound,
  readResponderConfig,
  textOf,
} from './simple-responder.ts';

export const PROCESS_QUEUE = 'pipeline-process';

const jobSchema = z.object({ channelId: z.uuid(), chatKey: z.string(), retry: z.number().optional() });

export interface ProcessorDeps {
  responder: Responder;
  /** The bot's published config (raw JSON; read tolerantly) and whether it is active. */
  loadBot: (botId: string) => Promise<{ status: 'active' | 'paused'; config: unknown }>;
  channels: ChannelCache;
  /** Downloads a file a customer sent through the channel (Telegram getFile). */
  downloadFile: (channel: Channel, fileId: string) => Promise<{ data: Buffer; path: string }>;
  /** Called after replies were committed to the outbox. */
  onOutbox: (channelId: string, chatId: string) => Promise<void>;
}

/** Queues processing of stored updates: one job per update, deduplicated by inbox id. */
export async function enqueueProcessing(ctx: AppContext, rows: StoredUpdate[]): Promise<void> {
  for (const row of rows) {
    await ctx.ports.queue.add(
      PROCESS_QUEUE,
      { channelId: row.channelId, chatKey: row.chatKey },
      { jobId: `u-${row.inboxId}` },
    );
  }
}

/** Consumes the processing queue on this instance. */
export function startProcessor(ctx: AppContext, deps: ProcessorDeps, options: { concurrency?: number } = {}) {
  ctx.ports.queue.work<unknown>(
    PROCESS_QUEUE,
    async (job) => {
      const data = jobSchema.parse(job.data);
      await runExclusive(
        ctx,
        { queue: PROCESS_QUEUE, key: `chat:${data.channelId}:${data.chatKey}`, data },
        (keepAlive) => drainChat(ctx, deps, data.channelId, data.chatKey, keepAlive),
      );
    },
    { concurrency: options.concurrency ?? 16 },
  );
}

/**
 * Processes every pending update of one chat, oldest first. Only one worker runs this for a
 * chat at a time (the caller holds the chat's lock), so a chat's second update never starts
 * before its first finished.
 */
async function drainChat(
  ctx: AppContext,
  deps: ProcessorDeps,
  channelId: string,
  chatKey: string,
  keepAlive: () => Promise<void>,
) {
  // Every line about this chat carries its workspace, bot, channel and chat (and update ids below).
  const scope = await deps.channels.get(channelId);
  const log = ctx.logger.child({ workspaceId: scope?.workspaceId, botId: scope?.botId, channelId, chatKey });
  const { processSeconds } = pipelineMetrics(ctx);
  // Pending rows are read in pages. A short page means the chat is drained: an update stored
  // after the read has its own job, which takes the lock once this one lets go.
  for (;;) {
    const rows = await ctx.db
      .select()
      .from(inboxUpdates)
      .where(
        and(
          eq(inboxUpdates.channelId, channelId),
          eq(inboxUpdates.chatKey, chatKey),
          isNull(inboxUpdates.processedAt),
        ),
      )
      .orderBy(asc(inboxUpdates.updateId))
      .limit(PAGE);
    for (const row of rows) {
      if (row.attempts >= MAX_ATTEMPTS) {
        // An update that failed this often would block its chat for good: set it aside
        // (kept with its error for inspection) and go on with the next.
        await ctx.db.update(inboxUpdates).set({ processedAt: new Date() }).where(eq(inboxUpdates.id, row.id));
        log.error(
          { updateId: row.updateId, inboxId: row.id, error: row.error },
          'update set aside after repeated failures',
        );
        continue;
      }
      const started = performance.now();
      try {
        await processUpdate(ctx, deps, row);
      } catch (error) {
        processSeconds.labels('failed').observe((performance.now() - started) / 1000);
        log.warn(
          { err: error, updateId: row.updateId, inboxId: row.id },
          'update processing failed; will retry',
        );
        await ctx.db
          .update(inboxUpdates)
          .set({
            attempts: sql`${inboxUpdates.attempts} + 1`,
            error: error instanceof Error ? error.message : String(error),
          })
          .where(eq(inboxUpdates.id, row.id));
        throw error;
      }
      processSeconds.labels('ok').observe((performance.now() - started) / 1000);
      log.debug(
        { updateId: row.updateId, inboxId: row.id, ms: performance.now() - started },
        'update processed',
      );
      await keepAlive();
    }
    if (rows.length < PAGE) return;
  }
}

const PAGE = 20;
const MAX_ATTEMPTS = 5;

type InboxRow = typeof inboxUpdates.$inferSelect;

async function markProcessed(db: DbOrTx, inboxId: number): Promise<boolean> {
  const done = await db
    .update(inboxUpdates)
    .set({ processedAt: new Date(), error: null })
    .where(and(eq(inboxUpdates.id, inboxId), isNull(inboxUpdates.processedAt)))
    .returning({ id: inboxUpdates.id });
  return done.length > 0;
}

async function processUpdate(ctx: AppContext, deps: ProcessorDeps, row: InboxRow): Promise<void> {
  const channel = await deps.channels.get(row.channelId);
  const inbound = readUpdate(row.payload);
  if (
    !channel ||
    (inbound.kind !== 'message' && inbound.kind !== 'callback' && inbound.kind !== 'membership')
  ) {
    // Stored raw for later features and analytics; nothing acts on it now.
    await markProcessed(ctx.db, row.id);
    return;
  }
  if (inbound.kind === 'membership') {
    // "kicked" is how a private chat reports that the user blocked the bot.
    const status = inbound.status === 'kicked' ? 'blocked' : 'active';
    const outcome = await ctx.db.transaction(async (tx) => {
      const { row: contact } = await upsertContact(tx, channel, inbound.from);
      await tx.update(contacts).set({ status }).where(eq(contacts.id, contact.id));
      return { contactId: contact.id, done: await markProcessed(tx, row.id) };
    });
    if (outcome.done && status === 'blocked') {
      ctx.analytics.track({
        ...eventScope(channel),
        contactId: outcome.contactId,
        type: 'contact_blocked',
        data: { via: 'my_chat_member' },
      });
    }
    return;
  }

  // 1. Store: contact, conversation and the message. Each statement is idempotent on its own
  // (upserts, insert-or-ignore), so no transaction is needed: a retry finds what is there.
  const stored = await storeInbound(ctx.db, channel, row, inbound);
  const { contact, conversation } = stored;

  // 2. Decide the answer, outside any transaction (a responder may take seconds).
  const bot = await deps.loadBot(channel.botId);
  const config = readResponderConfig(bot.config);
  const language = languageOf(config, contact);
  let actions: ResponderAction[] = [];
  const botSpeaks =
    bot.status === 'active' && conversation.mode !== 'waiting' && conversation.mode !== 'human';
  const responderInbound = toResponderInbound(inbound);
  if (inbound.kind === 'message' && inbound.edited) {
    actions = [];
  } else if (!botSpeaks) {
    actions = inbound.kind === 'callback' ? [{ type: 'answer_callback' }] : [];
  } else if (
    inbound.kind === 'message' &&
    !(await withinThrottle(ctx, config, conversation.id, inbound.message.date))
  ) {
    actions = (await firstThrottledNotice(ctx, conversation.id))
      ? [{ type: 'reply', text: textOf(config, 'throttled', language) }]
      : [];
  } else if (responderInbound) {
    actions = await deps.responder({
      scope: {
        workspaceId: channel.workspaceId,
        botId: channel.botId,
        channelId: channel.id,
        contactId: contact.id,
        conversationId: conversation.id,
      },
      config,
      rawConfig: bot.config,
      downloadFile: (fileId) => deps.downloadFile(channel, fileId),
      language,
      inbound: responderInbound,
      isFirstContact: stored.isNewContact,
      hasReferrer: contact.referrer !== null,
      loadMemory: async () => {
        const memory = await ctx.db
          .select({ direction: messages.direction, text: messages.text })
          .from(messages)
          .where(eq(messages.conversationId, conversation.id))
          .orderBy(desc(messages.createdAt))
          .limit(config.memoryWindow);
        return memory.reverse();
      },
    });
  }

  // 3. Commit the effects and mark the update done in one transaction: replies exist once.
  const escalations: ProcessedEscalation[] = [];
  const queued = await ctx.db.transaction(async (tx) => {
    escalations.length = 0; // a retried transaction starts over
    if (!(await markProcessed(tx, row.id))) return -1;
    // Counters move here, under the exactly-once guard of markProcessed: a retried update
    // counts once.
    if (inbound.kind === 'message' && !inbound.edited) {
      await countMessage(tx, contact.id, conversation.id, stored.summary);
    }
    return applyActions(tx, {
      channel,
      conversation,
      contactId: contact.id,
      inboxId: row.id,
      updateId: row.updateId,
      inbound,
      actions,
      config,
      escalations,
    });
  });
  if (queued < 0) return;
  trackInbound(ctx, {
    channel,
    contactId: contact.id,
    isNewContact: stored.isNewContact,
    inbound,
    actions,
    escalations,
  });
  if (queued > 0) await deps.onOutbox(channel.id, conversation.chatId);
  await afterUpdateProcessed(ctx, {
    workspaceId: channel.workspaceId,
    conversationId: conversation.id,
    updateId: row.updateId,
    inboxId: row.id,
    escalations,
  });
}

function eventScope(channel: Channel) {
  return { workspaceId: channel.workspaceId, botId: channel.botId, channelId: channel.id };
}

/** Analytics of a processed update, after its effects committed (buffered, never blocking). */
function trackInbound(
  ctx: AppContext,
  options: {
    channel: Channel;
    contactId: string;
    isNewContact: boolean;
    inbound: Inbound & { kind: 'message' | 'callback' };
    actions: ResponderAction[];
    /** One per `escalate` action, in order: only a newly opened escalation is counted. */
    escalations: ProcessedEscalation[];
  },
) {
  const scope = { ...eventScope(options.channel), contactId: options.contactId };
  const { inbound } = options;
  if (options.isNewContact) ctx.analytics.track({ ...scope, type: 'contact_new' });
  if (inbound.kind === 'callback') {
    ctx.analytics.track({ ...scope, type: 'button_click', data: { data: inbound.data.slice(0, 64) } });
  } else {
    const described = describeMessage(inbound.message);
    const command = /^\/([a-z_]+)/i.exec(described.text ?? '')?.[1];
    // `command` tells a /command from a question (the analytics funnel's "first question").
    ctx.analytics.track({
      ...scope,
      type: 'message_in',
      data: { type: described.type, edited: inbound.edited, ...(command ? { command: true } : {}) },
    });
    if (command && described.type === 'text') {
      const referral = options.actions.find((action) => action.type === 'set_referrer');
      ctx.analytics.track({
        ...scope,
        type: 'command',
        data: { command: command.toLowerCase(), ...(referral ? { referrer: referral.code } : {}) },
      });
    }
  }
  const escalateActions = options.actions.filter((action) => action.type === 'escalate');
  escalateActions.forEach((action, index) => {
    const escalation = options.escalations[index];
    if (!escalation?.created) return; // one already open for this conversation
    ctx.analytics.track({
      ...scope,
      type: 'escalation_created',
      data: { reason: action.reason, source: action.source, escalationId: escalation.id },
    });
  });
}

function toResponderInbound(inbound: Inbound): ResponderInbound | undefined {
  if (inbound.kind === 'callback') return { kind: 'callback', data: inbound.data };
  if (inbound.kind !== 'message') return undefined;
  const described = describeMessage(inbound.message);
  if (described.type === 'text' && described.text) return { kind: 'text', text: described.text };
  const fileId = typeof described.payload.fileId === 'string' ? described.payload.fileId : undefined;
  return { kind: 'media', type: described.type, caption: described.text, ...(fileId ? { fileId } : {}) };
}

function languageOf(
  config: ResponderConfig,
  contact: { language: string | null; languageCode: string | null },
): string {
  if (contact.language && config.languages.includes(contact.language)) return contact.language;
  const code = contact.languageCode?.slice(0, 2).toLowerCase();
  if (code && config.languages.includes(code)) return code;
  return config.language;
}

type Channel = typeof channels.$inferSelect;

async function upsertContact(tx: DbOrTx, channel: Channel, from: TelegramUser) {
  const now = new Date();
  const [contact] = await tx
    .insert(contacts)
    .values({
      workspaceId: channel.workspaceId,
      channelId: channel.id,
      externalId: String(from.id),
      username: from.username ?? null,
      firstName: from.first_name ?? null,
      lastName: from.last_name ?? null,
      languageCode: from.language_code ?? null,
      firstSeenAt: now,
      lastSeenAt: now,
    })
    .onConflictDoUpdate({
      target: [contacts.channelId, contacts.externalId],
      set: {
        username: sql`excluded.username`,
        firstName: sql`excluded.first_name`,
        lastName: sql`excluded.last_name`,
        languageCode: sql`coalesce(excluded.language_code, ${contacts.languageCode})`,
        lastSeenAt: sql`greatest(${contacts.lastSeenAt}, excluded.last_seen_at)`,
      },
    })
    // xmax = 0 only on a freshly inserted row: tells a new contact from a returning one.
    .returning({ ...getTableColumns(contacts), isNew: sql<boolean>`(xmax = 0)` });
  if (!contact) throw new Error('contact upsert returned nothing');
  const { isNew, ...row } = contact;
  return { row, isNew };
}

async function storeInbound(
  tx: DbOrTx,
  channel: Channel,
  row: InboxRow,
  inbound: Inbound & { kind: 'message' | 'callback' },
) {
  const { row: contact, isNew } = await upsertContact(tx, channel, inbound.from);
  const [conversation] = await tx
    .insert(conversations)
    .values({
      workspaceId: channel.workspaceId,
      botId: channel.botId,
      channelId: channel.id,
      contactId: contact.id,
      chatId: inbound.chatId,
    })
    .onConflictDoUpdate({
      target: [conversations.channelId, conversations.chatId],
      set: { updatedAt: new Date() },
    })
    .returning();
  if (!conversation) throw new Error('conversation upsert returned nothing');
  const described =
    inbound.kind === 'message'
      ? describeMessage(inbound.message)
      : { type: 'callback', text: inbound.data, payload: { callbackQueryId: inbound.id } };
  const payload =
    inbound.kind === 'message' && inbound.edited ? { ...described.payload, edited: true } : described.payload;
  await tx
    .insert(messages)
    .values({
      workspaceId: channel.workspaceId,
      conversationId: conversation.id,
      direction: 'in',
      type: described.type,
      text: described.text,
      payload,
      sender: 'customer',
      externalId: inbound.kind === 'message' ? String(inbound.message.message_id) : null,
      sourceUpdateId: row.updateId,
      status: 'received',
    })
    .onConflictDoNothing({
      target: [messages.conversationId, messages.sourceUpdateId],
      where: sql`direction = 'in' and source_update_id is not null`,
    });
  return {
    contact,
    conversation,
    isNewContact: isNew,
    summary: described.text?.slice(0, 200) ?? `[${described.type}]`,
  };
}

async function countMessage(tx: DbOrTx, contactId: string, conversationId: string, summary: string) {
  await tx
    .update(contacts)
    .set({ messageCount: sql`${contacts.messageCount} + 1` })
    .where(eq(contacts.id, contactId));
  await tx
    .update(conversations)
    .set({
      messageCount: sql`${conversations.messageCount} + 1`,
      lastMessageAt: new Date(),
      lastMessageText: summary,
    })
    .where(eq(conversations.id, conversationId));
}

type Conversation = typeof conversations.$inferSelect;

async function applyActions(
  tx: DbOrTx,
  options: {
    channel: Channel;
    conversation: Conversation;
    contactId: string;
    inboxId: number;
    updateId: number;
    inbound: Inbound & { kind: 'message' | 'callback' };
    actions: ResponderAction[];
    config: ResponderConfig;
    /** Filled with the escalations raised, for the events after commit. */
    escalations: ProcessedEscalation[];
  },
): Promise<number> {
  const { channel, conversation, inbound } = options;
  const outgoing: OutgoingMessage[] = [];
  for (const action of options.actions) {
    switch (action.type) {
      case 'reply':
        outgoing.push({
          kind: 'text',
          text: action.text,
          ...(action.buttons ? { buttons: action.buttons } : {}),
        });
        break;
      case 'reply_photo':
        outgoing.push({
          kind: 'photo',
          photo: action.photo,
          ...(action.caption ? { caption: action.caption } : {}),
          ...(action.buttons ? { buttons: action.buttons } : {}),
        });
        break;
      case 'annotate_inbound':
        // The inbound row keeps its original text (a caption, or none for voice); what was
        // read from it goes into the payload, and a voice message's transcript becomes its text.
        await tx
          .update(messages)
          .set({
            payload: sql`${messages.payload} || ${JSON.stringify({ [action.kind]: action.text })}::jsonb`,
            ...(action.kind === 'transcript' ? { text: action.text } : {}),
          })
          .where(
            and(
              eq(messages.conversationId, conversation.id),
              eq(messages.direction, 'in'),
              eq(messages.sourceUpdateId, options.updateId),
            ),
          );
        break;
      case 'answer_callback':
        if (inbound.kind === 'callback') {
          outgoing.push({
            kind: 'answer_callback',
            callbackQueryId: inbound.id,
            ...(action.text ? { text: action.text } : {}),
          });
        }
        break;
      case 'set_language':
        await tx
          .update(contacts)
          .set({ language: action.language })
          .where(eq(contacts.id, options.contactId));
        break;
      case 'set_referrer':
        await tx
          .update(contacts)
          .set({ referrer: action.code })
          .where(and(eq(contacts.id, options.contactId), isNull(contacts.referrer)));
        break;
      case 'escalate': {
        // Raised in this transaction, so once per update (and once per conversation while
        // open). `transfer` hands the chat to people and silences the bot; `notify` and
        // `log_only` leave the bot answering (operators are told after commit).
        const opened = await openEscalation(tx, {
          workspaceId: channel.workspaceId,
          conversationId: conversation.id,
          reason: action.reason,
          source: action.source,
          productId: action.productId,
          action: options.config.escalationAction,
        });
        const transfer = options.config.escalationAction === 'transfer';
        if (transfer) {
          await tx
            .update(conversations)
            .set({ mode: 'waiting' })
            .where(eq(conversations.id, conversation.id));
        }
        options.escalations.push({
          id: opened.escalation.id,
          created: opened.created,
          transferred: transfer && conversation.mode !== 'waiting',
        });
        break;
      }
    }
  }
  return queueOutgoing(tx, {
    channel,
    conversationId: conversation.id,
    chatId: conversation.chatId,
    idempotencyPrefix: `u${options.inboxId}`,
    sender: 'bot',
    items: outgoing,
  });
}

// ─── Per-user throttling ─────────────────────────────────────────────────────

const throttleState = z.object({ tokens: z.number(), at: z.number(), notified: z.boolean() });

/**
 * Token bucket per conversation, measured on the customer's own message timestamps rather
 * than on processing time, so a backlog drained after a restart is not mistaken for a flood.
 * Safe without atomics: the caller holds the chat's lock.
 */
async function withinThrottle(
  ctx: AppContext,
  config: ResponderConfig,
  conversationId: string,
  date: number | undefined,
) {
  const at = (date ?? Math.floor(Date.now() / 1000)) * 1000;
  const key = `throttle:${conversationId}`;
  const parsed = throttleState.safeParse(await ctx.ports.cache.get(key));
  const { burst, perSecond } = config.throttle;
  const state = parsed.success ? parsed.data : { tokens: burst, at, notified: false };
  const tokens = Math.min(burst, state.tokens + (Math.max(0, at - state.at) / 1000) * perSecond);
  const allowed = tokens >= 1;
  await ctx.ports.cache.set(
    key,
    {
      tokens: allowed ? tokens - 1 : tokens,
      at: Math.max(at, state.at),
      notified: allowed ? false : state.notified,
    },
    3600,
  );
  return allowed;
}

/** True once per flood: the first throttled message gets a polite notice, the rest none. */
async function firstThrottledNotice(ctx: AppContext, conversationId: string): Promise<boolean> {
  const key = `throttle:${conversationId}`;
  const parsed = throttleState.safeParse(await ctx.ports.cache.get(key));
  if (!parsed.success || parsed.data.notified) return false;
  await ctx.ports.cache.set(key, { ...parsed.data, notified: true }, 3600);
  return true;
}
