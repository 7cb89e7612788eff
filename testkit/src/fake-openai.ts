/**
 * A fake OpenAI-compatible API: a real HTTP server on loopback that the `openai` package (or
 * any OpenAI-compatible client) can use as its `baseURL`. Chat completions are scripted per
 * test (a queue of answers or tool calls, then a default responder), embeddings are
 * deterministic, transcriptions return scripted text, and modes make it rate-limit, fail or
 * hang. Every request is recorded for assertions.
 *
 * ```ts
 * const llm = await FakeOpenAI.start();
 * llm.script({ toolCalls: [{ name: 'search_products', arguments: '{"query":"sofa"}' }] }, { text: 'Here you go' });
 * llm.mode('rateLimit', { times: 2, retryAfterSeconds: 1 });
 * // LLM_BASE_URL=llm.url LLM_API_KEY=llm.apiKey
 * ```
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChatCompletion, ChatCompletionChunk } from 'openai/resources/chat/completions';
import {
  type ChatRequestView,
  FakeOpenAIError,
  invalidRequest,
  parseChatRequest,
  parseEmbeddingsRequest,
} from './fake-openai-validate.ts';
import { BodyError, type DecodedBody, decodeBody, isRecord } from './fake-telegram-body.ts';

export type {
  ChatMessageView,
  ChatRequestView,
  ContentPart,
  OpenAIErrorBody,
} from './fake-openai-validate.ts';

/** One tool call the fake answers with. `arguments` may be deliberately malformed JSON. */
export interface ScriptedToolCall {
  name: string;
  /** A string is sent as is (malformed on purpose if you like); an object is JSON-encoded. */
  arguments: string | Record<string, unknown>;
  /** Defaults to `call_<n>`. */
  id?: string;
}

/** An answer to one chat completion request. */
export type ScriptedReply =
  | {
      text: string;
      toolCalls?: undefined;
      /** Overrides the computed token counts. */
      usage?: { promptTokens: number; completionTokens: number };
      finishReason?: 'stop' | 'length' | 'content_filter';
      /** Wait this long before answering (for client timeouts). */
      delayMs?: number;
    }
  | {
      toolCalls: ScriptedToolCall[];
      /** Assistant text alongside the calls (usually none). */
      text?: string;
      usage?: { promptTokens: number; completionTokens: number };
      delayMs?: number;
    }
  | {
      /** Answer this one request with an HTTP error in OpenAI's shape. */
      error: {
        status: number;
        message?: string;
        type?: string;
        code?: string;
        param?: string;
        retryAfterSeconds?: number;
      };
    }
  | { hang: true };

/** Computes the answer from the request; used when the script queue is empty. */
export type ChatResponder = (request: ChatRequestView) => ScriptedReply | string;

export type FakeOpenAIMode =
  | { kind: 'normal' }
  | { kind: 'rateLimit'; remaining: number; retryAfterSeconds: number }
  | { kind: 'serverError'; remaining: number; status: number }
  | { kind: 'hang'; remaining: number };

export interface ModeOptions {
  /** How many requests the mode applies to before the fake turns normal again; default: all. */
  times?: number;
  /** `rateLimit`: the `retry-after` header in seconds (default 1). */
  retryAfterSeconds?: number;
  /** `serverError`: 500 (default), 502 or 503. */
  status?: 500 | 502 | 503;
}

export interface FakeOpenAIOptions {
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** The key clients must send as `Authorization: Bearer …`; generated when unset. */
  apiKey?: string;
  /** Models `GET /v1/models` lists; when set, requests for other models get 404 model_not_found. */
  models?: string[];
  /** Embedding size when the request does not ask for `dimensions` (default 256). */
  embeddingDimensions?: number;
  /** Answers chat requests when the script queue is empty; default echoes the last user text. */
  responder?: ChatResponder;
  /** Characters per streamed content delta (default 4). */
  streamChunkChars?: number;
}

/** One request the fake received, in arrival order. */
export interface FakeOpenAIRequest {
  method: string;
  /** Path without query, e.g. `/v1/chat/completions`. */
  path: string;
  /** HTTP status answered; 0 while still pending (hanging); 499 when the client went away. */
  status: number;
  /** Parsed JSON body, or the multipart fields. */
  body: Record<string, unknown>;
  /** The model asked for, when any. */
  model: string | undefined;
  /** Uploaded file of a transcription request. */
  file?: { field: string; filename: string; contentType: string; size: number };
  /** Whether the bearer key matched. */
  authorized: boolean;
  /** Epoch milliseconds when the request arrived. */
  at: number;
}

