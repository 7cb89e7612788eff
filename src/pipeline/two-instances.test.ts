import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeTelegram } from '../../testkit/src/fake-telegram.ts';
import { startTestApp, type TestApp } from '../../testkit/src/start-app.ts';
import { seedTelegramBot } from '../../testkit/src/telegram-bot.ts';
import { createTestWorkspace, signUp } from '../../testkit/src/users.ts';
import { conversations, messages } from '../features/conversations/schema.ts';

const scaled = Boolean(process.env.TEST_DATABASE_URL && process.env.TEST_REDIS_URL);

// The scaled shape: two instances on one PostgreSQL schema and one Redis prefix.
describe.runIf(scaled)('two instances on PostgreSQL + Redis', () => {
  let fake: FakeTelegram;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    // Telegram's real limits, enforced by the fake: any excess shows up as a 429.
    fake = await FakeTelegram.start();
    a = await startTestApp({ env: { TELEGRAM_API_ROOT: fake.url } });
    b = await startTestApp({ env: { TELEGRAM_API_ROOT: fake.url }, shareWith: a });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await fake?.close();
  });

  it('keeps per-chat order and the pacing limits in total while webhooks land on both', async () => {
    const owner = await signUp(a);
    const workspaceId = await createTestWorkspace(a, owner);
    const { token, channel, secret } = await seedTelegramBot(a.ctx, fake, {
      workspaceId,
      config: { throttle: { perSecond: 100, burst: 100 }, assistant: { escalateAfterUnknown: 0 } },
    });
    let updateId = 0;
    const post = (instance: TestApp, chatId: number, text: string) => {
      updateId += 1;
      return instance.api(`/hooks/telegram/${channel.id}`, {
        method: 'POST',
        headers: { 'x-telegram-bot-api-secret-token': secret },
        json: {
          update_id: updateId,
          message: {
            message_id: updateId,
            date: Math.floor(Date.now() / 1000),
            chat: { id: chatId, type: 'private', first_name: 'C' },
            from: { id: chatId, is_bot: false, first_name: 'C' },
            text,
          },
        },
      });
    };
    // Ordering: 8 chats × 5 messages, each chat's messages alternating between the instances.
    const orderChats = Array.from({ length: 8 }, (_, i) => 7000 + i);
    // Pacing: 90 more chats with one message each, from one bot.
    const paceChats = Array.from({ length: 90 }, (_, i) => 8000 + i);
    const sends: Array<Promise<unknown>> = [];
    for (let round = 0; round < 5; round++) {
      for (const chatId of orderChats) {
        const response = await post(round % 2 === 0 ? a : b, chatId, `/help ${round}`);
        expect(response.status).toBe(200);
      }
    }
    for (const [index, chatId] of paceChats.entries())
      sends.push(post(index % 2 === 0 ? a : b, chatId, '/help'));
    await Promise.all(sends);

    const expected = orderChats.length * 5 + paceChats.length;
    await fake.waitFor(() => fake.sentMessages(token).length >= expected, 60_000);
    expect(fake.tooManyRequestsCount(token)).toBe(0);

    for (const chatId of orderChats) {
      const [conversation] = await a.ctx.db
        .select()
        .from(conversations)
        .where(eq(conversations.chatId, String(chatId)));
      const inbound = await a.ctx.db
        .select({ updateId: messages.sourceUpdateId, text: messages.text })
        .from(messages)
        .where(eq(messages.conversationId, conversation?.id ?? ''))
        .orderBy(asc(messages.createdAt), asc(messages.id));
      const received = inbound.filter((row) => row.updateId !== null).map((row) => row.text);
      expect(received).toEqual(['/help 0', '/help 1', '/help 2', '/help 3', '/help 4']);
      expect(fake.sentMessages(token, chatId)).toHaveLength(5);
    }
  }, 120_000);
});
