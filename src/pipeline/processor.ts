import { randomUUID } from 'node:crypto';
import { and, desc, eq, getTableColumns, inArray, isNull, type SQL, sql } from 'drizzle-orm';
import { z } from 'zod';
import {
  describeMessage,
  type Inbound,
  readUpdate,
  type TelegramUser,
} from '../channels/telegram/normalize.ts';
import type { AppContext } from '../context.ts';
import { contacts, conversations, messages } from '../features/conversations/schema.ts';
import { openEscalation } from '../features/escalations/service.ts';
import { afterUpdateProcessed, type ProcessedEscalation } from '../features/handoff/pipeline-events.ts';
import type { DbOrTx } from '../platform/db/index.ts';
import { selectRows } from '../platform/db/rows.ts';
import { truncateText } from '../platform/text.ts';
import type { Channel, ChannelCache } from './channel-cache.ts';
import { createGroupCommit } from './group-commit.ts';
import { pipelineMetrics } from './metrics.ts';
import { type OutgoingMessage, type OutgoingRequest, writeOutgoing } from './outgoing.ts';
import { chatLeases, inboxUpdates, msFromNow } from './schema.ts';
import {
  type Responder,
  type ResponderAction,
  type ResponderConfig,
  type ResponderInbound,
  readResponderConfig,
  textOf,
} from './simple-responder.ts';
import { createWaker, onWake, wakeWorkers } from './wake.ts';

export interface ProcessorDeps {
  responder: Responder;
  /** The bot's published config (raw JSON; read tolerantly) and whether it is active. */
  loadBot: (botId: string) => Promise<{ status: 'active' | 'paused'; config: unknown }>;
  channels: ChannelCache;
  /** Downloads a file a customer sent through the channel (Telegram getFile). */
  downloadFile: (channel: Channel, fileId: string) => Promise<{ data: Buffer; path: string }>;
}

export interface ProcessorOptions {
  /** Chats processed at once on this instance (default 128). */
  concurrency?: number;
  /** How long a chat's lease lasts without a heartbeat (default 5 s). */
  leaseMs?: number;
}

/** Updates that failed this often are set aside (kept with their error) so the chat goes on. */
const MAX_ATTEMPTS = 5;
/** Oldest pending updates of unleased chats looked at per claim: their chats are the candidates. */
const SCAN = 2000;
/** Pending updates of one chat taken per claim (the rest wait for its next claim). */
const PER_CHAT = 20;
/** An idle loop looks for work this often even without a wake. */
const POLL_MS = 1000;
/** The holder of leases put aside after a failure: nobody takes the chat until they expire. */
const BACKOFF_HOLDER = 'backoff';

/** A chat in flight on this instance, under its lease. */
interface ChatTask {
  channelId: string;
  chatKey: string;
  claimedAt: number;
  /** The heartbeat found the lease taken: the chat stops after its current update. */
  lost: boolean;
  done: Promise<void>;
}
type Conversation = typeof conversations.$inferSelect;
type MessageRow = typeof messages.$inferSelect;
type Contact = typeof contacts.$inferSelect;

const claimedRow = z.object({
  id: z.coerce.number(),
  channel_id: z.string(),
  chat_key: z.string(),
  update_id: z.coerce.number(),
  payload: z.record(z.string(), z.unknown()),
  attempts: z.coerce.number(),
});
type ClaimedRow = z.infer<typeof claimedRow>;

/**
 * The processor: one loop per instance turns pending inbox updates into contacts,
 * conversations, messages and outbox rows.
 *
 * Each round claims the chats of the oldest pending updates in one statement — a lease per
 * chat (`chat_leases`), so a chat is processed by one worker at a time on one instance or
 * several — and runs the chats concurrently, each chat's updates one after another in
 * update order. What the chats write goes through group commits: the store step (contacts,
 * conversations, the customer's messages) and the effects step (processed marks, counters,
 * replies into the outbox) each commit many chats' rows in a few multi-row statements, so a
 * slow responder (an LLM call) holds up only its own chat. Effects commit together with the
 * update's processed mark, under `processed_at is null`: a reply exists once, however often
 * an update is retried.
 */
