import { setTimeout as sleep } from 'node:timers/promises';
import OpenAI, {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  toFile,
} from 'openai';
import { z } from 'zod';
import type { CircuitBreaker } from './circuit-breaker.ts';
import {
  type ChatCompletionMessage,
  type LlmChatRequest,
  type LlmChatResult,
  type LlmClient,
  LlmRequestError,
  LlmUnavailableError,
  type LlmUsageScope,
} from './types.ts';

export type LlmCapability = 'chat' | 'embeddings' | 'transcription' | 'vision';
export const LLM_CAPABILITIES: readonly LlmCapability[] = ['chat', 'embeddings', 'transcription', 'vision'];

/** One OpenAI-compatible endpoint of a chain, with its key in clear (memory only). */
export interface ResolvedProvider {
  /** Row id of a workspace provider, or `platform` for the platform default. */
  id: string;
  /** Shown in usage, metrics and errors. */
  name: string;
  baseUrl: string;
  apiKey: string | null;
  models: Partial<Record<LlmCapability, string>>;
}

/** How hard the client tries before moving to the next provider. */
export interface RetryPolicy {
  /** Per HTTP request. */
  timeoutMs: number;
  /** Extra attempts on the same provider after a retryable failure (not after a timeout). */
  maxRetries: number;
  /** First backoff; doubles per retry, with full jitter between half and all of it. */
  retryBaseMs: number;
  /** A `retry-after` longer than this is not waited for: the next provider is tried instead. */
  maxRetryAfterMs: number;
}

/** What happened on one HTTP attempt, for usage rows, analytics and metrics. */
export interface AttemptRecord {
  provider: ResolvedProvider;
  model: string;
  scope: LlmUsageScope;
  ok: boolean;
  latencyMs: number;
  promptTokens: number;
  completionTokens: number;
  /** ok | rate_limited | server_error | timeout | connection | client_error | bad_response */
  outcome: FailureKind | 'ok';
  error?: string;
}

export interface LlmClientDeps {
  providers: ResolvedProvider[];
  breakerOf(provider: ResolvedProvider): CircuitBreaker;
  openaiOf(provider: ResolvedProvider): OpenAI;
  record(attempt: AttemptRecord): void;
  /** A call was answered by a provider other than the first that could serve it. */
  onFallback?(provider: ResolvedProvider, capability: LlmCapability): void;
  policy: RetryPolicy;
  /** Injectable for tests of the backoff. */
  wait?: (ms: number) => Promise<void>;
  random?: () => number;
}

type FailureKind =
  | 'rate_limited'
  | 'server_error'
  | 'timeout'
  | 'connection'
  | 'client_error'
  | 'bad_response';

interface Failure {
  kind: FailureKind;
  status: number | undefined;
  message: string;
  retryAfterMs: number | undefined;
}

interface Outcome<T> {
  value: T;
  promptTokens: number;
  completionTokens: number;
}

/**
 * An LlmClient over a chain of providers. Per call, for each provider that has a model for the
 * capability, in order:
 * - its circuit breaker may refuse the call (open) → next provider, no HTTP request;
 * - 429 / 5xx / connection errors are retried on the same provider up to `maxRetries` times
 *   with exponential backoff and jitter, or after `retry-after` when it is short; a long
 *   `retry-after`, a timeout or a breaker that opened moves on to the next provider at once;
 * - any other 4xx is the request's fault: it is thrown as LlmRequestError, no fallback;
 * - embeddings only fall over to providers with the same embeddings model (same vector space).
 * Each HTTP attempt is reported to `record` (one usage row each). When no provider answers,
 * LlmUnavailableError lists what each attempt met.
 */
