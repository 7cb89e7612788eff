/**
 * A fake Telegram Bot API: a real HTTP server on loopback that Switchboard (or any grammY
 * client) can use as its API root. It keeps just enough state to answer like Telegram, applies
 * Telegram-like flood control, delivers pushed updates by getUpdates or webhook, and records
 * every call for assertions.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ApiError, ApiResponse, Chat, Message, Update, WebhookInfo } from '@grammyjs/types';
import {
  BodyError,
  type DecodedBody,
  decodeBody,
  isRecord,
  type UploadedPart,
} from './fake-telegram-body.ts';
import {
  type CallbackInput,
  callbackUpdate,
  type MyChatMemberInput,
  myChatMemberUpdate,
  observeUpdate,
  type PhotoInput,
  photoUpdate,
  type TextInput,
  textUpdate,
  type UpdateInput,
  type VoiceInput,
  voiceUpdate,
} from './fake-telegram-inbound.ts';
import { FloodControl, type RateLimitOptions, resolveRateLimits } from './fake-telegram-limits.ts';
import { createMethods, type MethodHandler, type MethodName } from './fake-telegram-methods.ts';
import { TelegramError } from './fake-telegram-params.ts';
import {
  BotState,
  type FakeBotInfo,
  type FileKind,
  FileStore,
  makeToken,
  type StoredFile,
  TOKEN_PATTERN,
} from './fake-telegram-state.ts';
import {
  type DeliveryOutcome,
  type DeliveryRecord,
  UpdateChannel,
  type WebhookConfig,
} from './fake-telegram-updates.ts';

export type {
  CallbackInput,
  FromInput,
  MyChatMemberInput,
  PhotoInput,
  TextInput,
  UpdateInput,
  VoiceInput,
} from './fake-telegram-inbound.ts';
export { DEFAULT_RATE_LIMITS, type RateLimitOptions, type RateLimits } from './fake-telegram-limits.ts';
export type { FakeBotInfo } from './fake-telegram-state.ts';
export type { DeliveryRecord, UpdateStatus } from './fake-telegram-updates.ts';

export interface FakeTelegramOptions {
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Flood control overrides, or `false` to turn it off. Defaults follow Telegram's FAQ. */
  rateLimits?: RateLimitOptions | false;
  /** First webhook redelivery delay; doubles per failed attempt. Default 50 ms. */
  webhookRetryBaseMs?: number;
  /** Cap for the redelivery delay. Default 1000 ms. */
  webhookRetryMaxMs?: number;
  /** How long a webhook may take to answer before the attempt counts as failed. Default 10 s. */
  webhookTimeoutMs?: number;
  /**
   * `sequential` (default) delivers one update at a time per bot, in order. `parallel` allows up
   * to the webhook's max_connections at once, without ordering guarantees.
   */
  webhookDelivery?: 'sequential' | 'parallel';
  /** Artificial delay before every API call and file download is answered. */
  latencyMs?: number;
  /** Sending to a chat never seen creates it (default); `false` answers "chat not found". */
  autoCreateChats?: boolean;
}

/** One request the fake received, in arrival order of completion. */
export interface RecordedRequest {
  token: string;
  /** Canonical method name (`sendMessage` even if called as `sendmessage`); `file` for downloads. */
  method: string;
  /** Parameters as received: JSON values stay typed, form and multipart fields are strings. */
  params: Record<string, unknown>;
  /** Multipart file parts by field name. */
  files: Record<string, UploadedPart>;
  /** Epoch milliseconds when the request arrived. */
  at: number;
  /** HTTP status answered; 499 when the client went away first. */
  status: number;
  response: ApiResponse<unknown>;
  /** `webhook-reply` for a method call returned in the body of a webhook response. */
  source: 'http' | 'webhook-reply';
}

export interface RequestFilter {
  token?: string;
  method?: string;
  status?: number;
}

/** A file registered with `addFile`, as a bot sees it through getFile. */
export interface FakeFileInfo {
  fileId: string;
  fileUniqueId: string;
  filePath: string;
  size: number;
}

type Truthy<T> = Exclude<T, false | 0 | 0n | '' | null | undefined>;

function isTruthy<T>(value: T): value is Truthy<T> {
  return Boolean(value);
}

// Telegram's upload limit for bots is 50 MB; anything bigger is refused before parsing.
const MAX_BODY_BYTES = 50 * 1024 * 1024;
const FIRST_BOT_ID = 7_000_000_001;

