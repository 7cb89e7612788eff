import { bigserial, index, jsonb, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { ts } from '../../platform/db/columns.ts';
import { workspaces } from '../workspaces/schema.ts';

/**
 * Raw analytics events, written in batches by the tracker (never in the reply path). No
 * foreign keys besides the workspace: an event outlives the bot or contact it mentions.
 */
export const analyticsEvents = pgTable(
  'analytics_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    workspaceId: uuid('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    botId: uuid('bot_id'),
    channelId: uuid('channel_id'),
    contactId: uuid('contact_id'),
    type: text('type').notNull(),
    data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
    occurredAt: ts('occurred_at').notNull(),
  },
  (t) => [
    index('analytics_events_workspace_time_idx').on(t.workspaceId, t.occurredAt),
    index('analytics_events_workspace_type_time_idx').on(t.workspaceId, t.type, t.occurredAt),
  ],
);
