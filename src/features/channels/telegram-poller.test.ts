import type { Update } from '@grammyjs/types';
import { eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeTelegram } from '../../../testkit/src/fake-telegram.ts';
import { startTestApp, type TestApp } from '../../../testkit/src/start-app.ts';
import { createTestWorkspace, signUp, type TestUser } from '../../../testkit/src/users.ts';
import { startPipeline } from '../../pipeline/index.ts';
import { inboxUpdates } from '../../pipeline/schema.ts';
import { encryptSecret } from '../../platform/crypto.ts';
import { channels } from './schema.ts';
import {
  type PolledChannel,
  startTelegramPoller,
  type TelegramPoller,
  type TelegramUpdatesHandler,
} from './telegram-poller.ts';

let fake: FakeTelegram;
let app: TestApp;
let owner: TestUser;
let workspaceId: string;
let botId: string;
const running: TelegramPoller[] = [];

beforeAll(async () => {
  fake = await FakeTelegram.start();
  app = await startTestApp({
    env: { TELEGRAM_API_ROOT: fake.url, PUBLIC_URL: 'https://switchboard.example.com' },
  });
  owner = await signUp(app);
  workspaceId = await createTestWorkspace(app, owner, 'Polling');
  const bot = await app.api(`/api/workspaces/${workspaceId}/bots`, {
    method: 'POST',
    token: owner.token,
    json: { name: 'Polled bot' },
  });
  botId = String(bot.json.id);
});
afterEach(async () => {
  for (const poller of running.splice(0)) await poller.stop();
});
afterAll(async () => {
  await app?.close();
  await fake?.close();
});

/** What a handler received, in order. */
function collector(options: { failFirst?: number; refuse?: (update: Update) => boolean } = {}) {
  const received: Array<{ channel: PolledChannel; update: Update }> = [];
  let failures = options.failFirst ?? 0;
  const onUpdates: TelegramUpdatesHandler = async (channel, updates) => {
    if (failures > 0) {
      failures -= 1;
      throw new Error('storage is down');
    }
    // A poisoned update: the handler fails on any batch that holds it, every time.
    if (options.refuse && updates.some(options.refuse)) throw new Error('cannot store this update');
    for (const update of updates) received.push({ channel, update });
  };
  return { received, onUpdates, ids: () => received.map((entry) => entry.update.update_id) };
}

async function poll(onUpdates: TelegramUpdatesHandler) {
  const poller = await startTelegramPoller(app.ctx, {
    onUpdates,
    timeoutSeconds: 1,
    resyncIntervalMs: 200,
    leaseTtlMs: 3000,
    backoff: { initialMs: 20, maxMs: 200 },
  });
  running.push(poller);
  return poller;
}

async function connectPolling() {
  const telegram = fake.addBot();
  const response = await app.api(`/api/workspaces/${workspaceId}/bots/${botId}/channels`, {
    method: 'POST',
    token: owner.token,
    json: { type: 'telegram', token: telegram.token, mode: 'polling' },
  });
  expect(response.status).toBe(201);
  return { telegram, channelId: String(response.json.id) };
}

async function channelRow(id: string) {
  const [row] = await app.ctx.db.select().from(channels).where(eq(channels.id, id));
  return row;
}

