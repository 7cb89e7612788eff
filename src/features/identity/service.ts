import { and, eq, isNull } from 'drizzle-orm';
import { v7 as uuidv7 } from 'uuid';
import type { AppContext, RequestContext } from '../../context.ts';
import { randomToken, sha256 } from '../../platform/crypto.ts';
import type { DbOrTx } from '../../platform/db/index.ts';
import { AppError } from '../../platform/errors.ts';
import { recordAudit } from '../audit/service.ts';
import { signAccessToken } from './access-tokens.ts';
import { hashPassword, verifyPassword } from './passwords.ts';
import { passwordResets, refreshTokens, users } from './schema.ts';

export type User = typeof users.$inferSelect;

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** The public view of a user: never the hash. */
export function toPublicUser(user: User) {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    language: user.language,
    isSuperAdmin: user.isSuperAdmin,
    createdAt: user.createdAt,
    lastLoginAt: user.lastLoginAt,
  };
}

export async function findUserByEmail(db: DbOrTx, email: string): Promise<User | undefined> {
  const [user] = await db
    .select()
    .from(users)
    .where(eq(users.email, normalizeEmail(email)));
  return user;
}

export async function findUserById(db: DbOrTx, id: string): Promise<User | undefined> {
  const [user] = await db.select().from(users).where(eq(users.id, id));
  return user;
}

// ─── Users ───────────────────────────────────────────────────────────────────

export interface CreateUserOptions {
  email: string;
  password: string;
  name?: string | undefined;
  isSuperAdmin?: boolean | undefined;
}

/** Creates a user; CONFLICT when the email is taken. Runs inside the caller's transaction. */
export async function createUser(ctx: RequestContext, tx: DbOrTx, options: CreateUserOptions): Promise<User> {
  const email = normalizeEmail(options.email);
  if (await findUserByEmail(tx, email)) {
    throw new AppError('CONFLICT', { message: 'An account with this email already exists' });
  }
  const [user] = await tx
    .insert(users)
    .values({
      email,
      name: options.name?.trim() ?? '',
      passwordHash: await hashPassword(options.password),
      isSuperAdmin: options.isSuperAdmin ?? false,
    })
    .returning();
  if (!user) throw new AppError('INTERNAL', { message: 'user insert returned nothing' });
  await recordAudit(ctx, tx, {
    workspaceId: null,
    action: 'user.create',
    targetType: 'user',
    targetId: user.id,
    after: toPublicUser(user),
  });
  return user;
}

export async function setPassword(ctx: RequestContext, tx: DbOrTx, userId: string, password: string) {
  await tx
    .update(users)
    .set({ passwordHash: await hashPassword(password) })
    .where(eq(users.id, userId));
  // A new password ends every session: whoever knew the old one is signed out.
  await tx
    .update(refreshTokens)
    .set({ revokedAt: new Date() })
    .where(and(eq(refreshTokens.userId, userId), isNull(refreshTokens.revokedAt)));
  await recordAudit(ctx, tx, {
    workspaceId: null,
    action: 'user.password_change',
    targetType: 'user',
    targetId: userId,
  });
}

export async function updateProfile(
  ctx: RequestContext,
  options: { userId: string; name?: string | undefined; language?: string | undefined },
): Promise<User> {
  return ctx.db.transaction(async (tx) => {
    const before = await findUserById(tx, options.userId);
    if (!before) throw new AppError('NOT_FOUND', { message: 'User not found' });
    const [after] = await tx
      .update(users)
      .set({
        // Always something to set: an empty patch (`{}`) is valid input, and drizzle throws
        // "No values to set" on an empty SET (a 500 before).
        updatedAt: new Date(),
        ...(options.name === undefined ? {} : { name: options.name.trim() }),
        ...(options.language === undefined ? {} : { language: options.language }),
      })
      .where(eq(users.id, options.userId))
      .returning();
    if (!after) throw new AppError('NOT_FOUND', { message: 'User not found' });
    await recordAudit(ctx, tx, {
      workspaceId: null,
      action: 'user.update',
      targetType: 'user',
      targetId: after.id,
      before: toPublicUser(before),
      after: toPublicUser(after),
    });
    return after;
  });
}

// ─── Sessions ────────────────────────────────────────────────────────────────

export interface Session {
  accessToken: string;
  accessTokenExpiresIn: number;
  refreshToken: string;
  refreshTokenExpiresAt: Date;
  user: User;
}

const LOGIN_PER_ACCOUNT = { name: 'login-account', points: 10, durationSeconds: 15 * 60 };
const LOGIN_PER_IP = { name: 'login-ip', points: 30, durationSeconds: 5 * 60 };

