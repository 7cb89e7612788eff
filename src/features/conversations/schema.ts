import { sql } from 'drizzle-orm';
import { bigint, check, index, integer, jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { createdAt, idColumn, ts, updatedAt } from '../../platform/db/columns.ts';
import { bots } from '../bots/schema.ts';
import { channels } from '../channels/schema.ts';
import { workspaces } from '../workspaces/schema.ts';

/** A customer as seen on one channel. */
export const contacts = pgTable(
  'contacts',
  {
    id: idColumn(),
    workspaceId: uuid('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    channelId: uuid('channel_id')
      .notNull()
      .references(() => channels.id, { onDelete: 'cascade' }),
    /** Telegram user id (as text: ids exceed 2^31 and other channels use strings). */
    externalId: text('external_id').notNull(),
    username: text('username'),
    firstName: text('first_name'),
    lastName: text('last_name'),
    languageCode: text('language_code'),
    /** The language the customer chose with /language (else languageCode, else the bot's). */
    language: text('language'),
    status: text('status').$type<'active' | 'blocked'>().notNull().default('active'),
    /** Deep-link payload of the first /start (referral code). */
    referrer: text('referrer'),
    messageCount: integer('message_count').notNull().default(0),
    firstSeenAt: ts('first_seen_at').notNull().defaultNow(),
    lastSeenAt: ts('last_seen_at').notNull().defaultNow(),
    attributes: jsonb('attributes').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('contacts_channel_external_key').on(t.channelId, t.externalId),
    index('contacts_workspace_idx').on(t.workspaceId, t.lastSeenAt),
  ],
);

export type ConversationMode = 'bot' | 'waiting' | 'human' | 'closed';

/** One chat between a bot's channel and a customer. */
export const conversations = pgTable(
  'conversations',
  {
    id: idColumn(),
    workspaceId: uuid('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    botId: uuid('bot_id')
      .notNull()
      .references(() => bots.id, { onDelete: 'cascade' }),
    channelId: uuid('channel_id')
      .notNull()
      .references(() => channels.id, { onDelete: 'cascade' }),
    contactId: uuid('contact_id')
      .notNull()
      .references(() => contacts.id, { onDelete: 'cascade' }),
    chatId: text('chat_id').notNull(),
    mode: text('mode').$type<ConversationMode>().notNull().default('bot'),
    lastMessageAt: ts('last_message_at'),
    lastMessageText: text('last_message_text'),
    messageCount: integer('message_count').notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('conversations_channel_chat_key').on(t.channelId, t.chatId),
    index('conversations_workspace_idx').on(t.workspaceId, t.lastMessageAt),
    check('conversations_mode_check', sql`${t.mode} in ('bot','waiting','human','closed')`),
  ],
);

export type MessageDirection = 'in' | 'out';
export type DeliveryStatus = 'received' | 'queued' | 'sending' | 'sent' | 'failed' | 'unknown';

/** Every message in and out, with delivery status for outgoing ones. */
export const messages = pgTable(
  'messages',
  {
    id: idColumn(),
    workspaceId: uuid('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    conversationId: uuid('conversation_id')
      .notNull()
      .references(() => conversations.id, { onDelete: 'cascade' }),
    direction: text('direction').$type<MessageDirection>().notNull(),
    /** text, photo, voice, document, sticker, location, contact, callback, … */
    type: text('type').notNull(),
    text: text('text'),
    /** File ids, reply-to, buttons, raw bits worth keeping. */
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull().default({}),
    sender: text('sender').$type<'customer' | 'bot' | 'operator' | 'system'>().notNull(),
    senderUserId: uuid('sender_user_id'),
    /** The messenger's message id (Telegram message_id), once known. */
    externalId: text('external_id'),
    /** Inbound: the update it came from; makes storing it idempotent. */
    sourceUpdateId: bigint('source_update_id', { mode: 'number' }),
    status: text('status').$type<DeliveryStatus>().notNull(),
    error: text('error'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('messages_conversation_idx').on(t.conversationId, t.createdAt),
    uniqueIndex('messages_inbound_update_key')
      .on(t.conversationId, t.sourceUpdateId)
      .where(sql`direction = 'in' and source_update_id is not null`),
  ],
);

/** Who a broadcast goes to, besides "active contacts of the channel" which always applies. */
export interface BroadcastFilter {
  /** The contact's chosen language, else its Telegram language code. */
  language?: string;
  referrer?: string;
  /** ISO 8601; only contacts seen after it. */
  lastSeenAfter?: string;
}

export type BroadcastStatus = 'queued' | 'running' | 'done' | 'cancelled';

/**
 * One text sent to a segment of a channel's contacts. The fan-out writes one outbox row per
 * contact keyed `b<id>:<contactId>:<n>`, so progress is counted from the outbox and a retried
 * job never sends twice.
 */
export const broadcasts = pgTable(
  'broadcasts',
  {
    id: idColumn(),
    workspaceId: uuid('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    channelId: uuid('channel_id')
      .notNull()
      .references(() => channels.id, { onDelete: 'cascade' }),
    text: text('text').notNull(),
    filter: jsonb('filter').$type<BroadcastFilter>().notNull().default({}),
    status: text('status').$type<BroadcastStatus>().notNull().default('queued'),
    /** Contacts in the segment, known once the fan-out starts. */
    total: integer('total').notNull().default(0),
    /** Outbox rows written so far. */
    queued: integer('queued').notNull().default(0),
    createdBy: uuid('created_by'),
    createdAt: createdAt(),
    finishedAt: ts('finished_at'),
  },
  (t) => [
    index('broadcasts_workspace_idx').on(t.workspaceId, t.createdAt),
    check('broadcasts_status_check', sql`${t.status} in ('queued','running','done','cancelled')`),
  ],
);