export function startProcessor(ctx: AppContext, deps: ProcessorDeps, options: ProcessorOptions = {}) {
  const concurrency = options.concurrency ?? 128;
  const leaseMs = options.leaseMs ?? 5000;
  const holder = randomUUID();
  const waker = createWaker();
  const { processSeconds } = pipelineMetrics(ctx);
  /** Chats in flight here, by `channelId:chatKey`. */
  const tasks = new Map<string, ChatTask>();
  let stopped = false;

  // One transaction per batch: a failed batch leaves no half (a contact inserted by it would
  // look returning, not new, to the retry of its items one by one).
  const store = createGroupCommit(
    (items: StoreItem[]) => ctx.db.transaction((tx) => storeInbound(tx, items)),
    { maxItems: 500 },
  );
  const effects = createGroupCommit((items: EffectItem[]) => commitEffects(ctx, items), { maxItems: 500 });
  const releases = createGroupCommit(
    async (keys: Array<{ channelId: string; chatKey: string }>) => {
      await ctx.db.execute(sql`
        delete from ${chatLeases}
        where ${chatLeases.holder} = ${holder}
          and (${chatLeases.channelId}, ${chatLeases.chatKey}) in (${sql.join(
            keys.map((key) => sql`(${key.channelId}::uuid, ${key.chatKey})`),
            sql`, `,
          )})`);
      return keys.map(() => undefined);
    },
    { maxItems: 1000 },
  );

  /** Leases the chats of the oldest pending updates and returns their next updates. */
  async function claim(chats: number): Promise<ClaimedRow[]> {
    return selectRows(
      ctx.db,
      sql`
        with free as (
          select channel_id, chat_key
          from (
            -- Leased chats are skipped inside the scan: a chat with thousands of pending
            -- updates (a flood, or one in backoff) must not hide every other chat behind it.
            select u.id, u.channel_id, u.chat_key from ${inboxUpdates} u
            where u.processed_at is null and not exists (
              select 1 from ${chatLeases} l
              where l.channel_id = u.channel_id and l.chat_key = u.chat_key and l.expires_at > now()
            )
            order by u.id limit ${SCAN}
          ) oldest
          group by channel_id, chat_key
          order by min(id) limit ${chats}
        ), leased as (
          insert into ${chatLeases} (channel_id, chat_key, holder, expires_at)
          select channel_id, chat_key, ${holder}, ${msFromNow(leaseMs)} from free
          on conflict (channel_id, chat_key) do update
            set holder = excluded.holder, expires_at = excluded.expires_at
            where ${chatLeases.expiresAt} <= now()
          returning channel_id, chat_key
        )
        select u.id, u.channel_id, u.chat_key, u.update_id, u.payload, u.attempts
        from leased l cross join lateral (
          select * from ${inboxUpdates} u
          where u.channel_id = l.channel_id and u.chat_key = l.chat_key and u.processed_at is null
          order by u.update_id limit ${PER_CHAT}
        ) u
        order by u.channel_id, u.chat_key, u.update_id`,
      claimedRow,
    );
  }

  /** Pushes out the expiry of this loop's leases; a chat whose lease was lost stops after its current update. */
  async function heartbeat() {
    // Only the chats in flight here: a lease no task works under (its task failed, or was
    // told its lease was lost) is left to run out, so the chat never stays locked for good.
    const live = [...tasks.values()].filter((task) => !task.lost);
    if (live.length === 0) return;
    const started = Date.now();
    const held = await selectRows(
      ctx.db,
      sql`
        update ${chatLeases} set expires_at = ${msFromNow(leaseMs)}
        where holder = ${holder} and (channel_id, chat_key) in (${sql.join(
          live.map((task) => sql`(${task.channelId}::uuid, ${task.chatKey})`),
          sql`, `,
        )})
        returning channel_id, chat_key`,
      z.object({ channel_id: z.string(), chat_key: z.string() }),
    );
    const keys = new Set(held.map((lease) => `${lease.channel_id}:${lease.chat_key}`));
    for (const [key, task] of tasks) if (task.claimedAt < started && !keys.has(key)) task.lost = true;
  }

  async function runChat(channelId: string, chatKey: string, rows: ClaimedRow[], task: { lost: boolean }) {
    const channel = await deps.channels.get(channelId);
    // Every line about this chat carries its workspace, bot, channel and chat (and update ids below).
    const log = ctx.logger.child({
      workspaceId: channel?.workspaceId,
      botId: channel?.botId,
      channelId,
      chatKey,
    });
    for (const row of rows) {
      if (stopped || task.lost) break;
      if (row.attempts >= MAX_ATTEMPTS) {
        // An update that failed this often would block its chat for good: set it aside
        // (kept with its error for inspection) and go on with the next.
        await ctx.db.update(inboxUpdates).set({ processedAt: new Date() }).where(eq(inboxUpdates.id, row.id));
        log.error({ updateId: row.update_id, inboxId: row.id }, 'update set aside after repeated failures');
        continue;
      }
      const started = performance.now();
      try {
        await processUpdate(row, channel);
      } catch (error) {
        processSeconds.labels('failed').observe((performance.now() - started) / 1000);
        log.warn(
          { err: error, updateId: row.update_id, inboxId: row.id },
          'update processing failed; will retry',
        );
        await putAside(row, error);
        return;
      }
      processSeconds.labels('ok').observe((performance.now() - started) / 1000);
      log.debug(
        { updateId: row.update_id, inboxId: row.id, ms: performance.now() - started },
        'update processed',
      );
    }
    if (!task.lost) await releases.submit({ channelId, chatKey });
  }

  /** A failed update: counted, and its chat left alone for a growing while (by any instance). */
  async function putAside(row: ClaimedRow, error: unknown) {
    const attempts = row.attempts + 1;
    await ctx.db
      .update(inboxUpdates)
      .set({ attempts, error: error instanceof Error ? error.message : String(error) })
      .where(eq(inboxUpdates.id, row.id));
    const backoffMs = Math.min(30_000, 500 * 2 ** attempts);
    await ctx.db
      .update(chatLeases)
      .set({ holder: BACKOFF_HOLDER, expiresAt: msFromNow(backoffMs) })
      .where(
        and(
          eq(chatLeases.channelId, row.channel_id),
          eq(chatLeases.chatKey, row.chat_key),
          eq(chatLeases.holder, holder),
        ),
      );
  }

  async function processUpdate(row: ClaimedRow, channel: Channel | undefined): Promise<void> {
    const inbound = readUpdate(row.payload);
    if (
      !channel ||
      (inbound.kind !== 'message' && inbound.kind !== 'callback' && inbound.kind !== 'membership')
    ) {
      // Stored raw for later features and analytics; nothing acts on it now.
      await effects.submit({ inboxId: row.id });
      return;
    }
    if (inbound.kind === 'membership') {
      await applyMembership(ctx, channel, row.id, inbound);
      return;
    }

    // 1. Store: contact, conversation and the message, each statement idempotent on its own
    // (upserts, insert-or-ignore), shared with the other chats of the batch.
    const stored = await store.submit({ channel, updateId: row.update_id, inbound });
    const { contact, conversation } = stored;

    // 2. Decide the answer, outside any transaction (a responder may take seconds).
    const bot = await deps.loadBot(channel.botId);
    const config = readResponderConfig(bot.config);
    const language = languageOf(config, contact);
    const actions = await decide(ctx, deps, { channel, bot, config, language, inbound, stored });

    // 3. Commit the effects with the processed mark: replies exist once.
    const committed = await effects.submit({
      inboxId: row.id,
      apply: {
        channel,
        conversation,
        contactId: contact.id,
        updateId: row.update_id,
        inbound,
        actions,
        config,
        // Counters move under the exactly-once guard of the mark: a retried update counts once.
        ...(inbound.kind === 'message' && !inbound.edited ? { summary: stored.summary } : {}),
      },
    });
    if (!committed.done) return;
    trackInbound(ctx, {
      channel,
      contactId: contact.id,
      isNewContact: stored.isNewContact,
      inbound,
      actions,
      escalations: committed.escalations,
    });
    await afterUpdateProcessed(ctx, {
      workspaceId: channel.workspaceId,
      conversationId: conversation.id,
      messages: [stored.message, ...committed.messages],
      escalations: committed.escalations,
    });
  }

  async function round(): Promise<void> {
    const free = concurrency - tasks.size;
    if (free <= 0) return;
    const rows = await claim(free);
    const chats = new Map<string, ClaimedRow[]>();
    for (const row of rows) {
      const key = `${row.channel_id}:${row.chat_key}`;
      const list = chats.get(key) ?? [];
      list.push(row);
      chats.set(key, list);
    }
    for (const [key, chatRows] of chats) {
      const first = chatRows[0];
      // A lease of ours that lapsed during a stall and was just re-taken: the chat is still in flight here.
      if (!first || tasks.has(key)) continue;
      const task: ChatTask = {
        channelId: first.channel_id,
        chatKey: first.chat_key,
        claimedAt: Date.now(),
        lost: false,
        done: Promise.resolve(),
      };
      task.done = runChat(first.channel_id, first.chat_key, chatRows, task)
        .catch((error: unknown) => {
          // Its lease lapses and the chat is taken again: nothing is lost.
          ctx.logger.error(
            { err: error, channelId: first.channel_id, chatKey: first.chat_key },
            'chat processing failed',
          );
        })
        .finally(() => {
          tasks.delete(key);
          waker.wake();
        });
      tasks.set(key, task);
    }
  }

  async function loop() {
    if (ctx.ports.kind === 'memory') {
      // One instance: every lease in the table is from a process that is gone.
      await ctx.db.delete(chatLeases);
    }
    while (!stopped) {
      try {
        await round();
      } catch (error) {
        ctx.logger.error({ err: error }, 'processor round failed; retrying');
        await waker.sleep(POLL_MS);
        continue;
      }
      await waker.sleep(POLL_MS);
    }
  }

  const heartbeats = setInterval(
    () => {
      heartbeat().catch((error: unknown) => ctx.logger.warn({ err: error }, 'lease heartbeat failed'));
    },
    Math.max(100, Math.floor(leaseMs / 5)),
  );
  heartbeats.unref();
  const subscription = onWake(ctx, 'process', () => waker.wake()).catch((error: unknown) => {
    ctx.logger.warn({ err: error }, 'processor not subscribed to wakes; polling');
    return undefined;
  });
  const running = loop();

  return {
    async stop() {
      stopped = true;
      waker.wake();
      try {
        await running.catch(() => undefined);
        // Chats in flight finish their current update (a responder may take seconds) and
        // keep their leases renewed meanwhile.
        await Promise.all([...tasks.values()].map((task) => task.done));
        await store.drain();
        await effects.drain();
        await releases.drain();
        // Whatever this loop still holds goes back at once, for the next process to take.
        await ctx.db.delete(chatLeases).where(eq(chatLeases.holder, holder));
      } finally {
        clearInterval(heartbeats);
        await (await subscription)?.();
      }
    },
  };
}

