/**
 * The LLM client of the assistant: any OpenAI-compatible endpoint through the `openai` package,
 * over a chain of providers per workspace (its own, by priority, then the platform default),
 * with per-call timeouts, retries with backoff, a circuit breaker per provider and usage
 * recorded per HTTP attempt. See `llm-client.ts` for the fallback rules and
 * `circuit-breaker.ts` for the breaker.
 */
import type { AppContext } from '../../context.ts';
import { createLlmClient } from './llm-client.ts';
import { llmRuntime } from './runtime.ts';
import type { LlmClient } from './types.ts';

export { closeLlm, flushLlmUsage } from './runtime.ts';
export type {
  ChatCompletionMessage,
  ChatCompletionMessageParam,
  ChatCompletionTool,
  LlmChatRequest,
  LlmChatResult,
  LlmClient,
  LlmUsageScope,
} from './types.ts';
export { LlmRequestError, LlmUnavailableError } from './types.ts';

/**
 * The workspace's LLM client, or null when no provider is configured at all (no enabled
 * workspace provider, and no platform default or the workspace opted out of it). The chain is
 * cached per instance and reloaded when any instance announces a change.
 */
export async function getLlm(ctx: AppContext, workspaceId: string): Promise<LlmClient | null> {
  const runtime = llmRuntime(ctx);
  await runtime.ready;
  const providers = await runtime.chainOf(workspaceId);
  if (providers.length === 0) return null;
  return createLlmClient({
    providers,
    breakerOf: runtime.breakerOf,
    openaiOf: runtime.openaiOf,
    record: runtime.record,
    onFallback: runtime.onFallback,
    policy: runtime.policy,
  });
}
