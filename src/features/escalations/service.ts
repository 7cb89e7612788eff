import { and, asc, desc, eq, gte, ilike, inArray, isNull, lt, lte, or, type SQL, sql } from 'drizzle-orm';
import type { AppContext, RequestContext } from '../../context.ts';
import type { DbOrTx } from '../../platform/db/index.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import { decodeCursor, toPage } from '../../platform/http/cursor.ts';
import { recordAudit } from '../audit/service.ts';
import { channels } from '../channels/schema.ts';
import { contacts, conversations, messages } from '../conversations/schema.ts';
import { conversationHolders } from '../handoff/schema.ts';
import { users } from '../identity/schema.ts';
import { OPERATOR_ROLES, pickOperator } from '../operators/service.ts';
import { memberships, workspaces } from '../workspaces/schema.ts';
import { notifyEscalation } from './notifications.ts';
import {
  type EscalationSourceValue,
  type EscalationStatus,
  escalationNotes,
  escalations,
  OPEN_STATUSES,
  type Priority,
  type SnapshotMessage,
} from './schema.ts';
import { getEscalationSettings, readEscalationSettings } from './settings.ts';

export type Escalation = typeof escalations.$inferSelect;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// ─── Raising ─────────────────────────────────────────────────────────────────

export interface OpenEscalationInput {
  workspaceId: string;
  conversationId: string;
  reason: string;
  source: EscalationSourceValue;
  /** The bot config's escalation action; `log_only` records without telling anyone. */
  action: 'notify' | 'transfer' | 'log_only';
  productId?: string | undefined;
  priority?: Priority | undefined;
  createdBy?: string | null | undefined;
}

/**
 * Raises an escalation on a conversation inside the caller's transaction (the processor's,
 * so it exists exactly once per update), or finds the open one: at most one is open per
 * conversation. Assignment and notifications happen after commit (`afterEscalationOpened`);
 * the sweeper catches up on any a crash left un-notified.
 */
export async function openEscalation(
  tx: DbOrTx,
  input: OpenEscalationInput,
): Promise<{ escalation: Escalation; created: boolean }> {
  const [workspace] = await tx
    .select({ settings: workspaces.settings })
    .from(workspaces)
    .where(eq(workspaces.id, input.workspaceId));
  const [conversation] = await tx
    .select()
    .from(conversations)
    .where(and(eq(conversations.workspaceId, input.workspaceId), eq(conversations.id, input.conversationId)));
  if (!workspace || !conversation) throw notFound('Conversation');
  const settings = readEscalationSettings(workspace.settings);
  const recent = await tx
    .select({
      direction: messages.direction,
      sender: messages.sender,
      type: messages.type,
      text: messages.text,
      createdAt: messages.createdAt,
    })
    .from(messages)
    .where(eq(messages.conversationId, conversation.id))
    .orderBy(desc(messages.createdAt), desc(messages.id))
    .limit(settings.snapshotSize);
  const snapshot: SnapshotMessage[] = recent.reverse().map((row) => ({
    direction: row.direction,
    sender: row.sender,
    type: row.type,
    text: row.text,
    at: row.createdAt.toISOString(),
  }));
  const now = new Date();
  const [created] = await tx
    .insert(escalations)
    .values({
      workspaceId: input.workspaceId,
      conversationId: conversation.id,
      contactId: conversation.contactId,
      channelId: conversation.channelId,
      botId: conversation.botId,
      reason: input.reason.slice(0, 2000),
      source: input.source,
      action: input.action,
      // The LLM names products too: an id that is not a UUID must not fail the customer's update.
      productId: input.productId && UUID.test(input.productId) ? input.productId : null,
      priority: input.priority ?? 'normal',
      createdBy: input.createdBy ?? null,
      snapshot,
      createdAt: now,
      slaDueAt: new Date(now.getTime() + settings.slaMinutes * 60_000),
      // Nobody is told about a log-only escalation: it is born notified.
      notifiedAt: input.action === 'log_only' ? now : null,
    })
    .onConflictDoNothing({
      target: escalations.conversationId,
      where: sql`status in ('pending','contacted','in_progress')`,
    })
    .returning();
  if (created) return { escalation: created, created: true };
  const [open] = await tx
    .select()
    .from(escalations)
    .where(
      and(eq(escalations.conversationId, conversation.id), inArray(escalations.status, [...OPEN_STATUSES])),
    );
  if (!open) throw new AppError('CONFLICT', { message: 'The open escalation changed meanwhile; try again' });
  return { escalation: open, created: false };
}

