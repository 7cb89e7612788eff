import { and, asc, count, desc, eq, gt, ilike, inArray, like, lt, or, type SQL, sql } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import { z } from 'zod';
import type { AppContext, RequestContext } from '../../context.ts';
import { queueOutgoing } from '../../pipeline/outgoing.ts';
import { outbox } from '../../pipeline/schema.ts';
import { wakeWorkers } from '../../pipeline/wake.ts';
import { uuidv7 } from '../../platform/db/columns.ts';
import type { DbOrTx } from '../../platform/db/index.ts';
import { AppError } from '../../platform/errors.ts';
import { decodeCursor, encodeCursor } from '../../platform/http/cursor.ts';
import { recordAudit } from '../audit/service.ts';
import { channels } from '../channels/schema.ts';
import {
  type BroadcastFilter,
  broadcasts,
  type ConversationMode,
  contacts,
  conversations,
  messages,
} from './schema.ts';

/** The queue of broadcast fan-out jobs. */
export const BROADCAST_QUEUE = 'broadcast';

/** Contacts written to the outbox per transaction of a fan-out. */
const BROADCAST_PAGE = 200;

// ─── Contacts ────────────────────────────────────────────────────────────────

export interface ContactQuery {
  workspaceId: string;
  q?: string | undefined;
  status?: 'active' | 'blocked' | undefined;
  channelId?: string | undefined;
  botId?: string | undefined;
  referrer?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}

const contactColumns = {
  id: contacts.id,
  channelId: contacts.channelId,
  botId: channels.botId,
  channelType: channels.type,
  channelUsername: channels.username,
  externalId: contacts.externalId,
  username: contacts.username,
  firstName: contacts.firstName,
  lastName: contacts.lastName,
  languageCode: contacts.languageCode,
  language: contacts.language,
  status: contacts.status,
  referrer: contacts.referrer,
  messageCount: contacts.messageCount,
  firstSeenAt: contacts.firstSeenAt,
  lastSeenAt: contacts.lastSeenAt,
  createdAt: contacts.createdAt,
};

/** Contacts of a workspace, most recently seen first, keyset-paginated over (last_seen_at, id). */
export async function findContacts(ctx: { db: DbOrTx }, query: ContactQuery) {
  const conditions: SQL[] = [eq(contacts.workspaceId, query.workspaceId)];
  if (query.status) conditions.push(eq(contacts.status, query.status));
  if (query.channelId) conditions.push(eq(contacts.channelId, query.channelId));
  if (query.botId) conditions.push(eq(channels.botId, query.botId));
  if (query.referrer) conditions.push(eq(contacts.referrer, query.referrer));
  if (query.q) {
    const pattern = containsPattern(query.q);
    const match = or(
      ilike(contacts.username, pattern),
      ilike(contacts.firstName, pattern),
      ilike(contacts.lastName, pattern),
      ilike(contacts.externalId, pattern),
    );
    if (match) conditions.push(match);
  }
  const key = millis(contacts.lastSeenAt);
  const after = keysetBefore(key, contacts.id, query.cursor);
  if (after) conditions.push(after);
  const rows = await ctx.db
    .select(contactColumns)
    .from(contacts)
    .innerJoin(channels, eq(channels.id, contacts.channelId))
    .where(and(...conditions))
    .orderBy(desc(key), desc(contacts.id))
    .limit(query.limit + 1);
  return pageBy(rows, query.limit, (row) => row.lastSeenAt);
}

/** One contact of the workspace, or NOT_FOUND. */
export async function getContact(ctx: { db: DbOrTx }, workspaceId: string, contactId: string) {
  const [row] = await ctx.db
    .select(contactColumns)
    .from(contacts)
    .innerJoin(channels, eq(channels.id, contacts.channelId))
    .where(and(eq(contacts.workspaceId, workspaceId), eq(contacts.id, contactId)));
  if (!row) throw new AppError('NOT_FOUND', { message: 'Contact not found' });
  return row;
}

