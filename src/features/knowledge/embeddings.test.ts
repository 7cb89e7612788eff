import { readFileSync } from 'node:fs';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FakeOpenAI } from '../../../testkit/src/fake-openai.ts';
import { startTestApp, type TestApp } from '../../../testkit/src/start-app.ts';
import { createTestWorkspace, signUp, type TestUser } from '../../../testkit/src/users.ts';
import { selectRows } from '../../platform/db/rows.ts';
import { knowledgeDocuments } from './schema.ts';
import { searchKnowledge } from './search.ts';
import { hasVectorStore } from './vector-store.ts';

/**
 * Hybrid search with an embeddings endpoint (the test kit's fake OpenAI, deterministic
 * vectors). PGlite has pgvector: chunks are embedded in batches and vectors join the ranking.
 * This machine's PostgreSQL has not: the same run stays text-only and never calls the endpoint
 * for chunks — both are asserted, whichever database the suite runs on.
 */

const FAQ = readFileSync(new URL('../../../examples/knowledge/faq.md', import.meta.url), 'utf8');

let fake: FakeOpenAI;
let app: TestApp;
let owner: TestUser;
let workspaceId = '';
let vectors = false;

beforeAll(async () => {
  fake = await FakeOpenAI.start();
  app = await startTestApp({
    env: {
      LLM_BASE_URL: fake.url,
      LLM_API_KEY: fake.apiKey,
      LLM_EMBEDDINGS_MODEL: 'fake-embeddings',
      LLM_MAX_RETRIES: '0',
      LLM_RETRY_BASE_MS: '1',
    },
  });
  owner = await signUp(app);
  workspaceId = await createTestWorkspace(app, owner, 'Hybrid shop');
  vectors = await hasVectorStore(app.ctx);
});
afterAll(async () => {
  await app?.close();
  await fake?.close();
});

const documentOut = z.looseObject({
  id: z.string(),
  status: z.string(),
  chunkCount: z.number(),
  embeddedCount: z.number(),
  error: z.string().nullable(),
});

async function addText(title: string, text: string) {
  const response = await app.api(`/api/workspaces/${workspaceId}/knowledge/documents/text`, {
    method: 'POST',
    token: owner.token,
    json: { title, text },
  });
  expect(response.status).toBe(202);
  const id = documentOut.parse(response.body).id;
  for (;;) {
    const current = await app.api(`/api/workspaces/${workspaceId}/knowledge/documents/${id}`, {
      token: owner.token,
    });
    const document = documentOut.parse(current.body);
    if (document.status === 'ready' || document.status === 'failed') return document;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const embeddingRequests = () => fake.requests.filter((request) => request.path === '/v1/embeddings');

describe('ingestion with an embeddings endpoint', () => {
  it('embeds every chunk in batches where pgvector exists, and skips the endpoint where it does not', async () => {
    const before = embeddingRequests().length;
    const long = Array.from(
      { length: 2000 },
      (_, i) => `Line ${i}: warehouse code ZX-${i} is in stock.`,
    ).join('\n\n');
    const document = await addText('FAQ and catalogue', `${FAQ}\n\n# Catalogue\n\n${long}`);
    expect(document.status).toBe('ready');
    expect(document.error).toBeNull();
    const calls = embeddingRequests().slice(before);
    if (vectors) {
      expect(document.embeddedCount).toBe(document.chunkCount);
      // Batches of up to 64 texts, not one request per chunk.
      expect(calls.length).toBe(Math.ceil(document.chunkCount / 64));
      const inputs = calls.map(
        (call) => z.object({ input: z.array(z.string()) }).parse(call.body).input.length,
      );
      expect(Math.max(...inputs)).toBe(64);
      const [stored] = await selectRows(
        app.ctx.db,
        sql`select count(*)::int as count, min(dims) as dims from knowledge_embeddings e
            join knowledge_chunks c on c.id = e.chunk_id where c.document_id = ${document.id}`,
        z.object({ count: z.number(), dims: z.number() }),
      );
      expect(stored).toEqual({ count: document.chunkCount, dims: 256 });
    } else {
      expect(document.embeddedCount).toBe(0);
      expect(calls).toHaveLength(0);
    }
  });

  it('searches in hybrid mode where vectors exist, and still finds the right passage', async () => {
    const result = await searchKnowledge(app.ctx, workspaceId, 'Сколько стоит доставка?');
    expect(result.mode).toBe(vectors ? 'hybrid' : 'text');
    expect(result.hits[0]?.text).toContain('Доставка по городу стоит');
    const english = await searchKnowledge(app.ctx, workspaceId, 'Can I return a sofa I did not use?');
    expect(english.hits[0]?.text).toContain('return furniture');
  });

  it('indexes for text search only, with a warning, when the endpoint fails; search falls back to text', async () => {
    fake.mode('serverError', { status: 503 });
    try {
      const document = await addText('Beds', '# Beds\n\nBeds come with orthopaedic slats.');
      expect(document.status).toBe('ready');
      expect(document.embeddedCount).toBe(0);
      if (vectors) expect(document.error).toMatch(/Embeddings failed .*text search only/);
      const result = await searchKnowledge(app.ctx, workspaceId, 'orthopaedic slats');
      expect(result.mode).toBe('text');
      expect(result.hits[0]?.text).toContain('orthopaedic slats');
    } finally {
      fake.mode('normal');
    }
  });

  it('drops the embeddings with their document', async () => {
    const document = await addText('Short-lived', 'Pouffes in mustard velvet.');
    const count = async () => {
      if (!vectors) return 0;
      const [row] = await selectRows(
        app.ctx.db,
        sql`select count(*)::int as count from knowledge_embeddings where workspace_id = ${workspaceId}`,
        z.object({ count: z.number() }),
      );
      return row?.count ?? 0;
    };
    const before = await count();
    const deleted = await app.api(`/api/workspaces/${workspaceId}/knowledge/documents/${document.id}`, {
      method: 'DELETE',
      token: owner.token,
    });
    expect(deleted.status).toBe(204);
    expect(await count()).toBe(vectors ? before - document.embeddedCount : 0);
    expect(
      await app.ctx.db.select().from(knowledgeDocuments).where(eq(knowledgeDocuments.id, document.id)),
    ).toEqual([]);
  });
});
