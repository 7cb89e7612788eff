import { sql } from 'drizzle-orm';
import { check, foreignKey, index, integer, pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core';
import { createdAt, ts, updatedAt } from '../../platform/db/columns.ts';
import { memberships } from '../workspaces/schema.ts';

export const PRESENCE_STATUSES = ['online', 'away', 'offline'] as const;
export type PresenceStatus = (typeof PRESENCE_STATUSES)[number];

/**
 * A member's presence and capacity as an operator of a workspace. Presence is kept alive by
 * heartbeats (`lastSeenAt`); a sweeper marks silent operators offline. Gone with the
 * membership.
 */
export const operatorStates = pgTable(
  'operator_states',
  {
    workspaceId: uuid('workspace_id').notNull(),
    userId: uuid('user_id').notNull(),
    status: text('status').$type<PresenceStatus>().notNull().default('offline'),
    lastSeenAt: ts('last_seen_at'),
    /** Conversations the operator may hold or be assigned at once. */
    maxChats: integer('max_chats').notNull().default(5),
    /** Round-robin: the operator assigned least recently goes next. */
    lastAssignedAt: ts('last_assigned_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.userId] }),
    foreignKey({
      columns: [t.workspaceId, t.userId],
      foreignColumns: [memberships.workspaceId, memberships.userId],
      name: 'operator_states_membership_fk',
    }).onDelete('cascade'),
    index('operator_states_online_idx').on(t.lastSeenAt).where(sql`status <> 'offline'`),
    check('operator_states_status_check', sql`${t.status} in ('online','away','offline')`),
    check('operator_states_max_chats_check', sql`${t.maxChats} between 0 and 1000`),
  ],
);
