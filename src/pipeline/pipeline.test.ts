import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeTelegram } from '../../testkit/src/fake-telegram.ts';
import { startTestApp, type TestApp } from '../../testkit/src/start-app.ts';
import { seedTelegramBot } from '../../testkit/src/telegram-bot.ts';
import { createTestWorkspace, signUp } from '../../testkit/src/users.ts';
import { analyticsEvents } from '../features/analytics/schema.ts';
import { type BotConfigInput, defaultBotConfig } from '../features/bots/bot-config.ts';
import { startTelegramPoller } from '../features/channels/telegram-poller.ts';
import { contacts, conversations, messages } from '../features/conversations/schema.ts';
import { startPipeline } from './index.ts';
import { splitText } from './outgoing.ts';
import { inboxUpdates, outbox } from './schema.ts';

let fake: FakeTelegram;
let app: TestApp;

beforeAll(async () => {
  fake = await FakeTelegram.start({ webhookRetryBaseMs: 20 });
  app = await startTestApp({ env: { TELEGRAM_API_ROOT: fake.url } });
});
afterAll(async () => {
  await app?.close();
  await fake?.close();
});

/** A bot with a Telegram channel in webhook mode, registered with the fake like Telegram would be. */
async function connectBot(config: BotConfigInput = {}) {
  const owner = await signUp(app);
  const workspaceId = await createTestWorkspace(app, owner);
  return seedTelegramBot(app.ctx, fake, {
    workspaceId,
    webhookBaseUrl: app.url,
    config: {
      language: 'en',
      greeting: { en: 'Welcome to the shop!' },
      escalationKeywords: ['manager'],
      ...config,
    },
  });
}

const customer = (id: number) => ({ id, first_name: 'Ann', username: `ann${id}`, language_code: 'en' });

describe('POST /hooks/telegram/:channelId', () => {
  it('refuses a wrong or missing secret with 401 and stores nothing', async () => {
    const { channel } = await connectBot();
    const update = {
      update_id: 1,
      message: { message_id: 1, date: 1, chat: { id: 5, type: 'private' }, from: customer(5), text: 'hi' },
    };
    const variants: Array<Record<string, string>> = [{}, { 'x-telegram-bot-api-secret-token': 'wrong' }];
    for (const headers of variants) {
      const response = await app.api(`/hooks/telegram/${channel.id}`, {
        method: 'POST',
        json: update,
        headers,
      });
      expect(response.status).toBe(401);
    }
    const stored = await app.ctx.db.select().from(inboxUpdates).where(eq(inboxUpdates.channelId, channel.id));
    expect(stored).toEqual([]);
  });

  it('stores every update type once, even redelivered, and answers 200', async () => {
    const { channel } = await connectBot();
    const secret = channel.webhookSecret ?? '';
    const headers = { 'x-telegram-bot-api-secret-token': secret };
    const updates = [
      {
        update_id: 10,
        edited_message: {
          message_id: 1,
          date: 1,
          chat: { id: 7, type: 'private' },
          from: customer(7),
          text: 'x',
        },
      },
      {
        update_id: 11,
        channel_post: { message_id: 2, date: 1, chat: { id: -100, type: 'channel' }, text: 'post' },
      },
      {
        update_id: 12,
        message_reaction: {
          chat: { id: 7, type: 'private' },
          message_id: 1,
          date: 1,
          old_reaction: [],
          new_reaction: [],
        },
      },
      {
        update_id: 13,
        message: {
          message_id: 3,
          date: 1,
          chat: { id: 7, type: 'private' },
          from: customer(7),
          sticker: { file_id: 's' },
        },
      },
      { update_id: 14, some_future_update: { anything: true } },
    ];
    for (const update of [...updates, updates[0]]) {
      const response = await app.api(`/hooks/telegram/${channel.id}`, {
        method: 'POST',
        json: update,
        headers,
      });
      expect(response.status).toBe(200);
    }
    const stored = await app.ctx.db.select().from(inboxUpdates).where(eq(inboxUpdates.channelId, channel.id));
    expect(stored.map((row) => [row.updateId, row.updateType]).sort()).toEqual([
      [10, 'edited_message'],
      [11, 'channel_post'],
      [12, 'message_reaction'],
      [13, 'message'],
      [14, 'some_future_update'],
    ]);
  });
});

