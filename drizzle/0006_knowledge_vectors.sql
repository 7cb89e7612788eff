-- Embeddings of knowledge chunks, only where pgvector is installed: PGlite ships it, many
-- PostgreSQL servers do not. Without it search ranks by text alone (GET /health says so).
-- Kept out of the Drizzle schema on purpose: its type exists only conditionally.
-- The same block runs again at start (vector-store.ts), so installing pgvector later and
-- restarting enables vectors without a new migration.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector') THEN
    BEGIN
      CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA public;
    EXCEPTION WHEN insufficient_privilege THEN
      RAISE NOTICE 'pgvector is available but this role may not create it; knowledge search stays text-only';
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
END $$;
