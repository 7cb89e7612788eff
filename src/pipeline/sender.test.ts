import { PGlite } from '@electric-sql/pglite';
import { and, eq, inArray } from 'drizzle-orm';
import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeTelegram } from '../../testkit/src/fake-telegram.ts';
import { startTestApp, type TestApp } from '../../testkit/src/start-app.ts';
import { seedTelegramBot } from '../../testkit/src/telegram-bot.ts';
import { createTestWorkspace, signUp } from '../../testkit/src/users.ts';
import { deliverTelegram } from '../channels/telegram/client.ts';
import type { AppContext } from '../context.ts';
import { contacts, conversations, messages } from '../features/conversations/schema.ts';
import type { Db } from '../platform/db/index.ts';
import { schema } from '../schema.ts';
import { createChannelCache } from './channel-cache.ts';
import { outbox } from './schema.ts';
import { startSender } from './sender.ts';
import { wakeWorkers } from './wake.ts';

type Channel = Awaited<ReturnType<typeof seedTelegramBot>>['channel'];
type OutboxInsert = typeof outbox.$inferInsert;

/** Outbox rows for one chat, oldest first, as the processor or a feature would write them. */
async function queueTexts(
  ctx: AppContext,
  channel: Channel,
  chatId: number,
  texts: string[],
  overrides: Partial<OutboxInsert> = {},
) {
  const rows = await ctx.db
    .insert(outbox)
    .values(
      texts.map((text) => ({
        workspaceId: channel.workspaceId,
        channelId: channel.id,
        chatId: String(chatId),
        idempotencyKey: `test:${chatId}:${text}`,
        method: 'sendMessage',
        params: { chat_id: chatId, text },
        ...overrides,
      })),
    )
    .returning();
  wakeWorkers(ctx, 'send');
  return rows;
}

async function waitForDb(predicate: () => Promise<boolean>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await predicate()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('condition not met in time');
}

describe('startSender', () => {
  let fake: FakeTelegram;
  let app: TestApp;
  let token: string;
  let channel: Channel;

  beforeAll(async () => {
    // Stricter per chat than the sender paces (burst 3): a chat's second message in a row
    // gets a 429 with retry_after 3.
    fake = await FakeTelegram.start({ rateLimits: { perChat: { burst: 1, perSecond: 1 / 3 } } });
    app = await startTestApp({ env: { TELEGRAM_API_ROOT: fake.url } });
    const owner = await signUp(app);
    const workspaceId = await createTestWorkspace(app, owner);
    ({ token, channel } = await seedTelegramBot(app.ctx, fake, { workspaceId }));
  });
  afterAll(async () => {
    await app?.close();
    await fake?.close();
  });

  it('holds a chat back after a 429 until retry_after and keeps its order', async () => {
    const rows = await queueTexts(app.ctx, channel, 901, ['one', 'two', 'three']);
    await fake.waitFor(() => fake.sentMessages(token, 901).length === 3, 30_000);
    expect(fake.sentMessages(token, 901).map((message) => message.text)).toEqual(['one', 'two', 'three']);
    expect(fake.tooManyRequestsCount(token)).toBeGreaterThan(0);
    // Nothing of the chat went out of turn: every call for `three` came after `two` was accepted.
    const calls = fake
      .requests({ token, method: 'sendMessage' })
      .filter((call) => call.params.chat_id === 901);
    const twoAccepted = calls.findIndex((call) => call.params.text === 'two' && call.status === 200);
    const firstThree = calls.findIndex((call) => call.params.text === 'three');
    expect(twoAccepted).toBeGreaterThan(0);
    expect(firstThree).toBeGreaterThan(twoAccepted);
    await waitForDb(async () => {
      const stored = await app.ctx.db
        .select()
        .from(outbox)
        .where(
          inArray(
            outbox.id,
            rows.map((row) => row.id),
          ),
        );
      return stored.every((row) => row.status === 'sent' && row.leaseUntil === null);
    });
    const [two] = await app.ctx.db
      .select()
      .from(outbox)
      .where(eq(outbox.id, rows[1]?.id ?? 0));
    expect(two?.attempts).toBeGreaterThan(1);
  }, 60_000);

  it('sends a group chat past its burst, one message per group slot (20/min), in order', async () => {
    // A group's slot after its burst of 3 is ~3 s away: the row waits for the slot it reserved
    // (giving it back would reserve a later one on its return, and so on for ever).
    const texts = ['g1', 'g2', 'g3', 'g4', 'g5'];
    await queueTexts(app.ctx, channel, -100_903, texts);
    await fake.waitFor(() => fake.sentMessages(token, -100_903).length === texts.length, 45_000);
    expect(fake.sentMessages(token, -100_903).map((message) => message.text)).toEqual(texts);
  }, 60_000);

  it('turns a row left sending past its lease into unknown, never sends it, and moves the chat on', async () => {
    const [contact] = await app.ctx.db
      .insert(contacts)
      .values({ workspaceId: channel.workspaceId, channelId: channel.id, externalId: '902' })
      .returning();
    const [conversation] = await app.ctx.db
      .insert(conversations)
      .values({
        workspaceId: channel.workspaceId,
        botId: channel.botId,
        channelId: channel.id,
        contactId: contact?.id ?? '',
        chatId: '902',
      })
      .returning();
    const [message] = await app.ctx.db
      .insert(messages)
      .values({
        workspaceId: channel.workspaceId,
        conversationId: conversation?.id ?? '',
        direction: 'out',
        type: 'text',
        text: 'lost',
        sender: 'bot',
        status: 'sending',
      })
      .returning();
    // Claimed by a sender that died a minute ago mid-call: Telegram may have it.
    const [lost] = await queueTexts(app.ctx, channel, 902, ['lost'], {
      status: 'sending',
      attempts: 1,
      leaseUntil: new Date(Date.now() - 60_000),
      messageId: message?.id ?? null,
    });
    const [next] = await queueTexts(app.ctx, channel, 902, ['after']);
    // Claimed by a live sender (its lease runs for an hour): left alone, and so is its chat.
    const [live] = await queueTexts(app.ctx, channel, 903, ['live'], {
      status: 'sending',
      attempts: 1,
      leaseUntil: new Date(Date.now() + 3_600_000),
    });
    const [behind] = await queueTexts(app.ctx, channel, 903, ['behind live']);

    await fake.waitFor(() => fake.sentMessages(token, 902).length === 1, 30_000);
    expect(fake.sentMessages(token, 902).map((sent) => sent.text)).toEqual(['after']);
    const byId = async (id: number | undefined) =>
      (
        await app.ctx.db
          .select()
          .from(outbox)
          .where(eq(outbox.id, id ?? 0))
      )[0];
    expect(await byId(lost?.id)).toMatchObject({ status: 'unknown', attempts: 1 });
    const [linked] = await app.ctx.db
      .select()
      .from(messages)
      .where(eq(messages.id, message?.id ?? ''));
    expect(linked?.status).toBe('unknown');
    await waitForDb(async () => (await byId(next?.id))?.status === 'sent');
    // The sweep that settled `lost` saw `live` too.
    expect(await byId(live?.id)).toMatchObject({ status: 'sending' });
    expect(await byId(behind?.id)).toMatchObject({ status: 'queued' });
    expect(fake.requests({ token }).filter((call) => call.params.chat_id === 903)).toEqual([]);
    expect(fake.requests({ token }).filter((call) => call.params.text === 'lost')).toEqual([]);
  }, 60_000);
});