// OpenAI accepts audio uploads up to 25 MB.
const MAX_BODY_BYTES = 26 * 1024 * 1024;
const DEFAULT_MODELS_CREATED = 1_700_000_000;

/** A fake OpenAI-compatible server. Start it with `await FakeOpenAI.start()`. */
export class FakeOpenAI {
  /** Every request received, oldest first. */
  readonly requests: FakeOpenAIRequest[] = [];
  private readonly chatQueue: ScriptedReply[] = [];
  private readonly transcriptQueue: string[] = [];
  private responder: ChatResponder;
  private defaultTranscript = 'transcribed speech';
  private current: FakeOpenAIMode = { kind: 'normal' };
  private readonly hanging = new Set<ServerResponse>();
  private nextId = 1;

  private constructor(
    private readonly server: Server,
    /** Base URL for clients, ending in `/v1`, e.g. `http://127.0.0.1:40123/v1`. */
    readonly url: string,
    /** The bearer key the fake accepts. */
    readonly apiKey: string,
    private readonly options: FakeOpenAIOptions,
  ) {
    this.responder = options.responder ?? echoResponder;
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      void this.handle(request, response);
    });
  }

  /** Starts the server on 127.0.0.1. */
  static async start(options: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    if (address === null || typeof address === 'string')
      throw new Error('FakeOpenAI: server has no TCP address');
    const apiKey = options.apiKey ?? `sk-fake-${randomBytes(12).toString('hex')}`;
    return new FakeOpenAI(server, `http://127.0.0.1:${address.port}/v1`, apiKey, options);
  }

  /** The embedding the fake returns for `text` (for expected values in tests). */
  static embedding(text: string, dimensions = 256): number[] {
    return embed(text, dimensions);
  }

  /** Closes the server and every connection, hanging ones included. */
  async close(): Promise<void> {
    for (const response of this.hanging) response.destroy();
    this.hanging.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /**
   * Queues answers for the next chat completion requests, in order. A string is a text answer.
   * When the queue is empty the responder answers (default: echo).
   */
  script(...replies: Array<ScriptedReply | string>): this {
    for (const reply of replies) this.chatQueue.push(typeof reply === 'string' ? { text: reply } : reply);
    return this;
  }

  /** Scripted chat answers not consumed yet. */
  get pendingScript(): number {
    return this.chatQueue.length;
  }

  /** Replaces the responder used when the script queue is empty. */
  respond(responder: ChatResponder): this {
    this.responder = responder;
    return this;
  }

  /** Queues texts for the next transcription requests; `setTranscript` sets the default. */
  scriptTranscription(...texts: string[]): this {
    this.transcriptQueue.push(...texts);
    return this;
  }

  /** The text transcriptions return when their queue is empty. */
  setTranscript(text: string): this {
    this.defaultTranscript = text;
    return this;
  }

  /**
   * Makes every endpoint misbehave: `rateLimit` answers 429 with `retry-after`, `serverError`
   * answers 500/502/503, `hang` never answers (the client times out). `times` limits it to the
   * next N requests; `normal` ends it. Authentication is checked first, as on OpenAI.
   */
  mode(kind: FakeOpenAIMode['kind'], options: ModeOptions = {}): this {
    const remaining = options.times ?? Number.POSITIVE_INFINITY;
    switch (kind) {
      case 'normal':
        this.current = { kind };
        break;
      case 'rateLimit':
        this.current = { kind, remaining, retryAfterSeconds: options.retryAfterSeconds ?? 1 };
        break;
      case 'serverError':
        this.current = { kind, remaining, status: options.status ?? 500 };
        break;
      case 'hang':
        this.current = { kind, remaining };
        break;
    }
    return this;
  }

  /** The mode in force (with how many requests it still applies to). */
  get currentMode(): FakeOpenAIMode {
    return { ...this.current };
  }

  /** Requests to one endpoint, e.g. `requestsTo('/v1/chat/completions')`. */
  requestsTo(path: string): FakeOpenAIRequest[] {
    return this.requests.filter((request) => request.path === path);
  }

  /** Forgets requests, the scripts and the mode; the responder and key stay. */
  reset(): void {
    this.requests.length = 0;
    this.chatQueue.length = 0;
    this.transcriptQueue.length = 0;
    this.current = { kind: 'normal' };
  }

  // ─── HTTP ──────────────────────────────────────────────────────────────────

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname.replace(/\/+$/, '');
    const authorized = request.headers.authorization === `Bearer ${this.apiKey}`;
    const entry: FakeOpenAIRequest = {
      method: request.method ?? 'GET',
      path,
      status: 0,
      body: {},
      model: undefined,
      authorized,
      at: Date.now(),
    };
    this.requests.push(entry);
    response.on('close', () => {
      this.hanging.delete(response);
      if (!response.writableFinished && entry.status === 0) entry.status = 499;
    });
    try {
      const raw = await readBody(request);
      const decoded = this.decode(request, raw);
      entry.body = decoded.params;
      if (typeof decoded.params.model === 'string') entry.model = decoded.params.model;
      const file = decoded.files.get('file');
      if (file) {
        entry.file = {
          field: file.field,
          filename: file.filename,
          contentType: file.contentType,
          size: file.bytes.length,
        };
      }
      if (!authorized) throw unauthorized(request.headers.authorization);
      if (this.misbehave(response)) return;
      await this.route(entry, decoded, response);
    } catch (error) {
      if (response.headersSent) {
        response.destroy();
        return;
      }
      const failure =
        error instanceof FakeOpenAIError
          ? error
          : new FakeOpenAIError(500, {
              error: { message: String(error), type: 'server_error', param: null, code: null },
            });
      entry.status = failure.status;
      sendJson(response, failure.status, failure.body, failure.headers);
    }
  }

  private decode(request: IncomingMessage, raw: Buffer): DecodedBody {
    if (raw.length === 0) return { params: {}, files: new Map() };
    try {
      return decodeBody(request.headers['content-type'], raw);
    } catch (error) {
      if (error instanceof BodyError) {
        throw invalidRequest(
          `We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)`,
        );
      }
      throw error;
    }
  }

  /** Applies the current mode; true when the request was answered (or left hanging) by it. */
  private misbehave(response: ServerResponse): boolean {
    const mode = this.current;
    if (mode.kind === 'normal') return false;
    mode.remaining -= 1;
    if (mode.remaining <= 0) this.current = { kind: 'normal' };
    if (mode.kind === 'hang') {
      this.hanging.add(response);
      return true;
    }
    if (mode.kind === 'rateLimit') {
      throw new FakeOpenAIError(
        429,
        {
          error: {
            message: `Rate limit reached for requests. Please try again in ${mode.retryAfterSeconds}s.`,
            type: 'requests',
            param: null,
            code: 'rate_limit_exceeded',
          },
        },
        retryAfterHeaders(mode.retryAfterSeconds),
      );
    }
    throw new FakeOpenAIError(mode.status, {
      error: {
        message:
          mode.status === 503
            ? 'The engine is currently overloaded, please try again later'
            : 'The server had an error while processing your request. Sorry about that!',
        type: 'server_error',
        param: null,
        code: null,
      },
    });
  }

  private async route(entry: FakeOpenAIRequest, decoded: DecodedBody, response: ServerResponse) {
    const route = `${entry.method} ${entry.path}`;
    switch (route) {
      case 'GET /v1/models':
        return this.answer(entry, response, 200, {
          object: 'list',
          data: (this.options.models ?? ['fake-chat', 'fake-embeddings', 'fake-whisper']).map((id) => ({
            id,
            object: 'model',
            created: DEFAULT_MODELS_CREATED,
            owned_by: 'switchboard-testkit',
          })),
        });
      case 'POST /v1/chat/completions':
        return this.chat(entry, decoded.params, response);
      case 'POST /v1/embeddings':
        return this.embeddings(entry, decoded.params, response);
      case 'POST /v1/audio/transcriptions':
        return this.transcription(entry, decoded, response);
      default:
        throw new FakeOpenAIError(404, {
          error: {
            message: `Invalid URL (${entry.method} ${entry.path})`,
            type: 'invalid_request_error',
            param: null,
            code: null,
          },
        });
    }
  }

  private checkModel(model: string) {
    if (this.options.models && !this.options.models.includes(model)) {
      throw new FakeOpenAIError(404, {
        error: {
          message: `The model \`${model}\` does not exist or you do not have access to it.`,
          type: 'invalid_request_error',
          param: null,
          code: 'model_not_found',
        },
      });
    }
  }

  private async chat(entry: FakeOpenAIRequest, body: Record<string, unknown>, response: ServerResponse) {
    const request = parseChatRequest(body);
    this.checkModel(request.model);
    const queued = this.chatQueue.shift();
    const produced = queued ?? this.responder(request);
    const reply: ScriptedReply = typeof produced === 'string' ? { text: produced } : produced;
    if ('hang' in reply) {
      this.hanging.add(response);
      return;
    }
    if ('error' in reply) {
      const { status, message, type, code, param, retryAfterSeconds } = reply.error;
      throw new FakeOpenAIError(
        status,
        {
          error: {
            message: message ?? `scripted error ${status}`,
            type: type ?? (status >= 500 ? 'server_error' : 'invalid_request_error'),
            param: param ?? null,
            code: code ?? null,
          },
        },
        retryAfterSeconds === undefined ? {} : retryAfterHeaders(retryAfterSeconds),
      );
    }
    if (reply.delayMs) await sleep(reply.delayMs);
    if (response.destroyed) return;
    const id = `chatcmpl-fake${this.nextId++}`;
    const created = Math.floor(Date.now() / 1000);
    const toolCalls = (reply.toolCalls ?? []).map((call, index) => ({
      id: call.id ?? `call_${id.slice(-6)}_${index}`,
      type: 'function' as const,
      function: {
        name: call.name,
        arguments: typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments),
      },
    }));
    const text = reply.text ?? null;
    const finishReason =
      toolCalls.length > 0 ? 'tool_calls' : ('finishReason' in reply && reply.finishReason) || 'stop';
    const promptTokens = reply.usage?.promptTokens ?? countTokens(JSON.stringify(body.messages));
    const completionTokens =
      reply.usage?.completionTokens ??
      countTokens((text ?? '') + toolCalls.map((c) => c.function.name + c.function.arguments).join(''));
    const usage = {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    };

    if (request.stream) {
      const streamOptions = isRecord(body.stream_options) ? body.stream_options : {};
      const chunks = streamChunks({
        id,
        created,
        model: request.model,
        text,
        toolCalls,
        finishReason,
        usage: streamOptions.include_usage === true ? usage : undefined,
        chunkChars: this.options.streamChunkChars ?? 4,
      });
      entry.status = 200;
      response.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
      });
      for (const chunk of chunks) response.write(`data: ${JSON.stringify(chunk)}\n\n`);
      response.end('data: [DONE]\n\n');
      return;
    }
    const completion: ChatCompletion = {
      id,
      object: 'chat.completion',
      created,
      model: request.model,
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: text,
            refusal: null,
            ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
          },
          logprobs: null,
          finish_reason: finishReason,
        },
      ],
      usage,
    };
    this.answer(entry, response, 200, completion);
  }

  private embeddings(entry: FakeOpenAIRequest, body: Record<string, unknown>, response: ServerResponse) {
    const request = parseEmbeddingsRequest(body);
    this.checkModel(request.model);
    const dimensions = request.dimensions ?? this.options.embeddingDimensions ?? 256;
    const data = request.inputs.map((text, index) => {
      const vector = embed(text, dimensions);
      return {
        object: 'embedding',
        index,
        embedding:
          request.encodingFormat === 'base64'
            ? Buffer.from(new Float32Array(vector).buffer).toString('base64')
            : vector,
      };
    });
    const tokens = request.inputs.reduce((sum, text) => sum + countTokens(text), 0);
    this.answer(entry, response, 200, {
      object: 'list',
      data,
      model: request.model,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    });
  }

  private transcription(entry: FakeOpenAIRequest, decoded: DecodedBody, response: ServerResponse) {
    const model = decoded.params.model;
    if (typeof model !== 'string' || model === '') {
      throw invalidRequest('you must provide a model parameter', 'model', 'missing_required_parameter');
    }
    this.checkModel(model);
    const file = decoded.files.get('file');
    if (!file)
      throw invalidRequest("Missing required parameter: 'file'.", 'file', 'missing_required_parameter');
    if (file.bytes.length === 0) throw invalidRequest('Audio file is too short.', 'file', 'audio_too_short');
    const text = this.transcriptQueue.shift() ?? this.defaultTranscript;
    const format = decoded.params.response_format ?? 'json';
    if (format === 'text') {
      entry.status = 200;
      response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      response.end(text);
      return;
    }
    if (format !== 'json' && format !== 'verbose_json') {
      throw invalidRequest(`Invalid value for 'response_format': ${String(format)}.`, 'response_format');
    }
    this.answer(
      entry,
      response,
      200,
      format === 'json' ? { text } : { task: 'transcribe', language: 'english', duration: 1, text },
    );
  }

  private answer(entry: FakeOpenAIRequest, response: ServerResponse, status: number, body: unknown) {
    entry.status = status;
    sendJson(response, status, body);
  }
}

