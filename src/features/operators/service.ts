import { type AnyColumn, and, asc, eq, inArray, isNotNull, lt, ne, or, sql } from 'drizzle-orm';
import type { AppContext, RequestContext } from '../../context.ts';
import type { DbOrTx } from '../../platform/db/index.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import { recordAudit } from '../audit/service.ts';
import { conversations } from '../conversations/schema.ts';
import { escalations, OPEN_STATUSES } from '../escalations/schema.ts';
import { assignPending } from '../escalations/service.ts';
import { conversationHolders } from '../handoff/schema.ts';
import { users } from '../identity/schema.ts';
import { memberships, type Role } from '../workspaces/schema.ts';
import { operatorStates, type PresenceStatus } from './schema.ts';

/** Roles that may act as operators (take over, be assigned, report presence). */
export const OPERATOR_ROLES: Role[] = ['operator', 'admin', 'owner'];

export interface OperatorPresence {
  userId: string;
  email: string;
  name: string;
  role: Role;
  status: PresenceStatus;
  lastSeenAt: Date | null;
  /** Conversations held in human mode plus open escalations assigned, counted once each. */
  activeChats: number;
  maxChats: number;
}

/**
 * Conversations an operator is busy with: held in `human` mode, or with an open escalation
 * assigned to them — each conversation counted once. Used for the capacity of takeover and
 * automatic assignment alike.
 */
function activeChatsSql(workspaceId: string, userId: unknown) {
  return sql<number>`(select count(*)::int from (
      select ${conversationHolders.conversationId} as id from ${conversationHolders}
        where ${conversationHolders.workspaceId} = ${workspaceId} and ${conversationHolders.userId} = ${userId}
      union
      select ${escalations.conversationId} from ${escalations}
        where ${escalations.workspaceId} = ${workspaceId} and ${escalations.assigneeId} = ${userId}
          and ${escalations.status} in ('pending','contacted','in_progress')
    ) busy)`;
}

/** Effective status: a heartbeat older than the timeout counts as offline even before the sweeper runs. */
function effectiveStatus(timeoutMs: number) {
  return sql<PresenceStatus>`case
    when ${operatorStates.status} is null then 'offline'
    when ${operatorStates.lastSeenAt} is null
      or ${operatorStates.lastSeenAt} < now() - make_interval(secs => ${timeoutMs / 1000}) then 'offline'
    else ${operatorStates.status} end`;
}

/** Every member who may operate, with presence, load and capacity; online first. */
export async function listPresence(ctx: AppContext, workspaceId: string): Promise<OperatorPresence[]> {
  const rows = await ctx.db
    .select({
      userId: memberships.userId,
      email: users.email,
      name: users.name,
      role: memberships.role,
      status: effectiveStatus(ctx.config.OPERATOR_PRESENCE_TIMEOUT_MS),
      lastSeenAt: operatorStates.lastSeenAt,
      activeChats: activeChatsSql(workspaceId, memberships.userId),
      maxChats: sql<number>`coalesce(${operatorStates.maxChats}, 5)`,
    })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .leftJoin(
      operatorStates,
      and(
        eq(operatorStates.workspaceId, memberships.workspaceId),
        eq(operatorStates.userId, memberships.userId),
      ),
    )
    .where(and(eq(memberships.workspaceId, workspaceId), inArray(memberships.role, OPERATOR_ROLES)))
    .orderBy(asc(users.email));
  const rank: Record<PresenceStatus, number> = { online: 0, away: 1, offline: 2 };
  return rows
    .map((row) => ({ ...row, activeChats: Number(row.activeChats), maxChats: Number(row.maxChats) }))
    .sort((a, b) => rank[a.status] - rank[b.status]);
}

async function presenceOf(ctx: AppContext, workspaceId: string, userId: string) {
  const found = (await listPresence(ctx, workspaceId)).find((row) => row.userId === userId);
  if (!found) throw new AppError('FORBIDDEN', { message: 'Only operators, admins and owners have presence' });
  return found;
}

/**
 * Heartbeat: sets the caller's status and refreshes `lastSeenAt`. Going offline (or being
 * timed out) re-queues what the operator was assigned.
 */