/**
 * After an escalation committed: announce it on the panel's stream, assign it round-robin
 * when the workspace assigns automatically, and tell the team (Telegram chat, email) once.
 */
export async function afterEscalationOpened(ctx: AppContext, escalationId: string): Promise<void> {
  const escalation = await findEscalation(ctx.db, escalationId);
  if (!escalation) return;
  await ctx.events.publish({
    workspaceId: escalation.workspaceId,
    type: 'escalation.created',
    data: eventData(escalation),
  });
  if (escalation.action !== 'log_only') await assignPending(ctx, escalation.workspaceId);
  await notifyEscalation(ctx, escalationId, 'created');
}

/**
 * Automatic assignment: hands pending, unassigned escalations (oldest first) to online
 * operators with room, round-robin, while there is room. Nothing happens in `manual` workspaces.
 */
export async function assignPending(ctx: AppContext, workspaceId: string): Promise<void> {
  const settings = await getEscalationSettings(ctx.db, workspaceId).catch(() => undefined);
  if (settings?.assignment !== 'auto') return;
  const system: RequestContext = { ...ctx, actor: { type: 'system', label: 'round-robin assignment' } };
  for (let round = 0; round < 50; round++) {
    const assigned = await ctx.db.transaction(async (tx) => {
      const [next] = await tx
        .select({ id: escalations.id })
        .from(escalations)
        .where(
          and(
            eq(escalations.workspaceId, workspaceId),
            eq(escalations.status, 'pending'),
            isNull(escalations.assigneeId),
            sql`${escalations.action} <> 'log_only'`,
          ),
        )
        .orderBy(asc(escalations.createdAt))
        .limit(1)
        .for('update', { skipLocked: true });
      if (!next) return undefined;
      const userId = await pickOperator(tx, workspaceId, ctx.config.OPERATOR_PRESENCE_TIMEOUT_MS);
      if (!userId) return undefined;
      const [row] = await tx
        .update(escalations)
        .set({ assigneeId: userId, updatedAt: new Date() })
        .where(eq(escalations.id, next.id))
        .returning();
      if (!row) return undefined;
      await recordAudit(system, tx, {
        workspaceId,
        action: 'escalation.assign',
        targetType: 'escalation',
        targetId: row.id,
        before: { assigneeId: null },
        after: { assigneeId: userId, how: 'round-robin' },
      });
      return row;
    });
    if (!assigned) return;
    await ctx.events.publish({ workspaceId, type: 'escalation.updated', data: eventData(assigned) });
    await notifyEscalation(ctx, assigned.id, 'assigned');
  }
}

// ─── Reading ─────────────────────────────────────────────────────────────────

export interface EscalationQuery {
  workspaceId: string;
  status?: EscalationStatus[] | undefined;
  /** A user id, `me` (resolved by the route), or `none` for unassigned. */
  assigneeId?: string | undefined;
  channelId?: string | undefined;
  botId?: string | undefined;
  priority?: Priority | undefined;
  createdAfter?: Date | undefined;
  createdBefore?: Date | undefined;
  /** Only escalations at least this many minutes old. */
  olderThanMinutes?: number | undefined;
  overdue?: boolean | undefined;
  q?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}

const listColumns = {
  escalation: escalations,
  contact: {
    id: contacts.id,
    externalId: contacts.externalId,
    username: contacts.username,
    firstName: contacts.firstName,
    lastName: contacts.lastName,
  },
  channelType: channels.type,
  mode: conversations.mode,
  holderId: conversationHolders.userId,
};

