import { and, desc, eq, isNull } from 'drizzle-orm';
import type { RequestContext } from '../../context.ts';
import { randomToken, sha256 } from '../../platform/crypto.ts';
import type { DbOrTx } from '../../platform/db/index.ts';
import { notFound } from '../../platform/errors.ts';
import { recordAudit } from '../audit/service.ts';
import type { Role } from '../workspaces/schema.ts';
import { type ApiKeyScope, apiKeys } from './schema.ts';

export type ApiKey = typeof apiKeys.$inferSelect;

/** Every key starts with this, so a leaked key is recognisable by secret scanners. */
export const API_KEY_PREFIX = 'sb_';

/**
 * The role a key acts with. Keys never act as owner: ownership (members, deletion) stays
 * with people.
 */
export function roleOfScopes(scopes: readonly ApiKeyScope[]): Role {
  if (scopes.includes('admin')) return 'admin';
  if (scopes.includes('write')) return 'operator';
  return 'viewer';
}

export function toPublicApiKey(key: ApiKey) {
  return {
    id: key.id,
    name: key.name,
    prefix: key.prefix,
    scopes: key.scopes,
    createdAt: key.createdAt,
    lastUsedAt: key.lastUsedAt,
    expiresAt: key.expiresAt,
    revokedAt: key.revokedAt,
  };
}

/** Creates a key and returns it in full, the only time it is ever shown. */
export async function createApiKey(
  ctx: RequestContext,
  options: { workspaceId: string; name: string; scopes: ApiKeyScope[]; expiresAt?: Date | undefined },
) {
  const secret = `${API_KEY_PREFIX}${randomToken(30)}`;
  return ctx.db.transaction(async (tx) => {
    const [key] = await tx
      .insert(apiKeys)
      .values({
        workspaceId: options.workspaceId,
        name: options.name.trim(),
        prefix: secret.slice(0, 10),
        keyHash: sha256(secret),
        scopes: [...new Set(options.scopes)],
        createdBy: ctx.actor.type === 'user' ? ctx.actor.userId : null,
        expiresAt: options.expiresAt ?? null,
      })
      .returning();
    if (!key) throw notFound('API key');
    await recordAudit(ctx, tx, {
      workspaceId: options.workspaceId,
      action: 'api_key.create',
      targetType: 'api_key',
      targetId: key.id,
      after: toPublicApiKey(key),
    });
    return { key, secret };
  });
}

export async function listApiKeys(ctx: { db: DbOrTx }, workspaceId: string) {
  return ctx.db
    .select()
    .from(apiKeys)
    .where(eq(apiKeys.workspaceId, workspaceId))
    .orderBy(desc(apiKeys.createdAt));
}

export async function revokeApiKey(ctx: RequestContext, options: { workspaceId: string; keyId: string }) {
  return ctx.db.transaction(async (tx) => {
    const [key] = await tx
      .update(apiKeys)
      .set({ revokedAt: new Date() })
      .where(
        and(
          eq(apiKeys.id, options.keyId),
          eq(apiKeys.workspaceId, options.workspaceId),
          isNull(apiKeys.revokedAt),
        ),
      )
      .returning();
    if (!key) throw notFound('API key');
    await recordAudit(ctx, tx, {
      workspaceId: options.workspaceId,
      action: 'api_key.revoke',
      targetType: 'api_key',
      targetId: key.id,
      before: { revokedAt: null },
      after: { revokedAt: key.revokedAt },
    });
    return key;
  });
}

/** Finds the live key a secret belongs to, and notes its use. */
export async function findLiveApiKey(db: DbOrTx, secret: string): Promise<ApiKey | undefined> {
  const [key] = await db
    .select()
    .from(apiKeys)
    .where(eq(apiKeys.keyHash, sha256(secret)));
  if (!key || key.revokedAt || (key.expiresAt && key.expiresAt <= new Date())) return undefined;
  // Last-used is informational; a minute's precision keeps writes off the hot path.
  if (!key.lastUsedAt || Date.now() - key.lastUsedAt.getTime() > 60_000) {
    await db.update(apiKeys).set({ lastUsedAt: new Date() }).where(eq(apiKeys.id, key.id));
  }
  return key;
}
