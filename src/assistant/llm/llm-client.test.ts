import type OpenAI from 'openai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeOpenAI } from '../../../testkit/src/fake-openai.ts';
import { CircuitBreaker } from './circuit-breaker.ts';
import {
  type AttemptRecord,
  backoff,
  createLlmClient,
  createOpenAI,
  type LlmClientDeps,
  type ResolvedProvider,
  type RetryPolicy,
} from './llm-client.ts';
import { LlmRequestError, LlmUnavailableError, type LlmUsageScope } from './types.ts';

const scope: LlmUsageScope = { workspaceId: '00000000-0000-7000-8000-000000000001', purpose: 'chat' };
const tools: OpenAI.ChatCompletionTool[] = [
  {
    type: 'function',
    function: {
      name: 'search_products',
      description: 'Search the catalog',
      parameters: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] },
    },
  },
];

let first: FakeOpenAI;
let second: FakeOpenAI;

beforeEach(async () => {
  [first, second] = await Promise.all([FakeOpenAI.start(), FakeOpenAI.start()]);
});
afterEach(async () => {
  await Promise.all([first.close(), second.close()]);
});

function providerOf(
  fake: FakeOpenAI,
  name: string,
  models: ResolvedProvider['models'] = { chat: `${name}-chat` },
) {
  return { id: name, name, baseUrl: fake.url, apiKey: fake.apiKey, models } satisfies ResolvedProvider;
}

interface Harness {
  deps: LlmClientDeps;
  records: AttemptRecord[];
  waits: number[];
  breakers: Map<string, CircuitBreaker>;
  fallbacks: string[];
}

/** A client over real HTTP to the fakes, with recorded waits instead of real sleeping. */
function harness(
  providers: ResolvedProvider[],
  policy: Partial<RetryPolicy> = {},
  breaker: { threshold?: number; cooldownMs?: number; now?: () => number } = {},
): Harness {
  const records: AttemptRecord[] = [];
  const waits: number[] = [];
  const fallbacks: string[] = [];
  const breakers = new Map<string, CircuitBreaker>();
  const clients = new Map<string, OpenAI>();
  const fullPolicy: RetryPolicy = {
    timeoutMs: 2000,
    maxRetries: 2,
    retryBaseMs: 100,
    maxRetryAfterMs: 5000,
    ...policy,
  };
  const deps: LlmClientDeps = {
    providers,
    policy: fullPolicy,
    breakerOf: (provider) => {
      let found = breakers.get(provider.id);
      if (!found) {
        found = new CircuitBreaker({
          threshold: breaker.threshold ?? 5,
          cooldownMs: breaker.cooldownMs ?? 60_000,
          ...(breaker.now ? { now: breaker.now } : {}),
        });
        breakers.set(provider.id, found);
      }
      return found;
    },
    openaiOf: (provider) => {
      let client = clients.get(provider.id);
      if (!client) {
        client = createOpenAI(provider, fullPolicy.timeoutMs);
        clients.set(provider.id, client);
      }
      return client;
    },
    record: (attempt) => records.push(attempt),
    onFallback: (provider) => fallbacks.push(provider.name),
    wait: async (ms) => {
      waits.push(ms);
    },
    random: () => 0.5,
  };
  return { deps, records, waits, breakers, fallbacks };
}

describe('createLlmClient chat', () => {
  it('sends tools and returns the tool calls with usage, provider and model', async () => {
    first.script({ toolCalls: [{ name: 'search_products', arguments: { query: 'green sofa' } }] });
    const { deps, records } = harness([providerOf(first, 'one')]);
    const client = createLlmClient(deps);
    expect(client.capabilities).toEqual({
      chat: true,
      embeddings: false,
      transcription: false,
      vision: false,
    });
    const result = await client.chat(
      { messages: [{ role: 'user', content: 'sofa?' }], tools, temperature: 0.2, maxTokens: 300 },
      scope,
    );
    const call = result.message.tool_calls?.[0];
    expect(call?.type === 'function' ? call.function : undefined).toEqual({
      name: 'search_products',
      arguments: '{"query":"green sofa"}',
    });
    expect(result).toMatchObject({ provider: 'one', model: 'one-chat' });
    expect(result.usage.promptTokens).toBeGreaterThan(0);
    const sent = first.requestsTo('/v1/chat/completions')[0]?.body;
    expect(sent).toMatchObject({ model: 'one-chat', temperature: 0.2, max_tokens: 300 });
    expect(sent?.tools).toEqual(tools);
    expect(records).toEqual([
      expect.objectContaining({
        ok: true,
        outcome: 'ok',
        model: 'one-chat',
        promptTokens: result.usage.promptTokens,
      }),
    ]);
  });

  it('asks again with max_completion_tokens when the model refuses max_tokens', async () => {
    first.script(
      {
        error: {
          status: 400,
          param: 'max_tokens',
          code: 'unsupported_parameter',
          message: "Unsupported parameter: 'max_tokens' is not supported with this model.",
        },
      },
      'fine',
    );
    const { deps, records } = harness([providerOf(first, 'one')]);
    const result = await createLlmClient(deps).chat(
      { messages: [{ role: 'user', content: 'x' }], maxTokens: 64 },
      scope,
    );
    expect(result.message.content).toBe('fine');
    const bodies = first.requestsTo('/v1/chat/completions').map((request) => request.body);
    expect(bodies[0]).toMatchObject({ max_tokens: 64 });
    expect(bodies[1]).toMatchObject({ max_completion_tokens: 64 });
    expect(bodies[1]).not.toHaveProperty('max_tokens');
    expect(records).toHaveLength(1);
  });

  it('passes a malformed tool-argument string through untouched for the caller to judge', async () => {
    first.script({ toolCalls: [{ name: 'search_products', arguments: '{"query": "sof' }] });
    const client = createLlmClient(harness([providerOf(first, 'one')]).deps);
    const result = await client.chat({ messages: [{ role: 'user', content: 'x' }], tools }, scope);
    const call = result.message.tool_calls?.[0];
    expect(call?.type === 'function' ? call.function.arguments : undefined).toBe('{"query": "sof');
  });
});

