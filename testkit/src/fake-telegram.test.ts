import { createServer, type IncomingHttpHeaders } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Update } from '@grammyjs/types';
import { Api, Bot, GrammyError, InputFile } from 'grammy';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FakeBotInfo, FakeTelegram, type FakeTelegramOptions } from './fake-telegram.ts';

const CHAT_ID = 424_242;

interface Receiver {
  url: string;
  received: { headers: IncomingHttpHeaders; update: Update }[];
  close: () => Promise<void>;
}

/** A webhook endpoint; `answer` picks the HTTP status for the n-th delivery (0-based). */
async function startReceiver(
  answer: (index: number, update: Update) => number | Promise<number> = () => 200,
) {
  const received: Receiver['received'] = [];
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request)
      chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
    const update: Update = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    const index = received.length;
    received.push({ headers: request.headers, update });
    response.statusCode = await answer(index, update);
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('receiver has no port');
  const receiver: Receiver = {
    url: `http://127.0.0.1:${address.port}/telegram`,
    received,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
  return receiver;
}

/** The payload as grammY puts it on the wire: nulls left out, uploads replaced by a marker. */
function asSentOnTheWire(payload: unknown): unknown {
  if (payload === undefined) return {};
  if (payload instanceof InputFile) return '<InputFile>';
  if (Array.isArray(payload)) return payload.map(asSentOnTheWire);
  if (typeof payload !== 'object' || payload === null) return payload;
  const fields = Object.entries(payload).filter(([, value]) => value !== null && value !== undefined);
  return Object.fromEntries(fields.map(([key, value]) => [key, asSentOnTheWire(value)]));
}