/**
 * Checks the password and opens a session (a new refresh-token family). Failed attempts are
 * throttled per account and per IP through the rate-limiter port, so with REDIS_URL the
 * limits hold across instances.
 */
export async function login(
  ctx: RequestContext,
  options: { email: string; password: string; userAgent?: string | undefined },
): Promise<Session> {
  const email = normalizeEmail(options.email);
  const perAccount = ctx.ports.rateLimiter.limiter(LOGIN_PER_ACCOUNT);
  const perIp = ctx.ports.rateLimiter.limiter(LOGIN_PER_IP);
  const ipKey = ctx.ip ?? 'unknown';
  for (const state of [await perAccount.peek(email), await perIp.peek(ipKey)]) {
    if (state.remaining <= 0 && state.retryAfterMs > 0) throw tooManyAttempts(state.retryAfterMs);
  }
  const user = await findUserByEmail(ctx.db, email);
  const ok = await verifyPassword(user?.passwordHash ?? null, options.password);
  if (!user || !ok || user.disabledAt) {
    const [account, ip] = [await perAccount.consume(email), await perIp.consume(ipKey)];
    await ctx.db.transaction((tx) =>
      recordAudit(ctx, tx, {
        workspaceId: null,
        action: 'auth.login_failed',
        targetType: 'user',
        targetId: user?.id ?? null,
        after: { email },
      }),
    );
    if (!account.allowed || !ip.allowed)
      throw tooManyAttempts(Math.max(account.retryAfterMs, ip.retryAfterMs));
    throw new AppError('UNAUTHENTICATED', { message: 'Wrong email or password' });
  }
  await perAccount.reset(email);
  return ctx.db.transaction(async (tx) => {
    const [updated] = await tx
      .update(users)
      .set({ lastLoginAt: new Date() })
      .where(eq(users.id, user.id))
      .returning();
    const session = await openSession(ctx, tx, updated ?? user, uuidv7(), options.userAgent);
    await recordAudit(ctx, tx, {
      workspaceId: null,
      action: 'auth.login',
      targetType: 'user',
      targetId: user.id,
    });
    return session;
  });
}

function tooManyAttempts(retryAfterMs: number): AppError {
  const retryAfterSeconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new AppError('RATE_LIMITED', {
    message: `Too many sign-in attempts; try again in ${retryAfterSeconds} s`,
    details: { retryAfterSeconds },
  });
}

async function openSession(
  ctx: AppContext & { ip?: string | undefined },
  tx: DbOrTx,
  user: User,
  familyId: string,
  userAgent: string | undefined,
): Promise<Session> {
  const refreshToken = randomToken();
  const refreshTokenExpiresAt = new Date(Date.now() + ctx.config.REFRESH_TOKEN_TTL_DAYS * 86_400_000);
  await tx.insert(refreshTokens).values({
    userId: user.id,
    familyId,
    tokenHash: sha256(refreshToken),
    expiresAt: refreshTokenExpiresAt,
    ip: ctx.ip ?? null,
    userAgent: userAgent?.slice(0, 300) ?? null,
  });
  const accessToken = await signAccessToken(
    ctx.keys.jwt,
    { userId: user.id, email: user.email, isSuperAdmin: user.isSuperAdmin },
    ctx.config.ACCESS_TOKEN_TTL_SECONDS,
  );
  return {
    accessToken,
    accessTokenExpiresIn: ctx.config.ACCESS_TOKEN_TTL_SECONDS,
    refreshToken,
    refreshTokenExpiresAt,
    user,
  };
}

/**
 * Rotates a refresh token. A token that was already rotated is a replay — someone holds a
 * copy — so its whole family is revoked and both holders must sign in again.
 */
