import { createHash } from 'node:crypto';
import { and, asc, eq } from 'drizzle-orm';
import type OpenAI from 'openai';
import { z } from 'zod';
import type { AppContext } from '../../context.ts';
import { llmProviders } from '../../features/llm/schema.ts';
import {
  getLlmSettings,
  LLM_PROVIDERS_CHANNEL,
  PLATFORM_PROVIDER_NAME,
  providerApiKey,
} from '../../features/llm/service.ts';
import { createUsageRecorder, type UsageRecorder } from '../../features/llm/usage.ts';
import type { Database } from '../../platform/db/index.ts';
import type { Unsubscribe } from '../../platform/ports/types.ts';
import { type BreakerState, CircuitBreaker } from './circuit-breaker.ts';
import {
  type AttemptRecord,
  createOpenAI,
  type LlmCapability,
  type ResolvedProvider,
  type RetryPolicy,
} from './llm-client.ts';

/** Id of the platform default provider in breakers and chains. */
export const PLATFORM_PROVIDER_ID = 'platform';

/** How long a workspace chain is trusted without an announcement (safety net for a lost message). */
const CHAIN_TTL_MS = 60_000;
const BREAKER_GAUGE: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };

/**
 * The LLM state of one app instance: circuit breakers, SDK clients, cached provider chains, the
 * usage writer and the metrics. It lives beside the context (one per database handle, so every
 * RequestContext copied from the AppContext finds the same one) rather than inside it, created
 * on first use.
 */
export interface LlmRuntime {
  policy: RetryPolicy;
  /** Resolves once the chain-invalidation subscription is in place. */
  ready: Promise<void>;
  chainOf(workspaceId: string): Promise<ResolvedProvider[]>;
  breakerOf(provider: ResolvedProvider): CircuitBreaker;
  openaiOf(provider: ResolvedProvider): OpenAI;
  record(attempt: AttemptRecord): void;
  onFallback(provider: ResolvedProvider, capability: LlmCapability): void;
  /** Forgets the cached chain of a workspace (all of them when omitted). */
  forget(workspaceId?: string): void;
  usage: UsageRecorder;
  close(): Promise<void>;
}

const runtimes = new WeakMap<Database, LlmRuntime>();

/** The runtime of the app `ctx` belongs to, created on first use. */
export function llmRuntime(ctx: AppContext): LlmRuntime {
  let runtime = runtimes.get(ctx.database);
  if (!runtime) {
    runtime = createRuntime(ctx);
    runtimes.set(ctx.database, runtime);
  }
  return runtime;
}

/** Writes buffered usage rows now (tests; usage is otherwise written every second). */
export async function flushLlmUsage(ctx: AppContext): Promise<void> {
  await runtimes.get(ctx.database)?.usage.flush();
}

/** Flushes usage and stops listening; called by `closeContext` before the database closes. */
export async function closeLlm(ctx: AppContext): Promise<void> {
  const runtime = runtimes.get(ctx.database);
  if (!runtime) return;
  runtimes.delete(ctx.database);
  await runtime.close();
}

/** The platform default from LLM_* variables, or undefined when it has no model at all. */
export function platformProvider(config: AppContext['config']): ResolvedProvider | undefined {
  const models: ResolvedProvider['models'] = {
    ...(config.LLM_MODEL ? { chat: config.LLM_MODEL } : {}),
    ...(config.LLM_EMBEDDINGS_MODEL ? { embeddings: config.LLM_EMBEDDINGS_MODEL } : {}),
    ...(config.LLM_TRANSCRIPTION_MODEL ? { transcription: config.LLM_TRANSCRIPTION_MODEL } : {}),
    ...(config.LLM_VISION_MODEL ? { vision: config.LLM_VISION_MODEL } : {}),
  };
  // A key without a base URL means OpenAI itself.
  const baseUrl = config.LLM_BASE_URL ?? (config.LLM_API_KEY ? 'https://api.openai.com/v1' : undefined);
  if (!baseUrl || Object.keys(models).length === 0) return undefined;
  return {
    id: PLATFORM_PROVIDER_ID,
    name: PLATFORM_PROVIDER_NAME,
    baseUrl: baseUrl.replace(/\/+$/, ''),
    apiKey: config.LLM_API_KEY ?? null,
    models,
  };
}