/** grammY's multipart encoding: scalars as text, objects as JSON, files as attach:// references. */
function asMultipartFields(payload: unknown): unknown {
  if (typeof payload !== 'object' || payload === null) return payload;
  const fields = Object.entries(payload).filter(([, value]) => value !== null && value !== undefined);
  return Object.fromEntries(
    fields.map(([key, value]) => [
      key,
      value instanceof InputFile
        ? expect.stringMatching(/^attach:\/\//)
        : typeof value === 'object'
          ? JSON.stringify(value)
          : String(value),
    ]),
  );
}

describe('FakeTelegram with a real grammY client', () => {
  let fake: FakeTelegram;
  let bot: FakeBotInfo;
  let api: Api;
  /** Every payload grammY sent through `api`, captured before serialization. */
  let sent: { method: string; payload: unknown; raw: unknown }[];

  async function setUp(options: FakeTelegramOptions = {}) {
    fake = await FakeTelegram.start(options);
    bot = fake.addBot({ username: 'switchboard_test_bot', firstName: 'Switchboard' });
    api = new Api(bot.token, { apiRoot: fake.url });
    sent = [];
    api.config.use((previous, method, payload, signal) => {
      sent.push({ method, payload: asSentOnTheWire(payload), raw: payload });
      return previous(method, payload, signal);
    });
  }

  beforeEach(async () => {
    await setUp();
  });

  afterEach(async () => {
    await fake.close();
  });

  it('answers getMe with the registered bot', async () => {
    expect(bot.token).toMatch(/^\d+:[A-Za-z0-9_-]{35}$/);
    const me = await api.getMe();
    expect(me).toMatchObject({
      id: bot.id,
      is_bot: true,
      username: 'switchboard_test_bot',
      first_name: 'Switchboard',
    });
  });

  it('sends a message with an inline keyboard and records the params grammY sent', async () => {
    const other = {
      parse_mode: 'HTML' as const,
      reply_markup: {
        inline_keyboard: [
          [{ text: 'Yes', callback_data: 'answer:yes' }],
          [{ text: 'Docs', url: 'https://example.com' }],
        ],
      },
    };
    const message = await api.sendMessage(CHAT_ID, '<b>Hello</b> &amp; welcome', other);

    expect(message).toMatchObject({
      message_id: 1,
      chat: { id: CHAT_ID, type: 'private' },
      from: { id: bot.id, is_bot: true },
      text: 'Hello & welcome',
      reply_markup: other.reply_markup,
    });
    const [recorded] = fake.requests({ method: 'sendMessage' });
    expect(recorded?.status).toBe(200);
    expect(recorded?.params).toEqual({ chat_id: CHAT_ID, text: '<b>Hello</b> &amp; welcome', ...other });
    expect(fake.sentMessages(bot.token, CHAT_ID)).toEqual([message]);
    expect([fake.sentCount(), fake.sentCount(bot.token), fake.sentCount('someone-else')]).toEqual([1, 1, 0]);

    const second = await api.sendMessage(CHAT_ID, 'again', {
      reply_parameters: { message_id: message.message_id },
    });
    expect(second.message_id).toBe(2);
    expect(second.reply_to_message?.message_id).toBe(1);
  });

  it('rejects what Telegram rejects, with Telegram descriptions', async () => {
    await expect(api.sendMessage(CHAT_ID, '   ')).rejects.toMatchObject({
      error_code: 400,
      description: 'Bad Request: message text is empty',
    });
    await expect(api.sendMessage(CHAT_ID, 'x'.repeat(4097))).rejects.toMatchObject({
      description: 'Bad Request: message is too long',
    });
    await expect(
      api.sendMessage(CHAT_ID, 'hi', {
        reply_markup: { inline_keyboard: [[{ text: 'x', callback_data: 'y'.repeat(65) }]] },
      }),
    ).rejects.toMatchObject({ description: 'Bad Request: BUTTON_DATA_INVALID' });
    await expect(api.getChat(-5)).rejects.toMatchObject({ description: 'Bad Request: chat not found' });

    const raw = (path: string, init?: RequestInit) => fetch(`${fake.url}${path}`, init);
    const malformed = await raw(`/bot${bot.token}/sendMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"chat_id": 1,',
    });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({
      ok: false,
      error_code: 400,
      description: expect.stringMatching(/^Bad Request: /),
    });

    const missing = await raw(`/bot${bot.token}/sendMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'text=hello',
    });
    expect(await missing.json()).toEqual({
      ok: false,
      error_code: 400,
      description: 'Bad Request: chat_id is empty',
    });

    const unauthorized = await raw('/bot123:nope/getMe');
    expect(unauthorized.status).toBe(401);
    expect(await unauthorized.json()).toEqual({ ok: false, error_code: 401, description: 'Unauthorized' });

    const unknownMethod = await raw(`/bot${bot.token}/launchRocket`, { method: 'POST' });
    expect(unknownMethod.status).toBe(404);
    expect(await unknownMethod.json()).toEqual({
      ok: false,
      error_code: 404,
      description: 'Not Found: method not found',
    });

    // Method names are case-insensitive on Telegram, and GET with a query string works too.
    const lowerCase = await raw(`/bot${bot.token}/getme`);
    expect(await lowerCase.json()).toMatchObject({ ok: true, result: { id: bot.id } });
    expect(fake.requests({ token: bot.token, method: 'getMe' })).toHaveLength(1);
    expect(fake.requests({ status: 401 })).toMatchObject([{ token: '123:nope', method: 'getMe' }]);
  });

  it('sends a photo by file id, and serves registered files through getFile', async () => {
    const bytes = new Uint8Array([0xff, 0xd8, 0xff, 1, 2, 3, 0xff, 0xd9]);
    const registered = fake.addFile(bytes, { mimeType: 'image/jpeg', kind: 'photo' });

    const message = await api.sendPhoto(CHAT_ID, registered.fileId, { caption: 'a photo' });
    expect(message.caption).toBe('a photo');
    expect(message.photo.at(-1)).toMatchObject({ file_id: registered.fileId, file_size: bytes.length });

    const file = await api.getFile(registered.fileId);
    expect(file).toEqual({
      file_id: registered.fileId,
      file_unique_id: registered.fileUniqueId,
      file_size: bytes.length,
      file_path: registered.filePath,
    });
    const download = await fetch(`${fake.url}/file/bot${bot.token}/${file.file_path}`);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('image/jpeg');
    expect(new Uint8Array(await download.arrayBuffer())).toEqual(bytes);

    await expect(api.sendPhoto(CHAT_ID, 'no-such-file')).rejects.toMatchObject({
      description: 'Bad Request: wrong file identifier/HTTP URL specified',
    });
    await expect(
      api.sendPhoto(CHAT_ID, registered.fileId, { caption: 'c'.repeat(1025) }),
    ).rejects.toMatchObject({
      description: 'Bad Request: message caption is too long',
    });
  });

  it('accepts uploads sent as multipart/form-data', async () => {
    const bytes = new TextEncoder().encode('%PDF-1.4 fake pdf');
    const message = await api.sendDocument(CHAT_ID, new InputFile(bytes, 'report.pdf'), {
      caption: 'Report',
    });

    expect(message.document).toMatchObject({ file_name: 'report.pdf', file_size: bytes.length });
    const [recorded] = fake.requests({ method: 'sendDocument' });
    // Multipart fields arrive as strings; the file itself is referenced as attach://<part>.
    expect(recorded?.params).toMatchObject({ chat_id: String(CHAT_ID), caption: 'Report' });
    const attach = String(recorded?.params.document);
    expect(attach).toMatch(/^attach:\/\//);
    expect(recorded?.files[attach.slice('attach://'.length)]?.bytes).toEqual(bytes);

    const file = await api.getFile(message.document.file_id);
    const download = await fetch(`${fake.url}/file/bot${bot.token}/${file.file_path}`);
    expect(new Uint8Array(await download.arrayBuffer())).toEqual(bytes);
  });

  it('answers 429 with retry_after on a burst to one chat, and counts it', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, (_, index) => api.sendMessage(CHAT_ID, `message ${index}`)),
    );
    const fulfilled = results.filter((result) => result.status === 'fulfilled');
    const rejected = results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
    expect(fulfilled).toHaveLength(3);
    expect(rejected).toHaveLength(2);
    for (const error of rejected) {
      expect(error).toBeInstanceOf(GrammyError);
      expect(error).toMatchObject({
        error_code: 429,
        description: 'Too Many Requests: retry after 1',
        parameters: { retry_after: 1 },
      });
    }
    expect(fake.tooManyRequestsCount(bot.token)).toBe(2);
    expect(fake.tooManyRequestsCount()).toBe(2);
    // Another chat has its own budget.
    await expect(api.sendMessage(CHAT_ID + 1, 'elsewhere')).resolves.toMatchObject({ text: 'elsewhere' });
  });

  it('limits groups to the configured messages per minute', async () => {
    await fake.close();
    await setUp({ rateLimits: { perChat: false, perGroup: { perMinute: 2 } } });
    const group = -100_123_456;
    await api.sendMessage(group, 'one');
    await api.sendMessage(group, 'two');
    const error = await api.sendMessage(group, 'three').catch((caught: unknown) => caught);
    expect(error).toMatchObject({ error_code: 429, parameters: { retry_after: 30 } });
    expect(fake.sentMessages(bot.token, group).map((message) => message.chat.type)).toEqual([
      'supergroup',
      'supergroup',
    ]);
  });

  it('answers 403 when the user blocked the bot', async () => {
    fake.blockBot(bot.token, CHAT_ID);
    await expect(api.sendMessage(CHAT_ID, 'hello?')).rejects.toMatchObject({
      error_code: 403,
      description: 'Forbidden: bot was blocked by the user',
    });
    await expect(api.sendChatAction(CHAT_ID, 'typing')).rejects.toMatchObject({ error_code: 403 });
    fake.unblockBot(bot.token, CHAT_ID);
    await expect(api.sendMessage(CHAT_ID, 'hello!')).resolves.toMatchObject({ text: 'hello!' });
  });

  it('long-polls getUpdates until an update is pushed, and confirms by offset', async () => {
    const startedAt = Date.now();
    const poll = api.getUpdates({ timeout: 5 });
    await sleep(100);
    fake.sendText(bot.token, { chatId: CHAT_ID, text: '/start hello', from: { first_name: 'Ada' } });

    const updates = await poll;
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(100);
    expect(updates).toHaveLength(1);
    const [update] = updates;
    expect(update?.message).toMatchObject({
      text: '/start hello',
      chat: { id: CHAT_ID, type: 'private', first_name: 'Ada' },
      from: { id: CHAT_ID, is_bot: false, first_name: 'Ada' },
      entities: [{ type: 'bot_command', offset: 0, length: 6 }],
    });
    const updateId = update?.update_id ?? 0;
    expect(fake.acknowledged(bot.token)).toEqual([]);

    // Unconfirmed updates come again; a higher offset confirms them.
    expect(await api.getUpdates({ timeout: 0 })).toHaveLength(1);
    expect(await api.getUpdates({ offset: updateId + 1, timeout: 0 })).toEqual([]);
    expect(fake.acknowledged(bot.token)).toEqual([updateId]);
    await expect(fake.waitForDelivered(bot.token, updateId, 100)).resolves.toMatchObject({
      status: 'acknowledged',
    });
  });

  it('refuses getUpdates with 409 while a webhook is set, and ends an open poll', async () => {
    const open = api.getUpdates({ timeout: 5 }).catch((caught: unknown) => caught);
    await sleep(100);
    await api.setWebhook('https://example.com/hook');
    expect(await open).toMatchObject({
      error_code: 409,
      description: 'Conflict: terminated by setWebhook request',
    });

    await expect(api.getUpdates()).rejects.toMatchObject({
      error_code: 409,
      description: expect.stringMatching(/^Conflict: can't use getUpdates method while webhook is active/),
    });
    await expect(
      api.setWebhook('https://example.com/hook', { secret_token: 'not allowed!' }),
    ).rejects.toMatchObject({
      description: 'Bad Request: secret token contains unallowed characters',
    });
    await api.deleteWebhook();
    await expect(api.getUpdates()).resolves.toEqual([]);
  });

  it('delivers pushed updates to the webhook with the secret header, in order', async () => {
    const receiver = await startReceiver();
    try {
      await api.setWebhook(receiver.url, { secret_token: 'Secret_123-abc' });
      const first = fake.sendText(bot.token, { chatId: CHAT_ID, text: 'one' });
      const second = fake.sendText(bot.token, { chatId: CHAT_ID, text: 'two' });
      await fake.waitForDelivered(bot.token, second.update_id);

      expect(receiver.received.map((delivery) => delivery.update.update_id)).toEqual([
        first.update_id,
        second.update_id,
      ]);
      expect(receiver.received[0]?.headers['x-telegram-bot-api-secret-token']).toBe('Secret_123-abc');
      expect(receiver.received[0]?.update).toEqual(first);
      expect(fake.acknowledged(bot.token)).toEqual([first.update_id, second.update_id]);
      expect(await api.getWebhookInfo()).toMatchObject({
        url: receiver.url,
        pending_update_count: 0,
        max_connections: 40,
      });
    } finally {
      await receiver.close();
    }
  });

  it('redelivers an update after the webhook answers 500, keeping later updates behind it', async () => {
    const receiver = await startReceiver((index) => (index === 0 ? 500 : 200));
    try {
      await api.setWebhook(receiver.url);
      const first = fake.sendText(bot.token, { chatId: CHAT_ID, text: 'retry me' });
      const second = fake.sendText(bot.token, { chatId: CHAT_ID, text: 'after' });
      const record = await fake.waitForDelivered(bot.token, first.update_id);
      await fake.waitForDelivered(bot.token, second.update_id);

      expect(record).toMatchObject({
        attempts: 2,
        lastError: 'Wrong response from the webhook: 500 Internal Server Error',
      });
      expect(receiver.received.map((delivery) => delivery.update.update_id)).toEqual([
        first.update_id,
        first.update_id,
        second.update_id,
      ]);
      const info = await api.getWebhookInfo();
      expect(info.last_error_message).toBe('Wrong response from the webhook: 500 Internal Server Error');
      expect(info.last_error_date).toBeTypeOf('number');
    } finally {
      await receiver.close();
    }
  });

  it('delivers up to max_connections updates at once when parallel delivery is on', async () => {
    await fake.close();
    await setUp({ webhookDelivery: 'parallel' });
    let inFlight = 0;
    let mostInFlight = 0;
    const receiver = await startReceiver(async () => {
      inFlight += 1;
      mostInFlight = Math.max(mostInFlight, inFlight);
      await sleep(50);
      inFlight -= 1;
      return 200;
    });
    try {
      await api.setWebhook(receiver.url, { max_connections: 2 });
      const updates = [1, 2, 3, 4].map((n) => fake.sendText(bot.token, { chatId: CHAT_ID, text: `n${n}` }));
      await Promise.all(updates.map((update) => fake.waitForDelivered(bot.token, update.update_id)));
      expect(mostInFlight).toBe(2);
    } finally {
      await receiver.close();
    }
  });
  it('executes a method returned in the webhook response body', async () => {
    const server = createServer((request, response) => {
      request.resume();
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ method: 'sendMessage', chat_id: CHAT_ID, text: 'replied inline' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    try {
      if (address === null || typeof address === 'string') throw new Error('no port');
      await api.setWebhook(`http://127.0.0.1:${address.port}/`);
      const update = fake.sendText(bot.token, { chatId: CHAT_ID, text: 'hi' });
      const [reply] = await fake.waitFor(() => {
        const replies = fake.requests((request) => request.source === 'webhook-reply');
        return replies.length > 0 && replies;
      });
      expect(reply).toMatchObject({ method: 'sendMessage', status: 200, response: { ok: true } });
      expect(fake.sentMessages(bot.token, CHAT_ID).map((message) => message.text)).toEqual([
        'replied inline',
      ]);
      await fake.waitForDelivered(bot.token, update.update_id);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('handles callback queries, edits and deletes like Telegram', async () => {
    const keyboard = { inline_keyboard: [[{ text: 'Pick', callback_data: 'pick' }]] };
    const message = await api.sendMessage(CHAT_ID, 'Choose', { reply_markup: keyboard });
    const update = fake.sendCallback(bot.token, { chatId: CHAT_ID, data: 'pick' });
    const query = update.callback_query;
    expect(query?.message?.message_id).toBe(message.message_id);

    await expect(api.answerCallbackQuery(query?.id ?? '', { text: 'Done' })).resolves.toBe(true);
    await expect(api.answerCallbackQuery(query?.id ?? '')).rejects.toMatchObject({
      description: 'Bad Request: query is too old and response timeout expired or query ID is invalid',
    });

    await expect(
      api.editMessageText(CHAT_ID, message.message_id, 'Choose', { reply_markup: keyboard }),
    ).rejects.toMatchObject({
      description: expect.stringMatching(/^Bad Request: message is not modified/),
    });
    const edited = await api.editMessageText(CHAT_ID, message.message_id, 'Chosen');
    expect(edited).toMatchObject({ text: 'Chosen', edit_date: expect.any(Number) });
    expect(edited === true ? undefined : edited.reply_markup).toBeUndefined();
    await expect(
      api.editMessageReplyMarkup(CHAT_ID, message.message_id, { reply_markup: keyboard }),
    ).resolves.toMatchObject({
      reply_markup: keyboard,
    });

    await expect(api.deleteMessage(CHAT_ID, message.message_id)).resolves.toBe(true);
    await expect(api.deleteMessage(CHAT_ID, message.message_id)).rejects.toMatchObject({
      description: 'Bad Request: message to delete not found',
    });
    expect(fake.chatMessages(bot.token, CHAT_ID)).toEqual([]);
  });

  it('answers chat lookups and stores commands per scope', async () => {
    fake.sendText(bot.token, {
      chatId: CHAT_ID,
      text: 'hi',
      from: { first_name: 'Grace', username: 'grace' },
    });
    await expect(api.getChat(CHAT_ID)).resolves.toMatchObject({
      id: CHAT_ID,
      type: 'private',
      first_name: 'Grace',
    });
    await expect(api.getChatMember(CHAT_ID, CHAT_ID)).resolves.toMatchObject({
      status: 'member',
      user: { id: CHAT_ID },
    });
    await expect(api.getChatMemberCount(CHAT_ID)).resolves.toBe(2);

    fake.sendMyChatMember(bot.token, { chatId: CHAT_ID, status: 'kicked' });
    await expect(api.getChatMember(CHAT_ID, bot.id)).resolves.toMatchObject({ status: 'kicked' });
    await expect(api.sendMessage(CHAT_ID, 'still there?')).rejects.toMatchObject({ error_code: 403 });

    const commands = [{ command: 'start', description: 'Start over' }];
    await api.setMyCommands(commands);
    await api.setMyCommands([{ command: 'hilfe', description: 'Hilfe' }], { language_code: 'de' });
    await expect(api.getMyCommands()).resolves.toEqual(commands);
    await expect(api.getMyCommands({ language_code: 'de' })).resolves.toEqual([
      { command: 'hilfe', description: 'Hilfe' },
    ]);
    await expect(api.setMyCommands([{ command: 'Bad Command', description: 'x' }])).rejects.toMatchObject({
      description: 'Bad Request: BOT_COMMAND_INVALID',
    });
  });

  it('can refuse unknown chats, and reset recordings between tests', async () => {
    await fake.close();
    await setUp({ autoCreateChats: false });
    await expect(api.sendMessage(CHAT_ID, 'cold call')).rejects.toMatchObject({
      description: 'Bad Request: chat not found',
    });
    fake.sendText(bot.token, { chatId: CHAT_ID, text: 'hello' });
    const reply = await api.sendMessage(CHAT_ID, 'hello back');
    expect(reply.message_id).toBe(2);

    fake.reset();
    expect(fake.requests()).toEqual([]);
    expect(fake.sentMessages()).toEqual([]);
    expect(fake.sentCount()).toBe(0);
    expect(fake.chatMessages(bot.token, CHAT_ID).map((message) => message.text)).toEqual([
      'hello',
      'hello back',
    ]);
  });

  it('runs a grammY bot end to end with long polling', async () => {
    const grammyBot = new Bot(bot.token, { client: { apiRoot: fake.url } });
    grammyBot.command('start', (ctx) => ctx.reply(`Welcome, ${ctx.from?.first_name}`));
    grammyBot.on('message:photo', async (ctx) => {
      const file = await ctx.getFile();
      await ctx.reply(`Got ${file.file_path}`);
    });
    let started = false;
    const running = grammyBot.start({
      timeout: 1,
      onStart: () => {
        started = true;
      },
    });
    try {
      await fake.waitFor(() => started);
      fake.sendText(bot.token, { chatId: CHAT_ID, text: '/start', from: { first_name: 'Linus' } });
      fake.sendPhoto(bot.token, { chatId: CHAT_ID, caption: 'look' });
      const replies = await fake.waitFor(() => {
        const messages = fake.sentMessages(bot.token, CHAT_ID);
        return messages.length >= 2 && messages;
      });
      expect(replies[0]?.text).toBe('Welcome, Linus');
      expect(replies[1]?.text).toMatch(/^Got photos\/file_\d+\.jpg$/);
    } finally {
      await grammyBot.stop();
      await running;
    }
    // bot.stop() confirms what it handled with a last getUpdates call.
    expect(fake.acknowledged(bot.token)).toHaveLength(2);
  });

  it('recorded params are exactly what grammY sent', async () => {
    await api.getMe();
    await api.sendMessage(CHAT_ID, 'plain');
    await api.sendMessage(CHAT_ID, '*bold*', {
      parse_mode: 'MarkdownV2',
      disable_notification: true,
      reply_parameters: { message_id: 1, allow_sending_without_reply: true },
      reply_markup: { keyboard: [[{ text: 'Menu' }]], resize_keyboard: true },
    });
    await api.sendChatAction(CHAT_ID, 'typing');
    await api.setWebhook('https://example.com/hook', {
      allowed_updates: ['message', 'callback_query'],
      drop_pending_updates: true,
    });
    await api.getWebhookInfo();
    await api.sendMessage(CHAT_ID, '').catch(() => undefined);

    await api.sendDocument(CHAT_ID, new InputFile(new TextEncoder().encode('notes'), 'notes.txt'), {
      caption: 'Notes',
      reply_markup: { inline_keyboard: [[{ text: 'Open', url: 'https://example.com/notes' }]] },
    });

    const recorded = fake.requests({ token: bot.token });
    expect(recorded.map((request) => request.method)).toEqual(sent.map((call) => call.method));
    for (const [index, call] of sent.entries()) {
      const request = recorded[index];
      const multipart = Object.keys(request?.files ?? {}).length > 0;
      expect(request?.params).toEqual(multipart ? asMultipartFields(call.raw) : call.payload);
    }
    expect(recorded.map((request) => request.status)).toEqual([200, 200, 200, 200, 200, 200, 400, 200]);
  });
});