export function createLlmClient(deps: LlmClientDeps): LlmClient {
  const has = (capability: LlmCapability) => deps.providers.some((provider) => provider.models[capability]);
  return {
    capabilities: {
      chat: has('chat'),
      embeddings: has('embeddings'),
      transcription: has('transcription'),
      vision: has('vision'),
    },
    embeddingsModel: deps.providers.find((provider) => provider.models.embeddings)?.models.embeddings ?? null,

    chat(request: LlmChatRequest, scope: LlmUsageScope): Promise<LlmChatResult> {
      return runChain(deps, 'chat', scope, async (client, model, signal) => {
        const body = {
          model,
          messages: request.messages,
          ...(request.tools && request.tools.length > 0 ? { tools: request.tools } : {}),
          ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
        };
        const completion = await client.chat.completions
          .create(
            { ...body, ...(request.maxTokens !== undefined ? { max_tokens: request.maxTokens } : {}) },
            { signal },
          )
          .catch((error: unknown) => {
            // OpenAI's reasoning models refuse `max_tokens` (most compatible servers know only
            // that one): ask again once with `max_completion_tokens`.
            if (request.maxTokens === undefined || !refusesMaxTokens(error)) throw error;
            return client.chat.completions.create(
              { ...body, max_completion_tokens: request.maxTokens },
              { signal },
            );
          });
        const message = completion.choices?.[0]?.message;
        if (!message) throw new BadResponseError('the completion has no message');
        return {
          value: normalizeMessage(message),
          promptTokens: completion.usage?.prompt_tokens ?? 0,
          completionTokens: completion.usage?.completion_tokens ?? 0,
        };
      }).then(({ value, provider, model, promptTokens, completionTokens }) => ({
        message: value,
        usage: { promptTokens, completionTokens },
        provider,
        model,
      }));
    },

    async embed(texts: string[], scope: LlmUsageScope): Promise<number[][]> {
      if (texts.length === 0) return [];
      const result = await runChain(deps, 'embeddings', scope, async (client, model, signal) => {
        const response = await client.embeddings.create({ model, input: texts }, { signal });
        const parsed = embeddingsSchema.safeParse(response);
        if (!parsed.success || parsed.data.data.length !== texts.length) {
          throw new BadResponseError(`expected ${texts.length} embeddings`);
        }
        const vectors = [...parsed.data.data].sort((a, b) => a.index - b.index).map((item) => item.embedding);
        return { value: vectors, promptTokens: response.usage?.prompt_tokens ?? 0, completionTokens: 0 };
      });
      return result.value;
    },

    async transcribe(audio, scope): Promise<string> {
      const result = await runChain(deps, 'transcription', scope, async (client, model, signal) => {
        const file = await toFile(
          audio.data,
          audio.filename,
          audio.mimeType ? { type: audio.mimeType } : undefined,
        );
        const response = await client.audio.transcriptions.create({ model, file }, { signal });
        if (typeof response?.text !== 'string') throw new BadResponseError('the transcription has no text');
        return { value: response.text.trim(), promptTokens: 0, completionTokens: 0 };
      });
      return result.value;
    },

    async describeImage(image, prompt, scope): Promise<string> {
      const url = `data:${image.mimeType};base64,${image.data.toString('base64')}`;
      const result = await runChain(deps, 'vision', scope, async (client, model, signal) => {
        const completion = await client.chat.completions.create(
          {
            model,
            messages: [
              {
                role: 'user',
                content: [
                  { type: 'text', text: prompt },
                  { type: 'image_url', image_url: { url } },
                ],
              },
            ],
          },
          { signal },
        );
        const text = completion.choices?.[0]?.message?.content;
        if (typeof text !== 'string') throw new BadResponseError('the completion has no text');
        return {
          value: text.trim(),
          promptTokens: completion.usage?.prompt_tokens ?? 0,
          completionTokens: completion.usage?.completion_tokens ?? 0,
        };
      });
      return result.value;
    },
  };
}

const embeddingsSchema = z.object({
  data: z.array(z.object({ index: z.number().int(), embedding: z.array(z.number()) })),
});

function refusesMaxTokens(error: unknown): boolean {
  return error instanceof APIError && error.status === 400 && error.param === 'max_tokens';
}

/** The provider answered 2xx with something that is not a usable answer. */
class BadResponseError extends Error {}

/** Keeps the fields of the OpenAI message type; drops vendor extras some servers add. */
function normalizeMessage(message: ChatCompletionMessage): ChatCompletionMessage {
  return {
    role: 'assistant',
    content: message.content ?? null,
    refusal: message.refusal ?? null,
    ...(message.tool_calls && message.tool_calls.length > 0 ? { tool_calls: message.tool_calls } : {}),
  };
}