// ─── Helpers ─────────────────────────────────────────────────────────────────

/** The default responder: repeats the last user message, and notes images it was shown. */
export function echoResponder(request: ChatRequestView): ScriptedReply {
  const images = request.images.map((image) => `[image ${image.mimeType ?? 'url'} ${image.bytes} bytes]`);
  return { text: [`Echo: ${request.lastUserText}`, ...images].join(' ').trim() };
}

function unauthorized(header: string | undefined): FakeOpenAIError {
  const key = header?.startsWith('Bearer ') ? header.slice(7) : '';
  const shown = key.length > 8 ? `${key.slice(0, 3)}*****${key.slice(-4)}` : key;
  return new FakeOpenAIError(401, {
    error: {
      message: key
        ? `Incorrect API key provided: ${shown}. You can find your API key at https://platform.openai.com/account/api-keys.`
        : "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth.",
      type: 'invalid_request_error',
      param: null,
      code: key ? 'invalid_api_key' : null,
    },
  });
}

/** OpenAI sends whole seconds in `retry-after` and the precise wait in `retry-after-ms`. */
function retryAfterHeaders(seconds: number): Record<string, string> {
  return { 'retry-after': String(Math.ceil(seconds)), 'retry-after-ms': String(Math.round(seconds * 1000)) };
}

