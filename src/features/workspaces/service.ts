import { and, asc, desc, eq, gt, isNull, sql } from 'drizzle-orm';
import type { RequestContext } from '../../context.ts';
import { randomToken, sha256 } from '../../platform/crypto.ts';
import type { DbOrTx } from '../../platform/db/index.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import { recordAudit } from '../audit/service.ts';
import { users } from '../identity/schema.ts';
import { createUser, findUserById, normalizeEmail, type User } from '../identity/service.ts';
import { invitations, memberships, ROLES, type Role, workspaces } from './schema.ts';

export type Workspace = typeof workspaces.$inferSelect;

export function roleRank(role: Role): number {
  return ROLES.indexOf(role);
}

export function hasRole(role: Role, needed: Role): boolean {
  return roleRank(role) >= roleRank(needed);
}

function requireUser(ctx: RequestContext): string {
  if (ctx.actor.type !== 'user')
    throw new AppError('FORBIDDEN', { message: 'Only a signed-in user may do this' });
  return ctx.actor.userId;
}

// ─── Workspaces ──────────────────────────────────────────────────────────────

export interface WorkspaceInput {
  name: string;
  slug?: string | undefined;
  timezone?: string | undefined;
  currency?: string | undefined;
  language?: string | undefined;
}

export function slugify(name: string): string {
  const slug = name
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9а-яё]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return slug || 'workspace';
}

/** Creates a workspace; the creator becomes its owner. */
export async function createWorkspace(ctx: RequestContext, input: WorkspaceInput & { ownerId?: string }) {
  const ownerId = input.ownerId ?? requireUser(ctx);
  return ctx.db.transaction(async (tx) => {
    const slug = await freeSlug(tx, input.slug ?? slugify(input.name), input.slug !== undefined);
    const [workspace] = await tx
      .insert(workspaces)
      .values({
        name: input.name.trim(),
        slug,
        ...(input.timezone ? { timezone: input.timezone } : {}),
        ...(input.currency ? { currency: input.currency } : {}),
        ...(input.language ? { language: input.language } : {}),
      })
      .returning();
    if (!workspace) throw new AppError('INTERNAL', { message: 'workspace insert returned nothing' });
    await tx.insert(memberships).values({ workspaceId: workspace.id, userId: ownerId, role: 'owner' });
    await recordAudit(ctx, tx, {
      workspaceId: workspace.id,
      action: 'workspace.create',
      targetType: 'workspace',
      targetId: workspace.id,
      after: workspace,
    });
    return { ...workspace, role: 'owner' as const };
  });
}

async function freeSlug(tx: DbOrTx, wanted: string, exact: boolean): Promise<string> {
  const taken = async (slug: string) =>
    (await tx.select({ id: workspaces.id }).from(workspaces).where(eq(workspaces.slug, slug))).length > 0;
  if (!(await taken(wanted))) return wanted;
  if (exact)
    throw new AppError('CONFLICT', { message: `Slug "${wanted}" is taken`, details: { field: 'slug' } });
  for (;;) {
    const candidate = `${wanted}-${randomToken(3)
      .toLowerCase()
      .replace(/[^a-z0-9]/g, 'x')}`;
    if (!(await taken(candidate))) return candidate;
  }
}

export async function listWorkspacesOf(ctx: RequestContext, userId: string) {
  const rows = await ctx.db
    .select({ workspace: workspaces, role: memberships.role })
    .from(memberships)
    .innerJoin(workspaces, eq(workspaces.id, memberships.workspaceId))
    .where(eq(memberships.userId, userId))
    .orderBy(asc(workspaces.name));
  return rows.map((row) => ({ ...row.workspace, role: row.role }));
}

export async function getWorkspace(ctx: { db: DbOrTx }, workspaceId: string): Promise<Workspace> {
  const [workspace] = await ctx.db.select().from(workspaces).where(eq(workspaces.id, workspaceId));
  if (!workspace) throw notFound('Workspace');
  return workspace;
}