describe('pipeline end to end through the fake Telegram API', () => {
  it('answers /start with the greeting, records the referrer, stores messages in and out', async () => {
    const { token, channel } = await connectBot();
    fake.sendText(token, { chatId: 101, from: customer(101), text: '/start ref_summer' });
    const [reply] = await fake.waitFor(() => {
      const sent = fake.sentMessages(token, 101);
      return sent.length > 0 ? sent : undefined;
    });
    expect(reply?.text).toBe('Welcome to the shop!');
    await waitForDb(async () => {
      const rows = await app.ctx.db
        .select()
        .from(messages)
        .where(eq(messages.workspaceId, channel.workspaceId));
      return rows.some((row) => row.direction === 'out' && row.status === 'sent');
    });
    const [contact] = await app.ctx.db.select().from(contacts).where(eq(contacts.channelId, channel.id));
    expect(contact).toMatchObject({
      externalId: '101',
      username: 'ann101',
      referrer: 'summer',
      messageCount: 1,
      status: 'active',
    });
    const readEvents = async () => {
      await app.ctx.analytics.flush();
      return app.ctx.db
        .select({ type: analyticsEvents.type, data: analyticsEvents.data })
        .from(analyticsEvents)
        .where(eq(analyticsEvents.channelId, channel.id));
    };
    // message_out is tracked right after the delivery is recorded.
    await waitForDb(async () => (await readEvents()).length >= 4);
    const events = await readEvents();
    expect(events.map((event) => event.type).sort()).toEqual([
      'command',
      'contact_new',
      'message_in',
      'message_out',
    ]);
    expect(events.find((event) => event.type === 'command')?.data).toEqual({
      command: 'start',
      referrer: 'summer',
    });
  });

  it('processes a chat in order and replies once per message', async () => {
    const { token } = await connectBot({ throttle: { perSecond: 100, burst: 100 } });
    for (let i = 0; i < 5; i++) fake.sendText(token, { chatId: 202, from: customer(202), text: `/help` });
    await fake.waitFor(() => fake.sentMessages(token, 202).length >= 5, 15_000);
    // No more than one reply per message, even with retries in the pipeline.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(fake.sentMessages(token, 202)).toHaveLength(5);
  });

  it('escalates on /escalate and then stays silent', async () => {
    const { token, channel } = await connectBot();
    fake.sendText(token, { chatId: 303, from: customer(303), text: '/escalate' });
    await fake.waitFor(() => fake.sentMessages(token, 303).length === 1);
    const [conversation] = await app.ctx.db
      .select()
      .from(conversations)
      .where(and(eq(conversations.channelId, channel.id), eq(conversations.chatId, '303')));
    expect(conversation?.mode).toBe('waiting');
    const next = fake.sendText(token, { chatId: 303, from: customer(303), text: 'hello?' });
    await waitForDb(async () => {
      const [row] = await app.ctx.db
        .select()
        .from(inboxUpdates)
        .where(and(eq(inboxUpdates.channelId, channel.id), eq(inboxUpdates.updateId, next.update_id)));
      return row?.processedAt !== null && row !== undefined;
    });
    expect(fake.sentMessages(token, 303)).toHaveLength(1);
  });

  it('offers languages with an inline keyboard and answers the callback', async () => {
    const { token } = await connectBot({ languages: ['en', 'ru'] });
    fake.sendText(token, { chatId: 404, from: customer(404), text: '/language' });
    const [menu] = await fake.waitFor(() => {
      const sent = fake.sentMessages(token, 404);
      return sent.length > 0 ? sent : undefined;
    });
    expect(JSON.stringify(menu?.reply_markup)).toContain('lang:ru');
    fake.sendCallback(token, {
      chatId: 404,
      from: customer(404),
      data: 'lang:ru',
      messageId: menu?.message_id ?? 0,
    });
    await fake.waitFor(() => fake.requests({ token, method: 'answerCallbackQuery' }).length === 1);
    const [, confirmation] = await fake.waitFor(() => {
      const sent = fake.sentMessages(token, 404);
      return sent.length > 1 ? sent : undefined;
    });
    expect(confirmation?.text).toBe(defaultBotConfig().messages.languageChanged.ru);
  });

  it('answers a flood politely once instead of replying to each message', async () => {
    const { token } = await connectBot({ throttle: { perSecond: 1, burst: 2 } });
    const date = Math.floor(Date.now() / 1000);
    for (let i = 0; i < 8; i++) {
      fake.pushUpdate(token, {
        message: {
          message_id: 1000 + i,
          date,
          chat: { id: 505, type: 'private', first_name: 'Ann' },
          from: { ...customer(505), is_bot: false },
          text: '/help',
        },
      });
    }
    await fake.waitFor(() => fake.sentMessages(token, 505).length >= 3, 15_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const texts = fake.sentMessages(token, 505).map((message) => message.text ?? '');
    expect(texts.filter((text) => text === defaultBotConfig().messages.throttled.en)).toHaveLength(1);
    expect(texts).toHaveLength(3);
  });

  it('marks the contact blocked on a 403 and on a my_chat_member kick', async () => {
    const { token, channel } = await connectBot();
    fake.blockBot(token, 606);
    fake.sendText(token, { chatId: 606, from: customer(606), text: '/help' });
    await waitForDb(async () => {
      const [row] = await app.ctx.db
        .select()
        .from(outbox)
        .where(and(eq(outbox.channelId, channel.id), eq(outbox.chatId, '606')));
      return row?.status === 'failed';
    });
    const [contact] = await app.ctx.db.select().from(contacts).where(eq(contacts.channelId, channel.id));
    expect(contact?.status).toBe('blocked');
  });
});

describe('splitText', () => {
  it('splits long texts at line boundaries within the limit', () => {
    const text = Array.from({ length: 300 }, (_, i) => `line ${i} ${'x'.repeat(20)}`).join('\n');
    const parts = splitText(text, 1000);
    expect(parts.every((part) => part.length <= 1000)).toBe(true);
    expect(parts.join('\n')).toBe(text);
    expect(splitText('short')).toEqual(['short']);
  });
});

async function waitForDb(predicate: () => Promise<boolean>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await predicate()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('condition not met in time');
}

describe('long polling into the pipeline', () => {
  it('answers a customer of a channel connected in polling mode through the API', async () => {
    const owner = await signUp(app);
    const workspaceId = await createTestWorkspace(app, owner);
    const created = await app.api(`/api/workspaces/${workspaceId}/bots`, {
      method: 'POST',
      token: owner.token,
      json: { name: 'Polling bot' },
    });
    expect(created.status).toBe(201);
    const telegramBot = fake.addBot();
    const channel = await app.api(`/api/workspaces/${workspaceId}/bots/${created.json.id}/channels`, {
      method: 'POST',
      token: owner.token,
      json: { type: 'telegram', token: telegramBot.token, mode: 'polling' },
    });
    expect(channel.status).toBe(201);
    // What `switchboard start` wires for roles worker and all: polled updates go through the
    // same ingest as webhooks (the app's own workers process them).
    const pipeline = await startPipeline(app.ctx, { work: false });
    const poller = await startTelegramPoller(app.ctx, {
      onUpdates: pipeline.onTelegramUpdates,
      timeoutSeconds: 1,
    });
    try {
      fake.sendText(telegramBot.token, { chatId: 707, from: customer(707), text: '/help' });
      const [reply] = await fake.waitFor(() => {
        const sent = fake.sentMessages(telegramBot.token, 707);
        return sent.length > 0 ? sent : undefined;
      }, 15_000);
      expect(reply?.text).toBe(defaultBotConfig().helpText.en);
    } finally {
      await poller.stop();
    }
  });
});
