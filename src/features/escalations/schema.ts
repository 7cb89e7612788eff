import { sql } from 'drizzle-orm';
import { check, index, jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { createdAt, idColumn, ts, updatedAt } from '../../platform/db/columns.ts';
import { conversations } from '../conversations/schema.ts';
import { users } from '../identity/schema.ts';
import { workspaces } from '../workspaces/schema.ts';

export const ESCALATION_STATUSES = ['pending', 'contacted', 'in_progress', 'resolved', 'cancelled'] as const;
export type EscalationStatus = (typeof ESCALATION_STATUSES)[number];
/** Statuses of an escalation still waiting for or getting a human's attention. */
export const OPEN_STATUSES = ['pending', 'contacted', 'in_progress'] as const satisfies EscalationStatus[];

export const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
export type Priority = (typeof PRIORITIES)[number];

export const ESCALATION_SOURCES = [
  'command',
  'keyword',
  'llm',
  'repeated_unknown',
  'button',
  'operator',
] as const;
export type EscalationSourceValue = (typeof ESCALATION_SOURCES)[number];

/** One message of the conversation as it was when the escalation was raised. */
export interface SnapshotMessage {
  direction: 'in' | 'out';
  sender: string;
  type: string;
  text: string | null;
  at: string;
}

/**
 * A request for a human on one conversation. At most one is open per conversation (the
 * partial unique index), which makes raising one idempotent: a second /escalate while one is
 * open finds the open one.
 */
export const escalations = pgTable(
  'escalations',
  {
    id: idColumn(),
    workspaceId: uuid('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    conversationId: uuid('conversation_id')
      .notNull()
      .references(() => conversations.id, { onDelete: 'cascade' }),
    contactId: uuid('contact_id').notNull(),
    channelId: uuid('channel_id').notNull(),
    botId: uuid('bot_id').notNull(),
    reason: text('reason').notNull(),
    source: text('source').$type<EscalationSourceValue>().notNull(),
    /** The bot config's escalation action when it was raised: notify, transfer or log_only. */
    action: text('action').$type<'notify' | 'transfer' | 'log_only'>().notNull(),
    /** A product the customer was asking about (catalog id; kept if the product goes). */
    productId: uuid('product_id'),
    snapshot: jsonb('snapshot').$type<SnapshotMessage[]>().notNull().default([]),
    status: text('status').$type<EscalationStatus>().notNull().default('pending'),
    priority: text('priority').$type<Priority>().notNull().default('normal'),
    assigneeId: uuid('assignee_id').references(() => users.id, { onDelete: 'set null' }),
    /** The member who raised it from the panel (source operator). */
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    firstResponseAt: ts('first_response_at'),
    resolvedAt: ts('resolved_at'),
    slaDueAt: ts('sla_due_at').notNull(),
    slaRemindedAt: ts('sla_reminded_at'),
    /** Operators were told (SSE, Telegram, email); null until then, so a crash cannot lose it. */
    notifiedAt: ts('notified_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('escalations_open_conversation_key')
      .on(t.conversationId)
      .where(sql`status in ('pending','contacted','in_progress')`),
    index('escalations_workspace_idx').on(t.workspaceId, t.createdAt),
    index('escalations_assignee_idx')
      .on(t.workspaceId, t.assigneeId)
      .where(sql`status in ('pending','contacted','in_progress')`),
    index('escalations_sla_idx').on(t.slaDueAt).where(sql`status = 'pending' and sla_reminded_at is null`),
    index('escalations_unnotified_idx').on(t.createdAt).where(sql`notified_at is null`),
    check(
      'escalations_status_check',
      sql`${t.status} in ('pending','contacted','in_progress','resolved','cancelled')`,
    ),
    check('escalations_priority_check', sql`${t.priority} in ('low','normal','high','urgent')`),
  ],
);

/** Internal notes on an escalation: seen by the team, never by the customer. */
export const escalationNotes = pgTable(
  'escalation_notes',
  {
    id: idColumn(),
    workspaceId: uuid('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    escalationId: uuid('escalation_id')
      .notNull()
      .references(() => escalations.id, { onDelete: 'cascade' }),
    authorId: uuid('author_id').references(() => users.id, { onDelete: 'set null' }),
    body: text('body').notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('escalation_notes_escalation_idx').on(t.escalationId, t.createdAt)],
);