/** Blocks or unblocks a contact: a blocked contact gets no operator messages nor broadcasts. */
export async function setContactStatus(
  ctx: RequestContext,
  options: { workspaceId: string; contactId: string; status: 'active' | 'blocked' },
) {
  await ctx.db.transaction(async (tx) => {
    const [before] = await tx
      .select({ status: contacts.status })
      .from(contacts)
      .where(and(eq(contacts.workspaceId, options.workspaceId), eq(contacts.id, options.contactId)))
      .for('update');
    if (!before) throw new AppError('NOT_FOUND', { message: 'Contact not found' });
    if (before.status === options.status) return;
    await tx.update(contacts).set({ status: options.status }).where(eq(contacts.id, options.contactId));
    await recordAudit(ctx, tx, {
      workspaceId: options.workspaceId,
      action: options.status === 'blocked' ? 'contact.block' : 'contact.unblock',
      targetType: 'contact',
      targetId: options.contactId,
      before,
      after: { status: options.status },
    });
  });
  return getContact(ctx, options.workspaceId, options.contactId);
}

/**
 * Sends a text to a contact as the bot, on behalf of an operator: written to the outbox with
 * its audit record in one transaction, delivered by the sender after commit.
 */
export async function sendMessageToContact(
  ctx: RequestContext,
  options: { workspaceId: string; contactId: string; text: string; userId: string | null },
) {
  const idempotencyPrefix = `m${uuidv7()}`;
  const sent = await ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .select({ contact: contacts, channel: channels })
      .from(contacts)
      .innerJoin(channels, eq(channels.id, contacts.channelId))
      .where(and(eq(contacts.workspaceId, options.workspaceId), eq(contacts.id, options.contactId)));
    if (!row) throw new AppError('NOT_FOUND', { message: 'Contact not found' });
    if (row.contact.status === 'blocked')
      throw new AppError('CONFLICT', { message: 'The contact is blocked' });
    const conversation = await ensureConversation(tx, row.channel, row.contact);
    await queueOutgoing(tx, {
      channel: row.channel,
      conversationId: conversation.id,
      chatId: conversation.chatId,
      idempotencyPrefix,
      sender: 'operator',
      senderUserId: options.userId,
      items: [{ kind: 'text', text: options.text }],
    });
    const written = await tx
      .select()
      .from(messages)
      .where(
        and(
          eq(messages.conversationId, conversation.id),
          like(sql`${messages.payload}->>'idempotencyKey'`, `${idempotencyPrefix}:%`),
        ),
      )
      .orderBy(asc(messages.createdAt), asc(messages.id));
    await recordAudit(ctx, tx, {
      workspaceId: options.workspaceId,
      action: 'contact.message',
      targetType: 'contact',
      targetId: options.contactId,
      after: { conversationId: conversation.id, messageIds: written.map((message) => message.id) },
    });
    return { channelId: row.channel.id, chatId: conversation.chatId, messages: written };
  });
  wakeWorkers(ctx, 'send');
  const [first] = sent.messages;
  if (!first) throw new AppError('INTERNAL', { message: 'No message was queued' });
  return first;
}

/** The private chat of a contact on its channel, created when the contact has none yet. */
async function ensureConversation(
  tx: DbOrTx,
  channel: Pick<typeof channels.$inferSelect, 'id' | 'workspaceId' | 'botId'>,
  contact: Pick<typeof contacts.$inferSelect, 'id' | 'externalId'>,
) {
  const where = and(eq(conversations.channelId, channel.id), eq(conversations.chatId, contact.externalId));
  const [existing] = await tx.select().from(conversations).where(where);
  if (existing) return existing;
  await tx
    .insert(conversations)
    .values({
      workspaceId: channel.workspaceId,
      botId: channel.botId,
      channelId: channel.id,
      contactId: contact.id,
      chatId: contact.externalId,
    })
    .onConflictDoNothing();
  const [created] = await tx.select().from(conversations).where(where);
  if (!created) throw new AppError('INTERNAL', { message: 'Could not open a conversation' });
  return created;
}

