import { sql } from 'drizzle-orm';
import { check, index, integer, jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { createdAt, idColumn, ts, updatedAt } from '../../platform/db/columns.ts';
import { users } from '../identity/schema.ts';
import { workspaces } from '../workspaces/schema.ts';

export const bots = pgTable(
  'bots',
  {
    id: idColumn(),
    workspaceId: uuid('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    status: text('status').$type<'active' | 'paused'>().notNull().default('active'),
    /** Number of the published config version; the pipeline reads that one. */
    publishedVersion: integer('published_version').notNull().default(1),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('bots_workspace_idx').on(t.workspaceId, t.createdAt)],
);

/**
 * Every version of a bot's config. At most one draft per bot; published versions are
 * immutable and numbered; rollback publishes a copy of an older version as a new number,
 * so history only ever grows.
 */
export const botConfigVersions = pgTable(
  'bot_config_versions',
  {
    id: idColumn(),
    workspaceId: uuid('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    botId: uuid('bot_id')
      .notNull()
      .references(() => bots.id, { onDelete: 'cascade' }),
    /** Null for the draft. */
    version: integer('version'),
    status: text('status').$type<'draft' | 'published' | 'archived'>().notNull(),
    config: jsonb('config').$type<Record<string, unknown>>().notNull(),
    note: text('note').notNull().default(''),
    authorId: uuid('author_id').references(() => users.id, { onDelete: 'set null' }),
    publishedAt: ts('published_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('bot_config_versions_version_key').on(t.botId, t.version),
    uniqueIndex('bot_config_versions_one_draft').on(t.botId).where(sql`status = 'draft'`),
    check('bot_config_versions_status_check', sql`${t.status} in ('draft','published','archived')`),
  ],
);