export async function setPresence(
  ctx: RequestContext,
  options: { workspaceId: string; userId: string; status: PresenceStatus },
): Promise<OperatorPresence> {
  const role = await roleOfMember(ctx.db, options.workspaceId, options.userId);
  if (!role || !OPERATOR_ROLES.includes(role))
    throw new AppError('FORBIDDEN', { message: 'Only operators, admins and owners have presence' });
  const now = new Date();
  const [before] = await ctx.db
    .select({ status: effectiveStatus(ctx.config.OPERATOR_PRESENCE_TIMEOUT_MS) })
    .from(operatorStates)
    .where(
      and(eq(operatorStates.workspaceId, options.workspaceId), eq(operatorStates.userId, options.userId)),
    );
  await ctx.db
    .insert(operatorStates)
    .values({
      workspaceId: options.workspaceId,
      userId: options.userId,
      status: options.status,
      lastSeenAt: now,
    })
    .onConflictDoUpdate({
      target: [operatorStates.workspaceId, operatorStates.userId],
      set: { status: options.status, lastSeenAt: now, updatedAt: now },
    });
  const previous = before?.status ?? 'offline';
  if (options.status === 'offline' && previous !== 'offline') {
    await requeueAssignments(ctx, options.workspaceId, options.userId, 'went offline');
  }
  const presence = await presenceOf(ctx, options.workspaceId, options.userId);
  if (previous !== options.status) await publishPresence(ctx, options.workspaceId, presence);
  if (options.status === 'online' && previous !== 'online') {
    // Capacity just appeared: hand waiting escalations out (when the workspace assigns automatically).
    await assignPending(ctx, options.workspaceId);
  }
  return presence;
}

/** Sets a member's capacity (admin). */
export async function setMaxChats(
  ctx: RequestContext,
  options: { workspaceId: string; userId: string; maxChats: number },
): Promise<OperatorPresence> {
  const role = await roleOfMember(ctx.db, options.workspaceId, options.userId);
  if (!role) throw notFound('Member');
  if (!OPERATOR_ROLES.includes(role))
    throw new AppError('CONFLICT', { message: `A ${role} cannot operate; change the role first` });
  await ctx.db.transaction(async (tx) => {
    const [before] = await tx
      .select({ maxChats: operatorStates.maxChats })
      .from(operatorStates)
      .where(
        and(eq(operatorStates.workspaceId, options.workspaceId), eq(operatorStates.userId, options.userId)),
      );
    await tx
      .insert(operatorStates)
      .values({ workspaceId: options.workspaceId, userId: options.userId, maxChats: options.maxChats })
      .onConflictDoUpdate({
        target: [operatorStates.workspaceId, operatorStates.userId],
        set: { maxChats: options.maxChats, updatedAt: new Date() },
      });
    await recordAudit(ctx, tx, {
      workspaceId: options.workspaceId,
      action: 'operator.update',
      targetType: 'user',
      targetId: options.userId,
      before: { maxChats: before?.maxChats ?? 5 },
      after: { maxChats: options.maxChats },
    });
  });
  const presence = await presenceOf(ctx, options.workspaceId, options.userId);
  await publishPresence(ctx, options.workspaceId, presence);
  return presence;
}

async function roleOfMember(db: DbOrTx, workspaceId: string, userId: string): Promise<Role | undefined> {
  const [row] = await db
    .select({ role: memberships.role })
    .from(memberships)
    .where(and(eq(memberships.workspaceId, workspaceId), eq(memberships.userId, userId)));
  return row?.role;
}

/**
 * Refuses (409) unless the operator is online and has room for one more conversation
 * (`conversationId` itself is not counted: taking over one's own assignment needs no room).
 */
