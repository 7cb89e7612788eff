import { createHash } from 'node:crypto';
import { and, eq, inArray, lt, ne, or, sql } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import type { DbOrTx } from '../../platform/db/index.ts';
import { AppError, isAppError } from '../../platform/errors.ts';
import { chunkText } from './chunker.ts';
import { EMBED_BATCH, type Embedder, getEmbedder } from './embeddings.ts';
import { detectFormat, extractText, mimeTypeOf } from './extract.ts';
import { detectLanguage } from './language.ts';
import {
  type KnowledgeLanguage,
  knowledgeChunks,
  knowledgeDocuments,
  knowledgeFiles,
  knowledgeTerms,
} from './schema.ts';
import { fetchUrl } from './url-fetch.ts';
import { hasVectorStore, storeEmbeddings } from './vector-store.ts';

/**
 * Ingestion: extract → chunk → (embed) → store, as a queued job per document.
 *
 * Restart safety: a run writes its chunks as the document's NEXT generation beside the live
 * one and switches `generation` in the transaction that marks the document ready, so search
 * never sees a half-written document and a crash leaves only an orphan generation, which the
 * next run deletes first. A document left `queued` or `processing` by a crash (or by a lost
 * in-memory job) is queued again by the sweep; the queue's job id (= document id) keeps a
 * document from running twice at once.
 *
 * A re-index requested while a run is active bumps `revision`; the run notices at its next
 * progress write or at the end, and starts over with the new request.
 */

export const KNOWLEDGE_QUEUE = 'knowledge-ingest';
export const KNOWLEDGE_SWEEP_QUEUE = 'knowledge-sweep';

/** Attempts of one ingestion job (transient failures: database, URL fetch). */
const ATTEMPTS = 3;
/** Chunks per multi-row insert (and per progress step). */
const INSERT_BATCH = EMBED_BATCH;
/** Sweep period, and how long a document may sit queued / processing without news before it is queued again. */
const SWEEP_EVERY_MS = 30_000;
const STALE_QUEUED_MS = 15_000;
const STALE_PROCESSING_MS = 120_000;

export interface IngestJob {
  documentId: string;
}

/** Queues ingestion of a document (a no-op while it is already waiting or running). */
export async function enqueueIngestion(ctx: Pick<AppContext, 'ports'>, documentId: string): Promise<void> {
  await ctx.ports.queue.add<IngestJob>(
    KNOWLEDGE_QUEUE,
    { documentId },
    { jobId: documentId, attempts: ATTEMPTS, backoffMs: 2000 },
  );
}

/** Starts the ingestion worker and the recovery sweep (roles worker and all). */
export async function startKnowledgeWorker(ctx: AppContext): Promise<void> {
  ctx.ports.queue.work<IngestJob>(
    KNOWLEDGE_QUEUE,
    async (job) => {
      await ingestDocument(ctx, job.data.documentId, { lastAttempt: job.attempt >= ATTEMPTS });
    },
    { concurrency: 2 },
  );
  ctx.ports.queue.work(KNOWLEDGE_SWEEP_QUEUE, async () => {
    await sweepKnowledgeDocuments(ctx);
  });
  await ctx.ports.queue.repeat(KNOWLEDGE_SWEEP_QUEUE, 'sweep', SWEEP_EVERY_MS, {});
}

/**
 * Queues again the documents that wait without a job: `queued` for longer than a job takes
 * to start, `processing` without a progress write for minutes (the worker died). Returns how
 * many were queued.
 */
