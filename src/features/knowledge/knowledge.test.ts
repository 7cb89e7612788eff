import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startTestApp, type TestApp } from '../../../testkit/src/start-app.ts';
import { addMember, createTestWorkspace, signUp, type TestUser } from '../../../testkit/src/users.ts';
import { selectRows } from '../../platform/db/rows.ts';
import { auditLog } from '../audit/schema.ts';
import { rebuildKnowledgeTerms, sweepKnowledgeDocuments } from './ingest.ts';
import { matchQaPair } from './qa.ts';
import { knowledgeChunks, knowledgeDocuments, knowledgeFiles, qaPairs } from './schema.ts';
import { searchKnowledge } from './search.ts';

/**
 * The knowledge base end to end over HTTP: documents in every way (text, upload of each
 * format, URL through the SSRF guard), ingestion to ready with progress, crash recovery,
 * search in English and Russian, QA pairs, deletion and /health — on PGlite and PostgreSQL.
 */

const FAQ = readFileSync(new URL('../../../examples/knowledge/faq.md', import.meta.url), 'utf8');
const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url));

let app: TestApp;
let site: Server;
let siteUrl = '';
let owner: TestUser;
let viewer: TestUser;
let workspaceId = '';
let faqId = '';

beforeAll(async () => {
  site = createServer((request, response) => {
    if (request.url === '/help/warranty') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end(
        '<html><head><title>Warranty</title></head><body><nav>Menu</nav><h1>Warranty terms</h1><p>Recliner mechanisms carry a seven-year guarantee.</p></body></html>',
      );
    } else if (request.url === '/to-metadata') {
      response.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' });
      response.end();
    } else {
      response.writeHead(404);
      response.end();
    }
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
  app = await startTestApp({
    env: { KNOWLEDGE_URL_ALLOWLIST: '127.0.0.1', KNOWLEDGE_MAX_UPLOAD_BYTES: '100000' },
  });
  owner = await signUp(app);
  workspaceId = await createTestWorkspace(app, owner, 'Uyut');
  viewer = await addMember(app, owner, workspaceId, 'viewer');
  faqId = await addText('Shop FAQ', FAQ);
  await waitUntilDone(faqId);
});
afterAll(async () => {
  await app?.close();
  await new Promise((resolve) => site?.close(resolve));
});

const documentOut = z.looseObject({
  id: z.string(),
  status: z.enum(['queued', 'processing', 'ready', 'failed']),
  progress: z.number(),
  chunkCount: z.number(),
  language: z.string(),
  error: z.string().nullable(),
  mimeType: z.string(),
  url: z.string().nullable(),
});
const searchOut = z.object({
  mode: z.enum(['hybrid', 'text']),
  hits: z.array(
    z.looseObject({ documentId: z.string(), text: z.string(), score: z.number(), title: z.string() }),
  ),
  qa: z
    .looseObject({ pair: z.looseObject({ id: z.string(), answer: z.string() }), score: z.number() })
    .nullable(),
});

const base = () => `/api/workspaces/${workspaceId}/knowledge`;

async function addText(title: string, text: string, ws = workspaceId): Promise<string> {
  const response = await app.api(`/api/workspaces/${ws}/knowledge/documents/text`, {
    method: 'POST',
    token: owner.token,
    json: { title, text },
  });
  expect(response.status, JSON.stringify(response.body)).toBe(202);
  return documentOut.parse(response.body).id;
}

async function upload(body: Buffer, contentType: string, query = '', token = owner.token) {
  const response = await fetch(`${app.url}${base()}/documents${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
    body,
  });
  return { status: response.status, body: (await response.json()) as unknown };
}

async function getDocument(id: string) {
  const response = await app.api(`${base()}/documents/${id}`, { token: owner.token });
  expect(response.status).toBe(200);
  return documentOut.parse(response.body);
}

/** Polls the document until ingestion settles (ready or failed). */
async function waitUntilDone(id: string) {
  let document = await getDocument(id);
  const deadline = Date.now() + 30_000;
  while (document.status === 'queued' || document.status === 'processing') {
    if (Date.now() > deadline) throw new Error(`document ${id} still ${document.status}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
    document = await getDocument(id);
  }
  return document;
}

async function search(q: string, token = owner.token) {
  const response = await app.api(`${base()}/search?q=${encodeURIComponent(q)}`, { token });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return searchOut.parse(response.body);
}

describe('POST /knowledge/documents/text', () => {
  it('ingests the FAQ to ready: chunks stored, progress 100, Russian configuration detected', async () => {
    const document = await getDocument(faqId);
    expect(document).toMatchObject({ status: 'ready', progress: 100, language: 'russian', error: null });
    expect(document.chunkCount).toBeGreaterThanOrEqual(10);
    // Headings stay with their sections.
    const chunks = await app.api(`${base()}/documents/${faqId}/chunks?limit=5`, { token: viewer.token });
    expect(chunks.status).toBe(200);
    const page = z
      .object({
        items: z.array(z.object({ ordinal: z.number(), text: z.string() })),
        nextCursor: z.string().nullable(),
      })
      .parse(chunks.body);
    expect(page.items.map((chunk) => chunk.ordinal)).toEqual([0, 1, 2, 3, 4]);
    expect(page.items.some((chunk) => chunk.text.startsWith('## Delivery\n\nWe deliver'))).toBe(true);
    const rest = await app.api(`${base()}/documents/${faqId}/chunks?limit=200&cursor=${page.nextCursor}`, {
      token: viewer.token,
    });
    const restPage = z.object({ items: z.array(z.object({ ordinal: z.number() })) }).parse(rest.body);
    expect(restPage.items[0]?.ordinal).toBe(5);
    expect(page.items.length + restPage.items.length).toBe(document.chunkCount);
  });

  it('records progress as chunks are stored, in multi-row batches, ending at ready 100', async () => {
    await app.ctx.db.execute(
      sql`create table if not exists knowledge_progress_log (id uuid, status text, progress int, at timestamptz default clock_timestamp())`,
    );
    await app.ctx.db.execute(sql`
      create or replace function knowledge_progress_log_fn() returns trigger language plpgsql as $$
      begin insert into knowledge_progress_log (id, status, progress) values (new.id, new.status, new.progress); return new; end $$`);
    await app.ctx.db.execute(sql`
      create trigger knowledge_progress_log_trigger after update on knowledge_documents
      for each row execute function knowledge_progress_log_fn()`);
    // About 130 chunks: three insert batches.
    const long = Array.from({ length: 3000 }, (_, i) => `P${i}: sofa ${i} has oak legs.`).join('\n\n');
    const id = await addText('Catalogue notes', long);
    const done = await waitUntilDone(id);
    await app.ctx.db.execute(sql`drop trigger knowledge_progress_log_trigger on knowledge_documents`);
    expect(done).toMatchObject({ status: 'ready', progress: 100 });
    const log = await selectRows(
      app.ctx.db,
      sql`select status, progress from knowledge_progress_log where id = ${id} order by at`,
      z.object({ status: z.string(), progress: z.number() }),
    );
    const processing = log.filter((row) => row.status === 'processing').map((row) => row.progress);
    // One progress write per batch of chunks: several steps between 0 and 100, never backwards.
    expect(processing.filter((progress) => progress > 0 && progress < 100).length).toBeGreaterThanOrEqual(2);
    expect(processing).toEqual([...processing].sort((a, b) => a - b));
    expect(log.at(-1)).toEqual({ status: 'ready', progress: 100 });
  });

  it('refuses empty text and needs the admin role', async () => {
    const empty = await app.api(`${base()}/documents/text`, {
      method: 'POST',
      token: owner.token,
      json: { title: 'Blank', text: '  \n ' },
    });
    expect(empty.status).toBe(400);
    const byViewer = await app.api(`${base()}/documents/text`, {
      method: 'POST',
      token: viewer.token,
      json: { title: 'X', text: 'Y' },
    });
    expect(byViewer.status).toBe(403);
  });
});

describe('POST /knowledge/documents (upload)', () => {
  it('ingests a PDF, a DOCX, HTML and Markdown, each found by search afterwards', async () => {
    const cases: Array<[Buffer, string, string, string]> = [
      [fixture('delivery.pdf'), 'application/pdf', '?title=Delivery%20PDF', 'roubles'],
      [fixture('warranty.docx'), 'application/octet-stream', '?filename=warranty.docx', 'mechanisms'],
      [
        Buffer.from(
          '<html><body><script>evil()</script><h1>Care</h1><p>Clean velvet with a dry brush.</p></body></html>',
        ),
        'text/html',
        '?title=Care',
        'velvet',
      ],
      [Buffer.from('# Gift cards\n\nGift cards never expire.'), 'text/markdown', '', 'gift cards'],
    ];
    for (const [body, contentType, query, term] of cases) {
      const response = await upload(body, contentType, query);
      expect(response.status, JSON.stringify(response.body)).toBe(202);
      const queued = documentOut.parse(response.body);
      expect(queued.status).toBe('queued');
      const done = await waitUntilDone(queued.id);
      expect(done, term).toMatchObject({ status: 'ready', progress: 100 });
      const result = await search(term);
      expect(
        result.hits.map((hit) => hit.documentId),
        term,
      ).toContain(queued.id);
      expect(result.hits.every((hit) => !hit.text.includes('evil()'))).toBe(true);
    }
    // As `curl --data-binary @faq.md` sends it, and with no content type at all.
    for (const contentType of ['application/x-www-form-urlencoded', '']) {
      const response = await fetch(`${app.url}${base()}/documents?filename=faq.md`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${owner.token}`,
          ...(contentType ? { 'content-type': contentType } : {}),
        },
        body: new Uint8Array(Buffer.from('# Sale\n\nEverything is 10% off on Mondays.')),
      });
      expect(response.status, contentType).toBe(202);
      const queued = documentOut.parse(await response.json());
      expect(queued.mimeType).toBe('text/markdown');
      expect(await waitUntilDone(queued.id)).toMatchObject({ status: 'ready' });
    }
    // The stored file is dropped once its text is extracted.
    expect(await app.ctx.db.select().from(knowledgeFiles)).toHaveLength(0);
  });

  it('answers 415 for formats it cannot read, 413 over the size limit, 400 for an empty body', async () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]);
    expect((await upload(png, 'image/png')).status).toBe(415);
    expect((await upload(Buffer.alloc(150_000, 'a'), 'text/plain')).status).toBe(413);
    expect((await upload(Buffer.alloc(0), 'text/plain')).status).toBe(400);
    expect((await upload(Buffer.from('hello'), 'text/plain', '', viewer.token)).status).toBe(403);
  });

  it('marks a broken PDF failed with the reason', async () => {
    const response = await upload(
      Buffer.from('%PDF-1.7\nthis is no pdf at all'),
      'application/pdf',
      '?title=Broken',
    );
    expect(response.status).toBe(202);
    const done = await waitUntilDone(documentOut.parse(response.body).id);
    expect(done.status).toBe('failed');
    expect(done.error).toMatch(/Could not read the pdf file/);
  });
});

describe('POST /knowledge/documents/url', () => {
  it('fetches an allow-listed page and indexes its visible text', async () => {
    const response = await app.api(`${base()}/documents/url`, {
      method: 'POST',
      token: owner.token,
      json: { url: `${siteUrl}/help/warranty` },
    });
    expect(response.status, JSON.stringify(response.body)).toBe(202);
    const done = await waitUntilDone(documentOut.parse(response.body).id);
    expect(done).toMatchObject({ status: 'ready', mimeType: 'text/html' });
    const result = await search('recliner guarantee');
    expect(result.hits[0]?.documentId).toBe(done.id);
    expect(result.hits[0]?.text).not.toContain('Menu');
  });

  it('refuses private, link-local and loopback addresses outside the allow-list at once', async () => {
    for (const url of [
      'http://10.0.0.1/',
      'http://169.254.169.254/latest/meta-data/',
      'http://[::1]/',
      'file:///etc/passwd',
    ]) {
      const response = await app.api(`${base()}/documents/url`, {
        method: 'POST',
        token: owner.token,
        json: { url },
      });
      expect(response.status, url).toBe(400);
      expect(response.json.error).toMatchObject({
        code: 'BAD_REQUEST',
        message: expect.stringContaining('URL refused'),
      });
    }
  });

  it('fails the document when a redirect leads to a private address', async () => {
    const response = await app.api(`${base()}/documents/url`, {
      method: 'POST',
      token: owner.token,
      json: { url: `${siteUrl}/to-metadata`, title: 'Sneaky' },
    });
    expect(response.status).toBe(202);
    const done = await waitUntilDone(documentOut.parse(response.body).id);
    expect(done.status).toBe('failed');
    expect(done.error).toMatch(/URL refused: 169\.254\.169\.254 is a link-local address/);
  });
});

describe('GET /knowledge/search', () => {
  it('finds the delivery passage for an English question, with a confident score', async () => {
    const result = await search('How much does delivery cost?');
    const top = result.hits[0];
    expect(top?.text).toContain('Delivery within the city');
    expect(top?.score).toBeGreaterThanOrEqual(0.5);
    expect(top?.title).toBe('Shop FAQ');
  });

  it('finds the Russian delivery passage for «Сколько стоит доставка?»', async () => {
    const result = await search('Сколько стоит доставка?');
    expect(result.hits[0]?.text).toContain('Доставка по городу стоит');
    expect(result.hits[0]?.score).toBeGreaterThanOrEqual(0.5);
  });

  it('matches Russian word forms and typos', async () => {
    expect((await search('можно ли вернуть диван'))?.hits[0]?.text).toContain('вернуть');
    expect((await search('гарантия на механизм дивана'))?.hits[0]?.text).toContain('Гарантия');
    expect((await search('warranty on sofa mechanizms'))?.hits[0]?.text).toMatch(/warranty/i);
    // Words found nowhere are corrected from the workspace's lexicon.
    expect((await search('гарантя'))?.hits[0]?.text).toContain('Гарантия');
    expect((await search('delivry'))?.hits[0]?.text).toContain('Delivery');
    // A rebuild from the live chunks finds the same words ingestion stored.
    const [before] = await selectRows(
      app.ctx.db,
      sql`select count(*)::int as count from knowledge_terms where workspace_id = ${workspaceId}`,
      z.object({ count: z.number() }),
    );
    expect(await rebuildKnowledgeTerms(app.ctx, workspaceId)).toBe(before?.count);
  });

  it('scores an unrelated question low', async () => {
    const result = await search('What is the weather in Paris tomorrow?');
    expect(result.hits[0]?.score ?? 0).toBeLessThan(0.5);
  });

  it('keeps workspaces apart', async () => {
    const other = await createTestWorkspace(app, owner, 'Other shop');
    const result = await searchKnowledge(app.ctx, other, 'delivery');
    expect(result.hits).toEqual([]);
  });

  it('says which mode it ran in (text without an embeddings endpoint)', async () => {
    expect((await search('delivery')).mode).toBe('text');
  });
});

describe('QA pairs', () => {
  let pairId = '';

  it('are created, listed, changed and audited', async () => {
    const created = await app.api(`${base()}/qa-pairs`, {
      method: 'POST',
      token: owner.token,
      json: {
        question: 'How much does delivery cost?',
        answer: 'Delivery in the city is 1,500 ₽; free from 50,000 ₽.',
      },
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ threshold: expect.closeTo(0.55, 5), enabled: true, hitCount: 0 });
    pairId = String(created.json.id);
    const ru = await app.api(`${base()}/qa-pairs`, {
      method: 'POST',
      token: owner.token,
      json: { question: 'Сколько стоит доставка?', answer: 'Доставка по городу — 1 500 ₽.', threshold: 0.5 },
    });
    expect(ru.status).toBe(201);
    const list = await app.api(`${base()}/qa-pairs?limit=1`, { token: viewer.token });
    expect(list.status).toBe(200);
    expect(list.json.nextCursor).toEqual(expect.any(String));
    const rows = await app.ctx.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.workspaceId, workspaceId), eq(auditLog.action, 'qa_pair.create')));
    expect(rows).toHaveLength(2);
  });

  it('match a rephrased question above the threshold and count the hit', async () => {
    const match = await matchQaPair(app.ctx, workspaceId, 'how much is the delivery cost to my flat?');
    expect(match?.pair.id).toBe(pairId);
    expect(match?.score).toBeGreaterThanOrEqual(0.55);
    const ru = await matchQaPair(app.ctx, workspaceId, 'доставка сколько стоит');
    expect(ru?.pair.answer).toContain('1 500 ₽');
    const [row] = await app.ctx.db.select().from(qaPairs).where(eq(qaPairs.id, pairId));
    expect(row?.hitCount).toBe(1);
  });

  it('do not match below the threshold, nor when disabled', async () => {
    expect(await matchQaPair(app.ctx, workspaceId, 'Do you sell office chairs?')).toBeNull();
    const strict = await app.api(`${base()}/qa-pairs/${pairId}`, {
      method: 'PATCH',
      token: owner.token,
      json: { threshold: 0.99 },
    });
    expect(strict.status).toBe(200);
    expect(await matchQaPair(app.ctx, workspaceId, 'how much is the delivery cost to my flat?')).toBeNull();
    // The same words (in another order and form) still reach 1.
    expect((await matchQaPair(app.ctx, workspaceId, 'Delivery: how much does it cost?'))?.score).toBeCloseTo(
      1,
      2,
    );
    await app.api(`${base()}/qa-pairs/${pairId}`, {
      method: 'PATCH',
      token: owner.token,
      json: { enabled: false, threshold: 0.55 },
    });
    expect(await matchQaPair(app.ctx, workspaceId, 'How much does delivery cost?')).toBeNull();
    await app.api(`${base()}/qa-pairs/${pairId}`, {
      method: 'PATCH',
      token: owner.token,
      json: { enabled: true },
    });
  });

  it('show in the search preview without counting a hit', async () => {
    const [before] = await app.ctx.db.select().from(qaPairs).where(eq(qaPairs.id, pairId));
    const result = await search('How much does delivery cost?', viewer.token);
    expect(result.qa?.pair.id).toBe(pairId);
    const [after] = await app.ctx.db.select().from(qaPairs).where(eq(qaPairs.id, pairId));
    expect(after?.hitCount).toBe(before?.hitCount);
  });

  it('are deleted', async () => {
    const deleted = await app.api(`${base()}/qa-pairs/${pairId}`, { method: 'DELETE', token: owner.token });
    expect(deleted.status).toBe(204);
    expect((await app.api(`${base()}/qa-pairs/${pairId}`, { token: owner.token })).status).toBe(404);
  });
});

describe('re-index and recovery', () => {
  it('re-indexes from the stored text, replacing the chunks while the old ones stay searchable', async () => {
    const id = await addText('Assembly', '# Assembly\n\nAssembly costs 5% of the order, minimum 1,000 ₽.');
    await waitUntilDone(id);
    const before = await app.ctx.db
      .select({ id: knowledgeChunks.id })
      .from(knowledgeChunks)
      .where(eq(knowledgeChunks.documentId, id));
    const response = await app.api(`${base()}/documents/${id}/reindex`, {
      method: 'POST',
      token: owner.token,
      json: { language: 'english' },
    });
    expect(response.status).toBe(202);
    expect(documentOut.parse(response.body).status).toBe('queued');
    const done = await waitUntilDone(id);
    expect(done).toMatchObject({ status: 'ready', language: 'english', chunkCount: 1 });
    const after = await app.ctx.db
      .select({ id: knowledgeChunks.id })
      .from(knowledgeChunks)
      .where(eq(knowledgeChunks.documentId, id));
    expect(after).toHaveLength(1);
    expect(after[0]?.id).not.toBe(before[0]?.id);
  });

  it('finishes a document a crash left processing, discarding the half-written generation', async () => {
    const id = await addText('Wardrobes', '# Wardrobes\n\nSliding wardrobes come in oak and white ash.');
    const done = await waitUntilDone(id);
    // The state a kill -9 leaves mid-run: processing, half a new generation, no job any more.
    const [document] = await app.ctx.db
      .select()
      .from(knowledgeDocuments)
      .where(eq(knowledgeDocuments.id, id));
    if (!document) throw new Error('missing');
    await app.ctx.db.insert(knowledgeChunks).values({
      documentId: id,
      workspaceId,
      generation: document.generation + 1,
      ordinal: 0,
      text: 'half-written',
      tsv: sql`to_tsvector('simple', 'half-written')`,
    });
    await app.ctx.db
      .update(knowledgeDocuments)
      .set({
        status: 'processing',
        progress: 40,
        revision: document.revision + 1,
        updatedAt: new Date(Date.now() - 3_600_000),
      })
      .where(eq(knowledgeDocuments.id, id));
    // Meanwhile search still answers from the live generation.
    expect((await search('sliding wardrobes oak')).hits[0]?.documentId).toBe(id);
    expect(await sweepKnowledgeDocuments(app.ctx)).toBeGreaterThanOrEqual(1);
    const recovered = await waitUntilDone(id);
    expect(recovered).toMatchObject({ status: 'ready', progress: 100, chunkCount: done.chunkCount });
    const chunks = await app.ctx.db.select().from(knowledgeChunks).where(eq(knowledgeChunks.documentId, id));
    expect(chunks.map((chunk) => chunk.text)).toEqual([
      '# Wardrobes\n\nSliding wardrobes come in oak and white ash.',
    ]);
  });

  it('queues a document whose job was lost (queued, no job)', async () => {
    const [row] = await app.ctx.db
      .insert(knowledgeDocuments)
      .values({
        workspaceId,
        title: 'Lost job',
        source: 'text',
        mimeType: 'text/markdown',
        rawText: 'Armchairs are upholstered in boucle.',
        language: 'english',
        updatedAt: new Date(Date.now() - 3_600_000),
      })
      .returning();
    if (!row) throw new Error('insert failed');
    await sweepKnowledgeDocuments(app.ctx);
    expect(await waitUntilDone(row.id)).toMatchObject({ status: 'ready', chunkCount: 1 });
  });
});

describe('DELETE /knowledge/documents/:doc', () => {
  it('deletes the document with its chunks (and embeddings), audited, and search forgets it', async () => {
    const id = await addText('Temporary', 'Temporary promotion: velour ottomans half price.');
    await waitUntilDone(id);
    expect((await search('velour ottomans')).hits[0]?.documentId).toBe(id);
    const byViewer = await app.api(`${base()}/documents/${id}`, { method: 'DELETE', token: viewer.token });
    expect(byViewer.status).toBe(403);
    const deleted = await app.api(`${base()}/documents/${id}`, { method: 'DELETE', token: owner.token });
    expect(deleted.status).toBe(204);
    expect((await app.api(`${base()}/documents/${id}`, { token: owner.token })).status).toBe(404);
    expect(
      await app.ctx.db.select().from(knowledgeChunks).where(eq(knowledgeChunks.documentId, id)),
    ).toHaveLength(0);
    expect((await search('velour ottomans')).hits.some((hit) => hit.documentId === id)).toBe(false);
    const audit = await app.ctx.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.targetId, id), eq(auditLog.action, 'knowledge_document.delete')));
    expect(audit).toHaveLength(1);
  });

  it('lists documents by status with cursor pagination', async () => {
    const failed = await app.api(`${base()}/documents?status=failed`, { token: viewer.token });
    expect(failed.status).toBe(200);
    const items = z.array(documentOut).parse(failed.json.items);
    expect(items.length).toBeGreaterThanOrEqual(2);
    expect(items.every((item) => item.status === 'failed')).toBe(true);
    const first = await app.api(`${base()}/documents?limit=2`, { token: viewer.token });
    const second = await app.api(`${base()}/documents?limit=2&cursor=${String(first.json.nextCursor)}`, {
      token: viewer.token,
    });
    const ids = [
      ...z.array(documentOut).parse(first.json.items),
      ...z.array(documentOut).parse(second.json.items),
    ].map((item) => item.id);
    expect(new Set(ids).size).toBe(4);
  });
});

describe('GET /health', () => {
  it('reports the knowledge search mode without failing health', async () => {
    const [available] = await selectRows(
      app.ctx.db,
      sql`select exists (select 1 from pg_available_extensions where name = 'vector') as present`,
      z.object({ present: z.boolean() }),
    );
    const response = await app.api('/health');
    expect(response.status).toBe(200);
    expect(response.json.checks).toMatchObject({
      knowledge: {
        ok: true,
        info: { knowledge_search: available?.present ? 'hybrid' : 'text (pgvector not installed)' },
      },
    });
  });
});