/** Which of a provider's settings make it a different endpoint (a new key resets its breaker). */
function fingerprintOf(provider: ResolvedProvider): string {
  return createHash('sha256')
    .update(`${provider.baseUrl}\n${provider.apiKey ?? ''}`)
    .digest('base64url');
}

const uuid = z.uuid();
const orNull = (value: string | undefined) =>
  value !== undefined && uuid.safeParse(value).success ? value : null;

function createRuntime(ctx: AppContext): LlmRuntime {
  const { config, metrics, logger } = ctx;
  const policy: RetryPolicy = {
    timeoutMs: config.LLM_TIMEOUT_MS,
    maxRetries: config.LLM_MAX_RETRIES,
    retryBaseMs: config.LLM_RETRY_BASE_MS,
    maxRetryAfterMs: Math.max(config.LLM_RETRY_BASE_MS * 2 ** config.LLM_MAX_RETRIES, 5000),
  };
  const latency = metrics.histogram(
    'switchboard_llm_request_duration_seconds',
    'LLM request latency by provider, model, purpose and outcome (one per HTTP attempt)',
    ['provider', 'model', 'purpose', 'outcome'],
    [0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60],
  );
  const tokens = metrics.counter('switchboard_llm_tokens_total', 'LLM tokens by provider, model and kind', [
    'provider',
    'model',
    'kind',
  ]);
  const breakerGauge = metrics.gauge(
    'switchboard_llm_breaker_state',
    'Circuit breaker of each LLM provider: 0 closed, 1 half-open, 2 open',
    ['provider', 'provider_id'],
  );
  const fallbacks = metrics.counter(
    'switchboard_llm_fallbacks_total',
    'LLM calls answered by a provider after an earlier one in the chain failed or was skipped',
    ['provider', 'purpose'],
  );

  const usage = createUsageRecorder({ db: ctx.db, logger, metrics });
  const breakers = new Map<string, { fingerprint: string; breaker: CircuitBreaker }>();
  const clients = new Map<string, { fingerprint: string; client: OpenAI }>();
  const chains = new Map<string, { providers: ResolvedProvider[]; expiresAt: number }>();
  const loading = new Map<string, Promise<ResolvedProvider[]>>();
  const generations = new Map<string, number>();
  let unsubscribe: Unsubscribe | undefined;
  const platform = platformProvider(config);

  const forget = (workspaceId?: string) => {
    if (workspaceId === undefined) {
      chains.clear();
      loading.clear();
      for (const key of generations.keys()) generations.set(key, (generations.get(key) ?? 0) + 1);
      return;
    }
    chains.delete(workspaceId);
    loading.delete(workspaceId);
    generations.set(workspaceId, (generations.get(workspaceId) ?? 0) + 1);
  };

  const announcement = z.object({ workspaceId: z.uuid() });
  const ready = ctx.ports.pubsub
    .subscribe(LLM_PROVIDERS_CHANNEL, (message) => {
      const parsed = announcement.safeParse(message);
      forget(parsed.success ? parsed.data.workspaceId : undefined);
    })
    .then((stop) => {
      unsubscribe = stop;
    })
    .catch((error: unknown) => {
      logger.warn({ err: error }, 'llm: provider change subscription failed; chains expire by TTL only');
    });

  const loadChain = async (workspaceId: string): Promise<ResolvedProvider[]> => {
    const [rows, settings] = await Promise.all([
      ctx.db
        .select()
        .from(llmProviders)
        .where(and(eq(llmProviders.workspaceId, workspaceId), eq(llmProviders.enabled, true)))
        .orderBy(asc(llmProviders.priority), asc(llmProviders.createdAt), asc(llmProviders.id)),
      getLlmSettings(ctx, { workspaceId }),
    ]);
    const chain: ResolvedProvider[] = [];
    for (const row of rows) {
      const models: ResolvedProvider['models'] = {
        ...(row.chatModel ? { chat: row.chatModel } : {}),
        ...(row.embeddingsModel ? { embeddings: row.embeddingsModel } : {}),
        ...(row.transcriptionModel ? { transcription: row.transcriptionModel } : {}),
        ...(row.visionModel ? { vision: row.visionModel } : {}),
      };
      let apiKey: string | null;
      try {
        apiKey = providerApiKey(ctx.keys, row);
      } catch (error) {
        // Sealed under another SWITCHBOARD_SECRET: unusable until the key is entered again.
        logger.error(
          { err: error, providerId: row.id },
          'llm: provider key cannot be decrypted; provider skipped',
        );
        continue;
      }
      chain.push({ id: row.id, name: row.name, baseUrl: row.baseUrl, apiKey, models });
    }
    if (platform && settings.usePlatformDefault) chain.push(platform);
    return chain;
  };

  return {
    policy,
    ready,
    async chainOf(workspaceId) {
      const cached = chains.get(workspaceId);
      if (cached && cached.expiresAt > Date.now()) return cached.providers;
      const pending = loading.get(workspaceId);
      if (pending) return pending;
      const generation = generations.get(workspaceId) ?? 0;
      const promise = loadChain(workspaceId).finally(() => {
        if (loading.get(workspaceId) === promise) loading.delete(workspaceId);
      });
      loading.set(workspaceId, promise);
      const providers = await promise;
      // A change announced while loading may not be in what was read: do not keep it.
      if ((generations.get(workspaceId) ?? 0) === generation) {
        chains.set(workspaceId, { providers, expiresAt: Date.now() + CHAIN_TTL_MS });
        if (chains.size > 10_000) {
          const oldest = chains.keys().next().value;
          if (oldest !== undefined) chains.delete(oldest);
        }
      }
      return providers;
    },
    breakerOf(provider) {
      const fingerprint = fingerprintOf(provider);
      const existing = breakers.get(provider.id);
      if (existing && existing.fingerprint === fingerprint) return existing.breaker;
      const breaker = new CircuitBreaker({
        threshold: config.LLM_BREAKER_THRESHOLD,
        cooldownMs: config.LLM_BREAKER_COOLDOWN_MS,
        onChange: (state) => {
          breakerGauge.set({ provider: provider.name, provider_id: provider.id }, BREAKER_GAUGE[state]);
          logger.warn(
            { provider: provider.name, providerId: provider.id, state },
            `llm: circuit breaker ${state}`,
          );
        },
      });
      breakers.set(provider.id, { fingerprint, breaker });
      breakerGauge.set({ provider: provider.name, provider_id: provider.id }, 0);
      return breaker;
    },
    openaiOf(provider) {
      const fingerprint = fingerprintOf(provider);
      const existing = clients.get(provider.id);
      if (existing && existing.fingerprint === fingerprint) return existing.client;
      const client = createOpenAI(provider, policy.timeoutMs);
      clients.set(provider.id, { fingerprint, client });
      return client;
    },
    record(attempt) {
      const { provider, model, scope } = attempt;
      usage.record({
        workspaceId: scope.workspaceId,
        botId: orNull(scope.botId),
        conversationId: orNull(scope.conversationId),
        provider: provider.name,
        model,
        purpose: scope.purpose,
        promptTokens: attempt.promptTokens,
        completionTokens: attempt.completionTokens,
        latencyMs: attempt.latencyMs,
        ok: attempt.ok,
        error: attempt.error ?? null,
      });
      ctx.analytics.track({
        workspaceId: scope.workspaceId,
        botId: orNull(scope.botId),
        type: 'llm_call',
        data: {
          provider: provider.name,
          model,
          purpose: scope.purpose,
          promptTokens: attempt.promptTokens,
          completionTokens: attempt.completionTokens,
          tokens: attempt.promptTokens + attempt.completionTokens,
          latencyMs: attempt.latencyMs,
          ok: attempt.ok,
        },
      });
      latency.observe(
        { provider: provider.name, model, purpose: scope.purpose, outcome: attempt.outcome },
        attempt.latencyMs / 1000,
      );
      if (attempt.promptTokens > 0)
        tokens.inc({ provider: provider.name, model, kind: 'prompt' }, attempt.promptTokens);
      if (attempt.completionTokens > 0)
        tokens.inc({ provider: provider.name, model, kind: 'completion' }, attempt.completionTokens);
    },
    onFallback(provider, capability) {
      fallbacks.inc({ provider: provider.name, purpose: capability });
    },
    forget,
    usage,
    async close() {
      await ready;
      await unsubscribe?.().catch(() => undefined);
      await usage.close();
    },
  };
}
