import { createHash } from 'node:crypto';
import { and, asc, desc, eq, getTableColumns, gt, lt, or, type SQL, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { RequestContext } from '../../context.ts';
import type { DbOrTx } from '../../platform/db/index.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import { decodeCursor, toPage } from '../../platform/http/cursor.ts';
import { recordAudit } from '../audit/service.ts';
import { type DocumentFormat, detectFormat, mimeTypeOf, normalizeText } from './extract.ts';
import { enqueueIngestion } from './ingest.ts';
import { detectLanguage } from './language.ts';
import {
  type DocumentStatus,
  type KnowledgeLanguage,
  knowledgeChunks,
  knowledgeDocuments,
  knowledgeFiles,
} from './schema.ts';
import { checkUrl } from './url-fetch.ts';

/** A document as the API shows it: everything but the extracted text. */
const { rawText: _rawText, ...documentColumns } = getTableColumns(knowledgeDocuments);
export type KnowledgeDocument = Omit<typeof knowledgeDocuments.$inferSelect, 'rawText'>;

function authorOf(ctx: RequestContext): string | null {
  return ctx.actor.type === 'user' ? ctx.actor.userId : null;
}

function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

// ─── Create ──────────────────────────────────────────────────────────────────

interface NewDocument {
  workspaceId: string;
  title: string;
  language?: KnowledgeLanguage | undefined;
}

/**
 * Stores an uploaded file and queues it for ingestion (extraction happens in the job: a big
 * PDF must not hold the request). The format is sniffed from the bytes first, so a mislabelled
 * PDF is still read as one; AppError UNSUPPORTED_MEDIA_TYPE when nothing readable is found.
 */
export async function createUploadedDocument(
  ctx: RequestContext,
  options: NewDocument & {
    bytes: Uint8Array;
    contentType?: string | undefined;
    fileName?: string | undefined;
  },
): Promise<KnowledgeDocument> {
  const { bytes } = options;
  if (bytes.length === 0) throw new AppError('BAD_REQUEST', { message: 'The uploaded file is empty' });
  if (bytes.length > ctx.config.KNOWLEDGE_MAX_UPLOAD_BYTES) {
    throw new AppError('PAYLOAD_TOO_LARGE', {
      message: `Documents may be at most ${ctx.config.KNOWLEDGE_MAX_UPLOAD_BYTES} bytes`,
    });
  }
  const format = detectFormat(bytes, { contentType: options.contentType, fileName: options.fileName });
  if (!format) {
    throw new AppError('UNSUPPORTED_MEDIA_TYPE', {
      message: 'Upload text, Markdown, HTML, PDF or DOCX (declare it with Content-Type or ?filename=)',
    });
  }
  return insertDocument(ctx, {
    ...options,
    source: 'upload',
    mimeType: mimeTypeOf(format),
    sizeBytes: bytes.length,
    contentHash: sha256(bytes),
    file: bytes,
  });
}

/** Stores text typed or pasted in the panel; Markdown headings are honoured. */
export async function createTextDocument(
  ctx: RequestContext,
  options: NewDocument & { text: string; format?: Extract<DocumentFormat, 'text' | 'markdown'> },
): Promise<KnowledgeDocument> {
  const text = normalizeText(options.text);
  if (text === '') throw new AppError('BAD_REQUEST', { message: 'The text is empty' });
  const size = Buffer.byteLength(text);
  if (size > ctx.config.KNOWLEDGE_MAX_UPLOAD_BYTES) {
    throw new AppError('PAYLOAD_TOO_LARGE', {
      message: `Documents may be at most ${ctx.config.KNOWLEDGE_MAX_UPLOAD_BYTES} bytes`,
    });
  }
  return insertDocument(ctx, {
    ...options,
    source: 'text',
    mimeType: mimeTypeOf(options.format ?? 'markdown'),
    sizeBytes: size,
    contentHash: sha256(text),
    rawText: text,
  });
}

/**
 * Queues a web page or file for fetching. The URL is checked now (scheme, and where it
 * resolves: a private address is refused with 400 at once) and again by the job at fetch time,
 * hop by hop.
 */
export async function createUrlDocument(
  ctx: RequestContext,
  options: Omit<NewDocument, 'title'> & { url: string; title?: string | undefined },
): Promise<KnowledgeDocument> {
  const { url } = await checkUrl(options.url, { allowlist: ctx.config.KNOWLEDGE_URL_ALLOWLIST });
  return insertDocument(ctx, {
    ...options,
    title: options.title?.trim() || `${url.hostname}${url.pathname === '/' ? '' : url.pathname}`,
    source: 'url',
    url: url.toString(),
    mimeType: 'application/octet-stream',
    sizeBytes: 0,
  });
}

async function insertDocument(
  ctx: RequestContext,
  options: NewDocument & {
    source: 'upload' | 'url' | 'text';
    mimeType: string;
    sizeBytes: number;
    contentHash?: string;
    url?: string;
    rawText?: string;
    file?: Uint8Array;
  },
): Promise<KnowledgeDocument> {
  const document = await ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .insert(knowledgeDocuments)
      .values({
        workspaceId: options.workspaceId,
        title: options.title.trim().slice(0, 300),
        source: options.source,
        url: options.url ?? null,
        mimeType: options.mimeType,
        sizeBytes: options.sizeBytes,
        contentHash: options.contentHash ?? null,
        // Known now for pasted text; otherwise detected once the text is extracted.
        language: options.language ?? (options.rawText ? detectLanguage(options.rawText) : 'simple'),
        languageExplicit: options.language !== undefined,
        rawText: options.rawText ?? null,
        createdBy: authorOf(ctx),
      })
      .returning(documentColumns);
    if (!row) throw new AppError('INTERNAL', { message: 'document insert returned nothing' });
    if (options.file) await tx.insert(knowledgeFiles).values({ documentId: row.id, content: options.file });
    await recordAudit(ctx, tx, {
      workspaceId: row.workspaceId,
      action: 'knowledge_document.create',
      targetType: 'knowledge_document',
      targetId: row.id,
      after: row,
    });
    return row;
  });
  await enqueueIngestion(ctx, document.id);
  return document;
}