type ListRow = {
  escalation: Escalation;
  contact: {
    id: string;
    externalId: string;
    username: string | null;
    firstName: string | null;
    lastName: string | null;
  };
  channelType: string;
  mode: 'bot' | 'waiting' | 'human' | 'closed';
  holderId: string | null;
};

function shape(row: ListRow) {
  return {
    ...row.escalation,
    channelType: row.channelType,
    contact: row.contact,
    conversation: { id: row.escalation.conversationId, mode: row.mode, holderId: row.holderId },
    overdue: row.escalation.status === 'pending' && row.escalation.slaDueAt.getTime() < Date.now(),
  };
}

export type EscalationView = ReturnType<typeof shape>;

function selectEscalations(db: DbOrTx) {
  return db
    .select(listColumns)
    .from(escalations)
    .innerJoin(contacts, eq(contacts.id, escalations.contactId))
    .innerJoin(channels, eq(channels.id, escalations.channelId))
    .innerJoin(conversations, eq(conversations.id, escalations.conversationId))
    .leftJoin(conversationHolders, eq(conversationHolders.conversationId, escalations.conversationId));
}

/** Newest first, keyset-paginated over (created_at, id). */
export async function findEscalations(ctx: { db: DbOrTx }, query: EscalationQuery) {
  const conditions: SQL[] = [eq(escalations.workspaceId, query.workspaceId)];
  if (query.status?.length) conditions.push(inArray(escalations.status, query.status));
  if (query.assigneeId === 'none') conditions.push(isNull(escalations.assigneeId));
  else if (query.assigneeId) conditions.push(eq(escalations.assigneeId, query.assigneeId));
  if (query.channelId) conditions.push(eq(escalations.channelId, query.channelId));
  if (query.botId) conditions.push(eq(escalations.botId, query.botId));
  if (query.priority) conditions.push(eq(escalations.priority, query.priority));
  if (query.createdAfter) conditions.push(gte(escalations.createdAt, query.createdAfter));
  if (query.createdBefore) conditions.push(lte(escalations.createdAt, query.createdBefore));
  if (query.olderThanMinutes !== undefined)
    conditions.push(lte(escalations.createdAt, new Date(Date.now() - query.olderThanMinutes * 60_000)));
  if (query.overdue)
    conditions.push(
      and(eq(escalations.status, 'pending'), lt(escalations.slaDueAt, new Date())) ?? sql`true`,
    );
  if (query.q) {
    const pattern = `%${query.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const match = or(
      ilike(escalations.reason, pattern),
      ilike(contacts.username, pattern),
      ilike(contacts.firstName, pattern),
      ilike(contacts.lastName, pattern),
      ilike(sql`${escalations.snapshot}::text`, pattern),
    );
    if (match) conditions.push(match);
  }
  const cursor = decodeCursor(query.cursor);
  if (cursor) {
    const older = or(
      lt(escalations.createdAt, cursor.createdAt),
      and(eq(escalations.createdAt, cursor.createdAt), lt(escalations.id, cursor.id)),
    );
    if (older) conditions.push(older);
  }
  const rows = await selectEscalations(ctx.db)
    .where(and(...conditions))
    .orderBy(desc(escalations.createdAt), desc(escalations.id))
    .limit(query.limit + 1);
  const page = toPage(
    rows.map((row) => ({ ...row, id: row.escalation.id, createdAt: row.escalation.createdAt })),
    query.limit,
  );
  return { items: page.items.map(shape), nextCursor: page.nextCursor };
}

async function findEscalation(db: DbOrTx, escalationId: string): Promise<Escalation | undefined> {
  const [row] = await db.select().from(escalations).where(eq(escalations.id, escalationId));
  return row;
}

export async function getEscalation(ctx: { db: DbOrTx }, workspaceId: string, escalationId: string) {
  const [row] = await selectEscalations(ctx.db).where(
    and(eq(escalations.workspaceId, workspaceId), eq(escalations.id, escalationId)),
  );
  if (!row) throw notFound('Escalation');
  return shape(row);
}

// ─── Changing ────────────────────────────────────────────────────────────────

export interface EscalationPatch {
  status?: EscalationStatus | undefined;
  priority?: Priority | undefined;
  /** A member with at least the operator role, or null to unassign. */
  assigneeId?: string | null | undefined;
}

/**
 * Changes status, priority or assignee. Resolved and cancelled escalations are closed (409);
 * closing one gives its conversation back to the bot (`closeConversationOf`, passed in by the
 * handoff feature, which also tells the customer).
 */
export async function updateEscalation(
  ctx: RequestContext,
  options: {
    workspaceId: string;
    escalationId: string;
    patch: EscalationPatch;
    /** Runs in the transaction when the escalation is resolved or cancelled. */
    onClose?: (tx: DbOrTx, escalation: Escalation) => Promise<void>;
  },
): Promise<EscalationView> {
  const { patch } = options;
  const result = await ctx.db.transaction(async (tx) => {
    // Locks in the order handoff takes them (conversation, then escalation), so a PATCH and a
    // takeover of the same conversation cannot deadlock.
    const [target] = await tx
      .select({ conversationId: escalations.conversationId })
      .from(escalations)
      .where(and(eq(escalations.workspaceId, options.workspaceId), eq(escalations.id, options.escalationId)));
    if (!target) throw notFound('Escalation');
    await tx
      .select({ id: conversations.id })
      .from(conversations)
      .where(eq(conversations.id, target.conversationId))
      .for('update');
    const [before] = await tx
      .select()
      .from(escalations)
      .where(and(eq(escalations.workspaceId, options.workspaceId), eq(escalations.id, options.escalationId)))
      .for('update');
    if (!before) throw notFound('Escalation');
    if (!isOpen(before.status) && (patch.status !== undefined || patch.assigneeId !== undefined)) {
      throw new AppError('CONFLICT', {
        message: `The escalation is ${before.status}; raise a new one if the customer needs help again`,
      });
    }
    if (patch.assigneeId) await assertOperator(tx, options.workspaceId, patch.assigneeId);
    const now = new Date();
    const set: Partial<typeof escalations.$inferInsert> = { updatedAt: now };
    if (patch.priority !== undefined) set.priority = patch.priority;
    if (patch.assigneeId !== undefined) set.assigneeId = patch.assigneeId;
    if (patch.status !== undefined && patch.status !== before.status) {
      set.status = patch.status;
      if (patch.status === 'contacted' || patch.status === 'in_progress')
        set.firstResponseAt = before.firstResponseAt ?? now;
      if (patch.status === 'resolved') set.resolvedAt = now;
    }
    const [after] = await tx.update(escalations).set(set).where(eq(escalations.id, before.id)).returning();
    if (!after) throw notFound('Escalation');
    await auditChange(ctx, tx, before, after);
    if (!isOpen(after.status) && isOpen(before.status)) await options.onClose?.(tx, after);
    return { before, after };
  });
  await announceChange(ctx, result.before, result.after);
  return getEscalation(ctx, options.workspaceId, options.escalationId);
}

/** Audit rows for one change: status, assignment and priority each under their own action. */
export async function auditChange(ctx: RequestContext, tx: DbOrTx, before: Escalation, after: Escalation) {
  const base = { workspaceId: after.workspaceId, targetType: 'escalation', targetId: after.id };
  if (before.status !== after.status) {
    await recordAudit(ctx, tx, {
      ...base,
      action: `escalation.${after.status === 'resolved' ? 'resolve' : after.status === 'cancelled' ? 'cancel' : 'status'}`,
      before: { status: before.status },
      after: { status: after.status },
    });
  }
  if (before.assigneeId !== after.assigneeId) {
    await recordAudit(ctx, tx, {
      ...base,
      action: 'escalation.assign',
      before: { assigneeId: before.assigneeId },
      after: { assigneeId: after.assigneeId },
    });
  }
  if (before.priority !== after.priority) {
    await recordAudit(ctx, tx, {
      ...base,
      action: 'escalation.priority',
      before: { priority: before.priority },
      after: { priority: after.priority },
    });
  }
}

/** Events, analytics and mail after a committed change. */
export async function announceChange(ctx: AppContext, before: Escalation, after: Escalation) {
  await ctx.events.publish({
    workspaceId: after.workspaceId,
    type: 'escalation.updated',
    data: eventData(after),
  });
  if (after.status === 'resolved' && before.status !== 'resolved') {
    ctx.analytics.track({
      workspaceId: after.workspaceId,
      botId: after.botId,
      channelId: after.channelId,
      contactId: after.contactId,
      type: 'escalation_resolved',
      data: {
        escalationId: after.id,
        resolutionMs: (after.resolvedAt ?? after.updatedAt).getTime() - after.createdAt.getTime(),
      },
    });
  }
  if (after.assigneeId && after.assigneeId !== before.assigneeId)
    await notifyEscalation(ctx, after.id, 'assigned');
  // Someone was freed: automatic assignment may have work for them.
  if (!isOpen(after.status) || after.assigneeId === null) await assignPending(ctx, after.workspaceId);
}

export function isOpen(status: EscalationStatus): boolean {
  return (OPEN_STATUSES as readonly string[]).includes(status);
}

async function assertOperator(tx: DbOrTx, workspaceId: string, userId: string) {
  const [member] = await tx
    .select({ role: memberships.role })
    .from(memberships)
    .where(and(eq(memberships.workspaceId, workspaceId), eq(memberships.userId, userId)));
  if (!member || !OPERATOR_ROLES.includes(member.role))
    throw new AppError('BAD_REQUEST', {
      message: 'The assignee must be a member with the operator, admin or owner role',
    });
}

/** Deletes an escalation and its notes (admin), audited. */
export async function deleteEscalation(ctx: RequestContext, workspaceId: string, escalationId: string) {
  const deleted = await ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .delete(escalations)
      .where(and(eq(escalations.workspaceId, workspaceId), eq(escalations.id, escalationId)))
      .returning();
    if (!row) throw notFound('Escalation');
    await recordAudit(ctx, tx, {
      workspaceId,
      action: 'escalation.delete',
      targetType: 'escalation',
      targetId: escalationId,
      before: { status: row.status, reason: row.reason, conversationId: row.conversationId },
    });
    return row;
  });
  await ctx.events.publish({
    workspaceId,
    type: 'escalation.updated',
    data: { escalationId, conversationId: deleted.conversationId, deleted: true },
  });
}

// ─── Notes ───────────────────────────────────────────────────────────────────

const noteColumns = {
  id: escalationNotes.id,
  escalationId: escalationNotes.escalationId,
  authorId: escalationNotes.authorId,
  authorEmail: users.email,
  body: escalationNotes.body,
  createdAt: escalationNotes.createdAt,
};

export async function addNote(
  ctx: RequestContext,
  options: { workspaceId: string; escalationId: string; authorId: string | null; body: string },
) {
  const note = await ctx.db.transaction(async (tx) => {
    const [escalation] = await tx
      .select({ id: escalations.id })
      .from(escalations)
      .where(and(eq(escalations.workspaceId, options.workspaceId), eq(escalations.id, options.escalationId)));
    if (!escalation) throw notFound('Escalation');
    const [row] = await tx
      .insert(escalationNotes)
      .values({
        workspaceId: options.workspaceId,
        escalationId: options.escalationId,
        authorId: options.authorId,
        body: options.body,
      })
      .returning({ id: escalationNotes.id });
    if (!row) throw new AppError('INTERNAL', { message: 'note insert returned nothing' });
    await recordAudit(ctx, tx, {
      workspaceId: options.workspaceId,
      action: 'escalation.note',
      targetType: 'escalation',
      targetId: options.escalationId,
      after: { noteId: row.id },
    });
    const [written] = await tx
      .select(noteColumns)
      .from(escalationNotes)
      .leftJoin(users, eq(users.id, escalationNotes.authorId))
      .where(eq(escalationNotes.id, row.id));
    if (!written) throw new AppError('INTERNAL', { message: 'note not found after insert' });
    return written;
  });
  await ctx.events.publish({
    workspaceId: options.workspaceId,
    type: 'escalation.note',
    data: { escalationId: note.escalationId, noteId: note.id, authorId: note.authorId },
    // Internal notes are for people who work the queue; viewers see that one was added.
    restricted: { body: note.body },
  });
  return note;
}

/** Notes of an escalation, oldest first, keyset-paginated. */
export async function findNotes(
  ctx: { db: DbOrTx },
  options: { workspaceId: string; escalationId: string; limit: number; cursor?: string | undefined },
) {
  const [escalation] = await ctx.db
    .select({ id: escalations.id })
    .from(escalations)
    .where(and(eq(escalations.workspaceId, options.workspaceId), eq(escalations.id, options.escalationId)));
  if (!escalation) throw notFound('Escalation');
  const cursor = decodeCursor(options.cursor);
  const conditions: SQL[] = [eq(escalationNotes.escalationId, options.escalationId)];
  if (cursor) {
    const newer = or(
      sql`${escalationNotes.createdAt} > ${cursor.createdAt}`,
      and(eq(escalationNotes.createdAt, cursor.createdAt), sql`${escalationNotes.id} > ${cursor.id}`),
    );
    if (newer) conditions.push(newer);
  }
  const rows = await ctx.db
    .select(noteColumns)
    .from(escalationNotes)
    .leftJoin(users, eq(users.id, escalationNotes.authorId))
    .where(and(...conditions))
    .orderBy(asc(escalationNotes.createdAt), asc(escalationNotes.id))
    .limit(options.limit + 1);
  return toPage(rows, options.limit);
}

// ─── Background: SLA reminders, notification catch-up ───────────────────────

/** Overdue escalations (pending past their SLA) get one reminder each. */
export async function remindOverdue(ctx: AppContext): Promise<number> {
  const due = await ctx.db
    .update(escalations)
    .set({ slaRemindedAt: new Date() })
    .where(
      and(
        eq(escalations.status, 'pending'),
        isNull(escalations.slaRemindedAt),
        lt(escalations.slaDueAt, new Date()),
        sql`${escalations.action} <> 'log_only'`,
      ),
    )
    .returning();
  for (const escalation of due) {
    await ctx.events.publish({
      workspaceId: escalation.workspaceId,
      type: 'escalation.sla_breached',
      data: eventData(escalation),
    });
    await notifyEscalation(ctx, escalation.id, 'overdue');
  }
  return due.length;
}

/** Escalations whose post-commit notification a crash interrupted. */
export async function notifyMissed(ctx: AppContext, olderThanMs: number): Promise<void> {
  const missed = await ctx.db
    .select({ id: escalations.id })
    .from(escalations)
    .where(and(isNull(escalations.notifiedAt), lt(escalations.createdAt, new Date(Date.now() - olderThanMs))))
    .limit(100);
  for (const row of missed) await afterEscalationOpened(ctx, row.id);
}

/** The fields of an escalation every realtime event about it carries. */
export function eventData(escalation: Escalation): Record<string, unknown> {
  return {
    escalationId: escalation.id,
    conversationId: escalation.conversationId,
    contactId: escalation.contactId,
    channelId: escalation.channelId,
    status: escalation.status,
    priority: escalation.priority,
    assigneeId: escalation.assigneeId,
    reason: escalation.reason,
    source: escalation.source,
    action: escalation.action,
    slaDueAt: escalation.slaDueAt.toISOString(),
  };
}