// ─── Conversations and messages ──────────────────────────────────────────────

export interface ConversationQuery {
  workspaceId: string;
  mode?: ConversationMode | undefined;
  botId?: string | undefined;
  channelId?: string | undefined;
  q?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}

const conversationColumns = {
  id: conversations.id,
  botId: conversations.botId,
  channelId: conversations.channelId,
  contactId: conversations.contactId,
  chatId: conversations.chatId,
  mode: conversations.mode,
  lastMessageAt: conversations.lastMessageAt,
  lastMessageText: conversations.lastMessageText,
  messageCount: conversations.messageCount,
  createdAt: conversations.createdAt,
  contact: {
    id: contacts.id,
    externalId: contacts.externalId,
    username: contacts.username,
    firstName: contacts.firstName,
    lastName: contacts.lastName,
    status: contacts.status,
  },
};

/** Conversations with the latest message first (new ones without messages by creation time). */
export async function findConversations(ctx: { db: DbOrTx }, query: ConversationQuery) {
  const conditions: SQL[] = [eq(conversations.workspaceId, query.workspaceId)];
  if (query.mode) conditions.push(eq(conversations.mode, query.mode));
  if (query.botId) conditions.push(eq(conversations.botId, query.botId));
  if (query.channelId) conditions.push(eq(conversations.channelId, query.channelId));
  if (query.q) {
    const pattern = containsPattern(query.q);
    const match = or(
      ilike(contacts.username, pattern),
      ilike(contacts.firstName, pattern),
      ilike(contacts.lastName, pattern),
      ilike(conversations.lastMessageText, pattern),
    );
    if (match) conditions.push(match);
  }
  const key = millis(sql`coalesce(${conversations.lastMessageAt}, ${conversations.createdAt})`);
  const after = keysetBefore(key, conversations.id, query.cursor);
  if (after) conditions.push(after);
  const rows = await ctx.db
    .select(conversationColumns)
    .from(conversations)
    .innerJoin(contacts, eq(contacts.id, conversations.contactId))
    .where(and(...conditions))
    .orderBy(desc(key), desc(conversations.id))
    .limit(query.limit + 1);
  return pageBy(rows, query.limit, (row) => row.lastMessageAt ?? row.createdAt);
}

/** One conversation of the workspace, or NOT_FOUND. */
export async function getConversation(ctx: { db: DbOrTx }, workspaceId: string, conversationId: string) {
  const [row] = await ctx.db
    .select(conversationColumns)
    .from(conversations)
    .innerJoin(contacts, eq(contacts.id, conversations.contactId))
    .where(and(eq(conversations.workspaceId, workspaceId), eq(conversations.id, conversationId)));
  if (!row) throw new AppError('NOT_FOUND', { message: 'Conversation not found' });
  return row;
}

/** A conversation's messages, newest first; `before` is the cursor of the previous page. */
export async function findMessages(
  ctx: { db: DbOrTx },
  query: { workspaceId: string; conversationId: string; limit: number; before?: string | undefined },
) {
  await getConversation(ctx, query.workspaceId, query.conversationId);
  const conditions: SQL[] = [
    eq(messages.workspaceId, query.workspaceId),
    eq(messages.conversationId, query.conversationId),
  ];
  const key = millis(messages.createdAt);
  const older = keysetBefore(key, messages.id, query.before);
  if (older) conditions.push(older);
  const rows = await ctx.db
    .select()
    .from(messages)
    .where(and(...conditions))
    .orderBy(desc(key), desc(messages.id))
    .limit(query.limit + 1);
  return pageBy(rows, query.limit, (row) => row.createdAt);
}

// ─── Broadcasts ──────────────────────────────────────────────────────────────

const storedFilterSchema = z.object({
  language: z.string().optional(),
  referrer: z.string().optional(),
  lastSeenAfter: z.iso.datetime({ offset: true }).optional(),
});

