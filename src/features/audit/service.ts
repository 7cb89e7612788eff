import { and, desc, eq, gte, lt, lte, or, type SQL } from 'drizzle-orm';
import type { RequestContext } from '../../context.ts';
import type { DbOrTx } from '../../platform/db/index.ts';
import { decodeCursor, toPage } from '../../platform/http/cursor.ts';
import { type AuditChange, auditLog } from './schema.ts';

/** Fields never written to the audit log, whatever table they come from. */
const SECRET_FIELDS = new Set(['passwordHash', 'tokenHash', 'keyHash', 'token', 'secret', 'encryptedToken']);

export interface AuditEntry {
  workspaceId: string | null;
  action: string;
  targetType: string;
  targetId?: string | null;
  before?: object | null;
  after?: object | null;
}

/**
 * Records one mutating call. Call it inside the transaction of the change, so the change and
 * its record commit together or not at all.
 */
export async function recordAudit(ctx: RequestContext, tx: DbOrTx, entry: AuditEntry): Promise<void> {
  const { actor } = ctx;
  await tx.insert(auditLog).values({
    workspaceId: entry.workspaceId,
    actorType: actor.type,
    actorId: actor.type === 'user' ? actor.userId : actor.type === 'api_key' ? actor.keyId : null,
    actorLabel: actor.type === 'user' ? actor.email : actor.label,
    action: entry.action,
    targetType: entry.targetType,
    targetId: entry.targetId ?? null,
    diff: diffOf(entry.before ?? null, entry.after ?? null),
    ip: ctx.ip ?? null,
    requestId: ctx.requestId ?? null,
  });
}

/** The fields that differ between two versions of a record, secrets left out. */
export function diffOf(before: object | null, after: object | null): Record<string, AuditChange> {
  const left: Record<string, unknown> = before ? { ...before } : {};
  const right: Record<string, unknown> = after ? { ...after } : {};
  const diff: Record<string, AuditChange> = {};
  for (const key of new Set([...Object.keys(left), ...Object.keys(right)])) {
    if (SECRET_FIELDS.has(key) || key === 'updatedAt') continue;
    const a = normalize(left[key]);
    const b = normalize(right[key]);
    if (JSON.stringify(a) === JSON.stringify(b)) continue;
    diff[key] = { ...(a === undefined ? {} : { before: a }), ...(b === undefined ? {} : { after: b }) };
  }
  return diff;
}

function normalize(value: unknown): unknown {
  return value instanceof Date ? value.toISOString() : value;
}

export interface AuditQuery {
  workspaceId: string;
  action?: string | undefined;
  actorId?: string | undefined;
  targetType?: string | undefined;
  targetId?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  limit: number;
  cursor?: string | undefined;
}

/** Newest first, keyset-paginated. */
export async function findAuditEntries(ctx: { db: DbOrTx }, query: AuditQuery) {
  const cursor = decodeCursor(query.cursor);
  const conditions: SQL[] = [eq(auditLog.workspaceId, query.workspaceId)];
  if (query.action) conditions.push(eq(auditLog.action, query.action));
  if (query.actorId) conditions.push(eq(auditLog.actorId, query.actorId));
  if (query.targetType) conditions.push(eq(auditLog.targetType, query.targetType));
  if (query.targetId) conditions.push(eq(auditLog.targetId, query.targetId));
  if (query.from) conditions.push(gte(auditLog.createdAt, query.from));
  if (query.to) conditions.push(lte(auditLog.createdAt, query.to));
  if (cursor) {
    const older = or(
      lt(auditLog.createdAt, cursor.createdAt),
      and(eq(auditLog.createdAt, cursor.createdAt), lt(auditLog.id, cursor.id)),
    );
    if (older) conditions.push(older);
  }
  const rows = await ctx.db
    .select()
    .from(auditLog)
    .where(and(...conditions))
    .orderBy(desc(auditLog.createdAt), desc(auditLog.id))
    .limit(query.limit + 1);
  return toPage(rows, query.limit);
}