describe('createLlmClient fallback', () => {
  it.each([
    ['429', () => first.mode('rateLimit', { retryAfterSeconds: 0.05 }), 'rate_limited'],
    ['500', () => first.mode('serverError', { status: 500 }), 'server_error'],
    ['503', () => first.mode('serverError', { status: 503 }), 'server_error'],
  ])(
    'falls over to the next provider when the first answers %s on every retry',
    async (_label, setUp, outcome) => {
      setUp();
      second.script('from the second');
      const { deps, records, fallbacks } = harness([providerOf(first, 'one'), providerOf(second, 'two')]);
      const result = await createLlmClient(deps).chat({ messages: [{ role: 'user', content: 'hi' }] }, scope);
      expect(result).toMatchObject({ provider: 'two', message: { content: 'from the second' } });
      // One attempt and two retries on the first provider, then the second.
      expect(first.requestsTo('/v1/chat/completions')).toHaveLength(3);
      expect(records.map((r) => [r.provider.name, r.ok, r.outcome])).toEqual([
        ['one', false, outcome],
        ['one', false, outcome],
        ['one', false, outcome],
        ['two', true, 'ok'],
      ]);
      expect(fallbacks).toEqual(['two']);
    },
  );

  it('moves on at once after a timeout (a hanging provider is not retried)', async () => {
    first.mode('hang');
    second.script('answered');
    const { deps, records, waits } = harness([providerOf(first, 'one'), providerOf(second, 'two')], {
      timeoutMs: 150,
    });
    const result = await createLlmClient(deps).chat({ messages: [{ role: 'user', content: 'hi' }] }, scope);
    expect(result.provider).toBe('two');
    expect(first.requestsTo('/v1/chat/completions')).toHaveLength(1);
    expect(records[0]).toMatchObject({ ok: false, outcome: 'timeout', error: 'timed out after 150 ms' });
    expect(waits).toEqual([]);
    await expect.poll(() => first.requests[0]?.status).toBe(499);
  });

  it('falls over on a connection error (nothing listening)', async () => {
    // Port 9 (discard) has nothing listening on loopback: the connection is refused.
    const dead = { ...providerOf(first, 'dead'), baseUrl: 'http://127.0.0.1:9/v1' };
    const { deps, records } = harness([dead, providerOf(second, 'two')], { maxRetries: 0 });
    const result = await createLlmClient(deps).chat({ messages: [{ role: 'user', content: 'hi' }] }, scope);
    expect(result.provider).toBe('two');
    expect(records[0]).toMatchObject({ ok: false, outcome: 'connection' });
  });

  it('throws LlmRequestError on a 400 without trying the next provider', async () => {
    first.script({ error: { status: 400, message: "This model's maximum context length is 8192 tokens." } });
    const { deps, records } = harness([providerOf(first, 'one'), providerOf(second, 'two')]);
    const error = await createLlmClient(deps)
      .chat({ messages: [{ role: 'user', content: 'hi' }] }, scope)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LlmRequestError);
    expect(error).toMatchObject({ provider: 'one', status: 400 });
    expect(String(error)).toContain('maximum context length');
    expect(second.requests).toHaveLength(0);
    expect(first.requests).toHaveLength(1);
    expect(records).toEqual([expect.objectContaining({ ok: false, outcome: 'client_error' })]);
  });

  it('throws LlmRequestError on a wrong key (401), which is configuration, not an outage', async () => {
    const { deps } = harness([
      { ...providerOf(first, 'one'), apiKey: 'sk-wrong' },
      providerOf(second, 'two'),
    ]);
    await expect(
      createLlmClient(deps).chat({ messages: [{ role: 'user', content: 'hi' }] }, scope),
    ).rejects.toMatchObject({ name: 'LlmRequestError', status: 401 });
    expect(second.requests).toHaveLength(0);
  });

  it('throws LlmUnavailableError listing every attempt when all providers fail', async () => {
    first.mode('serverError', { status: 503 });
    second.mode('rateLimit', { retryAfterSeconds: 60 });
    const { deps, waits } = harness([providerOf(first, 'one'), providerOf(second, 'two')], { maxRetries: 1 });
    const error = await createLlmClient(deps)
      .chat({ messages: [{ role: 'user', content: 'hi' }] }, scope)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LlmUnavailableError);
    if (!(error instanceof LlmUnavailableError)) throw error;
    expect(error.attempts.map((attempt) => attempt.provider)).toEqual(['one', 'one', 'two']);
    expect(error.attempts[0]?.error).toContain('HTTP 503');
    expect(error.attempts[2]?.error).toContain('HTTP 429');
    // A 60 s retry-after is not waited for: the chain gives up on that provider at once.
    expect(second.requests).toHaveLength(1);
    expect(waits).toHaveLength(1);
  });

  it('reports LlmUnavailableError with no attempts when no provider has the capability', async () => {
    const client = createLlmClient(harness([providerOf(first, 'one')]).deps);
    await expect(client.embed(['x'], { ...scope, purpose: 'embeddings' })).rejects.toMatchObject({
      name: 'LlmUnavailableError',
      attempts: [],
    });
    expect(first.requests).toHaveLength(0);
  });
});