/** Creates a broadcast and queues its fan-out. */
export async function createBroadcast(
  ctx: RequestContext,
  options: {
    workspaceId: string;
    channelId: string;
    text: string;
    filter?: BroadcastFilter | undefined;
    userId: string | null;
  },
) {
  const filter = storedFilterSchema.parse(options.filter ?? {});
  const broadcast = await ctx.db.transaction(async (tx) => {
    const [channel] = await tx
      .select({ id: channels.id })
      .from(channels)
      .where(and(eq(channels.workspaceId, options.workspaceId), eq(channels.id, options.channelId)));
    if (!channel) throw new AppError('NOT_FOUND', { message: 'Channel not found' });
    const [row] = await tx
      .insert(broadcasts)
      .values({
        workspaceId: options.workspaceId,
        channelId: channel.id,
        text: options.text,
        filter,
        createdBy: options.userId,
      })
      .returning();
    if (!row) throw new AppError('INTERNAL', { message: 'Broadcast not stored' });
    await recordAudit(ctx, tx, {
      workspaceId: options.workspaceId,
      action: 'broadcast.create',
      targetType: 'broadcast',
      targetId: row.id,
      after: { channelId: row.channelId, text: row.text, filter: row.filter },
    });
    return row;
  });
  await enqueueBroadcast(ctx, broadcast.id);
  return withProgress(ctx, [broadcast]).then(([one]) => one ?? missingBroadcast());
}

/** Queues (or re-queues) the fan-out of a broadcast; idempotent. */
export async function enqueueBroadcast(ctx: AppContext, broadcastId: string): Promise<void> {
  await ctx.ports.queue.add(BROADCAST_QUEUE, { broadcastId }, { jobId: `broadcast-${broadcastId}` });
}

const broadcastJobSchema = z.object({ broadcastId: z.uuid() });

/** Consumes the broadcast queue on this instance. */
export function startBroadcastWorker(ctx: AppContext): void {
  ctx.ports.queue.work<unknown>(BROADCAST_QUEUE, async (job) => {
    await runBroadcast(ctx, broadcastJobSchema.parse(job.data).broadcastId);
  });
}

/**
 * The fan-out: pages through the segment by contact id and writes one outbox row per contact
 * keyed `b<id>:<contactId>`, so running it again (a retried job) adds nothing. The segment is
 * the contacts known when the broadcast was created; each page re-reads the broadcast under a
 * row lock so a cancel either stops the next page or fails the rows of the last one.
 */
export async function runBroadcast(ctx: AppContext, broadcastId: string): Promise<void> {
  const [broadcast] = await ctx.db.select().from(broadcasts).where(eq(broadcasts.id, broadcastId));
  if (!broadcast || broadcast.status === 'cancelled') return;
  const [channel] = await ctx.db.select().from(channels).where(eq(channels.id, broadcast.channelId));
  if (!channel) return;
  const segment = segmentOf(broadcast);
  const [counted] = await ctx.db.select({ total: count() }).from(contacts).where(segment);
  await ctx.db
    .update(broadcasts)
    .set({ total: counted?.total ?? 0, ...(broadcast.status === 'queued' ? { status: 'running' } : {}) })
    .where(and(eq(broadcasts.id, broadcastId), inArray(broadcasts.status, ['queued', 'running'])));

  let lastContactId: string | undefined;
  for (;;) {
    const after: string | undefined = lastContactId;
    const page = await ctx.db.transaction(async (tx) => {
      const [current] = await tx
        .select({ status: broadcasts.status })
        .from(broadcasts)
        .where(eq(broadcasts.id, broadcastId))
        .for('update');
      if (!current || current.status === 'cancelled') return undefined;
      const rows = await tx
        .select({ id: contacts.id, externalId: contacts.externalId })
        .from(contacts)
        .where(and(segment, after ? gt(contacts.id, after) : undefined))
        .orderBy(asc(contacts.id))
        .limit(BROADCAST_PAGE);
      const chats: string[] = [];
      let added = 0;
      for (const contact of rows) {
        const conversation = await ensureConversation(tx, channel, contact);
        added += await queueOutgoing(tx, {
          channel,
          conversationId: conversation.id,
          chatId: conversation.chatId,
          idempotencyPrefix: `b${broadcastId}:${contact.id}`,
          sender: 'operator',
          senderUserId: broadcast.createdBy,
          items: [{ kind: 'text', text: broadcast.text }],
        });
        chats.push(conversation.chatId);
      }
      if (added > 0)
        await tx
          .update(broadcasts)
          .set({ queued: sql`${broadcasts.queued} + ${added}` })
          .where(eq(broadcasts.id, broadcastId));
      return { chats, lastId: rows.at(-1)?.id };
    });
    if (!page) return;
    wakeWorkers(ctx, 'send');
    if (!page.lastId || page.chats.length < BROADCAST_PAGE) break;
    lastContactId = page.lastId;
  }
  await ctx.db
    .update(broadcasts)
    .set({ status: 'done', finishedAt: new Date() })
    .where(and(eq(broadcasts.id, broadcastId), inArray(broadcasts.status, ['queued', 'running'])));
}

