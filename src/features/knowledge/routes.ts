import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../context.ts';
import { AppError } from '../../platform/errors.ts';
import type { App } from '../../platform/http/create-server.ts';
import { commonErrors, dateTime, errorBody, pageOf, pageQuery } from '../../platform/http/schemas.ts';
import { contextOf } from '../access/check-access.ts';
import {
  createTextDocument,
  createUploadedDocument,
  createUrlDocument,
  deleteDocument,
  getDocument,
  type KnowledgeDocument,
  listChunks,
  listDocuments,
  reindexDocument,
  updateDocument,
} from './documents.ts';
import { registerKnowledgeHealth } from './health.ts';
import {
  createQaPair,
  deleteQaPair,
  getQaPair,
  listQaPairs,
  matchQaPair,
  type QaPair,
  updateQaPair,
} from './qa.ts';
import { DOCUMENT_SOURCES, DOCUMENT_STATUSES, KNOWLEDGE_LANGUAGES } from './schema.ts';
import { searchKnowledge } from './search.ts';

const documentSchema = z
  .object({
    id: z.uuid(),
    title: z.string(),
    source: z.enum(DOCUMENT_SOURCES),
    url: z.string().nullable(),
    mimeType: z.string(),
    sizeBytes: z.number().int(),
    contentHash: z.string().nullable().describe('sha256 of the original bytes'),
    language: z.enum(KNOWLEDGE_LANGUAGES).describe('Text-search configuration of the chunks'),
    status: z.enum(DOCUMENT_STATUSES),
    progress: z.number().int().min(0).max(100).describe('Chunks stored / chunks to store, in percent'),
    error: z.string().nullable().describe('Why ingestion failed, or a warning on a ready document'),
    chunkCount: z.number().int(),
    embeddedCount: z.number().int().describe('Chunks with an embedding (hybrid search)'),
    createdBy: z.uuid().nullable(),
    indexedAt: dateTime.nullable(),
    createdAt: dateTime,
    updatedAt: dateTime,
  })
  .meta({ id: 'KnowledgeDocument' });

const chunkSchema = z
  .object({ id: z.uuid(), ordinal: z.number().int(), text: z.string(), createdAt: dateTime })
  .meta({ id: 'KnowledgeChunk' });

const qaPairSchema = z
  .object({
    id: z.uuid(),
    question: z.string(),
    answer: z.string(),
    threshold: z.number().min(0).max(1).describe('Minimal match score (0..1) for this pair to answer'),
    enabled: z.boolean(),
    hitCount: z.number().int(),
    lastHitAt: dateTime.nullable(),
    createdAt: dateTime,
    updatedAt: dateTime,
  })
  .meta({ id: 'QaPair' });

const searchSchema = z
  .object({
    mode: z.enum(['hybrid', 'text']).describe('hybrid: text and vector rankings fused; text: no embeddings'),
    hits: z.array(
      z.object({
        chunkId: z.uuid(),
        documentId: z.uuid(),
        title: z.string(),
        text: z.string(),
        score: z
          .number()
          .describe('Confidence 0..1 from the text: share of query words found, or trigram similarity'),
        rrf: z.number().describe('Reciprocal-rank-fusion value the hits are ordered by'),
      }),
    ),
    qa: z
      .object({
        pair: z.object({ id: z.uuid(), question: z.string(), answer: z.string(), threshold: z.number() }),
        score: z.number(),
      })
      .nullable()
      .describe('The QA pair that would answer this message, if any'),
  })
  .meta({ id: 'KnowledgeSearch' });

const wsParams = z.object({ ws: z.uuid() });
const documentParams = z.object({ ws: z.uuid(), doc: z.uuid() });
const pairParams = z.object({ ws: z.uuid(), pair: z.uuid() });
const title = z.string().trim().min(1).max(300);
const language = z
  .enum(KNOWLEDGE_LANGUAGES)
  .optional()
  .describe('Text-search configuration; detected from the text (Cyrillic share) when left out');
const question = z.string().trim().min(1).max(1000);
const answer = z.string().trim().min(1).max(4000);
const threshold = z.number().min(0).max(1);

