import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../../context.ts';
import { randomToken, safeEqual } from '../../platform/crypto.ts';
import { AppError } from '../../platform/errors.ts';
import { baseUrlOf } from '../../platform/http/base-url.ts';
import type { App } from '../../platform/http/create-server.ts';
import { commonErrors, dateTime } from '../../platform/http/schemas.ts';
import { contextOf, userIdOf } from '../access/check-access.ts';
import { listWorkspacesOf, registerWithInvitation } from '../workspaces/service.ts';
import {
  changePassword,
  createUser,
  findUserById,
  login,
  logout,
  refreshSession,
  requestPasswordReset,
  resetPassword,
  type Session,
  toPublicUser,
  updateProfile,
} from './service.ts';

export const REFRESH_COOKIE = 'sb_refresh';
export const CSRF_COOKIE = 'sb_csrf';
export const CSRF_HEADER = 'x-csrf-token';

export const emailSchema = z.email().max(254);
export const passwordSchema = z.string().min(8, 'must be at least 8 characters').max(200);
const languageSchema = z.enum(['en', 'ru']);

export const userSchema = z
  .object({
    id: z.uuid(),
    email: z.string(),
    name: z.string(),
    language: z.string(),
    isSuperAdmin: z.boolean(),
    createdAt: dateTime,
    lastLoginAt: dateTime.nullable(),
  })
  .meta({ id: 'User' });

const sessionSchema = z.object({
  accessToken: z.string(),
  expiresIn: z.number().describe('Seconds until the access token expires'),
  csrfToken: z.string().describe('Send it back as the x-csrf-token header on /api/auth/refresh and /logout'),
  user: userSchema,
});

