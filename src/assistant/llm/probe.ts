import type { RequestContext } from '../../context.ts';
import { getLlmProvider, providerApiKey } from '../../features/llm/service.ts';
import { CircuitBreaker } from './circuit-breaker.ts';
import { createLlmClient, createOpenAI, type LlmCapability, type ResolvedProvider } from './llm-client.ts';
import { llmRuntime } from './runtime.ts';
import { LlmRequestError, LlmUnavailableError } from './types.ts';

export interface ProbeResult {
  ok: boolean;
  /** What was tried: the chat model if any, else embeddings, vision, then listing models. */
  capability: LlmCapability | 'models';
  model: string | null;
  latencyMs: number;
  error: string | null;
}

/**
 * One tiny real call to a workspace provider, outside the chain: no retries, no fallback, and
 * its own throwaway circuit breaker (a failing test must not open the live one). The call is
 * recorded in usage like any other.
 */
export async function probeLlmProvider(
  ctx: RequestContext,
  options: { workspaceId: string; providerId: string },
): Promise<ProbeResult> {
  const row = await getLlmProvider(ctx, options);
  const runtime = llmRuntime(ctx);
  const provider: ResolvedProvider = {
    id: row.id,
    name: row.name,
    baseUrl: row.baseUrl,
    apiKey: providerApiKey(ctx.keys, row),
    models: {
      ...(row.chatModel ? { chat: row.chatModel } : {}),
      ...(row.embeddingsModel ? { embeddings: row.embeddingsModel } : {}),
      ...(row.transcriptionModel ? { transcription: row.transcriptionModel } : {}),
      ...(row.visionModel ? { vision: row.visionModel } : {}),
    },
  };
  const openai = createOpenAI(provider, runtime.policy.timeoutMs);
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);

  const capability: LlmCapability | 'models' = provider.models.chat
    ? 'chat'
    : provider.models.embeddings
      ? 'embeddings'
      : provider.models.vision
        ? 'vision'
        : 'models';
  if (capability === 'models') {
    // Only a transcription model: listing models proves the endpoint and the key without audio.
    try {
      await openai.models.list({ signal: AbortSignal.timeout(runtime.policy.timeoutMs) });
      return { ok: true, capability, model: null, latencyMs: elapsed(), error: null };
    } catch (error) {
      return { ok: false, capability, model: null, latencyMs: elapsed(), error: messageOf(error) };
    }
  }
  // A vision-only provider is probed with a text-only chat to its vision model.
  const target =
    capability === 'vision' ? { ...provider, models: { chat: provider.models.vision } } : provider;
  const client = createLlmClient({
    providers: [target],
    breakerOf: () => new CircuitBreaker({ threshold: 1, cooldownMs: 1 }),
    openaiOf: () => openai,
    record: runtime.record,
    policy: { ...runtime.policy, maxRetries: 0 },
  });
  const scope = {
    workspaceId: options.workspaceId,
    purpose: capability === 'vision' ? 'chat' : capability,
  } as const;
  const model = provider.models[capability] ?? null;
  try {
    if (capability === 'embeddings') await client.embed(['ping'], scope);
    else
      await client.chat({ messages: [{ role: 'user', content: 'Reply with the single word: ok' }] }, scope);
    return { ok: true, capability, model, latencyMs: elapsed(), error: null };
  } catch (error) {
    return { ok: false, capability, model, latencyMs: elapsed(), error: messageOf(error) };
  }
}

function messageOf(error: unknown): string {
  if (error instanceof LlmUnavailableError) return error.attempts.map((attempt) => attempt.error).join('; ');
  if (error instanceof LlmRequestError) return error.message.replace(/^[^:]*: /, '');
  return error instanceof Error ? error.message : String(error);
}
