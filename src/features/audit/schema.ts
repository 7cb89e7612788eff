import { index, jsonb, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { createdAt, idColumn } from '../../platform/db/columns.ts';
import { workspaces } from '../workspaces/schema.ts';

export type AuditChange = { before?: unknown; after?: unknown };

/** Append-only record of every mutating call: who did what to which thing, and the diff. */
export const auditLog = pgTable(
  'audit_log',
  {
    id: idColumn(),
    /** Null for platform-level actions (sign-up, login, super-admin work). */
    workspaceId: uuid('workspace_id').references(() => workspaces.id, { onDelete: 'cascade' }),
    actorType: text('actor_type').$type<'user' | 'api_key' | 'system'>().notNull(),
    actorId: text('actor_id'),
    actorLabel: text('actor_label'),
    action: text('action').notNull(),
    targetType: text('target_type').notNull(),
    targetId: text('target_id'),
    /** Only the fields that changed: { field: { before, after } }. */
    diff: jsonb('diff').$type<Record<string, AuditChange>>().notNull().default({}),
    ip: text('ip'),
    requestId: text('request_id'),
    createdAt: createdAt(),
  },
  (t) => [
    index('audit_log_workspace_idx').on(t.workspaceId, t.createdAt, t.id),
    index('audit_log_workspace_action_idx').on(t.workspaceId, t.action, t.createdAt),
  ],
);