/** Active contacts of the broadcast's channel matching its filter, known at its creation. */
function segmentOf(broadcast: typeof broadcasts.$inferSelect): SQL | undefined {
  const filter = storedFilterSchema.parse(broadcast.filter);
  const conditions: SQL[] = [
    eq(contacts.workspaceId, broadcast.workspaceId),
    eq(contacts.channelId, broadcast.channelId),
    eq(contacts.status, 'active'),
    sql`${contacts.createdAt} <= ${broadcast.createdAt.toISOString()}::timestamptz`,
  ];
  if (filter.language)
    conditions.push(sql`coalesce(${contacts.language}, ${contacts.languageCode}) = ${filter.language}`);
  if (filter.referrer) conditions.push(eq(contacts.referrer, filter.referrer));
  if (filter.lastSeenAfter)
    conditions.push(sql`${contacts.lastSeenAt} > ${filter.lastSeenAfter}::timestamptz`);
  return and(...conditions);
}

/** Broadcasts of a workspace, newest first. */
export async function findBroadcasts(
  ctx: { db: DbOrTx },
  query: { workspaceId: string; limit: number; cursor?: string | undefined },
) {
  const conditions: SQL[] = [eq(broadcasts.workspaceId, query.workspaceId)];
  const key = millis(broadcasts.createdAt);
  const older = keysetBefore(key, broadcasts.id, query.cursor);
  if (older) conditions.push(older);
  const rows = await ctx.db
    .select()
    .from(broadcasts)
    .where(and(...conditions))
    .orderBy(desc(key), desc(broadcasts.id))
    .limit(query.limit + 1);
  const page = pageBy(rows, query.limit, (row) => row.createdAt);
  return { items: await withProgress(ctx, page.items), nextCursor: page.nextCursor };
}

/** One broadcast with its delivery progress, or NOT_FOUND. */
export async function getBroadcast(ctx: { db: DbOrTx }, workspaceId: string, broadcastId: string) {
  const [row] = await ctx.db
    .select()
    .from(broadcasts)
    .where(and(eq(broadcasts.workspaceId, workspaceId), eq(broadcasts.id, broadcastId)));
  if (!row) missingBroadcast();
  const [one] = await withProgress(ctx, [row]);
  return one ?? missingBroadcast();
}

