import { sql } from 'drizzle-orm';
import {
  boolean,
  check,
  customType,
  index,
  integer,
  pgTable,
  primaryKey,
  real,
  text,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { createdAt, idColumn, ts, updatedAt } from '../../platform/db/columns.ts';
import { users } from '../identity/schema.ts';
import { workspaces } from '../workspaces/schema.ts';

/**
 * Knowledge base tables. Embeddings live in `knowledge_embeddings`, which is NOT declared
 * here: it needs pgvector, which some PostgreSQL installs lack, so a custom migration creates
 * it only where the extension is available (see drizzle/*_knowledge_vectors.sql and
 * vector-store.ts).
 */

/** PostgreSQL text-search configurations a document may be indexed with. */
export const KNOWLEDGE_LANGUAGES = ['english', 'russian', 'simple'] as const;
export type KnowledgeLanguage = (typeof KNOWLEDGE_LANGUAGES)[number];

export const DOCUMENT_STATUSES = ['queued', 'processing', 'ready', 'failed'] as const;
export type DocumentStatus = (typeof DOCUMENT_STATUSES)[number];

export const DOCUMENT_SOURCES = ['upload', 'url', 'text'] as const;
export type DocumentSource = (typeof DOCUMENT_SOURCES)[number];

const tsvector = customType<{ data: string }>({ dataType: () => 'tsvector' });
const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({ dataType: () => 'bytea' });

export const knowledgeDocuments = pgTable(
  'knowledge_documents',
  {
    id: idColumn(),
    workspaceId: uuid('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    title: text('title').notNull(),
    source: text('source').$type<DocumentSource>().notNull(),
    /** The URL a `url` document is fetched from (after it is fetched: the final URL of redirects). */
    url: text('url'),
    mimeType: text('mime_type').notNull(),
    sizeBytes: integer('size_bytes').notNull().default(0),
    /** sha256 of the original bytes (upload/text) or of the fetched body (url). */
    contentHash: text('content_hash'),
    /** Text-search configuration of the chunks; detected from the text when not given. */
    language: text('language').$type<KnowledgeLanguage>().notNull().default('simple'),
    /** Whether `language` was given by the caller (then re-detection never overrides it). */
    languageExplicit: boolean('language_explicit').notNull().default(false),
    status: text('status').$type<DocumentStatus>().notNull().default('queued'),
    /** 0–100: chunks stored / chunks to store of the running (or last) ingestion. */
    progress: integer('progress').notNull().default(0),
    /** Why ingestion failed (status failed), or a warning on a ready document. */
    error: text('error'),
    chunkCount: integer('chunk_count').notNull().default(0),
    /** Chunks with an embedding (0 where no embeddings endpoint or no pgvector). */
    embeddedCount: integer('embedded_count').notNull().default(0),
    /** The extracted text; re-index chunks it again without the original file. */
    rawText: text('raw_text'),
    /** Chunks of this generation are the live ones; ingestion writes the next one beside them. */
    generation: integer('generation').notNull().default(0),
    /** Bumped by every (re-)index request, so a run can tell it was overtaken. */
    revision: integer('revision').notNull().default(1),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    indexedAt: ts('indexed_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('knowledge_documents_workspace_idx').on(t.workspaceId, t.createdAt),
    index('knowledge_documents_pending_idx')
      .on(t.status, t.updatedAt)
      .where(sql`status in ('queued', 'processing')`),
    check('knowledge_documents_status_check', sql`${t.status} in ('queued','processing','ready','failed')`),
    check('knowledge_documents_source_check', sql`${t.source} in ('upload','url','text')`),
    check('knowledge_documents_language_check', sql`${t.language} in ('english','russian','simple')`),
    check('knowledge_documents_progress_check', sql`${t.progress} between 0 and 100`),
  ],
);

/**
 * The uploaded bytes of a document until its text is extracted (then the row is deleted:
 * re-index works from `raw_text`). Kept apart so document lists never read file contents.
 */
export const knowledgeFiles = pgTable('knowledge_files', {
  documentId: uuid('document_id')
    .primaryKey()
    .references(() => knowledgeDocuments.id, { onDelete: 'cascade' }),
  content: bytea('content').notNull(),
  createdAt: createdAt(),
});

export const knowledgeChunks = pgTable(
  'knowledge_chunks',
  {
    id: idColumn(),
    documentId: uuid('document_id')
      .notNull()
      .references(() => knowledgeDocuments.id, { onDelete: 'cascade' }),
    workspaceId: uuid('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    generation: integer('generation').notNull(),
    ordinal: integer('ordinal').notNull(),
    text: text('text').notNull(),
    /**
     * Stemmed lexemes in the document's configuration plus the exact words (`simple`), so a
     * query matches both by stem and by exact form; computed at insert.
     */
    tsv: tsvector('tsv').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('knowledge_chunks_document_key').on(t.documentId, t.generation, t.ordinal),
    index('knowledge_chunks_tsv_idx').using('gin', t.tsv),
    index('knowledge_chunks_workspace_idx').on(t.workspaceId),
  ],
);

/**
 * The distinct words of a workspace's chunks (lower-cased, exact forms), with a trigram
 * index: a query word found nowhere in the knowledge base is corrected to its nearest words
 * here ("гарантя" → "гарантия") before full-text search. Trigram search over a short word
 * list is fast at any corpus size, unlike over 800-character chunks, and the chunks need no
 * trigram index of their own (which would cost ingestion most of its speed). Words of deleted
 * documents stay: they only widen a query by a word that matches nothing.
 */
export const knowledgeTerms = pgTable(
  'knowledge_terms',
  {
    workspaceId: uuid('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    term: text('term').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.term] }),
    index('knowledge_terms_trgm_idx').using('gin', t.term.op('gin_trgm_ops')),
  ],
);

/** Canned answers: a customer message close enough to `question` gets `answer`. */
export const qaPairs = pgTable(
  'qa_pairs',
  {
    id: idColumn(),
    workspaceId: uuid('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    question: text('question').notNull(),
    answer: text('answer').notNull(),
    /** Lower-cased, punctuation-free question, compared by trigram similarity. */
    questionNorm: text('question_norm').notNull(),
    language: text('language').$type<KnowledgeLanguage>().notNull().default('simple'),
    /** Minimal match score (0..1) for this pair to answer. */
    threshold: real('threshold').notNull().default(0.55),
    enabled: boolean('enabled').notNull().default(true),
    hitCount: integer('hit_count').notNull().default(0),
    lastHitAt: ts('last_hit_at'),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('qa_pairs_workspace_idx').on(t.workspaceId, t.createdAt),
    check('qa_pairs_threshold_check', sql`${t.threshold} >= 0 and ${t.threshold} <= 1`),
    check('qa_pairs_language_check', sql`${t.language} in ('english','russian','simple')`),
  ],
);