export async function updateWorkspace(
  ctx: RequestContext,
  workspaceId: string,
  patch: Partial<WorkspaceInput>,
) {
  return ctx.db.transaction(async (tx) => {
    const before = await getWorkspace({ db: tx }, workspaceId);
    const slug = patch.slug && patch.slug !== before.slug ? await freeSlug(tx, patch.slug, true) : undefined;
    const [after] = await tx
      .update(workspaces)
      .set({
        // Always something to set: an empty patch (`{}`) is valid input, and drizzle throws
        // "No values to set" on an empty SET (a 500 before).
        updatedAt: new Date(),
        ...(patch.name === undefined ? {} : { name: patch.name.trim() }),
        ...(slug === undefined ? {} : { slug }),
        ...(patch.timezone === undefined ? {} : { timezone: patch.timezone }),
        ...(patch.currency === undefined ? {} : { currency: patch.currency }),
        ...(patch.language === undefined ? {} : { language: patch.language }),
      })
      .where(eq(workspaces.id, workspaceId))
      .returning();
    if (!after) throw notFound('Workspace');
    await recordAudit(ctx, tx, {
      workspaceId,
      action: 'workspace.update',
      targetType: 'workspace',
      targetId: workspaceId,
      before,
      after,
    });
    return after;
  });
}

export async function deleteWorkspace(ctx: RequestContext, workspaceId: string): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    const before = await getWorkspace({ db: tx }, workspaceId);
    // The audit row of the deletion goes with the workspace (cascade), so it is kept at
    // platform level, where super-admins can still read it.
    await recordAudit(ctx, tx, {
      workspaceId: null,
      action: 'workspace.delete',
      targetType: 'workspace',
      targetId: workspaceId,
      before,
    });
    await tx.delete(workspaces).where(eq(workspaces.id, workspaceId));
  });
}

// ─── Members ─────────────────────────────────────────────────────────────────

/** The caller's role in a workspace, or undefined when not a member. */
export async function findRole(db: DbOrTx, workspaceId: string, userId: string): Promise<Role | undefined> {
  const [row] = await db
    .select({ role: memberships.role })
    .from(memberships)
    .where(and(eq(memberships.workspaceId, workspaceId), eq(memberships.userId, userId)));
  return row?.role;
}

export async function listMembers(ctx: { db: DbOrTx }, workspaceId: string) {
  return ctx.db
    .select({
      userId: users.id,
      email: users.email,
      name: users.name,
      role: memberships.role,
      joinedAt: memberships.createdAt,
      lastLoginAt: users.lastLoginAt,
    })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(eq(memberships.workspaceId, workspaceId))
    .orderBy(asc(memberships.createdAt));
}

/**
 * Changes a member's role. Admins manage operators and viewers; only owners grant or take
 * admin and owner. The last owner cannot be demoted: a workspace always has one.
 */
export async function changeMemberRole(
  ctx: RequestContext,
  options: { workspaceId: string; userId: string; role: Role; callerRole: Role },
) {
  return ctx.db.transaction(async (tx) => {
    const current = await findRole(tx, options.workspaceId, options.userId);
    if (!current) throw notFound('Member');
    assertMayManage(options.callerRole, current, options.role);
    if (current === 'owner' && options.role !== 'owner') await assertNotLastOwner(tx, options.workspaceId);
    await tx
      .update(memberships)
      .set({ role: options.role })
      .where(and(eq(memberships.workspaceId, options.workspaceId), eq(memberships.userId, options.userId)));
    await recordAudit(ctx, tx, {
      workspaceId: options.workspaceId,
      action: 'member.role_change',
      targetType: 'user',
      targetId: options.userId,
      before: { role: current },
      after: { role: options.role },
    });
    return { userId: options.userId, role: options.role };
  });
}

export async function removeMember(
  ctx: RequestContext,
  options: { workspaceId: string; userId: string; callerRole: Role },
): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    const current = await findRole(tx, options.workspaceId, options.userId);
    if (!current) throw notFound('Member');
    const isSelf = ctx.actor.type === 'user' && ctx.actor.userId === options.userId;
    if (!isSelf) assertMayManage(options.callerRole, current, current);
    if (current === 'owner') await assertNotLastOwner(tx, options.workspaceId);
    await tx
      .delete(memberships)
      .where(and(eq(memberships.workspaceId, options.workspaceId), eq(memberships.userId, options.userId)));
    await recordAudit(ctx, tx, {
      workspaceId: options.workspaceId,
      action: isSelf ? 'member.leave' : 'member.remove',
      targetType: 'user',
      targetId: options.userId,
      before: { role: current },
    });
  });
}