/** Stops a broadcast: no further contacts, and its undelivered outbox rows fail as 'cancelled'. */
export async function cancelBroadcast(ctx: RequestContext, workspaceId: string, broadcastId: string) {
  await ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .select({ status: broadcasts.status, channelId: broadcasts.channelId })
      .from(broadcasts)
      .where(and(eq(broadcasts.workspaceId, workspaceId), eq(broadcasts.id, broadcastId)))
      .for('update');
    if (!row) missingBroadcast();
    if (row.status === 'cancelled') return;
    await tx
      .update(broadcasts)
      .set({ status: 'cancelled', finishedAt: new Date() })
      .where(eq(broadcasts.id, broadcastId));
    const failed = await tx
      .update(outbox)
      .set({ status: 'failed', error: 'cancelled' })
      .where(
        and(
          eq(outbox.channelId, row.channelId),
          like(outbox.idempotencyKey, `b${broadcastId}:%`),
          eq(outbox.status, 'queued'),
        ),
      )
      .returning({ messageId: outbox.messageId });
    const ids = failed.flatMap((entry) => (entry.messageId ? [entry.messageId] : []));
    if (ids.length > 0)
      await tx
        .update(messages)
        .set({ status: 'failed', error: 'cancelled' })
        .where(inArray(messages.id, ids));
    await recordAudit(ctx, tx, {
      workspaceId,
      action: 'broadcast.cancel',
      targetType: 'broadcast',
      targetId: broadcastId,
      before: { status: row.status },
      after: { status: 'cancelled' },
    });
  });
  return getBroadcast(ctx, workspaceId, broadcastId);
}

/** Adds sent / failed / pending / unknown counts, read from the outbox rows of each broadcast. */
async function withProgress(ctx: { db: DbOrTx }, rows: Array<typeof broadcasts.$inferSelect>) {
  if (rows.length === 0) return [];
  const prefix = sql<string>`split_part(${outbox.idempotencyKey}, ':', 1)`;
  const counts = await ctx.db
    .select({ prefix, status: outbox.status, n: count() })
    .from(outbox)
    .where(
      and(
        inArray(outbox.channelId, [...new Set(rows.map((row) => row.channelId))]),
        inArray(
          prefix,
          rows.map((row) => `b${row.id}`),
        ),
      ),
    )
    .groupBy(prefix, outbox.status);
  return rows.map((row) => {
    const progress = { sent: 0, failed: 0, pending: 0, unknown: 0 };
    for (const entry of counts) {
      if (entry.prefix !== `b${row.id}`) continue;
      if (entry.status === 'sent') progress.sent += entry.n;
      else if (entry.status === 'failed') progress.failed += entry.n;
      else if (entry.status === 'unknown') progress.unknown += entry.n;
      else progress.pending += entry.n;
    }
    return { ...row, filter: storedFilterSchema.parse(row.filter), progress };
  });
}

function missingBroadcast(): never {
  throw new AppError('NOT_FOUND', { message: 'Broadcast not found' });
}

// ─── Helpers ─────────────────────────────────────────────────────────────────

/** `%q%` for ILIKE, with the pattern characters of `q` taken literally. */
function containsPattern(q: string): string {
  return `%${q.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
}

/**
 * A timestamp cut to milliseconds. Cursors carry JS dates (ms) while PostgreSQL stores µs;
 * ordering and comparing on the cut value keeps a page boundary from skipping rows whose
 * timestamps differ only below the millisecond.
 */
function millis(column: SQL | PgColumn): SQL {
  return sql`date_trunc('milliseconds', ${column})`;
}

/** Rows strictly after the cursor in (key desc, id desc) order. */
function keysetBefore(key: SQL, id: PgColumn, cursor: string | undefined) {
  const decoded = decodeCursor(cursor);
  if (!decoded) return undefined;
  const at = decoded.createdAt.toISOString();
  return or(lt(key, sql`${at}::timestamptz`), and(sql`${key} = ${at}::timestamptz`, lt(id, decoded.id)));
}

/** Given `limit + 1` rows, the page and the cursor of the next one over (key, id). */
function pageBy<T extends { id: string }>(rows: T[], limit: number, keyOf: (row: T) => Date) {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return {
    items,
    nextCursor: rows.length > limit && last ? encodeCursor({ createdAt: keyOf(last), id: last.id }) : null,
  };
}