/** Sign-up, sign-in, rotating refresh cookie, logout, password reset, own profile. */
export function registerIdentityRoutes(app: App, ctx: AppContext) {
  const tags = ['auth'];

  app.post(
    '/api/auth/register',
    {
      config: { access: 'public' },
      schema: {
        tags,
        summary: 'Create an account (and accept an invitation when a token is given)',
        body: z.strictObject({
          email: emailSchema.optional().describe('Required unless invitationToken is given'),
          password: passwordSchema,
          name: z.string().trim().max(120).optional(),
          invitationToken: z.string().min(10).max(200).optional(),
        }),
        response: { 201: sessionSchema, ...commonErrors },
      },
    },
    async (request, reply) => {
      const rc = contextOf(ctx, request);
      const { body } = request;
      let email: string;
      if (body.invitationToken) {
        const { user } = await registerWithInvitation(rc, {
          token: body.invitationToken,
          password: body.password,
          name: body.name,
        });
        email = user.email;
      } else {
        if (!ctx.config.SWITCHBOARD_ALLOW_SIGNUP) {
          throw new AppError('FORBIDDEN', {
            message: 'Sign-up is closed on this server; ask for an invitation',
          });
        }
        if (!body.email)
          throw new AppError('VALIDATION_ERROR', {
            message: 'email is required',
            details: [{ path: '/email', message: 'required' }],
          });
        const { email: wanted } = body;
        await ctx.db.transaction((tx) =>
          createUser(rc, tx, { email: wanted, password: body.password, name: body.name }),
        );
        email = wanted;
      }
      const session = await login(rc, {
        email,
        password: body.password,
        userAgent: request.headers['user-agent'],
      });
      return reply.code(201).send(startSession(reply, request, ctx, session));
    },
  );

  app.post(
    '/api/auth/login',
    {
      config: { access: 'public' },
      schema: {
        tags,
        summary: 'Sign in: returns an access token and sets the refresh cookie',
        body: z.strictObject({ email: emailSchema, password: z.string().min(1).max(200) }),
        response: { 200: sessionSchema, ...commonErrors },
      },
    },
    async (request, reply) => {
      const session = await login(contextOf(ctx, request), {
        email: request.body.email,
        password: request.body.password,
        userAgent: request.headers['user-agent'],
      });
      return startSession(reply, request, ctx, session);
    },
  );

  app.post(
    '/api/auth/refresh',
    {
      config: { access: 'public' },
      schema: {
        tags,
        summary: 'Rotate the refresh cookie and get a new access token (needs x-csrf-token)',
        response: { 200: sessionSchema, ...commonErrors },
      },
    },
    async (request, reply) => {
      const refreshToken = cookieAuthenticated(request);
      if (!refreshToken) throw new AppError('UNAUTHENTICATED', { message: 'No session; sign in' });
      const session = await refreshSession(contextOf(ctx, request), {
        refreshToken,
        userAgent: request.headers['user-agent'],
      }).catch((error: unknown) => {
        clearSession(reply);
        throw error;
      });
      return startSession(reply, request, ctx, session);
    },
  );

  app.post(
    '/api/auth/logout',
    {
      config: { access: 'public' },
      schema: {
        tags,
        summary: 'End the session of the refresh cookie',
        response: { 204: z.null(), ...commonErrors },
      },
    },
    async (request, reply) => {
      await logout(contextOf(ctx, request), { refreshToken: cookieAuthenticated(request) });
      clearSession(reply);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/auth/password-reset',
    {
      config: { access: 'public' },
      schema: {
        tags,
        summary: 'Mail a password reset link (always answers 202)',
        body: z.strictObject({ email: emailSchema }),
        response: { 202: z.object({ ok: z.literal(true) }), ...commonErrors },
      },
    },
    async (request, reply) => {
      await requestPasswordReset(contextOf(ctx, request), {
        email: request.body.email,
        baseUrl: baseUrlOf(ctx.config.PUBLIC_URL, request),
      });
      return reply.code(202).send({ ok: true as const });
    },
  );

  app.post(
    '/api/auth/password-reset/confirm',
    {
      config: { access: 'public' },
      schema: {
        tags,
        summary: 'Set a new password with the mailed token; ends all sessions',
        body: z.strictObject({ token: z.string().min(10).max(200), password: passwordSchema }),
        response: { 200: z.object({ ok: z.literal(true) }), ...commonErrors },
      },
    },
    async (request) => {
      await resetPassword(contextOf(ctx, request), request.body);
      return { ok: true as const };
    },
  );

  app.get(
    '/api/auth/me',
    {
      config: { access: 'user' },
      schema: {
        tags,
        summary: 'The signed-in user and their workspaces',
        security: [{ bearer: [] }],
        response: {
          200: z.object({
            user: userSchema,
            workspaces: z.array(
              z.object({ id: z.uuid(), name: z.string(), slug: z.string(), role: z.string() }),
            ),
          }),
          ...commonErrors,
        },
      },
    },
    async (request) => {
      const userId = userIdOf(request);
      const user = await findUserById(ctx.db, userId);
      if (!user) throw new AppError('UNAUTHENTICATED', { message: 'Account no longer exists' });
      const workspaces = await listWorkspacesOf(contextOf(ctx, request), userId);
      return {
        user: toPublicUser(user),
        workspaces: workspaces.map(({ id, name, slug, role }) => ({ id, name, slug, role })),
      };
    },
  );

  app.patch(
    '/api/auth/me',
    {
      config: { access: 'user' },
      schema: {
        tags,
        summary: 'Update own name and language',
        security: [{ bearer: [] }],
        body: z.strictObject({
          name: z.string().trim().max(120).optional(),
          language: languageSchema.optional(),
        }),
        response: { 200: userSchema, ...commonErrors },
      },
    },
    async (request) =>
      toPublicUser(
        await updateProfile(contextOf(ctx, request), { userId: userIdOf(request), ...request.body }),
      ),
  );

  app.post(
    '/api/auth/change-password',
    {
      config: { access: 'user' },
      schema: {
        tags,
        summary: 'Change own password; ends all sessions',
        security: [{ bearer: [] }],
        body: z.strictObject({ currentPassword: z.string().min(1).max(200), newPassword: passwordSchema }),
        response: { 200: z.object({ ok: z.literal(true) }), ...commonErrors },
      },
    },
    async (request) => {
      await changePassword(contextOf(ctx, request), { userId: userIdOf(request), ...request.body });
      return { ok: true as const };
    },
  );
}

/**
 * The refresh token rides in an httpOnly SameSite=Strict cookie scoped to /api/auth. Calls
 * authenticated by that cookie must also echo the CSRF cookie in a header (double submit):
 * a cross-site form cannot read the cookie to copy it.
 */
function cookieAuthenticated(request: FastifyRequest): string | undefined {
  const refresh = request.cookies[REFRESH_COOKIE];
  if (!refresh) return undefined;
  const cookie = request.cookies[CSRF_COOKIE];
  const header = request.headers[CSRF_HEADER];
  if (!cookie || typeof header !== 'string' || !safeEqual(cookie, header)) {
    throw new AppError('FORBIDDEN', {
      message: `Missing or wrong ${CSRF_HEADER} header`,
      details: { reason: 'csrf' },
    });
  }
  return refresh;
}

function startSession(reply: FastifyReply, request: FastifyRequest, ctx: AppContext, session: Session) {
  const secure = request.protocol === 'https' || (ctx.config.PUBLIC_URL?.startsWith('https:') ?? false);
  const csrfToken = randomToken(18);
  void reply.setCookie(REFRESH_COOKIE, session.refreshToken, {
    httpOnly: true,
    sameSite: 'strict',
    secure,
    path: '/api/auth',
    expires: session.refreshTokenExpiresAt,
  });
  void reply.setCookie(CSRF_COOKIE, csrfToken, {
    httpOnly: false,
    sameSite: 'strict',
    secure,
    path: '/',
    expires: session.refreshTokenExpiresAt,
  });
  return {
    accessToken: session.accessToken,
    expiresIn: session.accessTokenExpiresIn,
    csrfToken,
    user: toPublicUser(session.user),
  };
}

function clearSession(reply: FastifyReply) {
  void reply.clearCookie(REFRESH_COOKIE, { path: '/api/auth' });
  void reply.clearCookie(CSRF_COOKIE, { path: '/' });
}
