import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { AppContext } from '../../context.ts';
import type { Database, DbOrTx } from '../../platform/db/index.ts';
import { selectRows } from '../../platform/db/rows.ts';

/**
 * Chunk embeddings in pgvector, where the database has it. The table is created by the
 * migration `*_knowledge_vectors.sql` only where the extension is available; `hasVectorStore`
 * runs the same statement again once per process (so pgvector installed after the migration
 * is picked up on restart) and then looks for the table.
 */

const ENSURE_VECTOR_STORE = `
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector') THEN
    BEGIN
      CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA public;
    EXCEPTION WHEN insufficient_privilege THEN
      RAISE NOTICE 'pgvector is available but this role may not create it';
    END;
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'vector') THEN
      CREATE TABLE IF NOT EXISTS knowledge_embeddings (
        chunk_id uuid PRIMARY KEY REFERENCES knowledge_chunks(id) ON DELETE CASCADE,
        workspace_id uuid NOT NULL,
        model text NOT NULL,
        dims integer NOT NULL,
        embedding vector NOT NULL
      );
      CREATE INDEX IF NOT EXISTS knowledge_embeddings_workspace_idx
        ON knowledge_embeddings (workspace_id, model);
    END IF;
  END IF;
END $$`;

const support = new WeakMap<Database, Promise<boolean>>();

/** Whether embeddings can be stored and searched (pgvector present); checked once per process. */
export function hasVectorStore(ctx: Pick<AppContext, 'database' | 'logger'>): Promise<boolean> {
  let known = support.get(ctx.database);
  if (!known) {
    known = detect(ctx).catch((error: unknown) => {
      ctx.logger.warn({ err: error }, 'knowledge: could not check for pgvector; text search only');
      support.delete(ctx.database);
      return false;
    });
    support.set(ctx.database, known);
  }
  return known;
}

async function detect(ctx: Pick<AppContext, 'database'>): Promise<boolean> {
  const { db } = ctx.database;
  await db.transaction(async (tx) => {
    // Several instances starting at once: one creates, the others find it made.
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext('switchboard:migrate'))`);
    await tx.execute(sql.raw(ENSURE_VECTOR_STORE));
  });
  const [row] = await selectRows(
    db,
    sql`select to_regclass('knowledge_embeddings') is not null as present`,
    z.object({ present: z.boolean() }),
  );
  return row?.present ?? false;
}

/** pgvector's text form of a vector. */
export function vectorLiteral(vector: readonly number[]): string {
  return `[${vector.map((value) => (Number.isFinite(value) ? value : 0)).join(',')}]`;
}

export interface EmbeddingRow {
  chunkId: string;
  workspaceId: string;
  model: string;
  embedding: readonly number[];
}

/** Stores embeddings in one multi-row statement. */
export async function storeEmbeddings(db: DbOrTx, rows: EmbeddingRow[]): Promise<void> {
  if (rows.length === 0) return;
  const values = sql.join(
    rows.map(
      (row) =>
        sql`(${row.chunkId}::uuid, ${row.workspaceId}::uuid, ${row.model}, ${row.embedding.length}, ${vectorLiteral(row.embedding)}::vector)`,
    ),
    sql`, `,
  );
  await db.execute(sql`
    insert into knowledge_embeddings (chunk_id, workspace_id, model, dims, embedding)
    values ${values}
    on conflict (chunk_id) do update set model = excluded.model, dims = excluded.dims, embedding = excluded.embedding`);
}

/**
 * Live chunks of the workspace nearest to `embedding` by cosine distance, best first, with
 * the cosine similarity. An exact scan over the workspace's vectors of that model and size:
 * the column has no fixed dimension (models differ), which an ANN index would need.
 */
export async function nearestChunks(
  db: DbOrTx,
  options: { workspaceId: string; model: string; embedding: readonly number[]; limit: number },
): Promise<Array<{ chunkId: string; similarity: number }>> {
  const literal = vectorLiteral(options.embedding);
  const rows = await selectRows(
    db,
    sql`
      select e.chunk_id as "chunkId", 1 - (e.embedding <=> ${literal}::vector) as similarity
      from knowledge_embeddings e
      join knowledge_chunks c on c.id = e.chunk_id
      join knowledge_documents d on d.id = c.document_id and d.generation = c.generation
      where e.workspace_id = ${options.workspaceId} and e.model = ${options.model}
        and e.dims = ${options.embedding.length}
      order by e.embedding <=> ${literal}::vector
      limit ${options.limit}`,
    z.object({ chunkId: z.string(), similarity: z.coerce.number().catch(0) }),
  );
  return rows;
}
