import type { AppContext } from '../../context.ts';
import { hasVectorStore } from './vector-store.ts';

/**
 * `knowledge` in GET /health: which search the knowledge base runs. Never critical — text
 * search works without pgvector, so a missing extension is information, not an outage.
 */
export function registerKnowledgeHealth(ctx: AppContext): void {
  ctx.health.register(
    'knowledge',
    async () => {
      const vectors = await hasVectorStore(ctx);
      return {
        knowledge_search: vectors ? 'hybrid' : 'text (pgvector not installed)',
        pgvector: vectors,
      };
    },
    { critical: false },
  );
}