export async function assertCanTakeOver(
  ctx: AppContext,
  tx: DbOrTx,
  options: { workspaceId: string; userId: string; conversationId: string },
): Promise<void> {
  const [row] = await tx
    .select({
      status: effectiveStatus(ctx.config.OPERATOR_PRESENCE_TIMEOUT_MS),
      maxChats: operatorStates.maxChats,
      busy: sql<number>`(select count(*)::int from (
        select ${conversationHolders.conversationId} as id from ${conversationHolders}
          where ${conversationHolders.workspaceId} = ${options.workspaceId}
            and ${conversationHolders.userId} = ${options.userId}
            and ${conversationHolders.conversationId} <> ${options.conversationId}
        union
        select ${escalations.conversationId} from ${escalations}
          where ${escalations.workspaceId} = ${options.workspaceId} and ${escalations.assigneeId} = ${options.userId}
            and ${escalations.status} in ('pending','contacted','in_progress')
            and ${escalations.conversationId} <> ${options.conversationId}
      ) busy)`,
    })
    .from(operatorStates)
    .where(
      and(eq(operatorStates.workspaceId, options.workspaceId), eq(operatorStates.userId, options.userId)),
    );
  if (row === undefined || row.status !== 'online') {
    throw new AppError('CONFLICT', {
      message: 'Set your presence to online (PUT /api/workspaces/:ws/presence) before taking over',
      details: { reason: 'not_online', status: row?.status ?? 'offline' },
    });
  }
  if (Number(row.busy) >= row.maxChats) {
    throw new AppError('CONFLICT', {
      message: `You already handle ${row.busy} conversations, your maximum is ${row.maxChats}`,
      details: { reason: 'at_capacity', activeChats: Number(row.busy), maxChats: row.maxChats },
    });
  }
}

/**
 * Round-robin among online operators with room: the one assigned least recently (never
 * assigned first). Serialized per workspace with an advisory lock held to the end of the
 * transaction, so two escalations raised at once cannot both take an operator's last slot.
 */
