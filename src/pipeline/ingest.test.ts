import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeTelegram } from '../../testkit/src/fake-telegram.ts';
import { startTestApp, type TestApp } from '../../testkit/src/start-app.ts';
import { seedTelegramBot } from '../../testkit/src/telegram-bot.ts';
import { createTestWorkspace, signUp } from '../../testkit/src/users.ts';
import { channels } from '../features/channels/schema.ts';
import type { PubSubPort } from '../platform/ports/types.ts';
import { createIngest, type InboundUpdate, UnstorableUpdatesError } from './ingest.ts';
import { inboxUpdates } from './schema.ts';
import { wakeWorkers } from './wake.ts';

let fake: FakeTelegram;
let app: TestApp;

beforeAll(async () => {
  fake = await FakeTelegram.start();
  app = await startTestApp({ env: { TELEGRAM_API_ROOT: fake.url } });
});
afterAll(async () => {
  await app?.close();
  await fake?.close();
});

const HIGH = '\uD83D';
const LOW = '\uDE00';

async function seedBot() {
  const owner = await signUp(app);
  const workspaceId = await createTestWorkspace(app, owner);
  const seeded = await seedTelegramBot(app.ctx, fake, { workspaceId, config: { language: 'en' } });
  return { ...seeded, owner, headers: { 'x-telegram-bot-api-secret-token': seeded.secret } };
}

function textUpdate(updateId: number, chatId: number, text: string, extra: Record<string, unknown> = {}) {
  return {
    update_id: updateId,
    message: {
      message_id: updateId,
      date: Math.floor(Date.now() / 1000),
      chat: { id: chatId, type: 'private' },
      from: { id: chatId, is_bot: false, first_name: 'Ann', language_code: 'en' },
      text,
      ...extra,
    },
  };
}

async function storedOf(channelId: string) {
  return app.ctx.db.select().from(inboxUpdates).where(eq(inboxUpdates.channelId, channelId));
}

async function lastErrorOf(channelId: string) {
  const [row] = await app.ctx.db.select().from(channels).where(eq(channels.id, channelId));
  return row?.lastError ?? null;
}

describe('POST /hooks/telegram/:channelId with text PostgreSQL cannot store', () => {
  it('stores NUL and lone surrogates with U+FFFD, answers all 120 concurrent updates 200 and replies to every chat', async () => {
    const { channel, token, headers } = await seedBot();
    const bad = new Map<number, Record<string, unknown>>([
      [5, textUpdate(5, 9005, '/help \u0000 nul')],
      [60, textUpdate(60, 9060, `/help ${HIGH} half an emoji`)],
      [
        117,
        textUpdate(117, 9117, '/help', {
          from: { id: 9117, is_bot: false, first_name: `Ann${LOW}`, language_code: 'en' },
          'odd\u0000key': true,
        }),
      ],
    ]);
    const updates = Array.from({ length: 120 }, (_, n) => bad.get(n) ?? textUpdate(n, 9000 + n, '/help'));
    // The body as Telegram sends it: JSON.stringify writes NUL and lone surrogates as \u escapes.
    expect(JSON.stringify(bad.get(5))).toContain('\\u0000');
    expect(JSON.stringify(bad.get(60))).toContain('\\ud83d');
    const responses = await Promise.all(
      updates.map((update) =>
        app.api(`/hooks/telegram/${channel.id}`, { method: 'POST', json: update, headers }),
      ),
    );
    expect(responses.map((response) => response.status)).toEqual(updates.map(() => 200));

    const stored = await storedOf(channel.id);
    expect(stored.map((row) => row.updateId).sort((a, b) => a - b)).toEqual(updates.map((_, n) => n));
    const payloadOf = (updateId: number) =>
      JSON.stringify(stored.find((row) => row.updateId === updateId)?.payload);
    expect(payloadOf(5)).toContain('/help \uFFFD nul');
    expect(payloadOf(60)).toContain('/help \uFFFD half an emoji');
    expect(payloadOf(117)).toContain('Ann\uFFFD');
    expect(payloadOf(117)).toContain('odd\uFFFDkey');

    // Every customer, the three with odd text included, gets the /help answer.
    const chats = updates.map((_, n) => 9000 + n);
    await fake.waitFor(() => chats.every((chatId) => fake.sentMessages(token, chatId).length > 0), 60_000);
    expect(await lastErrorOf(channel.id)).toBeNull();
  }, 90_000);

  it('acknowledges an authenticated body that is not an update with 200 and records it as the channel lastError', async () => {
    const { channel, headers, owner } = await seedBot();
    const url = `/hooks/telegram/${channel.id}`;
    const jsonHeaders = { ...headers, 'content-type': 'application/json' };
    const odd: Array<{ body: string; shows: RegExp }> = [
      { body: JSON.stringify({ message: { text: 'no update_id' } }), shows: /not an update/ },
      { body: JSON.stringify({ update_id: 'seven' }), shows: /not an update/ },
      { body: JSON.stringify({ update_id: -1 }), shows: /not an update/ },
      { body: '{"update_id": 7, "message": {"text": "cut', shows: /not JSON/ },
      { body: '', shows: /not JSON/ },
      { body: '[1, 2, 3]', shows: /not an update/ },
    ];
    for (const { body, shows } of odd) {
      const response = await app.api(url, { method: 'POST', body, headers: jsonHeaders });
      expect(response.status, body).toBe(200);
      expect(response.json, body).toEqual({ ok: true });
      expect(await lastErrorOf(channel.id), body).toMatch(shows);
    }
    expect(await lastErrorOf(channel.id)).toMatch(/^Skipped update/);
    expect(await storedOf(channel.id)).toEqual([]);

    // The owner sees it on the channel.
    const shown = await app.api(
      `/api/workspaces/${channel.workspaceId}/bots/${channel.botId}/channels/${channel.id}`,
      { token: owner.token },
    );
    expect(shown.json.lastError).toMatch(/^Skipped update: Telegram sent something that is not an update/);
  });

  it('still answers 401 to a wrong or missing secret, whatever the body, and stores nothing', async () => {
    const { channel } = await seedBot();
    const url = `/hooks/telegram/${channel.id}`;
    const variants: Array<Record<string, string>> = [{}, { 'x-telegram-bot-api-secret-token': 'wrong' }];
    for (const headers of variants) {
      for (const body of [
        'not json',
        JSON.stringify({ nope: 1 }),
        JSON.stringify(textUpdate(1, 1, '\u0000')),
      ]) {
        const response = await app.api(url, {
          method: 'POST',
          body,
          headers: { ...headers, 'content-type': 'application/json' },
        });
        expect(response.status, `${JSON.stringify(headers)} ${body}`).toBe(401);
      }
    }
    expect(await storedOf(channel.id)).toEqual([]);
    expect(await lastErrorOf(channel.id)).toBeNull();
  });
});