export async function sweepKnowledgeDocuments(
  ctx: AppContext,
  options: { queuedAfterMs?: number; processingAfterMs?: number } = {},
): Promise<number> {
  const now = Date.now();
  const queuedBefore = new Date(now - (options.queuedAfterMs ?? STALE_QUEUED_MS));
  const processingBefore = new Date(now - (options.processingAfterMs ?? STALE_PROCESSING_MS));
  const stale = await ctx.db
    .select({ id: knowledgeDocuments.id })
    .from(knowledgeDocuments)
    .where(
      or(
        and(eq(knowledgeDocuments.status, 'queued'), lt(knowledgeDocuments.updatedAt, queuedBefore)),
        and(eq(knowledgeDocuments.status, 'processing'), lt(knowledgeDocuments.updatedAt, processingBefore)),
      ),
    )
    .limit(500);
  for (const { id } of stale) await enqueueIngestion(ctx, id);
  if (stale.length > 0)
    ctx.logger.info({ documents: stale.length }, 'knowledge: re-queued stalled documents');
  return stale.length;
}

/** Failures that another attempt cannot fix: the file or the URL itself is the problem. */
function isPermanent(error: unknown): boolean {
  return (
    isAppError(error) &&
    (error.code === 'BAD_REQUEST' ||
      error.code === 'PAYLOAD_TOO_LARGE' ||
      error.code === 'UNSUPPORTED_MEDIA_TYPE')
  );
}

/** Thrown inside a run when a newer (re-)index request overtook it. */
class Overtaken extends Error {}

/**
 * Runs ingestion of one document to `ready` (or `failed` with the reason). Transient errors
 * are rethrown for the queue to retry, except on the last attempt, which records them.
 */
export async function ingestDocument(
  ctx: AppContext,
  documentId: string,
  options: { lastAttempt?: boolean } = {},
): Promise<void> {
  for (let round = 0; round < 10; round++) {
    const [document] = await ctx.db
      .select({ status: knowledgeDocuments.status, revision: knowledgeDocuments.revision })
      .from(knowledgeDocuments)
      .where(eq(knowledgeDocuments.id, documentId));
    // Deleted, or finished by an earlier run of a duplicate job.
    if (!document || document.status === 'ready' || document.status === 'failed') return;
    try {
      await runIngestion(ctx, documentId, document.revision);
      return;
    } catch (error) {
      if (error instanceof Overtaken) continue;
      if (isPermanent(error) || options.lastAttempt) {
        await markFailed(ctx, documentId, document.revision, error);
        return;
      }
      ctx.logger.warn({ err: error, documentId }, 'knowledge: ingestion failed; the queue retries');
      throw error;
    }
  }
}

