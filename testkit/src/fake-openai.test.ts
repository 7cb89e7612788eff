import OpenAI, { APIConnectionTimeoutError, APIError, toFile } from 'openai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FakeOpenAI } from './fake-openai.ts';

let fake: FakeOpenAI;
let client: OpenAI;

beforeEach(async () => {
  fake = await FakeOpenAI.start();
  client = new OpenAI({ baseURL: fake.url, apiKey: fake.apiKey, maxRetries: 0, timeout: 5000 });
});

afterEach(async () => {
  await fake.close();
});

const tools: OpenAI.ChatCompletionTool[] = [
  {
    type: 'function',
    function: {
      name: 'search_products',
      parameters: { type: 'object', properties: { query: { type: 'string' } } },
    },
  },
];

const errorBody = z.object({
  error: z.object({
    message: z.string(),
    type: z.string(),
    param: z.string().nullable(),
    code: z.string().nullable(),
  }),
});

function cosine(a: number[], b: number[]) {
  return a.reduce((sum, value, index) => sum + value * (b[index] ?? 0), 0);
}

describe('FakeOpenAI chat completions', () => {
  it('echoes the last user message when nothing is scripted', async () => {
    const completion = await client.chat.completions.create({
      model: 'fake-chat',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'hello there' },
      ],
    });
    expect(completion.choices[0]?.message.content).toBe('Echo: hello there');
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(completion.usage?.prompt_tokens).toBeGreaterThan(0);
    expect(fake.requestsTo('/v1/chat/completions')).toHaveLength(1);
    expect(fake.requests[0]).toMatchObject({ status: 200, model: 'fake-chat', authorized: true });
  });

  it('answers scripted replies in order, tool calls included, then falls back to the responder', async () => {
    fake.script(
      { toolCalls: [{ name: 'search_products', arguments: { query: 'sofa' } }] },
      { toolCalls: [{ name: 'search_products', arguments: '{"query": "sof' }] },
      'Scripted text',
    );
    const ask = () =>
      client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'sofa?' }], tools });
    const first = await ask();
    expect(first.choices[0]?.finish_reason).toBe('tool_calls');
    expect(first.choices[0]?.message.tool_calls?.[0]).toMatchObject({
      type: 'function',
      function: { name: 'search_products', arguments: '{"query":"sofa"}' },
    });
    const malformed = await ask();
    const call = malformed.choices[0]?.message.tool_calls?.[0];
    expect(call?.type === 'function' ? call.function.arguments : undefined).toBe('{"query": "sof');
    expect((await ask()).choices[0]?.message.content).toBe('Scripted text');
    expect((await ask()).choices[0]?.message.content).toBe('Echo: sofa?');
    expect(fake.pendingScript).toBe(0);
  });

  it('accepts a tool round trip and uses a custom responder that sees tool results', async () => {
    fake.respond((request) => {
      const tool = request.messages.find((message) => message.role === 'tool');
      return tool
        ? `Found: ${tool.text}`
        : { toolCalls: [{ id: 'call_1', name: 'search_products', arguments: '{}' }] };
    });
    const first = await client.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'q' }],
      tools,
    });
    const assistant = first.choices[0]?.message;
    if (!assistant) throw new Error('no message');
    const second = await client.chat.completions.create({
      model: 'm',
      messages: [
        { role: 'user', content: 'q' },
        assistant,
        { role: 'tool', tool_call_id: 'call_1', content: 'Sofa Oslo' },
      ],
      tools,
    });
    expect(second.choices[0]?.message.content).toBe('Found: Sofa Oslo');
  });

  it('streams content and tool-call deltas that the SDK reassembles', async () => {
    fake.script(
      { text: 'A streamed answer, in pieces.' },
      { toolCalls: [{ name: 'search_products', arguments: '{"query":"green velvet sofa"}' }] },
    );
    const textStream = await client.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let chunks = 0;
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of textStream) {
      chunks++;
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe('A streamed answer, in pieces.');
    expect(chunks).toBeGreaterThan(5);
    expect(usage?.completion_tokens).toBeGreaterThan(0);

    const runner = client.chat.completions.stream({
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
      tools,
    });
    const final = await runner.finalChatCompletion();
    const call = final.choices[0]?.message.tool_calls?.[0];
    expect(call?.type === 'function' ? call.function : undefined).toEqual({
      name: 'search_products',
      arguments: '{"query":"green velvet sofa"}',
    });
  });

  it('sees image parts (vision) through the same script', async () => {
    const png = Buffer.from('89504e470d0a1a0a0000', 'hex');
    const completion = await client.chat.completions.create({
      model: 'vision',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${png.toString('base64')}` } },
          ],
        },
      ],
    });
    expect(completion.choices[0]?.message.content).toBe(
      `Echo: What is this? [image image/png ${png.length} bytes]`,
    );
  });

  it('rejects bad bodies with 400 in OpenAI error shape', async () => {
    const cases: Array<{ body: Record<string, unknown>; param: string }> = [
      { body: { messages: [{ role: 'user', content: 'x' }] }, param: 'model' },
      { body: { model: 'm', messages: [] }, param: 'messages' },
      { body: { model: 'm', messages: [{ role: 'wizard', content: 'x' }] }, param: 'messages[0].role' },
      {
        body: { model: 'm', messages: [{ role: 'user', content: 'x' }], temperature: 3 },
        param: 'temperature',
      },
      {
        body: { model: 'm', messages: [{ role: 'tool', tool_call_id: 'nope', content: 'x' }] },
        param: 'messages.[0].role',
      },
      {
        body: {
          model: 'm',
          messages: [{ role: 'user', content: 'x' }],
          tools: [{ type: 'function', function: { name: 'bad name!' } }],
        },
        param: 'tools[0].function.name',
      },
    ];
    for (const { body, param } of cases) {
      const response = await fetch(`${fake.url}/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${fake.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(response.status).toBe(400);
      const { error } = errorBody.parse(await response.json());
      expect(error).toMatchObject({ type: 'invalid_request_error', param });
    }
    const broken = await fetch(`${fake.url}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${fake.apiKey}`, 'content-type': 'application/json' },
      body: '{not json',
    });
    expect(broken.status).toBe(400);
  });

  it('refuses a wrong key with 401 invalid_api_key', async () => {
    const wrong = new OpenAI({ baseURL: fake.url, apiKey: 'sk-wrong-key-123456', maxRetries: 0 });
    const error = await wrong.models.list().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(APIError);
    expect(error).toMatchObject({ status: 401, code: 'invalid_api_key' });
    expect(fake.requests[0]?.authorized).toBe(false);
  });
});