function toDocumentOut(document: KnowledgeDocument) {
  const { id, title, source, url, mimeType, sizeBytes, contentHash, language, status, progress, error } =
    document;
  const { chunkCount, embeddedCount, createdBy, indexedAt, createdAt, updatedAt } = document;
  return {
    id,
    title,
    source,
    url,
    mimeType,
    sizeBytes,
    contentHash,
    language,
    status,
    progress,
    error,
    chunkCount,
    embeddedCount,
    createdBy,
    indexedAt,
    createdAt,
    updatedAt,
  };
}

function toQaPairOut(pair: QaPair) {
  const { id, question, answer, threshold, enabled, hitCount, lastHitAt, createdAt, updatedAt } = pair;
  return { id, question, answer, threshold, enabled, hitCount, lastHitAt, createdAt, updatedAt };
}

/** Knowledge base: documents (upload, URL, text), their chunks, QA pairs and a search preview. */
export function registerKnowledgeRoutes(app: App, ctx: AppContext) {
  const tags = ['knowledge'];
  const security = [{ bearer: [] }];
  registerKnowledgeHealth(ctx);

  // ─── Documents ─────────────────────────────────────────────────────────────

  app.get(
    '/api/workspaces/:ws/knowledge/documents',
    {
      config: { access: { role: 'viewer' } },
      schema: {
        tags,
        security,
        summary: 'Knowledge documents, newest first, with cursor pagination',
        params: wsParams,
        querystring: pageQuery.extend({ status: z.enum(DOCUMENT_STATUSES).optional() }),
        response: { 200: pageOf(documentSchema), ...commonErrors },
      },
    },
    async (request) => {
      const page = await listDocuments(ctx, { workspaceId: request.params.ws, ...request.query });
      return { items: page.items.map(toDocumentOut), nextCursor: page.nextCursor };
    },
  );

  // The upload takes the raw file as the body, so it lives in a scope of its own whose only
  // body parser hands the bytes over as they are, up to the knowledge size limit.
  void app.register(async (scope: FastifyInstance) => {
    const upload = scope.withTypeProvider<ZodTypeProvider>();
    upload.removeAllContentTypeParsers();
    upload.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: ctx.config.KNOWLEDGE_MAX_UPLOAD_BYTES },
      (_request, body, done) => done(null, body),
    );
    upload.post(
      '/api/workspaces/:ws/knowledge/documents',
      {
        config: { access: { role: 'admin' } },
        schema: {
          tags,
          security,
          summary: 'Upload a document (the raw file as the body); it is queued for ingestion',
          description:
            'Send the file itself as the request body with its Content-Type (text/plain, text/markdown, text/html, application/pdf, application/vnd.openxmlformats-officedocument.wordprocessingml.document, or application/octet-stream with ?filename=). PDF and DOCX are recognised by their content whatever the label. Answers 202 with the queued document; follow its status and progress with GET. 413 over KNOWLEDGE_MAX_UPLOAD_BYTES, 415 for other formats.',
          params: wsParams,
          querystring: z.object({
            title: z.string().trim().min(1).max(300).optional().describe('Defaults to the file name'),
            filename: z
              .string()
              .trim()
              .min(1)
              .max(300)
              .optional()
              .describe('Original file name (helps detect the format)'),
            language,
          }),
          response: { 202: documentSchema, ...commonErrors, 413: errorBody, 415: errorBody },
        },
      },
      async (request, reply) => {
        const body: unknown = request.body;
        if (!(body instanceof Buffer) || body.length === 0) {
          throw new AppError('BAD_REQUEST', { message: 'Send the file as the request body' });
        }
        const { title, filename, language } = request.query;
        const document = await createUploadedDocument(contextOf(ctx, request), {
          workspaceId: request.params.ws,
          title: title ?? filename ?? 'Untitled document',
          bytes: body,
          contentType: request.headers['content-type'],
          fileName: filename,
          language,
        });
        return reply.code(202).send(toDocumentOut(document));
      },
    );
  });

  app.post(
    '/api/workspaces/:ws/knowledge/documents/url',
    {
      config: { access: { role: 'admin' } },
      schema: {
        tags,
        security,
        summary: 'Fetch a document from a URL; it is queued for ingestion',
        description:
          'Only http(s) URLs whose host resolves to public addresses are fetched (private, loopback, link-local and similar addresses are refused unless listed in KNOWLEDGE_URL_ALLOWLIST); redirects are checked hop by hop.',
        params: wsParams,
        body: z.strictObject({ url: z.string().trim().min(1).max(2000), title: title.optional(), language }),
        response: { 202: documentSchema, ...commonErrors },
      },
    },
    async (request, reply) => {
      const document = await createUrlDocument(contextOf(ctx, request), {
        workspaceId: request.params.ws,
        ...request.body,
      });
      return reply.code(202).send(toDocumentOut(document));
    },
  );

  app.post(
    '/api/workspaces/:ws/knowledge/documents/text',
    {
      config: { access: { role: 'admin' } },
      schema: {
        tags,
        security,
        summary:
          'Add a document from text (Markdown headings are kept as sections); it is queued for ingestion',
        params: wsParams,
        body: z.strictObject({
          title,
          text: z.string().min(1),
          format: z.enum(['text', 'markdown']).optional().describe('Default markdown'),
          language,
        }),
        response: { 202: documentSchema, ...commonErrors, 413: errorBody },
      },
    },
    async (request, reply) => {
      const document = await createTextDocument(contextOf(ctx, request), {
        workspaceId: request.params.ws,
        ...request.body,
      });
      return reply.code(202).send(toDocumentOut(document));
    },
  );

  app.get(
    '/api/workspaces/:ws/knowledge/documents/:doc',
    {
      config: { access: { role: 'viewer' } },
      schema: {
        tags,
        security,
        summary: 'One document with its ingestion status and progress',
        params: documentParams,
        response: { 200: documentSchema, ...commonErrors },
      },
    },
    async (request) =>
      toDocumentOut(
        await getDocument(ctx, { workspaceId: request.params.ws, documentId: request.params.doc }),
      ),
  );

  app.patch(
    '/api/workspaces/:ws/knowledge/documents/:doc',
    {
      config: { access: { role: 'admin' } },
      schema: {
        tags,
        security,
        summary: 'Rename a document',
        params: documentParams,
        body: z.strictObject({ title }),
        response: { 200: documentSchema, ...commonErrors },
      },
    },
    async (request) =>
      toDocumentOut(
        await updateDocument(contextOf(ctx, request), {
          workspaceId: request.params.ws,
          documentId: request.params.doc,
          title: request.body.title,
        }),
      ),
  );

  app.delete(
    '/api/workspaces/:ws/knowledge/documents/:doc',
    {
      config: { access: { role: 'admin' } },
      schema: {
        tags,
        security,
        summary: 'Delete a document with its chunks and embeddings',
        params: documentParams,
        response: { 204: z.null(), ...commonErrors },
      },
    },
    async (request, reply) => {
      await deleteDocument(contextOf(ctx, request), {
        workspaceId: request.params.ws,
        documentId: request.params.doc,
      });
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/workspaces/:ws/knowledge/documents/:doc/reindex',
    {
      config: { access: { role: 'admin' } },
      schema: {
        tags,
        security,
        summary: 'Chunk and index the document again (optionally in another language configuration)',
        description:
          'Works from the extracted text, without the original file. The current chunks stay searchable until the new ones replace them.',
        params: documentParams,
        body: z.strictObject({ language }).nullish(),
        response: { 202: documentSchema, ...commonErrors },
      },
    },
    async (request, reply) => {
      const document = await reindexDocument(contextOf(ctx, request), {
        workspaceId: request.params.ws,
        documentId: request.params.doc,
        language: request.body?.language,
      });
      return reply.code(202).send(toDocumentOut(document));
    },
  );

  app.get(
    '/api/workspaces/:ws/knowledge/documents/:doc/chunks',
    {
      config: { access: { role: 'viewer' } },
      schema: {
        tags,
        security,
        summary: 'The live chunks of a document, in order, with cursor pagination',
        params: documentParams,
        querystring: pageQuery,
        response: { 200: pageOf(chunkSchema), ...commonErrors },
      },
    },
    async (request) =>
      listChunks(ctx, { workspaceId: request.params.ws, documentId: request.params.doc, ...request.query }),
  );

  // ─── QA pairs ──────────────────────────────────────────────────────────────

  app.get(
    '/api/workspaces/:ws/knowledge/qa-pairs',
    {
      config: { access: { role: 'viewer' } },
      schema: {
        tags,
        security,
        summary: 'QA pairs, newest first, with cursor pagination',
        params: wsParams,
        querystring: pageQuery.extend({
          enabled: z
            .enum(['true', 'false'])
            .transform((value) => value === 'true')
            .optional(),
        }),
        response: { 200: pageOf(qaPairSchema), ...commonErrors },
      },
    },
    async (request) => {
      const page = await listQaPairs(ctx, { workspaceId: request.params.ws, ...request.query });
      return { items: page.items.map(toQaPairOut), nextCursor: page.nextCursor };
    },
  );

  app.post(
    '/api/workspaces/:ws/knowledge/qa-pairs',
    {
      config: { access: { role: 'admin' } },
      schema: {
        tags,
        security,
        summary: 'Create a QA pair',
        params: wsParams,
        body: z.strictObject({
          question,
          answer,
          threshold: threshold.optional().describe('Default 0.55'),
          enabled: z.boolean().optional(),
        }),
        response: { 201: qaPairSchema, ...commonErrors },
      },
    },
    async (request, reply) => {
      const pair = await createQaPair(contextOf(ctx, request), {
        workspaceId: request.params.ws,
        ...request.body,
      });
      return reply.code(201).send(toQaPairOut(pair));
    },
  );

  app.get(
    '/api/workspaces/:ws/knowledge/qa-pairs/:pair',
    {
      config: { access: { role: 'viewer' } },
      schema: {
        tags,
        security,
        summary: 'One QA pair',
        params: pairParams,
        response: { 200: qaPairSchema, ...commonErrors },
      },
    },
    async (request) =>
      toQaPairOut(await getQaPair(ctx, { workspaceId: request.params.ws, pairId: request.params.pair })),
  );

  app.patch(
    '/api/workspaces/:ws/knowledge/qa-pairs/:pair',
    {
      config: { access: { role: 'admin' } },
      schema: {
        tags,
        security,
        summary: 'Change a QA pair',
        params: pairParams,
        body: z.strictObject({
          question: question.optional(),
          answer: answer.optional(),
          threshold: threshold.optional(),
          enabled: z.boolean().optional(),
        }),
        response: { 200: qaPairSchema, ...commonErrors },
      },
    },
    async (request) =>
      toQaPairOut(
        await updateQaPair(contextOf(ctx, request), {
          workspaceId: request.params.ws,
          pairId: request.params.pair,
          patch: request.body,
        }),
      ),
  );

  app.delete(
    '/api/workspaces/:ws/knowledge/qa-pairs/:pair',
    {
      config: { access: { role: 'admin' } },
      schema: {
        tags,
        security,
        summary: 'Delete a QA pair',
        params: pairParams,
        response: { 204: z.null(), ...commonErrors },
      },
    },
    async (request, reply) => {
      await deleteQaPair(contextOf(ctx, request), {
        workspaceId: request.params.ws,
        pairId: request.params.pair,
      });
      return reply.code(204).send(null);
    },
  );

  // ─── Search preview ────────────────────────────────────────────────────────

  app.get(
    '/api/workspaces/:ws/knowledge/search',
    {
      config: { access: { role: 'viewer' } },
      schema: {
        tags,
        security,
        summary: 'What the bot would retrieve for a message: passages, the matching QA pair and the mode',
        description: 'A preview: it does not count a hit on the QA pair.',
        params: wsParams,
        querystring: z.object({
          q: z.string().trim().min(1).max(500),
          limit: z.coerce.number().int().min(1).max(50).default(5),
        }),
        response: { 200: searchSchema, ...commonErrors },
      },
    },
    async (request) => {
      const { q, limit } = request.query;
      const [result, qa] = await Promise.all([
        searchKnowledge(ctx, request.params.ws, q, { limit }),
        matchQaPair(ctx, request.params.ws, q, { countHit: false }),
      ]);
      return { ...result, qa };
    },
  );
}
