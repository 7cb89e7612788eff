import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { AppContext } from '../../context.ts';
import { selectRows } from '../../platform/db/rows.ts';
import { getEmbedder } from './embeddings.ts';
import { detectQueryLanguage } from './language.ts';
import type { KnowledgeLanguage } from './schema.ts';
import { hasVectorStore, nearestChunks } from './vector-store.ts';

/**
 * Knowledge search: what the bot retrieves for a customer's message.
 *
 * 0. Typo correction: a query word that appears nowhere in the workspace's knowledge is
 *    joined by its nearest words from the workspace's lexicon (pg_trgm similarity ≥ 0.45 over
 *    `knowledge_terms`), so "гарантя" also searches "гарантия".
 * Then three rankings of the workspace's live chunks, fused by weighted reciprocal rank fusion
 * (RRF, k = 60: a chunk's fused value is Σ weight/(60 + rank) over the lists it appears in):
 * 1. full text — `websearch_to_tsquery` in the query's language configuration and in `simple`
 *    (exact words), terms OR-ed so a question need not contain every word of a passage;
 *    ranked by `ts_rank`, whose per-word contribution saturates (a passage repeating one word
 *    does not beat one having all of them) and where a word in the passage's section heading
 *    weighs ten times one in the body (see `tsvectorOf`);
 * 2. trigram — the full-text candidates again, by `word_similarity(query, passage)` ≥ 0.3:
 *    near-verbatim phrasing wins over scattered words (computed on the candidates only: over
 *    every chunk it would cost seconds at 100k chunks);
 * 3. vectors — cosine distance to the query's embedding, when the workspace has an embeddings
 *    endpoint and the database has pgvector (`mode: 'hybrid'`; otherwise `mode: 'text'`).
 *
 * RRF orders the hits but says nothing about how good the best one is, so every hit also
 * carries `score`, a confidence in 0..1 from the text alone (see `KnowledgeHit.score`), which
 * the offline responder compares with a threshold.
 */

export interface KnowledgeHit {
  chunkId: string;
  documentId: string;
  title: string;
  text: string;
  /**
   * Confidence in 0..1 that the passage answers the query, from the text alone: the larger of
   * (a) the share of the query's meaningful words (stemmed, stop words dropped) found in the
   * passage and (b) the trigram word similarity of the query to its best-matching stretch of
   * the passage. About 0.5 and up: the passage is about what was asked; 1: every word found.
   */
  score: number;
  /** The RRF value the hits are ordered by (not comparable across queries). */
  rrf: number;
}

export interface KnowledgeSearchResult {
  mode: 'hybrid' | 'text';
  hits: KnowledgeHit[];
}

const RRF_K = 60;
/**
 * Weights of the rankings in the fusion (full text, trigram, vectors). Trigram similarity is
 * there for typos and odd word forms; on well-spelled queries it favours passages that merely
 * share letters, so it counts half and breaks ties rather than deciding them.
 */
const LIST_WEIGHTS = [1, 0.5, 1];
/** Candidates taken from each ranking before fusion. */
const CANDIDATES = 50;
/**
 * Most chunks the full-text ranking scores per query, from the chunks having every word of the
 * query, then (when those are fewer than CANDIDATES) from those having any. A knowledge base's
 * words are mostly rare, so real questions stay far below it; a question made only of words
 * that a large share of 100,000 chunks repeat would otherwise score all of them.
 */
const RANK_WINDOW = 1000;
const TRIGRAM_THRESHOLD = 0.3;
const MAX_QUERY_CHARS = 500;