describe('FakeOpenAI modes', () => {
  it('rate-limits the next N calls with retry-after, then recovers', async () => {
    fake.mode('rateLimit', { times: 2, retryAfterSeconds: 3 });
    for (let i = 0; i < 2; i++) {
      const error = await client.models.list().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(APIError);
      if (!(error instanceof APIError)) throw error;
      expect(error.status).toBe(429);
      expect(error.headers?.get('retry-after')).toBe('3');
      expect(error.code).toBe('rate_limit_exceeded');
    }
    expect(fake.currentMode.kind).toBe('normal');
    const models = await client.models.list();
    expect(models.data.map((model) => model.id)).toContain('fake-chat');
  });

  it('answers 500 or 503 in serverError mode until set back to normal', async () => {
    fake.mode('serverError', { status: 503 });
    for (let i = 0; i < 3; i++) {
      await expect(
        client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] }),
      ).rejects.toMatchObject({ status: 503 });
    }
    fake.mode('normal');
    await expect(
      client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] }),
    ).resolves.toBeTruthy();
  });

  it('hangs so the client times out; the request is logged as abandoned', async () => {
    fake.mode('hang', { times: 1 });
    const impatient = new OpenAI({ baseURL: fake.url, apiKey: fake.apiKey, maxRetries: 0, timeout: 200 });
    await expect(
      impatient.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toBeInstanceOf(APIConnectionTimeoutError);
    await expect.poll(() => fake.requests[0]?.status).toBe(499);
    await expect(impatient.models.list()).resolves.toBeTruthy();
  });

  it('scripts a single error or hang among normal answers', async () => {
    fake.script({ error: { status: 429, retryAfterSeconds: 1 } }, 'after');
    await expect(
      client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toMatchObject({ status: 429 });
    const ok = await client.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(ok.choices[0]?.message.content).toBe('after');
  });

  it('refuses unknown models with 404 model_not_found when a model list is set', async () => {
    const strict = await FakeOpenAI.start({ models: ['only-this'] });
    try {
      const c = new OpenAI({ baseURL: strict.url, apiKey: strict.apiKey, maxRetries: 0 });
      await expect(
        c.chat.completions.create({ model: 'other', messages: [{ role: 'user', content: 'x' }] }),
      ).rejects.toMatchObject({ status: 404, code: 'model_not_found' });
    } finally {
      await strict.close();
    }
  });
});