function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  if (response.destroyed) return;
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
    size += buffer.length;
    if (size > MAX_BODY_BYTES) {
      throw new FakeOpenAIError(413, {
        error: { message: 'Request body too large.', type: 'invalid_request_error', param: null, code: null },
      });
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/** A rough token count (OpenAI averages ~4 characters per token in English). */
function countTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

interface StreamInput {
  id: string;
  created: number;
  model: string;
  text: string | null;
  toolCalls: Array<{ id: string; type: 'function'; function: { name: string; arguments: string } }>;
  finishReason: 'stop' | 'length' | 'content_filter' | 'tool_calls';
  usage: ChatCompletion['usage'];
  chunkChars: number;
}

/**
 * The chunks OpenAI streams: the role first, content in small deltas, each tool call opened
 * with its id and name and then its arguments in pieces (clients must concatenate by
 * `index`), the finish reason, and with `include_usage` a last chunk with usage and no choices.
 */
function streamChunks(input: StreamInput): ChatCompletionChunk[] {
  const base = {
    id: input.id,
    object: 'chat.completion.chunk' as const,
    created: input.created,
    model: input.model,
  };
  const chunk = (
    delta: ChatCompletionChunk.Choice.Delta,
    finish: ChatCompletionChunk.Choice['finish_reason'] = null,
  ) => ({
    ...base,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
  });
  const chunks: ChatCompletionChunk[] = [
    chunk({ role: 'assistant', content: input.text === null ? null : '' }),
  ];
  for (const piece of split(input.text ?? '', input.chunkChars)) chunks.push(chunk({ content: piece }));
  input.toolCalls.forEach((call, index) => {
    chunks.push(
      chunk({
        tool_calls: [
          { index, id: call.id, type: 'function', function: { name: call.function.name, arguments: '' } },
        ],
      }),
    );
    for (const piece of split(call.function.arguments, input.chunkChars * 2)) {
      chunks.push(chunk({ tool_calls: [{ index, function: { arguments: piece } }] }));
    }
  });
  chunks.push(chunk({}, input.finishReason));
  if (input.usage) chunks.push({ ...base, choices: [], usage: input.usage });
  return chunks;
}

function split(text: string, size: number): string[] {
  const pieces: string[] = [];
  for (let start = 0; start < text.length; start += size) pieces.push(text.slice(start, start + size));
  return pieces;
}

/**
 * Deterministic embeddings: a hashed bag of features — each word (weight 1) and the character
 * trigrams of `#word#` (weight 1/3 each) — signed-hashed into `dimensions` buckets and
 * L2-normalised. Texts sharing words have a high cosine similarity; shared word stems
 * (sofa / sofas) still score, so ranking tests behave like a real embedding model would.
 */
function embed(text: string, dimensions: number): number[] {
  const vector = new Array<number>(dimensions).fill(0);
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  const add = (feature: string, weight: number) => {
    const digest = createHash('sha1').update(feature).digest();
    const bucket = digest.readUInt32LE(0) % dimensions;
    vector[bucket] = (vector[bucket] ?? 0) + ((digest[4] ?? 0) & 1 ? weight : -weight);
  };
  for (const word of words) {
    add(`w:${word}`, 1);
    const padded = `#${word}#`;
    for (let i = 0; i + 3 <= padded.length; i++) add(`t:${padded.slice(i, i + 3)}`, 1 / 3);
  }
  const norm = Math.hypot(...vector);
  if (norm === 0) {
    // Text without words (punctuation only) still gets a unit vector, as real models do.
    vector[0] = 1;
    return vector;
  }
  return vector.map((value) => value / norm);
}