/** Searches the workspace's knowledge base; hits best first (see the module comment). */
export async function searchKnowledge(
  ctx: AppContext,
  workspaceId: string,
  query: string,
  options: { limit?: number } = {},
): Promise<KnowledgeSearchResult> {
  const limit = Math.min(Math.max(options.limit ?? 5, 1), 50);
  const text = query.replaceAll('\u0000', '').trim().slice(0, MAX_QUERY_CHARS);
  if (text === '') return { mode: 'text', hits: [] };
  const language = detectQueryLanguage(text);
  // Customers do not write search syntax: a leading "-" is a dash, not "without".
  const terms = text.replace(/(^|\s)-+(?=\S)/g, '$1');
  const [queryEmbedding, corrections] = await Promise.all([
    embedQuery(ctx, workspaceId, text),
    correctTypos(ctx, workspaceId, terms),
  ]);
  const searched = corrections.length > 0 ? `${terms} ${corrections.join(' ')}` : terms;
  const candidates = await ctx.db.transaction(async (tx) => {
    // The planner cannot estimate these tsqueries (it guesses a share of the table) and would
    // scan every chunk; the GIN index finds the matching ones. Local to the transaction.
    await tx.execute(sql`select set_config('enable_seqscan', 'off', true)`);
    return selectRows(
      tx,
      sql`
      with q as (select ${tsqueryOf(language, searched)} as tq, ${everyWordOf(language, terms)} as aq),
      every_word as materialized (
        select c.id from q, knowledge_chunks c
        join knowledge_documents d on d.id = c.document_id and d.generation = c.generation
        where c.workspace_id = ${workspaceId} and c.tsv @@ q.aq
        limit ${RANK_WINDOW}
      ),
      any_word as materialized (
        select c.id from q, knowledge_chunks c
        join knowledge_documents d on d.id = c.document_id and d.generation = c.generation
        where (select count(*) from every_word) < ${CANDIDATES}
          and c.workspace_id = ${workspaceId} and c.tsv @@ q.tq
        limit ${RANK_WINDOW}
      ),
      ranked as (
        select c.id, c.text
        from q, knowledge_chunks c
        where c.id in (select id from every_word union select id from any_word)
        order by ts_rank(c.tsv, q.tq) desc, c.id
        limit ${CANDIDATES}
      )
      select id, word_similarity(${text}, text) as trigram from ranked`,
      z.object({ id: z.string(), trigram: z.coerce.number() }),
    );
  });
  const trigram = candidates
    .filter((row) => row.trigram >= TRIGRAM_THRESHOLD)
    .sort((a, b) => b.trigram - a.trigram);
  const vector = queryEmbedding
    ? await nearestChunks(ctx.db, { workspaceId, ...queryEmbedding, limit: CANDIDATES })
    : [];
  const lists = [
    candidates.map((row) => row.id),
    trigram.map((row) => row.id),
    vector.map((row) => row.chunkId),
  ];

  const fused = new Map<string, number>();
  for (const [which, list] of lists.entries()) {
    const weight = LIST_WEIGHTS[which] ?? 1;
    list.forEach((id, index) => {
      fused.set(id, (fused.get(id) ?? 0) + weight / (RRF_K + index + 1));
    });
  }
  const top = [...fused.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, limit);
  const mode = queryEmbedding ? 'hybrid' : 'text';
  if (top.length === 0) return { mode, hits: [] };

  const details = await selectRows(
    ctx.db,
    sql`
      with words as (select ${lexemesOf(language, text)} as lexemes)
      select c.id as "chunkId", c.document_id as "documentId", d.title, c.text,
        word_similarity(${text}, c.text) as trigram,
        (select count(*) from unnest(words.lexemes) as l(lexeme) where c.tsv @@ quote_literal(l.lexeme)::tsquery) as matched,
        cardinality(words.lexemes) as total
      from words, knowledge_chunks c
      join knowledge_documents d on d.id = c.document_id
      where c.id in (${sql.join(
        top.map(([id]) => sql`${id}::uuid`),
        sql`, `,
      )})`,
    detailRow,
  );
  const byId = new Map(details.map((row) => [row.chunkId, row]));
  const hits: KnowledgeHit[] = [];
  for (const [chunkId, rrf] of top) {
    const row = byId.get(chunkId);
    if (!row) continue;
    const coverage = row.total > 0 ? row.matched / row.total : 0;
    hits.push({
      chunkId,
      documentId: row.documentId,
      title: row.title,
      text: row.text,
      score: round(Math.max(coverage, row.trigram)),
      rrf: round(rrf, 6),
    });
  }
  return { mode, hits };
}

const detailRow = z.object({
  chunkId: z.string(),
  documentId: z.string(),
  title: z.string(),
  text: z.string(),
  trigram: z.coerce.number(),
  matched: z.coerce.number(),
  total: z.coerce.number(),
});

/**
 * The query as a tsquery: its terms OR-ed (websearch_to_tsquery ANDs them) in the query's
 * configuration, OR-ed with the same in `simple`, which matches the exact words every chunk
 * also carries. Quoted phrases keep their word order.
 */
function tsqueryOf(language: KnowledgeLanguage, terms: string) {
  const orTerms = (config: KnowledgeLanguage) =>
    sql`coalesce(nullif(replace(websearch_to_tsquery(${config}::regconfig, ${terms})::text, ' & ', ' | '), ''), '')::tsquery`;
  return sql`(${orTerms(language)} || ${orTerms('simple')})`;
}

/** Every meaningful word of the query, stemmed in its language or exact. */
function everyWordOf(language: KnowledgeLanguage, terms: string) {
  return sql`(websearch_to_tsquery(${language}::regconfig, ${terms}) || websearch_to_tsquery('simple', ${terms}))`;
}

/** Minimal trigram similarity of a lexicon word to an unknown query word to be searched too. */
const CORRECTION_SIMILARITY = 0.45;

/**
 * Words of the workspace's lexicon close to the query words it does not contain (at most two
 * per word, words of 4+ letters), best first.
 */
async function correctTypos(ctx: AppContext, workspaceId: string, terms: string): Promise<string[]> {
  const rows = await selectRows(
    ctx.db,
    sql`
      with words as (
        select distinct word from unnest(tsvector_to_array(to_tsvector('simple', ${terms}))) as word
        where char_length(word) >= 4 and word !~ '[0-9_]'
      )
      select near.term
      from words
      cross join lateral (
        select t.term from knowledge_terms t
        where t.workspace_id = ${workspaceId} and t.term % words.word
          and similarity(t.term, words.word) >= ${CORRECTION_SIMILARITY}
        order by similarity(t.term, words.word) desc, t.term
        limit 2
      ) near
      where not exists (
        select 1 from knowledge_terms known where known.workspace_id = ${workspaceId} and known.term = words.word
      )`,
    z.object({ term: z.string() }),
  );
  return rows.map((row) => row.term);
}

/** The query's distinct meaningful words, stemmed (or exact, when all are stop words). */
function lexemesOf(language: KnowledgeLanguage, text: string) {
  return sql`coalesce(
    nullif(tsvector_to_array(to_tsvector(${language}::regconfig, ${text})), '{}'),
    tsvector_to_array(to_tsvector('simple', ${text}))
  )`;
}

async function embedQuery(
  ctx: AppContext,
  workspaceId: string,
  text: string,
): Promise<{ model: string; embedding: number[] } | undefined> {
  if (!(await hasVectorStore(ctx))) return undefined;
  const embedder = await getEmbedder(ctx, workspaceId);
  if (!embedder) return undefined;
  try {
    const [embedding] = await embedder.embed([text]);
    return embedding ? { model: embedder.model, embedding } : undefined;
  } catch (error) {
    // The text rankings answer alone; the result says so with mode 'text'.
    ctx.logger.warn({ err: error, workspaceId }, 'knowledge: query embedding failed; text search only');
    return undefined;
  }
}

function round(value: number, digits = 3): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