function assertMayManage(callerRole: Role, targetRole: Role, newRole: Role) {
  const privileged = (role: Role) => role === 'admin' || role === 'owner';
  if ((privileged(targetRole) || privileged(newRole)) && callerRole !== 'owner') {
    throw new AppError('FORBIDDEN', { message: 'Only an owner may manage admins and owners' });
  }
}

async function assertNotLastOwner(tx: DbOrTx, workspaceId: string) {
  const [row] = await tx
    .select({ count: sql<number>`count(*)::int` })
    .from(memberships)
    .where(and(eq(memberships.workspaceId, workspaceId), eq(memberships.role, 'owner')));
  if ((row?.count ?? 0) <= 1) {
    throw new AppError('CONFLICT', {
      message: 'A workspace needs at least one owner; make someone else owner first',
    });
  }
}

// ─── Invitations ─────────────────────────────────────────────────────────────

const INVITATION_TTL_MS = 7 * 86_400_000;

export type Invitation = typeof invitations.$inferSelect;

/**
 * Invites someone by email. Returns the single-use token once (it is stored hashed) and
 * mails the link. Inviting an email again replaces the earlier open invitation.
 */
export async function inviteMember(
  ctx: RequestContext,
  options: { workspaceId: string; email: string; role: Role; callerRole: Role; baseUrl: string },
) {
  if (options.role === 'owner' || options.role === 'admin')
    assertMayManage(options.callerRole, options.role, options.role);
  const email = normalizeEmail(options.email);
  const token = randomToken();
  const inviterId = ctx.actor.type === 'user' ? ctx.actor.userId : null;
  const { invitation, workspace } = await ctx.db.transaction(async (tx) => {
    const workspace = await getWorkspace({ db: tx }, options.workspaceId);
    const [member] = await tx
      .select({ userId: memberships.userId })
      .from(memberships)
      .innerJoin(users, eq(users.id, memberships.userId))
      .where(and(eq(memberships.workspaceId, options.workspaceId), eq(users.email, email)));
    if (member)
      throw new AppError('CONFLICT', {
        message: `${email} is already a member`,
        details: { field: 'email' },
      });
    await tx
      .update(invitations)
      .set({ revokedAt: new Date() })
      .where(
        and(eq(invitations.workspaceId, options.workspaceId), eq(invitations.email, email), openInvitation()),
      );
    const [invitation] = await tx
      .insert(invitations)
      .values({
        workspaceId: options.workspaceId,
        email,
        role: options.role,
        tokenHash: sha256(token),
        invitedBy: inviterId,
        expiresAt: new Date(Date.now() + INVITATION_TTL_MS),
      })
      .returning();
    if (!invitation) throw new AppError('INTERNAL', { message: 'invitation insert returned nothing' });
    await recordAudit(ctx, tx, {
      workspaceId: options.workspaceId,
      action: 'invitation.create',
      targetType: 'invitation',
      targetId: invitation.id,
      after: { email, role: options.role },
    });
    return { invitation, workspace };
  });
  const url = `${options.baseUrl}/invite?token=${encodeURIComponent(token)}`;
  await ctx.mailer.send({
    to: email,
    subject: `You are invited to ${workspace.name} on Switchboard`,
    text: `You have been invited to join "${workspace.name}" as ${options.role}.\n\nAccept within 7 days:\n${url}\n`,
  });
  return { invitation, token, url };
}

function openInvitation() {
  return and(
    isNull(invitations.acceptedAt),
    isNull(invitations.revokedAt),
    gt(invitations.expiresAt, new Date()),
  );
}

export async function listInvitations(ctx: { db: DbOrTx }, workspaceId: string) {
  return ctx.db
    .select()
    .from(invitations)
    .where(and(eq(invitations.workspaceId, workspaceId), openInvitation()))
    .orderBy(desc(invitations.createdAt));
}