const unauthorized: ApiError = { ok: false, error_code: 401, description: 'Unauthorized' };
const notFound: ApiError = { ok: false, error_code: 404, description: 'Not Found' };
const methodNotFound: ApiError = { ok: false, error_code: 404, description: 'Not Found: method not found' };

/** A fake Telegram Bot API server. Start it with `await FakeTelegram.start()`. */
export class FakeTelegram {
  private readonly bots = new Map<string, BotState>();
  private readonly fileStore = new FileStore();
  private readonly recorded: RecordedRequest[] = [];
  private readonly sent: { token: string; message: Message }[] = [];
  private readonly tooManyRequests = new Map<string, number>();
  private readonly listeners = new Set<() => void>();
  private readonly flood: FloodControl | undefined;
  private readonly methods: Map<string, { name: MethodName; handler: MethodHandler }>;
  private readonly closing = new AbortController();
  private nextBotId = FIRST_BOT_ID;
  private nextCallbackId = 1;

  private constructor(
    private readonly server: Server,
    /** The API root to configure clients with, e.g. `http://127.0.0.1:40123` (no trailing slash). */
    readonly url: string,
    private readonly options: FakeTelegramOptions,
  ) {
    const limits = resolveRateLimits(options.rateLimits);
    this.flood = limits ? new FloodControl(limits) : undefined;
    this.methods = createMethods({
      files: this.fileStore,
      flood: this.flood,
      autoCreateChats: options.autoCreateChats ?? true,
      onSent: (bot, message) => {
        this.sent.push({ token: bot.info.token, message });
        this.notify();
      },
    });
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      void this.handle(request, response);
    });
  }

  /** Starts the server on 127.0.0.1. */
  static async start(options: FakeTelegramOptions = {}): Promise<FakeTelegram> {
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
      throw new Error('FakeTelegram: server has no TCP address');
    return new FakeTelegram(server, `http://127.0.0.1:${address.port}`, options);
  }

  /** Stops deliveries and long polls, and closes the server and all its connections. */
  async close(): Promise<void> {
    this.closing.abort();
    for (const bot of this.bots.values()) bot.updates.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Registers a bot. The token is generated unless given; it must look like `<id>:<secret>`. */
  addBot(options: { token?: string; username?: string; firstName?: string } = {}): FakeBotInfo {
    let id: number;
    let token: string;
    if (options.token !== undefined) {
      const match = TOKEN_PATTERN.exec(options.token);
      if (!match) throw new Error(`FakeTelegram: "${options.token}" does not look like a bot token`);
      id = Number(match[1]);
      token = options.token;
    } else {
      id = this.nextBotId++;
      token = makeToken(id);
    }
    if (this.bots.has(token)) throw new Error(`FakeTelegram: bot ${id} is already registered`);
    const info: FakeBotInfo = {
      id,
      token,
      username: options.username ?? `test_${id}_bot`,
      firstName: options.firstName ?? `Test Bot ${id}`,
    };
    const updates = new UpdateChannel({
      deliver: (update, webhook, signal) => this.deliverWebhook(token, update, webhook, signal),
      retryBaseMs: this.options.webhookRetryBaseMs ?? 50,
      retryMaxMs: this.options.webhookRetryMaxMs ?? 1000,
      parallel: this.options.webhookDelivery === 'parallel',
      onChange: () => this.notify(),
    });
    this.bots.set(token, new BotState(info, updates));
    return { ...info };
  }

  /** Creates or updates a chat, e.g. a supergroup with a title or a private chat with a username. */
  addChat(botToken: string, chat: Chat): void {
    this.bot(botToken).ensureChat(chat.id, { chat }).chat = chat;
  }

  /** Registers bytes the bots can fetch with getFile and download, or send by file_id. */
  addFile(
    bytes: Uint8Array,
    options: { fileId?: string; mimeType?: string; fileName?: string; kind?: FileKind } = {},
  ): FakeFileInfo {
    if (options.fileId !== undefined && this.fileStore.get(options.fileId)) {
      throw new Error(`FakeTelegram: file_id ${options.fileId} is already registered`);
    }
    return describeFile(this.fileStore.add(bytes, options));
  }

  /** Marks the bot as blocked by the user of a private chat (or kicked from a group). */
  blockBot(botToken: string, chatId: number): void {
    this.bot(botToken).ensureChat(chatId).botStatus = 'kicked';
  }

  unblockBot(botToken: string, chatId: number): void {
    this.bot(botToken).ensureChat(chatId).botStatus = 'member';
  }

  /**
   * Gives the update the bot's next update_id, then queues it for getUpdates or delivers it to
   * the webhook. Updates excluded by the bot's allowed_updates are not stored, as on Telegram.
   */
  pushUpdate(botToken: string, update: UpdateInput): Update {
    const bot = this.bot(botToken);
    observeUpdate(bot, update);
    return bot.updates.push(update);
  }

  /** A user sends a text message; `/commands` get bot_command entities like on Telegram. */
  sendText(botToken: string, input: TextInput): Update {
    return this.pushUpdate(botToken, textUpdate(this.bot(botToken), input));
  }

  /** A user sends a photo; its bytes are registered so the bot can download them. */
  sendPhoto(botToken: string, input: PhotoInput): Update {
    return this.pushUpdate(botToken, photoUpdate(this.bot(botToken), this.fileStore, input));
  }

  /** A user sends a voice note; its bytes are registered so the bot can download them. */
  sendVoice(botToken: string, input: VoiceInput): Update {
    return this.pushUpdate(botToken, voiceUpdate(this.bot(botToken), this.fileStore, input));
  }

  /** A user presses an inline button; the query id can then be answered once. */
  sendCallback(botToken: string, input: CallbackInput): Update {
    const bot = this.bot(botToken);
    const queryId = `${bot.info.id}${String(this.nextCallbackId++).padStart(9, '0')}`;
    return this.pushUpdate(botToken, callbackUpdate(bot, input, queryId));
  }

  /** The bot's membership changes, e.g. `status: 'kicked'` when the user blocks it. */
  sendMyChatMember(botToken: string, input: MyChatMemberInput): Update {
    return this.pushUpdate(botToken, myChatMemberUpdate(this.bot(botToken), input));
  }

  /** What happened to every update pushed to the bot, in update_id order. */
  updates(botToken: string): DeliveryRecord[] {
    return this.bot(botToken).updates.allRecords();
  }

  /** update_ids the webhook answered 2xx for, or that getUpdates confirmed with a higher offset. */
  acknowledged(botToken: string): number[] {
    return this.updates(botToken)
      .filter((record) => record.status === 'acknowledged')
      .map((record) => record.update.update_id);
  }

  /** Resolves once the update is acknowledged; rejects if it was dropped, filtered or timed out. */
  async waitForDelivered(botToken: string, updateId: number, timeoutMs = 5000): Promise<DeliveryRecord> {
    const channel = this.bot(botToken).updates;
    try {
      return await this.waitFor(() => {
        const record = channel.record(updateId);
        if (!record) throw new Error(`FakeTelegram: no update ${updateId} was pushed to this bot`);
        if (record.status === 'dropped' || record.status === 'filtered') {
          throw new Error(`FakeTelegram: update ${updateId} was ${record.status}`);
        }
        return record.status === 'acknowledged' ? record : undefined;
      }, timeoutMs);
    } catch (error) {
      const record = channel.record(updateId);
      if (!record || record.status === 'dropped' || record.status === 'filtered') throw error;
      throw new Error(
        `FakeTelegram: update ${updateId} not acknowledged within ${timeoutMs} ms ` +
          `(status ${record.status}, ${record.attempts} attempts, last error: ${record.lastError ?? 'none'})`,
      );
    }
  }

  /** The bot's webhook state as getWebhookInfo would answer it. */
  webhookInfo(botToken: string): WebhookInfo {
    return this.bot(botToken).updates.info();
  }

  /** Recorded requests, oldest first, optionally filtered. */
  requests(filter?: RequestFilter | ((request: RecordedRequest) => boolean)): RecordedRequest[] {
    const matches =
      typeof filter === 'function'
        ? filter
        : (request: RecordedRequest) =>
            (filter?.token === undefined || request.token === filter.token) &&
            (filter?.method === undefined || request.method === filter.method) &&
            (filter?.status === undefined || request.status === filter.status);
    return this.recorded.filter(matches);
  }

  /** Messages bots sent successfully (send* results), in order, as the bots received them. */
  sentMessages(botToken?: string, chatId?: number): Message[] {
    return this.sent
      .filter((entry) => botToken === undefined || entry.token === botToken)
      .filter((entry) => chatId === undefined || entry.message.chat.id === chatId)
      .map((entry) => entry.message);
  }

  /**
   * How many messages bots sent, for one bot or all (all: constant time), for load generators
   * that poll it; sentMessages copies the whole record on every call.
   */
  sentCount(botToken?: string): number {
    if (botToken === undefined) return this.sent.length;
    return this.sent.reduce((count, entry) => count + (entry.token === botToken ? 1 : 0), 0);
  }

  /** The chat as it stands now, both sides, with edits applied and deleted messages gone. */
  chatMessages(botToken: string, chatId: number): Message[] {
    const chat = this.bot(botToken).chats.get(chatId);
    return chat ? [...chat.messages.values()].map((stored) => stored.message) : [];
  }

  /** How many 429 answers the fake gave, for one bot or all. */
  tooManyRequestsCount(botToken?: string): number {
    if (botToken !== undefined) return this.tooManyRequests.get(botToken) ?? 0;
    let total = 0;
    for (const count of this.tooManyRequests.values()) total += count;
    return total;
  }

  /**
   * Resolves with the predicate's first truthy result. It is re-evaluated whenever the fake
   * records something and every 25 ms; a throwing predicate rejects at once.
   */
  waitFor<T>(predicate: (fake: FakeTelegram) => T, timeoutMs = 5000): Promise<Truthy<T>> {
    return new Promise((resolve, reject) => {
      const finish = () => {
        clearTimeout(timer);
        clearInterval(poll);
        this.listeners.delete(check);
      };
      const check = () => {
        try {
          const value = predicate(this);
          if (!isTruthy(value)) return;
          finish();
          resolve(value);
        } catch (error) {
          finish();
          reject(error);
        }
      };
      const timer = setTimeout(() => {
        finish();
        const recent = this.recorded
          .slice(-5)
          .map((request) => `${request.method} ${request.status}`)
          .join(', ');
        reject(
          new Error(
            `FakeTelegram.waitFor: timed out after ${timeoutMs} ms (last requests: ${recent || 'none'})`,
          ),
        );
      }, timeoutMs);
      const poll = setInterval(check, 25);
      this.listeners.add(check);
      check();
    });
  }

  /**
   * Forgets recorded requests, sent messages, 429 counts and flood-control state. Bots, chats,
   * files, webhooks and queued updates stay.
   */
  reset(): void {
    this.recorded.length = 0;
    this.sent.length = 0;
    this.tooManyRequests.clear();
    this.flood?.reset();
  }

  private bot(token: string): BotState {
    const bot = this.bots.get(token);
    if (!bot) throw new Error('FakeTelegram: unknown bot token; register the bot with addBot first');
    return bot;
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  private record(request: RecordedRequest): void {
    this.recorded.push(request);
    if (request.status === 429) {
      this.tooManyRequests.set(request.token, (this.tooManyRequests.get(request.token) ?? 0) + 1);
    }
    this.notify();
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    try {
      await this.route(request, response);
    } catch (error) {
      const description = `Internal Server Error: ${error instanceof Error ? error.message : String(error)}`;
      if (response.headersSent) response.destroy();
      else send(response, 500, { ok: false, error_code: 500, description });
    }
  }

  private async route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const at = Date.now();
    const url = new URL(request.url ?? '/', this.url);
    let body: Buffer;
    try {
      body = await readBody(request);
    } catch (error) {
      if (!(error instanceof TelegramError)) throw error;
      send(response, error.errorCode, {
        ok: false,
        error_code: error.errorCode,
        description: error.description,
      });
      return;
    }
    if (this.options.latencyMs) await sleep(this.options.latencyMs);

    const download = /^\/file\/bot([^/]+)\/(.+)$/.exec(url.pathname);
    if (download)
      return this.serveFile(response, safeDecode(download[1] ?? ''), safeDecode(download[2] ?? ''), at);

    const call = /^\/bot([^/]+)\/([A-Za-z0-9_]+)\/?$/.exec(url.pathname);
    if (!call) {
      send(response, 404, notFound);
      return;
    }
    const token = safeDecode(call[1] ?? '');
    const methodName = call[2] ?? '';
    let decoded: DecodedBody | BodyError;
    try {
      decoded = decodeBody(request.headers['content-type'], body);
    } catch (error) {
      if (!(error instanceof BodyError)) throw error;
      decoded = error;
    }
    const query = Object.fromEntries(url.searchParams);
    const params = decoded instanceof BodyError ? query : { ...query, ...decoded.params };
    const files = decoded instanceof BodyError ? new Map<string, UploadedPart>() : decoded.files;
    const entry = this.methods.get(methodName.toLowerCase());
    // 'close' before we answered means the client went away, e.g. a long poll it aborted.
    const disconnected = new AbortController();
    response.on('close', () => disconnected.abort());
    const finish = (status: number, answer: ApiResponse<unknown>) => {
      const aborted = disconnected.signal.aborted || response.destroyed;
      if (!aborted) send(response, status, answer);
      this.record({
        token,
        method: entry?.name ?? methodName,
        params,
        files: Object.fromEntries(files),
        at,
        status: aborted ? 499 : status,
        response: answer,
        source: 'http',
      });
    };

    const bot = this.bots.get(token);
    if (!bot) return finish(401, unauthorized);
    if (!entry) return finish(404, methodNotFound);
    if (decoded instanceof BodyError) {
      return finish(400, { ok: false, error_code: 400, description: `Bad Request: ${decoded.message}` });
    }
    const { status, answer } = await this.invoke(bot, entry.handler, params, files, disconnected.signal);
    finish(status, answer);
  }

  private async invoke(
    bot: BotState,
    handler: MethodHandler,
    params: Record<string, unknown>,
    files: Map<string, UploadedPart>,
    signal: AbortSignal,
  ): Promise<{ status: number; answer: ApiResponse<unknown> }> {
    try {
      const result = await handler({ bot, params, files, signal });
      return { status: 200, answer: { ok: true, result } };
    } catch (error) {
      if (!(error instanceof TelegramError)) throw error;
      const answer: ApiError = { ok: false, error_code: error.errorCode, description: error.description };
      if (error.parameters) answer.parameters = error.parameters;
      return { status: error.errorCode, answer };
    }
  }

  private serveFile(response: ServerResponse, token: string, filePath: string, at: number): void {
    const file = this.bots.has(token) ? this.fileStore.atPath(filePath) : undefined;
    const status = !this.bots.has(token) ? 401 : file ? 200 : 404;
    if (file) {
      response.writeHead(200, { 'content-type': file.mimeType, 'content-length': file.bytes.length });
      response.end(file.bytes);
    } else {
      send(response, status, status === 401 ? unauthorized : notFound);
    }
    this.record({
      token,
      method: 'file',
      params: { file_path: filePath },
      files: {},
      at,
      status,
      response: file ? { ok: true, result: describeFile(file) } : status === 401 ? unauthorized : notFound,
      source: 'http',
    });
  }

  /** POSTs one update like Telegram: JSON body, secret header, any 2xx counts as delivered. */
  private async deliverWebhook(
    token: string,
    update: Update,
    webhook: WebhookConfig,
    signal: AbortSignal,
  ): Promise<DeliveryOutcome> {
    try {
      const response = await fetch(webhook.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(webhook.secretToken !== undefined
            ? { 'x-telegram-bot-api-secret-token': webhook.secretToken }
            : {}),
        },
        body: JSON.stringify(update),
        signal: AbortSignal.any([signal, AbortSignal.timeout(this.options.webhookTimeoutMs ?? 10_000)]),
      });
      const text = await response.text();
      if (!response.ok) {
        return {
          ok: false,
          error: `Wrong response from the webhook: ${response.status} ${response.statusText}`,
        };
      }
      await this.runWebhookReply(token, text);
      return { ok: true };
    } catch (error) {
      return { ok: false, error: describeNetworkError(error) };
    }
  }

  /**
   * "If you're using webhooks, you can perform a request to the Bot API while sending an answer
   * to the webhook": a JSON body with a `method` field is executed as that bot's call.
   */
  private async runWebhookReply(token: string, text: string): Promise<void> {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return;
    }
    if (!isRecord(body) || typeof body.method !== 'string') return;
    const { method, ...params } = body;
    const bot = this.bots.get(token);
    const entry = this.methods.get(method.toLowerCase());
    if (!bot || !entry) return;
    const { status, answer } = await this.invoke(bot, entry.handler, params, new Map(), this.closing.signal);
    this.record({
      token,
      method: entry.name,
      params,
      files: {},
      at: Date.now(),
      status,
      response: answer,
      source: 'webhook-reply',
    });
  }
}

function describeFile(file: StoredFile): FakeFileInfo {
  return {
    fileId: file.fileId,
    fileUniqueId: file.fileUniqueId,
    filePath: file.filePath,
    size: file.bytes.length,
  };
}

function send(response: ServerResponse, status: number, body: ApiResponse<unknown>): void {
  const json = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(json),
  });
  response.end(json);
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new TelegramError(413, 'Request Entity Too Large');
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Words Telegram uses in last_error_message for the usual failures. */
function describeNetworkError(error: unknown): string {
  if (error instanceof Error && error.name === 'TimeoutError') return 'Read timeout expired';
  const cause = error instanceof Error ? error.cause : undefined;
  if (isRecord(cause) && cause.code === 'ECONNREFUSED') return 'Connection refused';
  return `Connection error: ${error instanceof Error ? error.message : String(error)}`;
}