export async function refreshSession(
  ctx: RequestContext,
  options: { refreshToken: string; userAgent?: string | undefined },
): Promise<Session> {
  const tokenHash = sha256(options.refreshToken);
  const outcome = await ctx.db.transaction(async (tx) => {
    const [current] = await tx.select().from(refreshTokens).where(eq(refreshTokens.tokenHash, tokenHash));
    if (!current || current.revokedAt || current.expiresAt <= new Date()) return { kind: 'invalid' as const };
    // The conditional update is the rotation: of two concurrent refreshes only one wins.
    const [rotated] = await tx
      .update(refreshTokens)
      .set({ rotatedAt: new Date() })
      .where(
        and(
          eq(refreshTokens.id, current.id),
          isNull(refreshTokens.rotatedAt),
          isNull(refreshTokens.revokedAt),
        ),
      )
      .returning();
    if (!rotated) return { kind: 'reuse' as const, familyId: current.familyId, userId: current.userId };
    const user = await findUserById(tx, current.userId);
    if (!user || user.disabledAt) return { kind: 'invalid' as const };
    return {
      kind: 'ok' as const,
      session: await openSession(ctx, tx, user, current.familyId, options.userAgent),
    };
  });
  if (outcome.kind === 'ok') return outcome.session;
  if (outcome.kind === 'reuse') {
    await ctx.db.transaction(async (tx) => {
      await revokeFamily(tx, outcome.familyId);
      await recordAudit(ctx, tx, {
        workspaceId: null,
        action: 'auth.refresh_reuse_detected',
        targetType: 'user',
        targetId: outcome.userId,
      });
    });
    ctx.logger.warn({ userId: outcome.userId }, 'refresh token reuse: session family revoked');
  }
  throw new AppError('UNAUTHENTICATED', { message: 'Session expired; sign in again' });
}

async function revokeFamily(tx: DbOrTx, familyId: string) {
  await tx
    .update(refreshTokens)
    .set({ revokedAt: new Date() })
    .where(and(eq(refreshTokens.familyId, familyId), isNull(refreshTokens.revokedAt)));
}

/** Ends the session the refresh token belongs to. Unknown tokens are ignored (idempotent). */
export async function logout(
  ctx: RequestContext,
  options: { refreshToken: string | undefined },
): Promise<void> {
  if (!options.refreshToken) return;
  const tokenHash = sha256(options.refreshToken);
  await ctx.db.transaction(async (tx) => {
    const [current] = await tx.select().from(refreshTokens).where(eq(refreshTokens.tokenHash, tokenHash));
    if (!current) return;
    await revokeFamily(tx, current.familyId);
    await recordAudit(ctx, tx, {
      workspaceId: null,
      action: 'auth.logout',
      targetType: 'user',
      targetId: current.userId,
    });
  });
}

// ─── Password reset ──────────────────────────────────────────────────────────

const RESET_TTL_MS = 60 * 60 * 1000;

/**
 * Mails a single-use reset link. Answers the same whether or not the account exists, so the
 * endpoint cannot be used to discover accounts.
 */
export async function requestPasswordReset(ctx: RequestContext, options: { email: string; baseUrl: string }) {
  const limiter = ctx.ports.rateLimiter.limiter({ name: 'password-reset', points: 5, durationSeconds: 3600 });
  const email = normalizeEmail(options.email);
  if (!(await limiter.consume(email)).allowed) return;
  const user = await findUserByEmail(ctx.db, email);
  if (!user || user.disabledAt) return;
  const token = randomToken();
  await ctx.db.transaction(async (tx) => {
    await tx.insert(passwordResets).values({
      userId: user.id,
      tokenHash: sha256(token),
      expiresAt: new Date(Date.now() + RESET_TTL_MS),
    });
    await recordAudit(ctx, tx, {
      workspaceId: null,
      action: 'auth.password_reset_requested',
      targetType: 'user',
      targetId: user.id,
    });
  });
  const link = `${options.baseUrl}/reset-password?token=${encodeURIComponent(token)}`;
  await ctx.mailer.send({
    to: user.email,
    subject: 'Reset your Switchboard password',
    text: `Someone asked to reset the password of ${user.email}.\n\nOpen this link within an hour to choose a new one:\n${link}\n\nIf it was not you, ignore this mail.`,
  });
}

export async function resetPassword(
  ctx: RequestContext,
  options: { token: string; password: string },
): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    const [used] = await tx
      .update(passwordResets)
      .set({ usedAt: new Date() })
      .where(and(eq(passwordResets.tokenHash, sha256(options.token)), isNull(passwordResets.usedAt)))
      .returning();
    if (!used || used.expiresAt <= new Date()) {
      throw new AppError('BAD_REQUEST', { message: 'This reset link is invalid or has expired' });
    }
    await setPassword(
      { ...ctx, actor: { type: 'system', label: 'password-reset' } },
      tx,
      used.userId,
      options.password,
    );
  });
}

export async function changePassword(
  ctx: RequestContext,
  options: { userId: string; currentPassword: string; newPassword: string },
): Promise<void> {
  const user = await findUserById(ctx.db, options.userId);
  if (!user || !(await verifyPassword(user.passwordHash, options.currentPassword))) {
    throw new AppError('BAD_REQUEST', {
      message: 'Current password is wrong',
      details: { field: 'currentPassword' },
    });
  }
  await ctx.db.transaction((tx) => setPassword(ctx, tx, user.id, options.newPassword));
}