// ─── Read ────────────────────────────────────────────────────────────────────

/** Documents of a workspace, newest first, keyset-paginated, optionally by status. */
export async function listDocuments(
  ctx: { db: DbOrTx },
  options: {
    workspaceId: string;
    status?: DocumentStatus | undefined;
    limit: number;
    cursor?: string | undefined;
  },
) {
  const cursor = decodeCursor(options.cursor);
  const conditions: SQL[] = [eq(knowledgeDocuments.workspaceId, options.workspaceId)];
  if (options.status) conditions.push(eq(knowledgeDocuments.status, options.status));
  if (cursor) {
    const older = or(
      lt(knowledgeDocuments.createdAt, cursor.createdAt),
      and(eq(knowledgeDocuments.createdAt, cursor.createdAt), lt(knowledgeDocuments.id, cursor.id)),
    );
    if (older) conditions.push(older);
  }
  const rows = await ctx.db
    .select(documentColumns)
    .from(knowledgeDocuments)
    .where(and(...conditions))
    .orderBy(desc(knowledgeDocuments.createdAt), desc(knowledgeDocuments.id))
    .limit(options.limit + 1);
  return toPage(rows, options.limit);
}

/** A document of the workspace; another workspace's is NOT_FOUND like a missing one. */
export async function getDocument(
  ctx: { db: DbOrTx },
  options: { workspaceId: string; documentId: string },
): Promise<KnowledgeDocument> {
  const [row] = await ctx.db
    .select(documentColumns)
    .from(knowledgeDocuments)
    .where(
      and(
        eq(knowledgeDocuments.id, options.documentId),
        eq(knowledgeDocuments.workspaceId, options.workspaceId),
      ),
    );
  if (!row) throw notFound('Document');
  return row;
}

const chunkCursorSchema = z.object({ o: z.number().int().min(-1) });

