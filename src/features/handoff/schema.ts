import { index, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { createdAt, idColumn, ts, updatedAt } from '../../platform/db/columns.ts';
import { conversations } from '../conversations/schema.ts';
import { users } from '../identity/schema.ts';
import { workspaces } from '../workspaces/schema.ts';

/**
 * Who holds a conversation in `human` mode. One row per conversation (the primary key), so
 * two operators taking the same conversation at once cannot both win.
 */
export const conversationHolders = pgTable(
  'conversation_holders',
  {
    conversationId: uuid('conversation_id')
      .primaryKey()
      .references(() => conversations.id, { onDelete: 'cascade' }),
    workspaceId: uuid('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    startedAt: ts('started_at').notNull().defaultNow(),
  },
  (t) => [index('conversation_holders_user_idx').on(t.workspaceId, t.userId)],
);

/** Quick replies operators pick from the panel. */
export const cannedResponses = pgTable(
  'canned_responses',
  {
    id: idColumn(),
    workspaceId: uuid('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    /** Short name typed after "/" in the panel's composer; unique per workspace. */
    shortcut: text('shortcut').notNull(),
    text: text('text').notNull(),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('canned_responses_shortcut_key').on(t.workspaceId, t.shortcut)],
);
