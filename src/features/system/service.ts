import { eq } from 'drizzle-orm';
import type { AppContext, RequestContext } from '../../context.ts';
import { systemContext, userActor } from '../../context.ts';
import { randomToken, safeEqual, sha256 } from '../../platform/crypto.ts';
import { AppError } from '../../platform/errors.ts';
import { users } from '../identity/schema.ts';
import { createUser, findUserByEmail } from '../identity/service.ts';
import { createWorkspace } from '../workspaces/service.ts';
import { systemState } from './schema.ts';

const SETUP_KEY = 'setup_token';

export async function hasSuperAdmin(ctx: AppContext): Promise<boolean> {
  const rows = await ctx.db.select({ id: users.id }).from(users).where(eq(users.isSuperAdmin, true)).limit(1);
  return rows.length > 0;
}

/**
 * First start on an empty database: creates the owner from SWITCHBOARD_ADMIN_EMAIL/PASSWORD,
 * or else issues a one-time setup token and returns its URL for the log. Returns what it did.
 */
export async function ensureFirstOwner(
  ctx: AppContext,
): Promise<{ kind: 'ready' } | { kind: 'created'; email: string } | { kind: 'setup'; url: string }> {
  if (await hasSuperAdmin(ctx)) return { kind: 'ready' };
  const { SWITCHBOARD_ADMIN_EMAIL: email, SWITCHBOARD_ADMIN_PASSWORD: password } = ctx.config;
  const rc = systemContext(ctx, 'first-start');
  if (email && password) {
    const existing = await findUserByEmail(ctx.db, email);
    if (existing) {
      await ctx.db.update(users).set({ isSuperAdmin: true }).where(eq(users.id, existing.id));
      return { kind: 'created', email: existing.email };
    }
    const user = await ctx.db.transaction((tx) =>
      createUser(rc, tx, { email, password, name: 'Owner', isSuperAdmin: true }),
    );
    await createWorkspace(rc, { name: 'My workspace', ownerId: user.id });
    return { kind: 'created', email: user.email };
  }
  const token = randomToken(24);
  await ctx.db
    .insert(systemState)
    .values({ key: SETUP_KEY, value: { hash: sha256(token) } })
    .onConflictDoUpdate({ target: systemState.key, set: { value: { hash: sha256(token) } } });
  const base = ctx.config.PUBLIC_URL ?? `http://localhost:${ctx.config.PORT}`;
  return { kind: 'setup', url: `${base.replace(/\/+$/, '')}/setup?token=${token}` };
}

/** Completes first-run setup: the first super-admin and their workspace. */
export async function completeSetup(
  ctx: RequestContext,
  options: {
    token: string;
    email: string;
    password: string;
    name?: string | undefined;
    workspaceName: string;
  },
) {
  if (await hasSuperAdmin(ctx)) throw new AppError('GONE', { message: 'Setup is already complete; sign in' });
  const [row] = await ctx.db.select().from(systemState).where(eq(systemState.key, SETUP_KEY));
  const stored = row?.value;
  const hash =
    typeof stored === 'object' && stored !== null && 'hash' in stored ? String(stored.hash) : undefined;
  if (!hash || !safeEqual(hash, sha256(options.token))) {
    throw new AppError('FORBIDDEN', {
      message: 'Invalid setup token; use the URL printed in the server log',
    });
  }
  const user = await ctx.db.transaction(async (tx) => {
    const created = await createUser(ctx, tx, { ...options, isSuperAdmin: true });
    await tx.delete(systemState).where(eq(systemState.key, SETUP_KEY));
    return created;
  });
  // The new owner creates the workspace: the audit log names them, not an anonymous caller.
  const workspace = await createWorkspace(
    { ...ctx, actor: userActor(user) },
    { name: options.workspaceName, ownerId: user.id },
  );
  return { user, workspace };
}
