import { type SQL, sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { channels } from '../features/channels/schema.ts';
import { conversations, messages } from '../features/conversations/schema.ts';
import { workspaces } from '../features/workspaces/schema.ts';
import { ts } from '../platform/db/columns.ts';

/**
 * Every update a channel delivered, stored raw before the webhook is acknowledged. Unique on
 * (channel, update id): a redelivery is a no-op. The processor marks rows done.
 */
export const inboxUpdates = pgTable(
  'inbox_updates',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    channelId: uuid('channel_id')
      .notNull()
      .references(() => channels.id, { onDelete: 'cascade' }),
    updateId: bigint('update_id', { mode: 'number' }).notNull(),
    /** The chat the update belongs to (its processing order key); '' when it has none. */
    chatKey: text('chat_key').notNull(),
    updateType: text('update_type').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    receivedAt: ts('received_at').notNull().defaultNow(),
    processedAt: ts('processed_at'),
    attempts: integer('attempts').notNull().default(0),
    error: text('error'),
  },
  (t) => [
    uniqueIndex('inbox_updates_channel_update_key').on(t.channelId, t.updateId),
    index('inbox_updates_pending_idx')
      .on(t.channelId, t.chatKey, t.updateId)
      .where(sql`processed_at is null`),
    // The processor's scan for the oldest pending updates across all chats.
    index('inbox_updates_pending_fifo_idx').on(t.id).where(sql`processed_at is null`),
  ],
);

/**
 * Which processor holds a chat: a chat is processed by one worker at a time, on one instance
 * or several. A lease whose holder died expires after a few seconds and is taken over; live
 * holders push their leases' expiry out while they work. Held by the chat key of
 * `inbox_updates`.
 */
export const chatLeases = pgTable(
  'chat_leases',
  {
    channelId: uuid('channel_id')
      .notNull()
      .references(() => channels.id, { onDelete: 'cascade' }),
    chatKey: text('chat_key').notNull(),
    /** The processor loop (one per instance) that holds it; `backoff` after a failure. */
    holder: text('holder').notNull(),
    expiresAt: ts('expires_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.channelId, t.chatKey] }), index('chat_leases_holder_idx').on(t.holder)],
);

export type OutboxStatus = 'queued' | 'sending' | 'sent' | 'failed' | 'unknown';

/**
 * Every call that changes something on a messenger (send, answer callback, edit). Written in
 * the same transaction that marks its inbox update processed, so a reply exists once; the
 * sender moves it queued → sending → sent | failed. A row found in `sending` after a crash is
 * ambiguous (Telegram may have delivered it) and becomes `unknown` instead of being sent twice.
 */
export const outbox = pgTable(
  'outbox',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    workspaceId: uuid('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    channelId: uuid('channel_id')
      .notNull()
      .references(() => channels.id, { onDelete: 'cascade' }),
    conversationId: uuid('conversation_id').references(() => conversations.id, { onDelete: 'cascade' }),
    messageId: uuid('message_id').references(() => messages.id, { onDelete: 'cascade' }),
    chatId: text('chat_id').notNull(),
    /** Unique per logical send: `<inbox id>:<n>` for replies, `<broadcast id>:<contact>`… */
    idempotencyKey: text('idempotency_key').notNull(),
    method: text('method').notNull(),
    params: jsonb('params').$type<Record<string, unknown>>().notNull(),
    status: text('status').$type<OutboxStatus>().notNull().default('queued'),
    attempts: integer('attempts').notNull().default(0),
    notBefore: ts('not_before').notNull().defaultNow(),
    /**
     * The lease of the sender instance holding the row, renewed while it holds it. `queued`:
     * picked for pacing, other instances leave it alone until the lease runs out (a sender that
     * died lets go that way). `sending`: the call may be in flight; a row still `sending` after
     * its lease was left by a sender that died mid-call → `unknown`, never sent twice.
     */
    leaseUntil: ts('lease_until'),
    externalId: text('external_id'),
    error: text('error'),
    createdAt: ts('created_at').notNull().defaultNow(),
    sentAt: ts('sent_at'),
  },
  (t) => [
    uniqueIndex('outbox_idempotency_key').on(t.channelId, t.idempotencyKey),
    index('outbox_pending_idx').on(t.channelId, t.chatId, t.id).where(sql`status in ('queued','sending')`),
    // The sender's scan for the oldest queued rows across all chats.
    index('outbox_queued_fifo_idx').on(t.id).where(sql`status = 'queued'`),
  ],
);

/**
 * The database's clock plus `ms`: leases and due times are set and compared on the database's
 * clock, never an instance's, so instances with skewed clocks agree on them.
 */
export function msFromNow(ms: number): SQL {
  return sql`now() + ${Math.ceil(ms)} * interval '1 millisecond'`;
}