export async function pickOperator(tx: DbOrTx, workspaceId: string, timeoutMs: number) {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`assign:${workspaceId}`}))`);
  const [row] = await tx
    .select({ userId: operatorStates.userId })
    .from(operatorStates)
    .innerJoin(
      memberships,
      and(
        eq(memberships.workspaceId, operatorStates.workspaceId),
        eq(memberships.userId, operatorStates.userId),
      ),
    )
    .where(
      and(
        eq(operatorStates.workspaceId, workspaceId),
        eq(operatorStates.status, 'online'),
        sql`${operatorStates.lastSeenAt} >= now() - make_interval(secs => ${timeoutMs / 1000})`,
        inArray(memberships.role, OPERATOR_ROLES),
        sql`${activeChatsSql(workspaceId, operatorStates.userId)} < ${operatorStates.maxChats}`,
      ),
    )
    .orderBy(sql`${operatorStates.lastAssignedAt} asc nulls first`, asc(operatorStates.userId))
    .limit(1);
  if (!row) return undefined;
  await tx
    .update(operatorStates)
    .set({ lastAssignedAt: new Date() })
    .where(and(eq(operatorStates.workspaceId, workspaceId), eq(operatorStates.userId, row.userId)));
  return row.userId;
}

/**
 * Marks operators without a heartbeat for OPERATOR_PRESENCE_TIMEOUT_MS offline and re-queues
 * their work. Runs from the escalations sweeper on one instance at a time.
 */
export async function sweepPresence(ctx: AppContext): Promise<number> {
  const cutoff = new Date(Date.now() - ctx.config.OPERATOR_PRESENCE_TIMEOUT_MS);
  const stale = await ctx.db
    .update(operatorStates)
    .set({ status: 'offline', updatedAt: new Date() })
    .where(
      and(
        ne(operatorStates.status, 'offline'),
        or(lt(operatorStates.lastSeenAt, cutoff), sql`${operatorStates.lastSeenAt} is null`),
      ),
    )
    .returning({ workspaceId: operatorStates.workspaceId, userId: operatorStates.userId });
  for (const row of stale) {
    const system: RequestContext = { ...ctx, actor: { type: 'system', label: 'presence timeout' } };
    await requeueAssignments(system, row.workspaceId, row.userId, 'presence timed out');
    await publishPresence(ctx, row.workspaceId, await presenceOf(ctx, row.workspaceId, row.userId));
    await assignPending(ctx, row.workspaceId);
  }
  await requeueFormerMembers(ctx);
  return stale.length;
}

/**
 * Someone removed from a workspace (or who left it) keeps none of its work: the escalations
 * assigned to them and the conversations they held go back to the queue on the next sweep.
 * Done here rather than in member removal so the workspaces feature needs no knowledge of
 * operators, and a removal that raced a takeover is caught all the same.
 */
async function requeueFormerMembers(ctx: AppContext): Promise<void> {
  const notMember = (workspaceId: AnyColumn, userId: AnyColumn) =>
    sql`not exists (select 1 from ${memberships} where ${memberships.workspaceId} = ${workspaceId} and ${memberships.userId} = ${userId})`;
  const holding = await ctx.db
    .selectDistinct({ workspaceId: conversationHolders.workspaceId, userId: conversationHolders.userId })
    .from(conversationHolders)
    .where(notMember(conversationHolders.workspaceId, conversationHolders.userId));
  const assigned = await ctx.db
    .selectDistinct({ workspaceId: escalations.workspaceId, userId: escalations.assigneeId })
    .from(escalations)
    .where(
      and(
        isNotNull(escalations.assigneeId),
        inArray(escalations.status, [...OPEN_STATUSES]),
        notMember(escalations.workspaceId, escalations.assigneeId),
      ),
    );
  const former = new Map<string, { workspaceId: string; userId: string }>();
  for (const row of [...holding, ...assigned])
    if (row.userId)
      former.set(`${row.workspaceId}/${row.userId}`, { workspaceId: row.workspaceId, userId: row.userId });
  for (const { workspaceId, userId } of former.values()) {
    const system: RequestContext = { ...ctx, actor: { type: 'system', label: 'member removed' } };
    await requeueAssignments(system, workspaceId, userId, 'no longer a member');
    await assignPending(ctx, workspaceId);
  }
}

/**
 * An operator left: their open escalations go back to the queue (unassigned, pending) and the
 * conversations they held wait for a human again. Audited as assignment changes.
 */
export async function requeueAssignments(
  ctx: RequestContext,
  workspaceId: string,
  userId: string,
  why: string,
): Promise<void> {
  const changed = await ctx.db.transaction(async (tx) => {
    const requeued = await tx
      .update(escalations)
      .set({ assigneeId: null, status: 'pending', updatedAt: new Date() })
      .where(
        and(
          eq(escalations.workspaceId, workspaceId),
          eq(escalations.assigneeId, userId),
          inArray(escalations.status, [...OPEN_STATUSES]),
        ),
      )
      .returning({ id: escalations.id, conversationId: escalations.conversationId });
    const held = await tx
      .delete(conversationHolders)
      .where(and(eq(conversationHolders.workspaceId, workspaceId), eq(conversationHolders.userId, userId)))
      .returning({ conversationId: conversationHolders.conversationId });
    const waiting =
      held.length === 0
        ? []
        : await tx
            .update(conversations)
            .set({ mode: 'waiting' })
            .where(
              and(
                inArray(
                  conversations.id,
                  held.map((row) => row.conversationId),
                ),
                eq(conversations.mode, 'human'),
              ),
            )
            .returning({ id: conversations.id });
    for (const escalation of requeued) {
      await recordAudit(ctx, tx, {
        workspaceId,
        action: 'escalation.requeue',
        targetType: 'escalation',
        targetId: escalation.id,
        before: { assigneeId: userId },
        after: { assigneeId: null, status: 'pending', why },
      });
    }
    for (const conversation of waiting) {
      await recordAudit(ctx, tx, {
        workspaceId,
        action: 'conversation.requeue',
        targetType: 'conversation',
        targetId: conversation.id,
        before: { mode: 'human', holder: userId },
        after: { mode: 'waiting', why },
      });
    }
    return { requeued, waiting };
  });
  for (const escalation of changed.requeued) {
    await ctx.events.publish({
      workspaceId,
      type: 'escalation.updated',
      data: {
        escalationId: escalation.id,
        conversationId: escalation.conversationId,
        status: 'pending',
        assigneeId: null,
        why,
      },
    });
  }
  for (const conversation of changed.waiting) {
    await ctx.events.publish({
      workspaceId,
      type: 'conversation.mode',
      data: { conversationId: conversation.id, mode: 'waiting', holderId: null },
    });
  }
}

async function publishPresence(ctx: AppContext, workspaceId: string, presence: OperatorPresence) {
  await ctx.events.publish({
    workspaceId,
    type: 'presence',
    data: {
      userId: presence.userId,
      status: presence.status,
      activeChats: presence.activeChats,
      maxChats: presence.maxChats,
    },
  });
}
