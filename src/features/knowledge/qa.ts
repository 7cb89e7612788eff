import { and, desc, eq, lt, or, type SQL, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { AppContext, RequestContext } from '../../context.ts';
import type { DbOrTx } from '../../platform/db/index.ts';
import { selectRows } from '../../platform/db/rows.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import { decodeCursor, toPage } from '../../platform/http/cursor.ts';
import { recordAudit } from '../audit/service.ts';
import { detectLanguage, normalizeQuestion } from './language.ts';
import { qaPairs } from './schema.ts';

/**
 * QA pairs: a question with its canned answer and a threshold. A customer's message matches a
 * pair by the larger of two similarities, both in 0..1:
 * - trigram `similarity()` of the normalised message and question (lower case, no
 *   punctuation, ё → е): catches typos and near-verbatim questions;
 * - Dice overlap of their full-text lexemes in the pair's language configuration
 *   (2·|common| / (|question| + |message|), stemmed, stop words dropped): catches the same
 *   question in other words order or forms ("how much is delivery" ~ "delivery, how much?").
 * The best enabled pair whose score reaches its own threshold answers.
 */

export type QaPair = typeof qaPairs.$inferSelect;

export interface QaMatch {
  pair: { id: string; question: string; answer: string; threshold: number };
  /** The match score in 0..1 (see the module comment), at least the pair's threshold. */
  score: number;
}

/**
 * The best enabled pair for `text` at or above its threshold, or null. Counts a hit on the
 * pair unless `countHit: false` (previews).
 */
export async function matchQaPair(
  ctx: Pick<AppContext, 'db'>,
  workspaceId: string,
  text: string,
  options: { countHit?: boolean } = {},
): Promise<QaMatch | null> {
  const message = text.replaceAll('\u0000', '').trim().slice(0, 1000);
  const norm = normalizeQuestion(message);
  if (norm === '') return null;
  const [best] = await selectRows(
    ctx.db,
    sql`
      select p.id, p.question, p.answer, p.threshold, s.score
      from qa_pairs p,
      lateral (
        select tsvector_to_array(to_tsvector(p.language::regconfig, p.question)) as q,
               tsvector_to_array(to_tsvector(p.language::regconfig, ${message})) as m
      ) l,
      lateral (
        select greatest(
          similarity(p.question_norm, ${norm}),
          case when cardinality(l.q) + cardinality(l.m) = 0 then 0
               else 2.0 * cardinality(array(select unnest(l.q) intersect select unnest(l.m)))
                    / (cardinality(l.q) + cardinality(l.m)) end
        )::real as score
      ) s
      where p.workspace_id = ${workspaceId} and p.enabled and s.score >= p.threshold
      order by s.score desc, p.created_at
      limit 1`,
    z.object({
      id: z.string(),
      question: z.string(),
      answer: z.string(),
      threshold: z.coerce.number(),
      score: z.coerce.number(),
    }),
  );
  if (!best) return null;
  if (options.countHit === false) {
    const { score, ...pair } = best;
    return { pair, score: Math.round(score * 1000) / 1000 };
  }
  await ctx.db
    .update(qaPairs)
    .set({ hitCount: sql`${qaPairs.hitCount} + 1`, lastHitAt: new Date() })
    .where(eq(qaPairs.id, best.id));
  const { score, ...pair } = best;
  return { pair, score: Math.round(score * 1000) / 1000 };
}

// ─── CRUD ────────────────────────────────────────────────────────────────────

export interface QaPairInput {
  question: string;
  answer: string;
  threshold?: number | undefined;
  enabled?: boolean | undefined;
}

function derived(question: string) {
  const normalized = normalizeQuestion(question);
  if (normalized === '') throw new AppError('BAD_REQUEST', { message: 'The question has no words' });
  return { questionNorm: normalized, language: detectLanguage(question) };
}

export async function createQaPair(ctx: RequestContext, options: QaPairInput & { workspaceId: string }) {
  return ctx.db.transaction(async (tx) => {
    const question = options.question.trim();
    const [pair] = await tx
      .insert(qaPairs)
      .values({
        workspaceId: options.workspaceId,
        question,
        answer: options.answer.trim(),
        ...derived(question),
        ...(options.threshold === undefined ? {} : { threshold: options.threshold }),
        ...(options.enabled === undefined ? {} : { enabled: options.enabled }),
        createdBy: ctx.actor.type === 'user' ? ctx.actor.userId : null,
      })
      .returning();
    if (!pair) throw new AppError('INTERNAL', { message: 'QA pair insert returned nothing' });
    await recordAudit(ctx, tx, {
      workspaceId: pair.workspaceId,
      action: 'qa_pair.create',
      targetType: 'qa_pair',
      targetId: pair.id,
      after: pair,
    });
    return pair;
  });
}

export async function listQaPairs(
  ctx: { db: DbOrTx },
  options: { workspaceId: string; limit: number; cursor?: string | undefined; enabled?: boolean | undefined },
) {
  const cursor = decodeCursor(options.cursor);
  const conditions: SQL[] = [eq(qaPairs.workspaceId, options.workspaceId)];
  if (options.enabled !== undefined) conditions.push(eq(qaPairs.enabled, options.enabled));
  if (cursor) {
    const older = or(
      lt(qaPairs.createdAt, cursor.createdAt),
      and(eq(qaPairs.createdAt, cursor.createdAt), lt(qaPairs.id, cursor.id)),
    );
    if (older) conditions.push(older);
  }
  const rows = await ctx.db
    .select()
    .from(qaPairs)
    .where(and(...conditions))
    .orderBy(desc(qaPairs.createdAt), desc(qaPairs.id))
    .limit(options.limit + 1);
  return toPage(rows, options.limit);
}

export async function getQaPair(ctx: { db: DbOrTx }, options: { workspaceId: string; pairId: string }) {
  const [pair] = await ctx.db
    .select()
    .from(qaPairs)
    .where(and(eq(qaPairs.id, options.pairId), eq(qaPairs.workspaceId, options.workspaceId)));
  if (!pair) throw notFound('QA pair');
  return pair;
}

export async function updateQaPair(
  ctx: RequestContext,
  options: { workspaceId: string; pairId: string; patch: Partial<QaPairInput> },
) {
  const { patch } = options;
  return ctx.db.transaction(async (tx) => {
    const before = await getQaPair({ db: tx }, options);
    const question = patch.question?.trim();
    const [after] = await tx
      .update(qaPairs)
      .set({
        updatedAt: new Date(),
        ...(question === undefined ? {} : { question, ...derived(question) }),
        ...(patch.answer === undefined ? {} : { answer: patch.answer.trim() }),
        ...(patch.threshold === undefined ? {} : { threshold: patch.threshold }),
        ...(patch.enabled === undefined ? {} : { enabled: patch.enabled }),
      })
      .where(eq(qaPairs.id, before.id))
      .returning();
    if (!after) throw notFound('QA pair');
    await recordAudit(ctx, tx, {
      workspaceId: options.workspaceId,
      action: 'qa_pair.update',
      targetType: 'qa_pair',
      targetId: before.id,
      before,
      after,
    });
    return after;
  });
}

export async function deleteQaPair(ctx: RequestContext, options: { workspaceId: string; pairId: string }) {
  await ctx.db.transaction(async (tx) => {
    const before = await getQaPair({ db: tx }, options);
    await recordAudit(ctx, tx, {
      workspaceId: options.workspaceId,
      action: 'qa_pair.delete',
      targetType: 'qa_pair',
      targetId: before.id,
      before,
    });
    await tx.delete(qaPairs).where(eq(qaPairs.id, before.id));
  });
}