describe('createLlmClient retries', () => {
  it('retries with exponential backoff and jitter, then succeeds on the same provider', async () => {
    first.mode('serverError', { status: 502, times: 2 });
    first.script('third time lucky');
    const { deps, waits, records } = harness([providerOf(first, 'one'), providerOf(second, 'two')], {
      retryBaseMs: 100,
    });
    const result = await createLlmClient(deps).chat({ messages: [{ role: 'user', content: 'hi' }] }, scope);
    expect(result).toMatchObject({ provider: 'one', message: { content: 'third time lucky' } });
    // random() = 0.5 → 75 % of base·2^n.
    expect(waits).toEqual([75, 150]);
    expect(records.map((r) => r.ok)).toEqual([false, false, true]);
    expect(second.requests).toHaveLength(0);
  });

  it('waits for a short retry-after (retry-after-ms) instead of its own backoff', async () => {
    first.mode('rateLimit', { times: 1, retryAfterSeconds: 0.25 });
    const { deps, waits } = harness([providerOf(first, 'one')]);
    await createLlmClient(deps).chat({ messages: [{ role: 'user', content: 'hi' }] }, scope);
    expect(waits).toEqual([250]);
  });

  it('keeps jitter within half and all of the exponential step', () => {
    for (let attempt = 0; attempt < 5; attempt++) {
      const ceiling = 200 * 2 ** attempt;
      expect(backoff(200, attempt, () => 0)).toBe(ceiling / 2);
      expect(backoff(200, attempt, () => 0.999_999)).toBe(ceiling);
    }
  });
});

describe('createLlmClient circuit breaker', () => {
  it('opens after N consecutive failures and then skips the provider without an HTTP request', async () => {
    first.mode('serverError', { status: 500 });
    const { deps, breakers } = harness(
      [providerOf(first, 'one'), providerOf(second, 'two')],
      { maxRetries: 0 },
      {
        threshold: 3,
      },
    );
    const client = createLlmClient(deps);
    for (let i = 0; i < 3; i++) {
      const result = await client.chat({ messages: [{ role: 'user', content: `m${i}` }] }, scope);
      expect(result.provider).toBe('two');
    }
    expect(breakers.get('one')?.state).toBe('open');
    expect(first.requests).toHaveLength(3);
    const skipped = await client.chat({ messages: [{ role: 'user', content: 'after' }] }, scope);
    expect(skipped.provider).toBe('two');
    expect(first.requests).toHaveLength(3);
    expect(second.requests).toHaveLength(4);
  });

  it('stops retrying a provider as soon as its breaker opens', async () => {
    first.mode('serverError');
    const { deps } = harness(
      [providerOf(first, 'one'), providerOf(second, 'two')],
      { maxRetries: 5 },
      { threshold: 2 },
    );
    await createLlmClient(deps).chat({ messages: [{ role: 'user', content: 'x' }] }, scope);
    expect(first.requests).toHaveLength(2);
  });

  it('lets one probe through after the cool-down: failure reopens, success closes', async () => {
    let now = 1_000_000;
    first.mode('serverError');
    const { deps, breakers } = harness(
      [providerOf(first, 'one'), providerOf(second, 'two')],
      { maxRetries: 0 },
      { threshold: 1, cooldownMs: 10_000, now: () => now },
    );
    const client = createLlmClient(deps);
    const ask = () => client.chat({ messages: [{ role: 'user', content: 'x' }] }, scope);
    await ask();
    expect(breakers.get('one')?.state).toBe('open');
    await ask();
    expect(first.requests).toHaveLength(1);

    now += 10_000;
    expect(breakers.get('one')?.state).toBe('half_open');
    await ask(); // the probe fails
    expect(first.requests).toHaveLength(2);
    expect(breakers.get('one')?.state).toBe('open');
    await ask();
    expect(first.requests).toHaveLength(2);

    now += 10_000;
    first.mode('normal');
    const recovered = await ask(); // the probe succeeds
    expect(recovered.provider).toBe('one');
    expect(breakers.get('one')?.state).toBe('closed');
    await ask();
    expect(first.requests).toHaveLength(4);
  });

  it('lets only one concurrent call probe a half-open provider', () => {
    let now = 0;
    const breaker = new CircuitBreaker({ threshold: 1, cooldownMs: 100, now: () => now });
    breaker.fail();
    now = 100;
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.tryAcquire()).toBe(false);
    breaker.succeed();
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.tryAcquire()).toBe(true);
  });
});

