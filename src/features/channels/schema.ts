import { sql } from 'drizzle-orm';
import { bigint, check, index, jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { createdAt, idColumn, ts, updatedAt } from '../../platform/db/columns.ts';
import { bots } from '../bots/schema.ts';
import { workspaces } from '../workspaces/schema.ts';

export type ChannelType = 'telegram' | 'whatsapp' | 'web';
export type ChannelMode = 'webhook' | 'polling';

/** A bot's presence on one messenger: for Telegram, one bot token. */
export const channels = pgTable(
  'channels',
  {
    id: idColumn(),
    workspaceId: uuid('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    botId: uuid('bot_id')
      .notNull()
      .references(() => bots.id, { onDelete: 'cascade' }),
    type: text('type').$type<ChannelType>().notNull(),
    mode: text('mode').$type<ChannelMode>().notNull().default('webhook'),
    status: text('status').$type<'active' | 'error' | 'disabled'>().notNull().default('active'),
    /** The messenger's id of the bot account (Telegram: getMe().id). */
    externalId: text('external_id').notNull(),
    username: text('username'),
    displayName: text('display_name'),
    /** AES-256-GCM sealed credentials (Telegram: the bot token). Never returned by the API. */
    encryptedToken: text('encrypted_token').notNull(),
    /** Telegram's X-Telegram-Bot-Api-Secret-Token for webhook mode. */
    webhookSecret: text('webhook_secret'),
    /** Next getUpdates offset in polling mode, persisted so a restart neither loses nor repeats. */
    pollingOffset: bigint('polling_offset', { mode: 'number' }).notNull().default(0),
    lastError: text('last_error'),
    lastErrorAt: ts('last_error_at'),
    settings: jsonb('settings').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('channels_external_key').on(t.type, t.externalId),
    index('channels_bot_idx').on(t.botId),
    index('channels_workspace_idx').on(t.workspaceId),
    check('channels_type_check', sql`${t.type} in ('telegram','whatsapp','web')`),
  ],
);
