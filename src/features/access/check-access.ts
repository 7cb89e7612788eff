import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { type Actor, type AppContext, type RequestContext, userActor } from '../../context.ts';
import { AppError } from '../../platform/errors.ts';
import type { RouteAccess } from '../../platform/http/create-server.ts';
import { API_KEY_PREFIX, findLiveApiKey, roleOfScopes } from '../api-keys/service.ts';
import { verifyAccessToken } from '../identity/access-tokens.ts';
import { findUserById } from '../identity/service.ts';
import type { Role } from '../workspaces/schema.ts';
import { findRole, getWorkspace, hasRole } from '../workspaces/service.ts';

declare module 'fastify' {
  interface FastifyRequest {
    actor?: Actor;
    /** The caller's role in the `:ws` workspace of the URL, set for workspace routes. */
    workspaceRole?: Role;
  }
  interface FastifyContextConfig {
    /**
     * Also accept the JWT as `?access_token=`: only for streams opened by EventSource, which
     * cannot set headers. (The token then appears in URLs; keep such routes few.)
     */
    queryToken?: boolean;
  }
}

const workspaceParam = z.object({ ws: z.uuid() });

/**
 * Authentication and authorization for every route, in one place (see RouteAccess):
 * 1. credentials: a JWT access token or an `sb_` API key in `Authorization: Bearer`
 *    (or `X-Api-Key`); none or invalid → 401 on non-public routes;
 * 2. workspace routes: the caller must belong to the `:ws` workspace — otherwise 404, the
 *    same answer as a workspace that does not exist, so ids of other tenants leak nothing;
 * 3. a member below the route's role → 403; an API key on a route with `apiKeys: false` → 403.
 */
export function createAccessCheck(ctx: AppContext) {
  return async function checkAccess(request: FastifyRequest, access: RouteAccess): Promise<void> {
    if (access === 'public') {
      // Public routes still learn who calls when credentials are valid (e.g. /api/auth/me-like
      // pages), but never fail on them — not even on a malformed header (say, the Basic
      // credentials of a proxy in front).
      const credentials = optionalCredentialsOf(request);
      if (credentials) request.actor = await authenticate(ctx, credentials).catch(() => undefined);
      return;
    }
    const credentials = credentialsOf(request);
    if (!credentials)
      throw new AppError('UNAUTHENTICATED', { message: 'Sign in first (missing Authorization header)' });
    const actor = await authenticate(ctx, credentials);
    request.actor = actor;
    if (access === 'user') {
      if (actor.type !== 'user')
        throw new AppError('FORBIDDEN', { message: 'API keys cannot call this route' });
      return;
    }
    const params = workspaceParam.safeParse(request.params);
    if (!params.success) throw new AppError('NOT_FOUND', { message: 'Workspace not found' });
    const role = await roleOf(ctx, actor, params.data.ws);
    if (!role) throw new AppError('NOT_FOUND', { message: 'Workspace not found' });
    if (actor.type === 'api_key' && access.apiKeys === false) {
      throw new AppError('FORBIDDEN', { message: 'API keys cannot call this route; only a member can' });
    }
    request.workspaceRole = role;
    if (!hasRole(role, access.role)) {
      throw new AppError('FORBIDDEN', {
        message: `This needs the ${access.role} role; you are ${role}`,
        details: { needed: access.role, actual: role },
      });
    }
  };
}

type Credentials = { kind: 'jwt'; token: string } | { kind: 'api_key'; secret: string };

/** Like credentialsOf, but a malformed header counts as none. */
function optionalCredentialsOf(request: FastifyRequest): Credentials | undefined {
  try {
    return credentialsOf(request);
  } catch {
    return undefined;
  }
}

function credentialsOf(request: FastifyRequest): Credentials | undefined {
  const apiKeyHeader = request.headers['x-api-key'];
  if (typeof apiKeyHeader === 'string' && apiKeyHeader) return { kind: 'api_key', secret: apiKeyHeader };
  const header = request.headers.authorization;
  if (!header) return queryTokenOf(request);
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match?.[1])
    throw new AppError('UNAUTHENTICATED', { message: 'Authorization header must be "Bearer <token>"' });
  const token = match[1];
  return token.startsWith(API_KEY_PREFIX) ? { kind: 'api_key', secret: token } : { kind: 'jwt', token };
}

/** `?access_token=` on routes that declare `queryToken` (EventSource streams). */
function queryTokenOf(request: FastifyRequest): Credentials | undefined {
  if (!request.routeOptions.config.queryToken) return undefined;
  const parsed = z.object({ access_token: z.string().min(1).max(4096) }).safeParse(request.query);
  if (!parsed.success) return undefined;
  const token = parsed.data.access_token;
  return token.startsWith(API_KEY_PREFIX) ? { kind: 'api_key', secret: token } : { kind: 'jwt', token };
}

async function authenticate(ctx: AppContext, credentials: Credentials): Promise<Actor> {
  if (credentials.kind === 'api_key') {
    const key = await findLiveApiKey(ctx.db, credentials.secret);
    if (!key) throw new AppError('UNAUTHENTICATED', { message: 'Invalid or revoked API key' });
    return {
      type: 'api_key',
      keyId: key.id,
      workspaceId: key.workspaceId,
      scopes: key.scopes,
      label: `api key ${key.prefix}…`,
    };
  }
  const claims = await verifyAccessToken(ctx.keys.jwt, credentials.token);
  // The user is read on every call so a disabled or deleted account stops working at once,
  // not when its token expires.
  const user = await findUserById(ctx.db, claims.sub);
  if (!user || user.disabledAt)
    throw new AppError('UNAUTHENTICATED', { message: 'Account no longer active' });
  return userActor(user);
}

async function roleOf(ctx: AppContext, actor: Actor, workspaceId: string): Promise<Role | undefined> {
  if (actor.type === 'api_key')
    return actor.workspaceId === workspaceId ? roleOfScopes(parseScopes(actor.scopes)) : undefined;
  if (actor.type !== 'user') return undefined;
  const role = await findRole(ctx.db, workspaceId, actor.userId);
  if (role) return role;
  // Platform super-admins may enter any existing workspace, as owner.
  if (actor.isSuperAdmin && (await workspaceExists(ctx, workspaceId))) return 'owner';
  return undefined;
}

async function workspaceExists(ctx: AppContext, workspaceId: string): Promise<boolean> {
  return getWorkspace(ctx, workspaceId).then(
    () => true,
    () => false,
  );
}

function parseScopes(scopes: string[]) {
  return z
    .array(z.enum(['read', 'write', 'admin']))
    .catch([])
    .parse(scopes);
}

/** The RequestContext of a request whose access check passed. */
export function contextOf(ctx: AppContext, request: FastifyRequest): RequestContext {
  return {
    ...ctx,
    actor: request.actor ?? { type: 'system', label: 'anonymous' },
    ip: request.ip,
    requestId: request.id,
  };
}

/** The signed-in user's id; for routes with access 'user' or a workspace role. */
export function userIdOf(request: FastifyRequest): string {
  if (request.actor?.type !== 'user')
    throw new AppError('FORBIDDEN', { message: 'Only a signed-in user may do this' });
  return request.actor.userId;
}

/** The caller's role in the URL's workspace; set by the access check on workspace routes. */
export function roleOfRequest(request: FastifyRequest): Role {
  if (!request.workspaceRole) throw new AppError('FORBIDDEN', { message: 'No workspace role' });
  return request.workspaceRole;
}
