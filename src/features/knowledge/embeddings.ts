import { getLlm } from '../../assistant/llm/index.ts';
import type { AppContext } from '../../context.ts';

/**
 * The knowledge base's only door to the LLM client (src/assistant/llm): turning texts into
 * vectors. Everything else in this feature speaks `Embedder`, so a change of the client's
 * contract touches this file alone.
 */
export interface Embedder {
  /**
   * Names the vector space: vectors of different models are never compared (nor of different
   * sizes). The client does not say which provider's model answered, so this is the platform's
   * configured embeddings model (or `default`); a workspace switching embedding models should
   * re-index its documents.
   */
  model: string;
  /** One vector per text, in order; throws when every provider failed. */
  embed(texts: string[]): Promise<number[][]>;
}

/** Texts per embeddings request: large enough to amortise a call, small enough for any provider. */
export const EMBED_BATCH = 64;

/** The workspace's embedder, or null when no LLM is configured or it cannot embed. */
export async function getEmbedder(ctx: AppContext, workspaceId: string): Promise<Embedder | null> {
  const llm = await getLlm(ctx, workspaceId);
  if (!llm?.capabilities.embeddings) return null;
  return {
    model: ctx.config.LLM_EMBEDDINGS_MODEL ?? 'default',
    embed: async (texts) => {
      const vectors = await llm.embed(texts, { workspaceId, purpose: 'embeddings' });
      if (vectors.length !== texts.length) {
        throw new Error(`embeddings endpoint returned ${vectors.length} vectors for ${texts.length} texts`);
      }
      return vectors;
    },
  };
}