async function runIngestion(ctx: AppContext, documentId: string, revision: number): Promise<void> {
  const started = performance.now();
  const document = await claim(ctx, documentId, revision);
  let text = document.rawText;
  let language = document.language;
  if (text === null) {
    const extracted = await extract(ctx, document);
    text = extracted.text;
    language = document.languageExplicit ? document.language : detectLanguage(text);
    await ctx.db.transaction(async (tx) => {
      const [kept] = await tx
        .update(knowledgeDocuments)
        .set({ rawText: text, language, ...extracted.fields, updatedAt: new Date() })
        .where(and(eq(knowledgeDocuments.id, documentId), eq(knowledgeDocuments.revision, revision)))
        .returning({ id: knowledgeDocuments.id });
      if (!kept) throw new Overtaken();
      // The text is what re-index works from; the original is not needed any more.
      await tx.delete(knowledgeFiles).where(eq(knowledgeFiles.documentId, documentId));
    });
  }
  const chunks = chunkText(text);
  if (chunks.length === 0) {
    throw new AppError('BAD_REQUEST', {
      message: 'No text found in the document (a scanned PDF holds only images of text)',
    });
  }

  // Leftovers of a run that crashed, then the new generation beside the live one.
  await ctx.db
    .delete(knowledgeChunks)
    .where(
      and(eq(knowledgeChunks.documentId, documentId), ne(knowledgeChunks.generation, document.generation)),
    );
  const generation = document.generation + 1;
  let embedder: Embedder | null = (await hasVectorStore(ctx))
    ? await getEmbedder(ctx, document.workspaceId)
    : null;
  let warning: string | null = null;
  let embedded = 0;
  for (let from = 0; from < chunks.length; from += INSERT_BATCH) {
    const batch = chunks.slice(from, from + INSERT_BATCH);
    let vectors: number[][] | undefined;
    if (embedder) {
      try {
        vectors = await embedder.embed(batch.map((chunk) => chunk.text));
      } catch (error) {
        // Text search still works; the document is ready, with the reason shown.
        warning = `Embeddings failed (${error instanceof Error ? error.message : String(error)}); indexed for text search only. Re-index to retry.`;
        ctx.logger.warn({ err: error, documentId }, 'knowledge: embeddings failed; continuing text-only');
        embedder = null;
      }
    }
    await ctx.db.transaction(async (tx) => {
      const inserted = await tx
        .insert(knowledgeChunks)
        .values(
          batch.map((chunk, index) => ({
            documentId,
            workspaceId: document.workspaceId,
            generation,
            ordinal: from + index,
            text: chunk.text,
            tsv: tsvectorOf(language, chunk.text),
          })),
        )
        .returning({ id: knowledgeChunks.id, ordinal: knowledgeChunks.ordinal });
      if (vectors && embedder) {
        const model = embedder.model;
        await storeEmbeddings(
          tx,
          inserted.flatMap((row) => {
            const embedding = vectors?.[row.ordinal - from];
            return embedding
              ? [{ chunkId: row.id, workspaceId: document.workspaceId, model, embedding }]
              : [];
          }),
        );
        embedded += inserted.length;
      }
      await storeTerms(tx, document.workspaceId, batch.map((chunk) => chunk.text).join('\n'));
      const stored = from + batch.length;
      const [kept] = await tx
        .update(knowledgeDocuments)
        .set({ progress: Math.min(99, Math.floor((stored / chunks.length) * 100)), updatedAt: new Date() })
        .where(and(eq(knowledgeDocuments.id, documentId), eq(knowledgeDocuments.revision, revision)))
        .returning({ id: knowledgeDocuments.id });
      if (!kept) throw new Overtaken();
    });
  }

  await ctx.db.transaction(async (tx) => {
    const [done] = await tx
      .update(knowledgeDocuments)
      .set({
        status: 'ready',
        progress: 100,
        generation,
        chunkCount: chunks.length,
        embeddedCount: embedded,
        error: warning,
        indexedAt: new Date(),
        updatedAt: new Date(),
      })
      .where(and(eq(knowledgeDocuments.id, documentId), eq(knowledgeDocuments.revision, revision)))
      .returning({ id: knowledgeDocuments.id });
    if (!done) throw new Overtaken();
    await tx
      .delete(knowledgeChunks)
      .where(and(eq(knowledgeChunks.documentId, documentId), ne(knowledgeChunks.generation, generation)));
  });
  ctx.logger.info(
    { documentId, chunks: chunks.length, embedded, ms: Math.round(performance.now() - started) },
    'knowledge: document indexed',
  );
}

/**
 * A chunk's index entry: its heading lines at weight A (a passage under "## Delivery" is about
 * delivery, whatever else it mentions), the text stemmed in the document's configuration, and
 * the exact words (`simple`), so queries match by stem and by exact form alike.
 */