export async function revokeInvitation(
  ctx: RequestContext,
  options: { workspaceId: string; invitationId: string },
) {
  await ctx.db.transaction(async (tx) => {
    const [revoked] = await tx
      .update(invitations)
      .set({ revokedAt: new Date() })
      .where(
        and(
          eq(invitations.id, options.invitationId),
          eq(invitations.workspaceId, options.workspaceId),
          openInvitation(),
        ),
      )
      .returning();
    if (!revoked) throw notFound('Invitation');
    await recordAudit(ctx, tx, {
      workspaceId: options.workspaceId,
      action: 'invitation.revoke',
      targetType: 'invitation',
      targetId: revoked.id,
      before: { email: revoked.email, role: revoked.role },
    });
  });
}

async function findOpenInvitation(db: DbOrTx, token: string) {
  const [row] = await db
    .select({ invitation: invitations, workspaceName: workspaces.name })
    .from(invitations)
    .innerJoin(workspaces, eq(workspaces.id, invitations.workspaceId))
    .where(eq(invitations.tokenHash, sha256(token)));
  if (!row) throw new AppError('NOT_FOUND', { message: 'Invitation not found' });
  const { invitation } = row;
  if (invitation.acceptedAt || invitation.revokedAt || invitation.expiresAt <= new Date()) {
    throw new AppError('GONE', { message: 'This invitation was used, revoked or has expired' });
  }
  return row;
}

/** What the accept-invitation page shows before the invitee signs in or registers. */
export async function previewInvitation(ctx: { db: DbOrTx }, token: string) {
  const { invitation, workspaceName } = await findOpenInvitation(ctx.db, token);
  const [existing] = await ctx.db
    .select({ id: users.id })
    .from(users)
    .where(eq(users.email, invitation.email));
  return {
    workspaceName,
    email: invitation.email,
    role: invitation.role,
    expiresAt: invitation.expiresAt,
    hasAccount: existing !== undefined,
  };
}

/**
 * Accepts an invitation for `userId` (whose email must be the invited one). Single use: the
 * conditional update lets only one of two concurrent accepts through.
 */
export async function acceptInvitation(
  ctx: RequestContext,
  tx: DbOrTx,
  options: { token: string; user: User },
) {
  const { invitation } = await findOpenInvitation(tx, options.token);
  if (invitation.email !== options.user.email) {
    throw new AppError('FORBIDDEN', {
      message: `This invitation is for ${invitation.email}; sign in with that account`,
    });
  }
  const [accepted] = await tx
    .update(invitations)
    .set({ acceptedAt: new Date(), acceptedBy: options.user.id })
    .where(and(eq(invitations.id, invitation.id), openInvitation()))
    .returning();
  if (!accepted) throw new AppError('GONE', { message: 'This invitation was already used' });
  const existing = await findRole(tx, invitation.workspaceId, options.user.id);
  if (!existing) {
    await tx
      .insert(memberships)
      .values({ workspaceId: invitation.workspaceId, userId: options.user.id, role: invitation.role });
  } else if (roleRank(invitation.role) > roleRank(existing)) {
    await tx
      .update(memberships)
      .set({ role: invitation.role })
      .where(
        and(eq(memberships.workspaceId, invitation.workspaceId), eq(memberships.userId, options.user.id)),
      );
  }
  await recordAudit(ctx, tx, {
    workspaceId: invitation.workspaceId,
    action: 'invitation.accept',
    targetType: 'invitation',
    targetId: invitation.id,
    after: { userId: options.user.id, role: invitation.role },
  });
  return { workspaceId: invitation.workspaceId, role: invitation.role };
}

/** Accepts for a signed-in user. */
export async function acceptInvitationAsUser(ctx: RequestContext, options: { token: string }) {
  const userId = requireUser(ctx);
  return ctx.db.transaction(async (tx) => {
    const user = await findUserById(tx, userId);
    if (!user) throw new AppError('UNAUTHENTICATED', { message: 'Account no longer exists' });
    return acceptInvitation(ctx, tx, { token: options.token, user });
  });
}

/** Registers the invitee and accepts in one step (the account is created for the invited email). */
export async function registerWithInvitation(
  ctx: RequestContext,
  options: { token: string; password: string; name?: string | undefined },
) {
  return ctx.db.transaction(async (tx) => {
    const { invitation } = await findOpenInvitation(tx, options.token);
    const user = await createUser(ctx, tx, {
      email: invitation.email,
      password: options.password,
      name: options.name,
    });
    const membership = await acceptInvitation(ctx, tx, { token: options.token, user });
    return { user, membership };
  });
}