/** The live chunks of a document in order; the cursor is the last ordinal seen. */
export async function listChunks(
  ctx: { db: DbOrTx },
  options: { workspaceId: string; documentId: string; limit: number; cursor?: string | undefined },
) {
  const document = await getDocument(ctx, options);
  let after = -1;
  if (options.cursor) {
    try {
      after = chunkCursorSchema.parse(
        JSON.parse(Buffer.from(options.cursor, 'base64url').toString('utf8')),
      ).o;
    } catch (cause) {
      throw new AppError('BAD_REQUEST', { message: 'invalid cursor', cause });
    }
  }
  const rows = await ctx.db
    .select({
      id: knowledgeChunks.id,
      ordinal: knowledgeChunks.ordinal,
      text: knowledgeChunks.text,
      createdAt: knowledgeChunks.createdAt,
    })
    .from(knowledgeChunks)
    .where(
      and(
        eq(knowledgeChunks.documentId, document.id),
        eq(knowledgeChunks.generation, document.generation),
        gt(knowledgeChunks.ordinal, after),
      ),
    )
    .orderBy(asc(knowledgeChunks.ordinal))
    .limit(options.limit + 1);
  const items = rows.slice(0, options.limit);
  const last = items.at(-1);
  return {
    items,
    nextCursor:
      rows.length > options.limit && last
        ? Buffer.from(JSON.stringify({ o: last.ordinal })).toString('base64url')
        : null,
  };
}

// ─── Change ──────────────────────────────────────────────────────────────────

/** Deletes a document with its chunks, embeddings and stored file (cascade). */
export async function deleteDocument(
  ctx: RequestContext,
  options: { workspaceId: string; documentId: string },
) {
  await ctx.db.transaction(async (tx) => {
    const before = await getDocument({ db: tx }, options);
    await recordAudit(ctx, tx, {
      workspaceId: options.workspaceId,
      action: 'knowledge_document.delete',
      targetType: 'knowledge_document',
      targetId: before.id,
      before,
    });
    await tx.delete(knowledgeDocuments).where(eq(knowledgeDocuments.id, before.id));
  });
}

/**
 * Chunks and indexes the document again (new chunking rules, a new embeddings model, a
 * language override): from its extracted text, or — when extraction never finished — from
 * the stored file or the URL. The live chunks stay searchable until the new ones replace them.
 */
export async function reindexDocument(
  ctx: RequestContext,
  options: { workspaceId: string; documentId: string; language?: KnowledgeLanguage | undefined },
): Promise<KnowledgeDocument> {
  const after = await ctx.db.transaction(async (tx) => {
    const before = await getDocument({ db: tx }, options);
    const [row] = await tx
      .update(knowledgeDocuments)
      .set({
        status: 'queued',
        progress: 0,
        error: null,
        revision: sql`${knowledgeDocuments.revision} + 1`,
        updatedAt: new Date(),
        ...(options.language ? { language: options.language, languageExplicit: true } : {}),
      })
      .where(eq(knowledgeDocuments.id, before.id))
      .returning(documentColumns);
    if (!row) throw notFound('Document');
    await recordAudit(ctx, tx, {
      workspaceId: options.workspaceId,
      action: 'knowledge_document.reindex',
      targetType: 'knowledge_document',
      targetId: row.id,
      before,
      after: row,
    });
    return row;
  });
  await enqueueIngestion(ctx, after.id);
  return after;
}

/** Renames a document (its chunks are untouched). */
export async function updateDocument(
  ctx: RequestContext,
  options: { workspaceId: string; documentId: string; title: string },
): Promise<KnowledgeDocument> {
  return ctx.db.transaction(async (tx) => {
    const before = await getDocument({ db: tx }, options);
    const [row] = await tx
      .update(knowledgeDocuments)
      .set({ title: options.title.trim().slice(0, 300), updatedAt: new Date() })
      .where(eq(knowledgeDocuments.id, before.id))
      .returning(documentColumns);
    if (!row) throw notFound('Document');
    await recordAudit(ctx, tx, {
      workspaceId: options.workspaceId,
      action: 'knowledge_document.update',
      targetType: 'knowledge_document',
      targetId: row.id,
      before,
      after: row,
    });
    return row;
  });
}
