import { createServer } from 'node:net';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeTelegram } from '../../../testkit/src/fake-telegram.ts';
import { startTestApp, type TestApp } from '../../../testkit/src/start-app.ts';
import { addMember, createTestWorkspace, signUp, type TestUser } from '../../../testkit/src/users.ts';
import { encryptSecret } from '../../platform/crypto.ts';
import { channels } from './schema.ts';
import { TELEGRAM_ALLOWED_UPDATES } from './telegram-api.ts';

const PUBLIC_URL = 'https://switchboard.example.com';

let fake: FakeTelegram;
/** PUBLIC_URL set: webhook mode available. */
let app: TestApp;
/** No PUBLIC_URL, and Telegram unreachable. */
let isolated: TestApp;
let owner: TestUser;
let workspaceId: string;
let botId: string;

/** A loopback port nobody listens on: connections to it are refused at once. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

beforeAll(async () => {
  fake = await FakeTelegram.start();
  app = await startTestApp({ env: { TELEGRAM_API_ROOT: fake.url, PUBLIC_URL } });
  isolated = await startTestApp({ env: { TELEGRAM_API_ROOT: `http://127.0.0.1:${await closedPort()}` } });
  owner = await signUp(app);
  workspaceId = await createTestWorkspace(app, owner, 'Channels');
  botId = await createBot(app, owner, workspaceId);
});
afterAll(async () => {
  await app?.close();
  await isolated?.close();
  await fake?.close();
});

async function createBot(target: TestApp, user: TestUser, ws: string): Promise<string> {
  const response = await target.api(`/api/workspaces/${ws}/bots`, {
    method: 'POST',
    token: user.token,
    json: { name: 'Channel bot' },
  });
  expect(response.status).toBe(201);
  return String(response.json.id);
}

function channelsUrl(suffix = '', ws = workspaceId, bot = botId) {
  return `/api/workspaces/${ws}/bots/${bot}/channels${suffix}`;
}

async function connect(token: string, mode: 'webhook' | 'polling') {
  return app.api(channelsUrl(), {
    method: 'POST',
    token: owner.token,
    json: { type: 'telegram', token, mode },
  });
}

async function storedChannel(id: string) {
  const [row] = await app.ctx.db.select().from(channels).where(eq(channels.id, id));
  if (!row) throw new Error(`channel ${id} not stored`);
  return row;
}

describe('connectTelegramChannel', () => {
  it('checks the token, stores it encrypted and sets the webhook with a secret and the update types', async () => {
    const telegram = fake.addBot({ username: 'acme_support_bot', firstName: 'Acme Support' });
    const response = await connect(telegram.token, 'webhook');
    expect(response.status).toBe(201);
    const id = String(response.json.id);
    expect(response.json).toMatchObject({
      botId,
      type: 'telegram',
      mode: 'webhook',
      status: 'active',
      externalId: String(telegram.id),
      username: 'acme_support_bot',
      displayName: 'Acme Support',
      webhookUrl: `${PUBLIC_URL}/hooks/telegram/${id}`,
      lastError: null,
    });

    const stored = await storedChannel(id);
    expect(stored.encryptedToken).not.toContain(telegram.token);
    expect(stored.webhookSecret).toMatch(/^[A-Za-z0-9_-]{32,256}$/);
    expect(fake.requests({ token: telegram.token, method: 'getMe', status: 200 })).toHaveLength(1);
    const [setWebhook] = fake.requests({ token: telegram.token, method: 'setWebhook' });
    expect(setWebhook?.status).toBe(200);
    expect(setWebhook?.params).toMatchObject({
      url: `${PUBLIC_URL}/hooks/telegram/${id}`,
      secret_token: stored.webhookSecret,
      allowed_updates: [...TELEGRAM_ALLOWED_UPDATES],
      drop_pending_updates: false,
    });
    expect(fake.webhookInfo(telegram.token).url).toBe(`${PUBLIC_URL}/hooks/telegram/${id}`);

    const secrets = [telegram.token, String(stored.webhookSecret), stored.encryptedToken];
    const list = await app.api(channelsUrl(), { token: owner.token });
    expect(list.status).toBe(200);
    expect(Array.isArray(list.json.items) && list.json.items.length).toBeGreaterThan(0);
    const one = await app.api(channelsUrl(`/${id}`), { token: owner.token });
    expect(one.json).toMatchObject({ id, status: 'active' });
    const audit = await app.api(`/api/workspaces/${workspaceId}/audit?targetId=${id}`, {
      token: owner.token,
    });
    expect(audit.json.items).toEqual([expect.objectContaining({ action: 'channel.create' })]);
    for (const body of [response.body, list.body, one.body, audit.body]) {
      const text = JSON.stringify(body);
      for (const secret of secrets) expect(text).not.toContain(secret);
      expect(text).not.toMatch(/encryptedToken|webhookSecret/);
    }
  });

  it('in polling mode removes any webhook so getUpdates works', async () => {
    const telegram = fake.addBot();
    const response = await connect(telegram.token, 'polling');
    expect(response.status).toBe(201);
    expect(response.json).toMatchObject({ mode: 'polling', status: 'active', webhookUrl: null });
    const calls = fake.requests({ token: telegram.token }).map((request) => request.method);
    expect(calls).toEqual(['getMe', 'deleteWebhook']);
    expect((await storedChannel(String(response.json.id))).webhookSecret).toBeNull();
  });

  it('refuses a token Telegram rejects with 400, and a malformed one before asking Telegram', async () => {
    const unknown = await connect('123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1', 'webhook');
    expect(unknown.status).toBe(400);
    expect(unknown.json.error).toMatchObject({ code: 'BAD_REQUEST' });
    expect(String(JSON.stringify(unknown.json.error))).toMatch(/rejected this bot token/);
    const malformed = await connect('not-a-token', 'webhook');
    expect(malformed.status).toBe(400);
    expect(malformed.json.error).toMatchObject({ code: 'VALIDATION_ERROR' });
    expect(JSON.stringify(malformed.body)).not.toContain('not-a-token');
  });

  it('refuses a token that is already connected, in this workspace or any other (409)', async () => {
    const telegram = fake.addBot();
    expect((await connect(telegram.token, 'polling')).status).toBe(201);
    const again = await connect(telegram.token, 'webhook');
    expect(again.status).toBe(409);
    expect(again.json.error).toMatchObject({ code: 'CONFLICT' });

    const stranger = await signUp(app);
    const theirs = await createTestWorkspace(app, stranger, 'Thieves');
    const theirBot = await createBot(app, stranger, theirs);
    const elsewhere = await app.api(channelsUrl('', theirs, theirBot), {
      method: 'POST',
      token: stranger.token,
      json: { type: 'telegram', token: telegram.token, mode: 'polling' },
    });
    expect(elsewhere.status).toBe(409);
    expect(JSON.stringify(elsewhere.body)).not.toContain(workspaceId);
    // The refused attempts never touched the webhook.
    expect(fake.requests({ token: telegram.token, method: 'setWebhook' })).toHaveLength(0);
  });

  it('explains that webhook mode needs PUBLIC_URL, and answers 502 when Telegram is unreachable', async () => {
    const user = await signUp(isolated);
    const ws = await createTestWorkspace(isolated, user, 'Offline');
    const bot = await createBot(isolated, user, ws);
    const token = '123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1';
    const webhook = await isolated.api(`/api/workspaces/${ws}/bots/${bot}/channels`, {
      method: 'POST',
      token: user.token,
      json: { type: 'telegram', token, mode: 'webhook' },
    });
    expect(webhook.status).toBe(400);
    expect(String(JSON.stringify(webhook.json.error))).toMatch(/PUBLIC_URL.*polling/);
    const polling = await isolated.api(`/api/workspaces/${ws}/bots/${bot}/channels`, {
      method: 'POST',
      token: user.token,
      json: { type: 'telegram', token, mode: 'polling' },
    });
    expect(polling.status).toBe(502);
    expect(polling.json.error).toMatchObject({ code: 'UPSTREAM_ERROR' });
    expect(JSON.stringify(polling.body)).not.toContain(token);
    const list = await isolated.api(`/api/workspaces/${ws}/bots/${bot}/channels`, { token: user.token });
    expect(list.json.items).toEqual([]);
  });
});

describe('updateChannel', () => {
  it('re-registers with Telegram when the mode switches, and disabling removes the webhook', async () => {
    const telegram = fake.addBot();
    const created = await connect(telegram.token, 'webhook');
    const id = String(created.json.id);
    const secret = (await storedChannel(id)).webhookSecret;
    fake.reset();

    const toPolling = await app.api(channelsUrl(`/${id}`), {
      method: 'PATCH',
      token: owner.token,
      json: { mode: 'polling' },
    });
    expect(toPolling.status).toBe(200);
    expect(toPolling.json).toMatchObject({ mode: 'polling', webhookUrl: null });
    expect(fake.requests({ token: telegram.token }).map((request) => request.method)).toEqual([
      'deleteWebhook',
    ]);
    expect(fake.webhookInfo(telegram.token).url).toBe('');

    const toWebhook = await app.api(channelsUrl(`/${id}`), {
      method: 'PATCH',
      token: owner.token,
      json: { mode: 'webhook' },
    });
    expect(toWebhook.status).toBe(200);
    const [setWebhook] = fake.requests({ token: telegram.token, method: 'setWebhook' });
    // The secret survives the round trip, so deliveries in flight keep passing the check.
    expect(setWebhook?.params).toMatchObject({
      url: `${PUBLIC_URL}/hooks/telegram/${id}`,
      secret_token: secret,
    });

    const disabled = await app.api(channelsUrl(`/${id}`), {
      method: 'PATCH',
      token: owner.token,
      json: { status: 'disabled' },
    });
    expect(disabled.json).toMatchObject({ status: 'disabled', mode: 'webhook' });
    expect(fake.webhookInfo(telegram.token).url).toBe('');

    const unchanged = await app.api(channelsUrl(`/${id}`), { method: 'PATCH', token: owner.token, json: {} });
    expect(unchanged.status).toBe(200);
    const audit = await app.api(`/api/workspaces/${workspaceId}/audit?targetId=${id}&action=channel.update`, {
      token: owner.token,
    });
    expect(Array.isArray(audit.json.items) && audit.json.items.length).toBe(4);
  });

  it("refuses a new token of a different Telegram bot, and accepts the same bot's new token", async () => {
    const telegram = fake.addBot();
    const created = await connect(telegram.token, 'polling');
    const id = String(created.json.id);
    const other = fake.addBot();
    const wrong = await app.api(channelsUrl(`/${id}`), {
      method: 'PATCH',
      token: owner.token,
      json: { token: other.token },
    });
    expect(wrong.status).toBe(400);
    const renewed = fake.addBot({ token: `${telegram.id}:${'N'.repeat(35)}` });
    const right = await app.api(channelsUrl(`/${id}`), {
      method: 'PATCH',
      token: owner.token,
      json: { token: renewed.token },
    });
    expect(right.status).toBe(200);
    expect(fake.requests({ token: renewed.token, method: 'deleteWebhook' })).toHaveLength(1);
  });
});

describe('deleteChannel', () => {
  it('calls deleteWebhook, then deletes the channel', async () => {
    const telegram = fake.addBot();
    const created = await connect(telegram.token, 'webhook');
    const id = String(created.json.id);
    const removed = await app.api(channelsUrl(`/${id}`), { method: 'DELETE', token: owner.token });
    expect(removed.status).toBe(204);
    expect(fake.requests({ token: telegram.token, method: 'deleteWebhook', status: 200 })).toHaveLength(1);
    expect(fake.webhookInfo(telegram.token).url).toBe('');
    expect((await app.api(channelsUrl(`/${id}`), { token: owner.token })).status).toBe(404);
    const audit = await app.api(`/api/workspaces/${workspaceId}/audit?targetId=${id}`, {
      token: owner.token,
    });
    expect(Array.isArray(audit.json.items) && audit.json.items.map((entry) => JSON.stringify(entry))).toEqual(
      [expect.stringContaining('channel.delete'), expect.stringContaining('channel.create')],
    );
    // Connecting the token again works once it is free.
    expect((await connect(telegram.token, 'polling')).status).toBe(201);
  });

  it('deletes the channel even when Telegram no longer accepts its token', async () => {
    const telegram = fake.addBot();
    const created = await connect(telegram.token, 'polling');
    const id = String(created.json.id);
    // As if the token had been revoked in @BotFather: Telegram answers 401 to it.
    const revoked = `${telegram.id}:${'R'.repeat(35)}`;
    await app.ctx.db
      .update(channels)
      .set({ encryptedToken: encryptSecret(app.ctx.keys.encryption, revoked) })
      .where(eq(channels.id, id));
    const removed = await app.api(channelsUrl(`/${id}`), { method: 'DELETE', token: owner.token });
    expect(removed.status).toBe(204);
    expect(fake.requests({ token: revoked, method: 'deleteWebhook', status: 401 })).toHaveLength(1);
    expect((await app.api(channelsUrl(`/${id}`), { token: owner.token })).status).toBe(404);
  });

  it('is gone with its bot: deleting the bot tells Telegram too', async () => {
    const bot = await createBot(app, owner, workspaceId);
    const telegram = fake.addBot();
    const created = await app.api(channelsUrl('', workspaceId, bot), {
      method: 'POST',
      token: owner.token,
      json: { type: 'telegram', token: telegram.token, mode: 'webhook' },
    });
    expect(created.status).toBe(201);
    const removed = await app.api(`/api/workspaces/${workspaceId}/bots/${bot}`, {
      method: 'DELETE',
      token: owner.token,
    });
    expect(removed.status).toBe(204);
    expect(fake.webhookInfo(telegram.token).url).toBe('');
    expect(await app.ctx.db.select().from(channels).where(eq(channels.botId, bot))).toEqual([]);
  });
});

describe('channel access', () => {
  it('lets a viewer list channels but not connect or delete them; other workspaces get 404', async () => {
    const telegram = fake.addBot();
    const created = await connect(telegram.token, 'polling');
    const id = String(created.json.id);
    const viewer = await addMember(app, owner, workspaceId, 'viewer');
    expect((await app.api(channelsUrl(), { token: viewer.token })).status).toBe(200);
    expect((await app.api(channelsUrl(`/${id}`), { token: viewer.token })).status).toBe(200);
    const create = await app.api(channelsUrl(), {
      method: 'POST',
      token: viewer.token,
      json: { type: 'telegram', token: fake.addBot().token, mode: 'polling' },
    });
    expect(create.status).toBe(403);
    expect((await app.api(channelsUrl(`/${id}`), { method: 'DELETE', token: viewer.token })).status).toBe(
      403,
    );

    const stranger = await signUp(app);
    const theirs = await createTestWorkspace(app, stranger, 'Other');
    const theirBot = await createBot(app, stranger, theirs);
    // Their own workspace, but our bot's or channel's id: 404, as if it did not exist.
    expect((await app.api(channelsUrl('', theirs, botId), { token: stranger.token })).status).toBe(404);
    expect((await app.api(channelsUrl(`/${id}`, theirs, theirBot), { token: stranger.token })).status).toBe(
      404,
    );
    const steal = await app.api(channelsUrl(`/${id}`, theirs, theirBot), {
      method: 'DELETE',
      token: stranger.token,
    });
    expect(steal.status).toBe(404);
    expect((await storedChannel(id)).status).toBe('active');
  });
});