// ─── Deciding the answer ─────────────────────────────────────────────────────

async function decide(
  ctx: AppContext,
  deps: ProcessorDeps,
  input: {
    channel: Channel;
    bot: { status: 'active' | 'paused'; config: unknown };
    config: ResponderConfig;
    language: string;
    inbound: Inbound & { kind: 'message' | 'callback' };
    stored: Stored;
  },
): Promise<ResponderAction[]> {
  const { channel, bot, config, language, inbound, stored } = input;
  const { contact, conversation } = stored;
  if (inbound.kind === 'message' && inbound.edited) return [];
  const botSpeaks =
    bot.status === 'active' && conversation.mode !== 'waiting' && conversation.mode !== 'human';
  if (!botSpeaks) return inbound.kind === 'callback' ? [{ type: 'answer_callback' }] : [];
  if (
    inbound.kind === 'message' &&
    !(await withinThrottle(ctx, config, conversation.id, inbound.message.date))
  ) {
    return (await firstThrottledNotice(ctx, conversation.id))
      ? [{ type: 'reply', text: textOf(config, 'throttled', language) }]
      : [];
  }
  const responderInbound = toResponderInbound(inbound);
  if (!responderInbound) return [];
  return deps.responder({
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
    ctx.analytics.track({ ...scope, type: 'button_click', data: { data: truncateText(inbound.data, 64) } });
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

// ─── Storing the customer's side ─────────────────────────────────────────────

interface StoreItem {
  channel: Channel;
  updateId: number;
  inbound: Inbound & { kind: 'message' | 'callback' };
}

interface Stored {
  contact: Contact;
  /** The contact's first update ever (true for one update only, even within a batch). */
  isNewContact: boolean;
  conversation: Conversation;
  /** The customer's message as stored. */
  message: MessageRow;
  /** The conversation list's preview of it. */
  summary: string;
}

/** Upserts contacts (one row per channel and user, the last seen values winning). */
async function upsertContacts(db: DbOrTx, entries: Array<{ channel: Channel; from: TelegramUser }>) {
  const now = new Date();
  const values = new Map<string, typeof contacts.$inferInsert>();
  for (const { channel, from } of entries) {
    values.set(`${channel.id}:${from.id}`, {
      workspaceId: channel.workspaceId,
      channelId: channel.id,
      externalId: String(from.id),
      username: from.username ?? null,
      firstName: from.first_name ?? null,
      lastName: from.last_name ?? null,
      languageCode: from.language_code ?? null,
      firstSeenAt: now,
      lastSeenAt: now,
    });
  }
  const rows = await db
    .insert(contacts)
    .values(inKeyOrder(values))
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
  const byKey = new Map(
    rows.map(({ isNew, ...row }) => [`${row.channelId}:${row.externalId}`, { row, isNew }]),
  );
  return entries.map(({ channel, from }) => {
    const found = byKey.get(`${channel.id}:${from.id}`);
    if (!found) throw new Error('contact upsert returned nothing');
    return found;
  });
}

/**
 * The store step of a batch: contacts, conversations and the customers' messages in three
 * multi-row statements, each idempotent: a retry finds what is there (a message stored before
 * is returned as it is). Rows go in key order, so concurrent batches lock them in one order.
 */
async function storeInbound(db: DbOrTx, items: StoreItem[]): Promise<Stored[]> {
  const found = await upsertContacts(
    db,
    items.map((item) => ({ channel: item.channel, from: item.inbound.from })),
  );
  const seen = new Set<string>();
  const contactsOf = found.map((entry) => {
    const first = !seen.has(entry.row.id);
    seen.add(entry.row.id);
    return { contact: entry.row, isNew: entry.isNew && first };
  });
  const conversationValues = new Map<string, typeof conversations.$inferInsert>();
  items.forEach((item, index) => {
    conversationValues.set(`${item.channel.id}:${item.inbound.chatId}`, {
      workspaceId: item.channel.workspaceId,
      botId: item.channel.botId,
      channelId: item.channel.id,
      contactId: contactsOf[index]?.contact.id ?? '',
      chatId: item.inbound.chatId,
    });
  });
  const conversationRows = await db
    .insert(conversations)
    .values(inKeyOrder(conversationValues))
    .onConflictDoUpdate({
      target: [conversations.channelId, conversations.chatId],
      set: { updatedAt: new Date() },
    })
    .returning();
  const conversationOf = new Map(conversationRows.map((row) => [`${row.channelId}:${row.chatId}`, row]));

  const described = items.map((item) => {
    const { inbound } = item;
    const description =
      inbound.kind === 'message'
        ? describeMessage(inbound.message)
        : { type: 'callback', text: inbound.data, payload: { callbackQueryId: inbound.id } };
    const conversation = conversationOf.get(`${item.channel.id}:${inbound.chatId}`);
    if (!conversation) throw new Error('conversation upsert returned nothing');
    return { item, description, conversation };
  });
  const messageRows = await db
    .insert(messages)
    .values(
      described.map(({ item, description, conversation }) => ({
        workspaceId: item.channel.workspaceId,
        conversationId: conversation.id,
        direction: 'in' as const,
        type: description.type,
        text: description.text,
        payload:
          item.inbound.kind === 'message' && item.inbound.edited
            ? { ...description.payload, edited: true }
            : description.payload,
        sender: 'customer' as const,
        externalId: item.inbound.kind === 'message' ? String(item.inbound.message.message_id) : null,
        sourceUpdateId: item.updateId,
        status: 'received' as const,
      })),
    )
    .onConflictDoUpdate({
      target: [messages.conversationId, messages.sourceUpdateId],
      targetWhere: sql`direction = 'in' and source_update_id is not null`,
      // A no-op update, so that a message stored by an earlier attempt is returned too.
      set: { status: sql`${messages.status}` },
    })
    .returning();
  const messageOf = new Map(messageRows.map((row) => [`${row.conversationId}:${row.sourceUpdateId}`, row]));

  return described.map(({ item, description, conversation }, index) => {
    const message = messageOf.get(`${conversation.id}:${item.updateId}`);
    const contact = contactsOf[index];
    if (!message || !contact) throw new Error('message insert returned nothing');
    return {
      contact: contact.contact,
      isNewContact: contact.isNew,
      conversation,
      message,
      summary: description.text ? truncateText(description.text, 200) : `[${description.type}]`,
    };
  });
}

/** A map's values in the order of their keys. */
function inKeyOrder<T>(byKey: Map<string, T>): T[] {
  return [...byKey.keys()].sort().map((key) => byKey.get(key) as T);
}

/** A membership change ("kicked" is how a private chat reports that the user blocked the bot). */
async function applyMembership(
  ctx: AppContext,
  channel: Channel,
  inboxId: number,
  inbound: Inbound & { kind: 'membership' },
) {
  const status = inbound.status === 'kicked' ? 'blocked' : 'active';
  const outcome = await ctx.db.transaction(async (tx) => {
    const [contact] = await upsertContacts(tx, [{ channel, from: inbound.from }]);
    if (!contact) throw new Error('contact upsert returned nothing');
    await tx.update(contacts).set({ status }).where(eq(contacts.id, contact.row.id));
    const done = await tx
      .update(inboxUpdates)
      .set({ processedAt: new Date(), error: null })
      .where(and(eq(inboxUpdates.id, inboxId), isNull(inboxUpdates.processedAt)))
      .returning({ id: inboxUpdates.id });
    return { contactId: contact.row.id, done: done.length > 0 };
  });
  if (outcome.done && status === 'blocked') {
    ctx.analytics.track({
      ...eventScope(channel),
      contactId: outcome.contactId,
      type: 'contact_blocked',
      data: { via: 'my_chat_member' },
    });
  }
}

// ─── Committing the effects ──────────────────────────────────────────────────

interface EffectItem {
  inboxId: number;
  /** What the update changes; absent for updates that are only marked processed. */
  apply?: {
    channel: Channel;
    conversation: Conversation;
    contactId: string;
    updateId: number;
    inbound: Inbound & { kind: 'message' | 'callback' };
    actions: ResponderAction[];
    config: ResponderConfig;
    /** Set when the update counts as a customer message (the conversation's preview). */
    summary?: string;
  };
}

interface EffectResult {
  /** False when the update was processed before (by an earlier attempt): nothing was written. */
  done: boolean;
  escalations: ProcessedEscalation[];
  /** The replies' messages rows, as written. */
  messages: MessageRow[];
}

/**
 * The effects of a batch of updates in one transaction: the processed marks (only rows not
 * marked yet go on), the counters, the rare actions (language, referrer, escalation,
 * annotations) and every reply, in a few multi-row statements.
 */
async function commitEffects(ctx: AppContext, items: EffectItem[]): Promise<EffectResult[]> {
  const outcome = await ctx.db.transaction(async (tx) => {
    const marked = await tx
      .update(inboxUpdates)
      .set({ processedAt: new Date(), error: null })
      .where(
        and(
          inArray(
            inboxUpdates.id,
            items.map((item) => item.inboxId),
          ),
          isNull(inboxUpdates.processedAt),
        ),
      )
      .returning({ id: inboxUpdates.id });
    const done = new Set(marked.map((row) => row.id));
    const applied = items.flatMap((item) =>
      item.apply && done.has(item.inboxId) ? [{ ...item.apply, inboxId: item.inboxId }] : [],
    );
    await countMessages(tx, applied);
    const escalations = new Map<number, ProcessedEscalation[]>();
    const requests: OutgoingRequest[] = [];
    for (const item of applied) {
      const applied = await applyActions(tx, item);
      escalations.set(item.inboxId, applied.escalations);
      if (applied.outgoing.length === 0) continue;
      requests.push({
        channel: item.channel,
        conversationId: item.conversation.id,
        chatId: item.conversation.chatId,
        idempotencyPrefix: `u${item.inboxId}`,
        sender: 'bot',
        items: applied.outgoing,
      });
    }
    const written = await writeOutgoing(tx, requests);
    return { done, escalations, written };
  });
  if (outcome.written.added > 0) wakeWorkers(ctx, 'send');
  return items.map((item) => ({
    done: outcome.done.has(item.inboxId),
    escalations: outcome.escalations.get(item.inboxId) ?? [],
    messages: outcome.written.messages.filter((row) => {
      const key = row.payload.idempotencyKey;
      return typeof key === 'string' && key.startsWith(`u${item.inboxId}:`);
    }),
  }));
}

/** Message counters of contacts and conversations, one statement each for the whole batch. */
async function countMessages(
  tx: DbOrTx,
  items: Array<{ contactId: string; conversation: Conversation; summary?: string }>,
) {
  const counted = items.filter((item) => item.summary !== undefined);
  if (counted.length === 0) return;
  const perContact = new Map<string, number>();
  const perConversation = new Map<string, { n: number; summary: string }>();
  for (const item of counted) {
    perContact.set(item.contactId, (perContact.get(item.contactId) ?? 0) + 1);
    const previous = perConversation.get(item.conversation.id);
    // The batch's last message of a conversation is its preview.
    perConversation.set(item.conversation.id, { n: (previous?.n ?? 0) + 1, summary: item.summary ?? '' });
  }
  const valuesOf = (rows: SQL[]) => sql.join(rows, sql`, `);
  await tx.execute(sql`
    update ${contacts} set message_count = ${contacts.messageCount} + v.n
    from (values ${valuesOf([...perContact].map(([id, n]) => sql`(${id}::uuid, ${n}::int)`))}) as v(id, n)
    where ${contacts.id} = v.id`);
  await tx.execute(sql`
    update ${conversations}
    set message_count = ${conversations.messageCount} + v.n, last_message_at = now(), last_message_text = v.summary
    from (values ${valuesOf(
      [...perConversation].map(([id, { n, summary }]) => sql`(${id}::uuid, ${n}::int, ${summary}::text)`),
    )}) as v(id, n, summary)
    where ${conversations.id} = v.id`);
}

/** The responder's actions of one update: the rare ones written here, the replies returned. */
async function applyActions(
  tx: DbOrTx,
  options: {
    channel: Channel;
    conversation: Conversation;
    contactId: string;
    updateId: number;
    inbound: Inbound & { kind: 'message' | 'callback' };
    actions: ResponderAction[];
    config: ResponderConfig;
  },
): Promise<{ outgoing: OutgoingMessage[]; escalations: ProcessedEscalation[] }> {
  const { channel, conversation, inbound } = options;
  const outgoing: OutgoingMessage[] = [];
  const escalations: ProcessedEscalation[] = [];
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
        escalations.push({
          id: opened.escalation.id,
          created: opened.created,
          transferred: transfer && conversation.mode !== 'waiting',
        });
        break;
      }
    }
  }
  return { outgoing, escalations };
}

// ─── Per-user throttling ─────────────────────────────────────────────────────

const throttleState = z.object({ tokens: z.number(), at: z.number(), notified: z.boolean() });

/**
 * Token bucket per conversation, measured on the customer's own message timestamps rather
 * than on processing time, so a backlog drained after a restart is not mistaken for a flood.
 * Safe without atomics: the caller holds the chat's lease.
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