async function eventually<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 5000,
) {
  const started = Date.now();
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('startTelegramPoller', () => {
  it('hands updates to the handler, persists the offset after it, and a restart repeats nothing', async () => {
    const { telegram, channelId } = await connectPolling();
    const sink = collector();
    const first = await poll(sink.onUpdates);
    fake.sendText(telegram.token, { chatId: 501, text: 'hello' });
    fake.sendText(telegram.token, { chatId: 502, text: 'anyone there?' });
    await eventually(() => sink.received.length === 2);
    expect(sink.received[0]?.channel).toEqual({
      id: channelId,
      workspaceId,
      botId,
      type: 'telegram',
      externalId: String(telegram.id),
      username: telegram.username,
    });
    expect(sink.received.map((entry) => entry.update.message?.text)).toEqual(['hello', 'anyone there?']);
    await eventually(async () => (await channelRow(channelId))?.pollingOffset === 3);
    expect(first.polling()).toContain(channelId);
    const asked = fake.requests({ token: telegram.token, method: 'getUpdates' })[0];
    expect(asked?.params).toMatchObject({
      limit: 100,
      timeout: 1,
      allowed_updates: expect.arrayContaining(['message']),
    });
    await first.stop();
    expect(first.polling()).toEqual([]);

    fake.sendText(telegram.token, { chatId: 501, text: 'after the restart' });
    await poll(sink.onUpdates);
    await eventually(() => sink.received.length === 3);
    // Give a duplicate time to show up.
    await settle(1500);
    expect(sink.ids()).toEqual([1, 2, 3]);
    expect((await channelRow(channelId))?.pollingOffset).toBe(4);
    expect(fake.acknowledged(telegram.token)).toEqual(expect.arrayContaining([1, 2]));
  });

  it('keeps the offset when the handler fails, so the batch comes again', async () => {
    const { telegram, channelId } = await connectPolling();
    const sink = collector({ failFirst: 2 });
    await poll(sink.onUpdates);
    fake.sendText(telegram.token, { chatId: 601, text: 'must not be lost' });
    await eventually(() => sink.received.length === 1);
    expect(sink.received[0]?.update.message?.text).toBe('must not be lost');
    expect(fake.updates(telegram.token)[0]?.attempts).toBe(3);
    await eventually(async () => (await channelRow(channelId))?.pollingOffset === 2);
  });

  it('skips and records an update the handler keeps refusing instead of fetching it forever', async () => {
    const { telegram, channelId } = await connectPolling();
    const sink = collector({ refuse: (update) => update.message?.text === 'poison' });
    await poll(sink.onUpdates);
    fake.sendText(telegram.token, { chatId: 611, text: 'before' });
    fake.sendText(telegram.token, { chatId: 612, text: 'poison' });
    fake.sendText(telegram.token, { chatId: 613, text: 'after' });
    await eventually(async () => (await channelRow(channelId))?.pollingOffset === 4);
    expect(sink.received.map((entry) => entry.update.message?.text)).toEqual(['before', 'after']);
    const row = await channelRow(channelId);
    expect(row?.lastError).toMatch(/^Skipped update 2: it could not be stored \(cannot store this update\)/);
    expect(row?.lastErrorAt).toBeInstanceOf(Date);
    expect(row?.status).toBe('active');
    // Fetched a few times, then left behind: Telegram has it confirmed.
    const poisoned = fake.updates(telegram.token)[1];
    expect(poisoned?.attempts).toBe(3);
    await eventually(() => fake.acknowledged(telegram.token).includes(2));

    // Polling goes on, and the record stays on show through successful polls.
    fake.sendText(telegram.token, { chatId: 614, text: 'later' });
    await eventually(() => sink.received.some((entry) => entry.update.message?.text === 'later'));
    await settle(1200);
    expect((await channelRow(channelId))?.lastError).toMatch(/^Skipped update 2/);
    const shown = await app.api(`/api/workspaces/${workspaceId}/bots/${botId}/channels/${channelId}`, {
      token: owner.token,
    });
    expect(shown.json.lastError).toMatch(/^Skipped update 2/);
  });

  it('stores polled updates with NUL and lone surrogates through the pipeline, with replacements, and answers them all', async () => {
    const { telegram, channelId } = await connectPolling();
    const pipeline = await startPipeline(app.ctx, { work: false });
    await poll(pipeline.onTelegramUpdates);
    const texts = ['/help', '/help \u0000', '/help', `/help \uD83D`, `/help \uDE00 x`, '/help'];
    for (const [n, text] of texts.entries()) fake.sendText(telegram.token, { chatId: 621 + n, text });
    await eventually(async () => (await channelRow(channelId))?.pollingOffset === texts.length + 1);
    const stored = await app.ctx.db.select().from(inboxUpdates).where(eq(inboxUpdates.channelId, channelId));
    const textOf = (updateId: number) => {
      const payload = stored.find((row) => row.updateId === updateId)?.payload;
      return JSON.stringify(payload?.message);
    };
    expect(stored).toHaveLength(texts.length);
    expect(textOf(2)).toContain('"text":"/help \uFFFD"');
    expect(textOf(4)).toContain('"text":"/help \uFFFD"');
    expect(textOf(5)).toContain('"text":"/help \uFFFD x"');
    // The app's own workers process what the poller stored: every customer is answered.
    await eventually(
      () => texts.every((_, n) => fake.sentMessages(telegram.token, 621 + n).length > 0),
      20_000,
    );
    expect((await channelRow(channelId))?.lastError).toBeNull();
  }, 30_000);

  it('picks up channels connected, switched and deleted while it runs', async () => {
    const sink = collector();
    const poller = await poll(sink.onUpdates);
    const { telegram, channelId } = await connectPolling();
    await eventually(() => poller.polling().includes(channelId));
    fake.sendText(telegram.token, { chatId: 701, text: 'new channel' });
    await eventually(() => sink.received.some((entry) => entry.channel.id === channelId));

    const switched = await app.api(`/api/workspaces/${workspaceId}/bots/${botId}/channels/${channelId}`, {
      method: 'PATCH',
      token: owner.token,
      json: { mode: 'webhook' },
    });
    expect(switched.status).toBe(200);
    await eventually(() => !poller.polling().includes(channelId));
    // The switch is not an error of the channel.
    expect((await channelRow(channelId))?.lastError).toBeNull();

    const back = await app.api(`/api/workspaces/${workspaceId}/bots/${botId}/channels/${channelId}`, {
      method: 'PATCH',
      token: owner.token,
      json: { mode: 'polling' },
    });
    expect(back.status).toBe(200);
    await eventually(() => poller.polling().includes(channelId));

    const removed = await app.api(`/api/workspaces/${workspaceId}/bots/${botId}/channels/${channelId}`, {
      method: 'DELETE',
      token: owner.token,
    });
    expect(removed.status).toBe(204);
    await eventually(() => !poller.polling().includes(channelId));
  });

  it('puts the channel in status error when Telegram rejects the token (401) and stops polling it', async () => {
    const { telegram, channelId } = await connectPolling();
    // The token is revoked in @BotFather: from now on Telegram answers 401 to it.
    const revoked = `${telegram.id}:${'X'.repeat(35)}`;
    await app.ctx.db
      .update(channels)
      .set({ encryptedToken: encryptSecret(app.ctx.keys.encryption, revoked) })
      .where(eq(channels.id, channelId));
    const poller = await poll(collector().onUpdates);
    const row = await eventually(async () => {
      const current = await channelRow(channelId);
      return current?.status === 'error' ? current : undefined;
    });
    expect(row.lastError).toMatch(/401/);
    expect(row.lastErrorAt).toBeInstanceOf(Date);
    await eventually(() => !poller.polling().includes(channelId));
    const calls = fake.requests({ token: revoked, method: 'getUpdates' }).length;
    await settle(500);
    expect(fake.requests({ token: revoked, method: 'getUpdates' })).toHaveLength(calls);

    const shown = await app.api(`/api/workspaces/${workspaceId}/bots/${botId}/channels/${channelId}`, {
      token: owner.token,
    });
    expect(shown.json).toMatchObject({ status: 'error', lastError: expect.stringMatching(/401/) });

    // A new token of the same bot brings the channel back.
    const renewed = fake.addBot({ token: `${telegram.id}:${'Y'.repeat(35)}` });
    fake.sendText(renewed.token, { chatId: 801, text: 'back again' });
    const fixed = await app.api(`/api/workspaces/${workspaceId}/bots/${botId}/channels/${channelId}`, {
      method: 'PATCH',
      token: owner.token,
      json: { token: renewed.token },
    });
    expect(fixed.status).toBe(200);
    expect(fixed.json).toMatchObject({ status: 'active', lastError: null });
    await eventually(() => poller.polling().includes(channelId));
  });

  it('lets only one of two pollers poll a channel, and each update arrives once', async () => {
    const { telegram, channelId } = await connectPolling();
    const sink = collector();
    const a = await poll(sink.onUpdates);
    const b = await poll(sink.onUpdates);
    await eventually(() => a.polling().includes(channelId) || b.polling().includes(channelId));
    expect([a, b].filter((poller) => poller.polling().includes(channelId))).toHaveLength(1);
    for (let n = 0; n < 5; n++) fake.sendText(telegram.token, { chatId: 900 + n, text: `message ${n}` });
    await eventually(() => sink.received.filter((entry) => entry.channel.id === channelId).length === 5);
    await settle(1200);
    const ids = sink.received
      .filter((entry) => entry.channel.id === channelId)
      .map((entry) => entry.update.update_id);
    expect(ids).toEqual([1, 2, 3, 4, 5]);
    // No 409 "terminated by other getUpdates request": the second poller never asked.
    expect(fake.requests({ token: telegram.token, method: 'getUpdates', status: 409 })).toHaveLength(0);

    // The holder stops: the other takes over within the lease.
    const holder = a.polling().includes(channelId) ? a : b;
    const other = holder === a ? b : a;
    await holder.stop();
    await eventually(() => other.polling().includes(channelId), 5000);
    fake.sendText(telegram.token, { chatId: 999, text: 'after failover' });
    await eventually(() => sink.received.some((entry) => entry.update.message?.text === 'after failover'));
  });
});