export function tsvectorOf(language: KnowledgeLanguage, text: string) {
  const headings = text
    .split('\n')
    .filter((line) => /^#{1,6}\s/.test(line))
    .map((line) => line.replace(/^#+\s*/, ''))
    .join('\n');
  return sql`setweight(to_tsvector(${language}::regconfig, ${headings}), 'A') || to_tsvector(${language}::regconfig, ${text}) || to_tsvector('simple', ${text})`;
}

/**
 * Rebuilds a workspace's lexicon from its live chunks: for chunks written around ingestion
 * (bulk loads, benchmarks), which otherwise get no typo correction. Returns the word count.
 */
export async function rebuildKnowledgeTerms(
  ctx: Pick<AppContext, 'db'>,
  workspaceId: string,
): Promise<number> {
  await ctx.db.execute(sql`
    insert into knowledge_terms (workspace_id, term)
    select distinct ${workspaceId}::uuid, word
    from knowledge_chunks c
    join knowledge_documents d on d.id = c.document_id and d.generation = c.generation
    cross join lateral unnest(tsvector_to_array(to_tsvector('simple', c.text))) as word
    where c.workspace_id = ${workspaceId} and char_length(word) between 4 and 40 and word !~ '[0-9_]'
    on conflict do nothing`);
  const [row] = await ctx.db
    .select({ count: sql<number>`count(*)::int` })
    .from(knowledgeTerms)
    .where(eq(knowledgeTerms.workspaceId, workspaceId));
  return row?.count ?? 0;
}

/** Adds the words of `text` to the workspace's lexicon (typo correction of queries, see knowledgeTerms). */
async function storeTerms(db: DbOrTx, workspaceId: string, text: string) {
  await db.execute(sql`
    insert into knowledge_terms (workspace_id, term)
    select distinct ${workspaceId}::uuid, word
    from unnest(tsvector_to_array(to_tsvector('simple', ${text}))) as word
    where char_length(word) between 4 and 40 and word !~ '[0-9_]'
    on conflict do nothing`);
}

/** Marks the run's start; the document as it is then. */
async function claim(ctx: AppContext, documentId: string, revision: number) {
  const [document] = await ctx.db
    .update(knowledgeDocuments)
    .set({ status: 'processing', progress: 0, error: null, updatedAt: new Date() })
    .where(
      and(
        eq(knowledgeDocuments.id, documentId),
        eq(knowledgeDocuments.revision, revision),
        inArray(knowledgeDocuments.status, ['queued', 'processing']),
      ),
    )
    .returning();
  if (!document) throw new Overtaken();
  return document;
}

interface Extracted {
  text: string;
  fields: Partial<
    Pick<typeof knowledgeDocuments.$inferInsert, 'url' | 'mimeType' | 'sizeBytes' | 'contentHash'>
  >;
}

async function extract(
  ctx: AppContext,
  document: typeof knowledgeDocuments.$inferSelect,
): Promise<Extracted> {
  if (document.source === 'url' && document.url) {
    const fetched = await fetchUrl(document.url, {
      allowlist: ctx.config.KNOWLEDGE_URL_ALLOWLIST,
      maxBytes: ctx.config.KNOWLEDGE_MAX_UPLOAD_BYTES,
    });
    const format = detectFormat(fetched.body, {
      contentType: fetched.contentType,
      fileName: new URL(fetched.url).pathname,
    });
    if (!format) {
      throw new AppError('UNSUPPORTED_MEDIA_TYPE', {
        message: `${fetched.url} is ${fetched.contentType ?? 'of an unknown type'}; only text, Markdown, HTML, PDF and DOCX can be read`,
      });
    }
    return {
      text: await extractText(fetched.body, format),
      fields: {
        url: fetched.url,
        mimeType: mimeTypeOf(format),
        sizeBytes: fetched.body.length,
        contentHash: createHash('sha256').update(fetched.body).digest('hex'),
      },
    };
  }
  const [file] = await ctx.db.select().from(knowledgeFiles).where(eq(knowledgeFiles.documentId, document.id));
  if (!file) {
    throw new AppError('BAD_REQUEST', { message: 'The uploaded file is missing; upload the document again' });
  }
  const bytes = new Uint8Array(file.content);
  const format = detectFormat(bytes, { contentType: document.mimeType });
  if (!format) throw new AppError('UNSUPPORTED_MEDIA_TYPE', { message: 'The uploaded file cannot be read' });
  return { text: await extractText(bytes, format), fields: {} };
}

async function markFailed(ctx: AppContext, documentId: string, revision: number, error: unknown) {
  const message = error instanceof Error ? error.message : String(error);
  ctx.logger.warn({ err: error, documentId }, 'knowledge: ingestion failed');
  await ctx.db
    .update(knowledgeDocuments)
    .set({ status: 'failed', error: message.slice(0, 1000), updatedAt: new Date() })
    .where(and(eq(knowledgeDocuments.id, documentId), eq(knowledgeDocuments.revision, revision)));
}