describe('FakeOpenAI embeddings', () => {
  it('returns deterministic unit vectors where texts sharing words are closer', async () => {
    const texts = ['red leather sofa', 'a sofa made of red leather', 'stainless steel kitchen knife'];
    const result = await client.embeddings.create({ model: 'fake-embeddings', input: texts });
    const vectors = result.data.map((item) => item.embedding);
    expect(vectors).toHaveLength(3);
    for (const vector of vectors) {
      expect(vector).toHaveLength(256);
      expect(Math.hypot(...vector)).toBeCloseTo(1, 5);
    }
    const [sofa, sofaAgain, knife] = vectors;
    if (!sofa || !sofaAgain || !knife) throw new Error('missing vectors');
    expect(cosine(sofa, sofaAgain)).toBeGreaterThan(0.6);
    expect(cosine(sofa, knife)).toBeLessThan(0.3);
    // The SDK asked for base64 floats; decoded they match the static helper.
    expect(sofa[0]).toBeCloseTo(FakeOpenAI.embedding('red leather sofa')[0] ?? Number.NaN, 6);
    const floats = await client.embeddings.create({
      model: 'e',
      input: 'red leather sofa',
      encoding_format: 'float',
    });
    expect(floats.data[0]?.embedding).toEqual(FakeOpenAI.embedding('red leather sofa'));
  });

  it('honours dimensions and rejects empty input', async () => {
    const result = await client.embeddings.create({ model: 'e', input: 'диван', dimensions: 64 });
    expect(result.data[0]?.embedding).toHaveLength(64);
    await expect(client.embeddings.create({ model: 'e', input: [] })).rejects.toMatchObject({ status: 400 });
  });
});

describe('FakeOpenAI transcriptions', () => {
  it('returns scripted text and records the uploaded file', async () => {
    fake.scriptTranscription('I want a green sofa');
    const audio = Buffer.alloc(1234, 7);
    const first = await client.audio.transcriptions.create({
      model: 'whisper-1',
      file: await toFile(audio, 'voice.ogg', { type: 'audio/ogg' }),
    });
    expect(first.text).toBe('I want a green sofa');
    expect(fake.requestsTo('/v1/audio/transcriptions')[0]?.file).toEqual({
      field: 'file',
      filename: 'voice.ogg',
      contentType: 'audio/ogg',
      size: 1234,
    });
    fake.setTranscript('default words');
    const second = await client.audio.transcriptions.create({
      model: 'whisper-1',
      file: await toFile(audio, 'voice.ogg'),
    });
    expect(second.text).toBe('default words');
  });

  it('requires a file', async () => {
    const form = new FormData();
    form.set('model', 'whisper-1');
    const response = await fetch(`${fake.url}/audio/transcriptions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${fake.apiKey}` },
      body: form,
    });
    expect(response.status).toBe(400);
    expect(errorBody.parse(await response.json()).error.param).toBe('file');
  });
});