describe('createIngest', () => {
  it('fails only the rows the database refuses, never their neighbours in the same group commit', async () => {
    const { channel } = await seedBot();
    const ingest = createIngest(app.ctx, { onStored: () => {} });
    const missingChannel = randomUUID();
    const update = (updateId: number, channelId = channel.id): InboundUpdate => ({
      channelId,
      updateId,
      chatKey: String(updateId),
      updateType: 'message',
      payload: textUpdate(updateId, updateId, `hello \u0000 ${updateId}`),
    });
    // One accept per webhook request, all gathered into one group commit; three refer to a
    // channel that does not exist (a foreign key violation no replacement can fix).
    const refusedIds = new Set([3, 50, 111]);
    const calls = Array.from({ length: 120 }, (_, n) =>
      ingest.accept([update(n, refusedIds.has(n) ? missingChannel : channel.id)]),
    );
    // And one call carrying many updates, one of them refused.
    const multi = ingest.accept([update(200), update(201, missingChannel), update(202)]);
    const outcomes = await Promise.allSettled([...calls, multi]);
    const rejected = outcomes.flatMap((outcome, n) => (outcome.status === 'rejected' ? [n] : []));
    expect(rejected).toEqual([3, 50, 111, 120]);
    const multiOutcome = outcomes[120];
    expect(multiOutcome?.status === 'rejected' && multiOutcome.reason).toBeInstanceOf(UnstorableUpdatesError);
    expect(multiOutcome?.status === 'rejected' && multiOutcome.reason.updateIds).toEqual([201]);

    const stored = await storedOf(channel.id);
    const expected = [
      ...Array.from({ length: 120 }, (_, n) => n).filter((n) => !refusedIds.has(n)),
      200,
      202,
    ];
    expect(stored.map((row) => row.updateId).sort((a, b) => a - b)).toEqual(expected);
    expect(stored.every((row) => JSON.stringify(row.payload).includes('hello \uFFFD'))).toBe(true);
  });

  it('wakes the processors in the background: a hanging publish delays no commit, and the wakes asked for meanwhile go out as one', async () => {
    const { channel } = await seedBot();
    const published: unknown[] = [];
    let release: () => void = () => {};
    const hanging = new Promise<void>((resolve) => {
      release = resolve;
    });
    // Like a publish to a Redis that is down: the first one hangs until released, the second fails.
    const pubsub: PubSubPort = {
      ...app.ctx.ports.pubsub,
      async publish(_channel, message) {
        published.push(message);
        if (published.length === 1) await hanging;
        if (published.length === 2) throw new Error('redis unreachable');
      },
    };
    const ctx = { ...app.ctx, ports: { ...app.ctx.ports, pubsub } };
    const ingest = createIngest(ctx, { onStored: () => wakeWorkers(ctx, 'process') });
    const update = (updateId: number): InboundUpdate => ({
      channelId: channel.id,
      updateId,
      chatKey: String(updateId),
      updateType: 'message',
      payload: textUpdate(updateId, updateId, 'hi'),
    });
    await ingest.accept([update(1)]);
    // Each of these commits while the first wake still hangs.
    for (let n = 2; n <= 6; n++) await ingest.accept([update(n)]);
    await Promise.all([ingest.accept([update(7)]), ingest.accept([update(8)])]);
    expect(await storedOf(channel.id)).toHaveLength(8);
    expect(published).toHaveLength(1);

    release();
    await waitUntil(() => published.length === 2);
    // The failed second wake is only logged: the next commit wakes as usual.
    await ingest.accept([update(9)]);
    await waitUntil(() => published.length === 3);
    expect(published).toEqual([{ loop: 'process' }, { loop: 'process' }, { loop: 'process' }]);
    expect(await storedOf(channel.id)).toHaveLength(9);
  });
});

async function waitUntil(check: () => boolean, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