describe('createLlmClient embeddings, transcription and vision', () => {
  it('embeds texts in order with the embeddings model (base64 from the SDK decoded)', async () => {
    const { deps, records } = harness([providerOf(first, 'one', { embeddings: 'emb-1' })]);
    const client = createLlmClient(deps);
    expect(client.capabilities.embeddings).toBe(true);
    const vectors = await client.embed(['red sofa', 'blue chair'], { ...scope, purpose: 'embeddings' });
    expect(vectors).toHaveLength(2);
    expect(vectors[0]?.[3]).toBeCloseTo(FakeOpenAI.embedding('red sofa')[3] ?? Number.NaN, 6);
    expect(vectors[1]?.[3]).toBeCloseTo(FakeOpenAI.embedding('blue chair')[3] ?? Number.NaN, 6);
    expect(first.requests[0]?.model).toBe('emb-1');
    expect(records[0]).toMatchObject({ ok: true, model: 'emb-1' });
    expect(records[0]?.promptTokens).toBeGreaterThan(0);
    expect(await client.embed([], scope)).toEqual([]);
  });

  it('falls over for embeddings only to a provider serving the same model (same vector space)', async () => {
    first.mode('serverError');
    const third = await FakeOpenAI.start();
    try {
      const { deps } = harness(
        [
          providerOf(first, 'one', { embeddings: 'emb-a' }),
          providerOf(second, 'two', { embeddings: 'emb-b' }),
          providerOf(third, 'three', { embeddings: 'emb-a' }),
        ],
        { maxRetries: 0 },
      );
      const client = createLlmClient(deps);
      expect(client.embeddingsModel).toBe('emb-a');
      const vectors = await client.embed(['oak table'], { ...scope, purpose: 'embeddings' });
      expect(vectors).toHaveLength(1);
      expect(second.requests).toHaveLength(0);
      expect(third.requests[0]?.model).toBe('emb-a');
    } finally {
      await third.close();
    }
  });

  it('transcribes audio through the chain, falling over like chat', async () => {
    first.mode('serverError');
    second.scriptTranscription('  I want a green sofa  ');
    const { deps } = harness(
      [
        providerOf(first, 'one', { transcription: 'whisper-1' }),
        providerOf(second, 'two', { transcription: 'whisper-2' }),
      ],
      { maxRetries: 0 },
    );
    const text = await createLlmClient(deps).transcribe(
      { data: Buffer.alloc(2048, 1), filename: 'voice.ogg', mimeType: 'audio/ogg' },
      { ...scope, purpose: 'transcription' },
    );
    expect(text).toBe('I want a green sofa');
    expect(second.requests[0]).toMatchObject({
      model: 'whisper-2',
      file: { filename: 'voice.ogg', size: 2048, contentType: 'audio/ogg' },
    });
  });

  it('describes an image with the vision model through image_url content', async () => {
    const { deps } = harness([providerOf(first, 'one', { chat: 'text-only', vision: 'seeing' })]);
    const png = Buffer.from('89504e470d0a1a0a', 'hex');
    const text = await createLlmClient(deps).describeImage(
      { data: png, mimeType: 'image/png' },
      'What product?',
      {
        ...scope,
        purpose: 'vision',
      },
    );
    expect(text).toBe(`Echo: What product? [image image/png ${png.length} bytes]`);
    expect(first.requests[0]?.model).toBe('seeing');
  });
});