describe('startSender under load', () => {
  let fake: FakeTelegram;
  let app: TestApp;

  beforeAll(async () => {
    fake = await FakeTelegram.start({ rateLimits: false });
    // `work: false`: no sender of the app's own; the test runs one on a counting connection.
    app = await startTestApp({ env: { TELEGRAM_API_ROOT: fake.url }, work: false });
  });
  afterAll(async () => {
    await app?.close();
    await fake?.close();
  });

  it('delivers many chats in order with fewer statements than messages', async () => {
    const owner = await signUp(app);
    const workspaceId = await createTestWorkspace(app, owner);
    const { token, channel } = await seedTelegramBot(app.ctx, fake, { workspaceId });
    const chats = Array.from({ length: 300 }, (_, i) => 10_000 + i);
    const texts = ['first', 'second'];
    for (const chatId of chats) await queueTexts(app.ctx, channel, chatId, texts);
    const total = chats.length * texts.length;

    const counted = countStatements(app.ctx.db);
    const channels = await createChannelCache(app.ctx);
    const sender = startSender(
      { ...app.ctx, db: counted.db },
      { channels, deliver: (target, method, params) => deliverTelegram(app.ctx, target, method, params) },
      // Loose pacing: this measures the database work per message, not Telegram's limits.
      { pacing: { perBotPerSecond: 100_000, perChatPerSecond: 1000, perGroupPerMinute: 60_000 } },
    );
    try {
      await fake.waitFor(() => fake.sentCount(token) >= total, 60_000);
      await waitForDb(async () => {
        const pending = await app.ctx.db
          .select({ id: outbox.id })
          .from(outbox)
          .where(and(eq(outbox.channelId, channel.id), inArray(outbox.status, ['queued', 'sending'])));
        return pending.length === 0;
      });
    } finally {
      await sender.stop();
      await channels.close();
    }
    expect(fake.sentCount(token)).toBe(total);
    for (const chatId of chats)
      expect(fake.sentMessages(token, chatId).map((message) => message.text)).toEqual(texts);
    const perMessage = counted.statements() / total;
    process.stderr.write(`sender: ${counted.statements()} statements for ${total} messages\n`);
    expect(perMessage).toBeLessThan(1);
  }, 120_000);
});

/**
 * A Drizzle database on the app's own connection (PGlite or the node-postgres pool) that
 * counts the statements sent through it. Transactions count as one statement: the sender
 * opens them only for failures, which this test has none of.
 */
function countStatements(db: Db): { db: Db; statements: () => number } {
  let statements = 0;
  const counted = new Set<PropertyKey>(['query', 'exec', 'transaction', 'connect']);
  function counting<T extends object>(client: T): T {
    return new Proxy(client, {
      get(target, property) {
        const value: unknown = Reflect.get(target, property, target);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (counted.has(property)) statements += 1;
          return Reflect.apply(value, target, args);
        };
      },
    });
  }
  const client: unknown = Reflect.get(db, '$client');
  if (client instanceof PGlite)
    return { db: drizzlePglite({ client: counting(client), schema }), statements: () => statements };
  if (client instanceof pg.Pool)
    return { db: drizzleNodePg({ client: counting(client), schema }), statements: () => statements };
  throw new Error('unknown database client');
}