async function runChain<T>(
  deps: LlmClientDeps,
  capability: LlmCapability,
  scope: LlmUsageScope,
  operation: (client: OpenAI, model: string, signal: AbortSignal) => Promise<Outcome<T>>,
): Promise<Outcome<T> & { provider: string; model: string }> {
  let candidates = deps.providers.filter((provider) => provider.models[capability]);
  // Vectors of different models live in different spaces: embeddings fall over only to
  // providers serving the same model as the first (another key or mirror of it).
  if (capability === 'embeddings') {
    const model = candidates[0]?.models.embeddings;
    candidates = candidates.filter((provider) => provider.models.embeddings === model);
  }
  if (candidates.length === 0) {
    throw new LlmUnavailableError(`No LLM provider has a ${capability} model`, []);
  }
  const attempts: Array<{ provider: string; error: string }> = [];
  const wait = deps.wait ?? ((ms: number) => sleep(ms));
  const random = deps.random ?? Math.random;
  for (const [position, provider] of candidates.entries()) {
    const model = provider.models[capability] ?? '';
    const breaker = deps.breakerOf(provider);
    for (let attempt = 0; attempt <= deps.policy.maxRetries; attempt++) {
      if (!breaker.tryAcquire()) {
        attempts.push({ provider: provider.name, error: 'circuit breaker open: skipped' });
        break;
      }
      const started = performance.now();
      const signal = AbortSignal.timeout(deps.policy.timeoutMs);
      try {
        const outcome = await operation(deps.openaiOf(provider), model, signal);
        breaker.succeed();
        deps.record({
          provider,
          model,
          scope,
          ok: true,
          outcome: 'ok',
          latencyMs: Math.round(performance.now() - started),
          promptTokens: outcome.promptTokens,
          completionTokens: outcome.completionTokens,
        });
        if (position > 0) deps.onFallback?.(provider, capability);
        return { ...outcome, provider: provider.name, model };
      } catch (error) {
        const failure = classify(error, signal, deps.policy.timeoutMs);
        deps.record({
          provider,
          model,
          scope,
          ok: false,
          outcome: failure.kind,
          error: failure.message,
          latencyMs: Math.round(performance.now() - started),
          promptTokens: 0,
          completionTokens: 0,
        });
        if (failure.kind === 'client_error') {
          // The provider answered: it is up. The request itself is wrong, so another provider
          // would refuse it too.
          breaker.succeed();
          throw new LlmRequestError(`${provider.name}: ${failure.message}`, {
            provider: provider.name,
            status: failure.status,
            cause: error,
          });
        }
        breaker.fail();
        attempts.push({ provider: provider.name, error: failure.message });
        if (failure.kind === 'timeout' || attempt === deps.policy.maxRetries || breaker.state !== 'closed')
          break;
        const delay = failure.retryAfterMs ?? backoff(deps.policy.retryBaseMs, attempt, random);
        if (delay > deps.policy.maxRetryAfterMs) break;
        await wait(delay);
      }
    }
  }
  throw new LlmUnavailableError(
    `Every LLM provider failed for ${capability}: ${attempts.map((a) => `${a.provider}: ${a.error}`).join('; ')}`,
    attempts,
  );
}

/** Exponential backoff with jitter: between half and all of base·2^attempt. */
export function backoff(baseMs: number, attempt: number, random: () => number = Math.random): number {
  const ceiling = baseMs * 2 ** attempt;
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

function classify(error: unknown, signal: AbortSignal, timeoutMs: number): Failure {
  const base = { status: undefined, retryAfterMs: undefined };
  if (error instanceof APIConnectionTimeoutError || (error instanceof APIUserAbortError && signal.aborted)) {
    return { ...base, kind: 'timeout', message: `timed out after ${timeoutMs} ms` };
  }
  if (error instanceof APIConnectionError) {
    return { ...base, kind: 'connection', message: `connection failed: ${causeMessage(error)}` };
  }
  if (error instanceof APIError && typeof error.status === 'number') {
    const status = error.status;
    const message = `HTTP ${status}: ${error.message.replace(/^\d{3}\s*/, '')}`.slice(0, 500);
    if (status === 429 || status === 408) {
      return { kind: 'rate_limited', status, message, retryAfterMs: retryAfterOf(error.headers) };
    }
    if (status >= 500)
      return { kind: 'server_error', status, message, retryAfterMs: retryAfterOf(error.headers) };
    return { kind: 'client_error', status, message, retryAfterMs: undefined };
  }
  if (error instanceof BadResponseError || error instanceof SyntaxError) {
    return { ...base, kind: 'bad_response', message: `unusable response: ${error.message}` };
  }
  return { ...base, kind: 'bad_response', message: error instanceof Error ? error.message : String(error) };
}

function causeMessage(error: Error): string {
  const cause = error.cause;
  if (cause instanceof Error) {
    const code = 'code' in cause && typeof cause.code === 'string' ? `${cause.code} ` : '';
    return `${code}${cause.message}`.trim();
  }
  return error.message;
}

/** `retry-after-ms` (OpenAI's own), else `retry-after` in seconds or as an HTTP date. */
export function retryAfterOf(headers: Headers | undefined): number | undefined {
  if (!headers) return undefined;
  const ms = Number.parseFloat(headers.get('retry-after-ms') ?? '');
  if (Number.isFinite(ms) && ms >= 0) return Math.ceil(ms);
  const raw = headers.get('retry-after');
  if (!raw) return undefined;
  const seconds = Number.parseFloat(raw);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds * 1000);
  const date = Date.parse(raw);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined;
}

/** An OpenAI SDK client for one provider: no SDK retries (ours see every failure). */
export function createOpenAI(provider: ResolvedProvider, timeoutMs: number): OpenAI {
  return new OpenAI({
    baseURL: provider.baseUrl,
    // Keyless endpoints (a local Ollama) ignore the header; the SDK insists on a value.
    apiKey: provider.apiKey ?? 'no-key',
    organization: null,
    project: null,
    maxRetries: 0,
    // The per-call AbortSignal is the real timeout; this is only a backstop.
    timeout: timeoutMs + 1000,
  });
}
