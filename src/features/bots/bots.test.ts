import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../../testkit/src/start-app.ts';
import { addMember, createTestWorkspace, signUp, type TestUser } from '../../../testkit/src/users.ts';
import { defaultBotConfig } from './bot-config.ts';

let app: TestApp;
let owner: TestUser;
let workspaceId: string;

beforeAll(async () => {
  app = await startTestApp();
  owner = await signUp(app);
  workspaceId = await createTestWorkspace(app, owner, 'Bots');
});
afterAll(async () => {
  await app?.close();
});

function botsUrl(suffix = '') {
  return `/api/workspaces/${workspaceId}/bots${suffix}`;
}

async function createBot(name = 'Support bot'): Promise<string> {
  const response = await app.api(botsUrl(), { method: 'POST', token: owner.token, json: { name } });
  expect(response.status).toBe(201);
  return String(response.json.id);
}

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null && key in value
    ? Object.fromEntries(Object.entries(value))[key]
    : undefined;
}

describe('createBot', () => {
  it('creates a bot whose version 1 is published with the defaults, so it answers at once', async () => {
    const response = await app.api(botsUrl(), {
      method: 'POST',
      token: owner.token,
      json: { name: '  Shop assistant ', description: 'Answers about orders' },
    });
    expect(response.status).toBe(201);
    expect(response.json).toMatchObject({
      name: 'Shop assistant',
      description: 'Answers about orders',
      status: 'active',
      publishedVersion: 1,
      config: defaultBotConfig(),
    });
    const botId = String(response.json.id);

    const state = await app.api(botsUrl(`/${botId}/config`), { token: owner.token });
    expect(state.status).toBe(200);
    expect(state.json.draft).toBeNull();
    expect(state.json.published).toMatchObject({
      version: 1,
      status: 'published',
      config: defaultBotConfig(),
      author: { id: owner.id, email: owner.email },
    });
    const config = defaultBotConfig();
    expect(config.escalationAction).toBe('transfer');
    expect(config.memoryWindow).toBe(10);
    expect(config.throttle).toEqual({ perSecond: 1, burst: 5 });
    expect(config.escalationKeywords).toEqual(expect.arrayContaining(['manager', 'менеджер']));
    expect(config.greeting.ru).toMatch(/Здравствуйте/);

    const published = await app.ctx.botConfigs.getPublished(botId);
    expect(published).toMatchObject({ version: 1, status: 'active', workspaceId, config });
  });

  it('lists bots newest first with a cursor', async () => {
    const other = await signUp(app);
    const otherWs = await createTestWorkspace(app, other, 'Paging');
    const names = ['first', 'second', 'third'];
    for (const name of names) {
      const created = await app.api(`/api/workspaces/${otherWs}/bots`, {
        method: 'POST',
        token: other.token,
        json: { name },
      });
      expect(created.status).toBe(201);
    }
    const page1 = await app.api(`/api/workspaces/${otherWs}/bots?limit=2`, { token: other.token });
    expect(page1.status).toBe(200);
    expect(Array.isArray(page1.json.items) && page1.json.items.map((bot) => field(bot, 'name'))).toEqual([
      'third',
      'second',
    ]);
    expect(page1.json.nextCursor).toEqual(expect.any(String));
    const page2 = await app.api(
      `/api/workspaces/${otherWs}/bots?limit=2&cursor=${String(page1.json.nextCursor)}`,
      { token: other.token },
    );
    expect(Array.isArray(page2.json.items) && page2.json.items.map((bot) => field(bot, 'name'))).toEqual([
      'first',
    ]);
    expect(page2.json.nextCursor).toBeNull();
  });
});

describe('updateBot and deleteBot', () => {
  it('pauses a bot, and the config store sees the new status at once', async () => {
    const botId = await createBot();
    await app.ctx.botConfigs.getPublished(botId);
    const patched = await app.api(botsUrl(`/${botId}`), {
      method: 'PATCH',
      token: owner.token,
      json: { status: 'paused', name: 'Renamed' },
    });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ status: 'paused', name: 'Renamed' });
    expect((await app.ctx.botConfigs.getPublished(botId)).status).toBe('paused');
    const empty = await app.api(botsUrl(`/${botId}`), { method: 'PATCH', token: owner.token, json: {} });
    expect(empty.status).toBe(200);
  });

  it('deletes a bot with its versions; afterwards it is 404 and the audit keeps the deletion', async () => {
    const botId = await createBot();
    const deleted = await app.api(botsUrl(`/${botId}`), { method: 'DELETE', token: owner.token });
    expect(deleted.status).toBe(204);
    expect((await app.api(botsUrl(`/${botId}`), { token: owner.token })).status).toBe(404);
    expect((await app.api(botsUrl(`/${botId}/config`), { token: owner.token })).status).toBe(404);
    await expect(app.ctx.botConfigs.getPublished(botId)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const audit = await app.api(`/api/workspaces/${workspaceId}/audit?targetId=${botId}`, {
      token: owner.token,
    });
    expect(
      Array.isArray(audit.json.items) && audit.json.items.map((entry) => field(entry, 'action')),
    ).toEqual(['bot.delete', 'bot.create']);
  });

  it("answers 404 for another workspace's bot, as for one that does not exist", async () => {
    const botId = await createBot();
    const stranger = await signUp(app);
    const theirs = await createTestWorkspace(app, stranger, 'Elsewhere');
    const response = await app.api(`/api/workspaces/${theirs}/bots/${botId}`, { token: stranger.token });
    expect(response.status).toBe(404);
    const patch = await app.api(`/api/workspaces/${theirs}/bots/${botId}/config/draft`, {
      method: 'PUT',
      token: stranger.token,
      json: { config: {} },
    });
    expect(patch.status).toBe(404);
  });
});

describe('publishBotConfig', () => {
  it('saves one draft, publishes it as version 2, rolls back as version 3, and audits every step', async () => {
    const botId = await createBot();
    const first = await app.api(botsUrl(`/${botId}/config/draft`), {
      method: 'PUT',
      token: owner.token,
      json: { config: { memoryWindow: 20 }, note: 'longer memory' },
    });
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ version: null, status: 'draft', note: 'longer memory' });
    const draft = await app.api(botsUrl(`/${botId}/config/draft`), {
      method: 'PUT',
      token: owner.token,
      json: { config: { memoryWindow: 20, greeting: { ru: 'Привет! Чем помочь?' } }, note: 'warmer' },
    });
    expect(draft.status).toBe(200);
    // Partial input merges over the defaults, field by field.
    expect(field(draft.json.config, 'greeting')).toEqual({
      en: defaultBotConfig().greeting.en,
      ru: 'Привет! Чем помочь?',
    });

    const state = await app.api(botsUrl(`/${botId}/config`), { token: owner.token });
    expect(state.json.published).toMatchObject({ version: 1 });
    expect(state.json.draft).toMatchObject({ status: 'draft', note: 'warmer' });
    // The pipeline keeps answering with version 1 while the draft is edited.
    expect((await app.ctx.botConfigs.getPublished(botId)).version).toBe(1);
    expect((await app.ctx.botConfigs.getDraft(botId))?.config.memoryWindow).toBe(20);

    const published = await app.api(botsUrl(`/${botId}/config/publish`), {
      method: 'POST',
      token: owner.token,
      json: {},
    });
    expect(published.status).toBe(200);
    expect(published.json).toMatchObject({ version: 2, status: 'published', note: 'warmer' });
    expect(published.json.publishedAt).toEqual(expect.any(String));
    // Same process: visible at once, no TTL to wait for.
    const live = await app.ctx.botConfigs.getPublished(botId);
    expect(live.version).toBe(2);
    expect(live.config.memoryWindow).toBe(20);
    expect((await app.api(botsUrl(`/${botId}`), { token: owner.token })).json.publishedVersion).toBe(2);

    const again = await app.api(botsUrl(`/${botId}/config/publish`), { method: 'POST', token: owner.token });
    expect(again.status).toBe(409);
    expect(again.json.error).toMatchObject({ code: 'CONFLICT' });

    const rolledBack = await app.api(botsUrl(`/${botId}/config/rollback`), {
      method: 'POST',
      token: owner.token,
      json: { version: 1 },
    });
    expect(rolledBack.status).toBe(200);
    expect(rolledBack.json).toMatchObject({
      version: 3,
      status: 'published',
      note: 'Rollback to version 1',
      config: defaultBotConfig(),
    });
    expect((await app.ctx.botConfigs.getPublished(botId)).version).toBe(3);
    const current = await app.api(botsUrl(`/${botId}/config/rollback`), {
      method: 'POST',
      token: owner.token,
      json: { version: 3 },
    });
    expect(current.status).toBe(409);
    const missing = await app.api(botsUrl(`/${botId}/config/rollback`), {
      method: 'POST',
      token: owner.token,
      json: { version: 42 },
    });
    expect(missing.status).toBe(404);

    const versions = await app.api(botsUrl(`/${botId}/config/versions`), { token: owner.token });
    expect(versions.status).toBe(200);
    expect(versions.json.items).toEqual([
      expect.objectContaining({
        version: 3,
        status: 'published',
        author: expect.objectContaining({ id: owner.id }),
      }),
      expect.objectContaining({ version: 2, status: 'archived', note: 'warmer' }),
      expect.objectContaining({ version: 1, status: 'archived' }),
    ]);
    const paged = await app.api(botsUrl(`/${botId}/config/versions?limit=2`), { token: owner.token });
    expect(paged.json.nextCursor).toBe('2');
    const rest = await app.api(botsUrl(`/${botId}/config/versions?limit=2&cursor=2`), { token: owner.token });
    expect(Array.isArray(rest.json.items) && rest.json.items.map((item) => field(item, 'version'))).toEqual([
      1,
    ]);

    const two = await app.api(botsUrl(`/${botId}/config/versions/2`), { token: owner.token });
    expect(two.status).toBe(200);
    expect(two.json).toMatchObject({ version: 2, status: 'archived' });
    expect(field(two.json.config, 'memoryWindow')).toBe(20);
    expect((await app.api(botsUrl(`/${botId}/config/versions/9`), { token: owner.token })).status).toBe(404);

    const audit = await app.api(`/api/workspaces/${workspaceId}/audit?targetId=${botId}`, {
      token: owner.token,
    });
    const entries = Array.isArray(audit.json.items) ? audit.json.items : [];
    expect(entries.map((entry) => field(entry, 'action'))).toEqual([
      'bot_config.rollback',
      'bot_config.publish',
      'bot_config.draft_update',
      'bot_config.draft_create',
      'bot.create',
    ]);
    const publishDiff = field(entries[1], 'diff');
    expect(field(publishDiff, 'version')).toEqual({ before: 1, after: 2 });
    expect(field(publishDiff, 'memoryWindow')).toEqual({ before: 10, after: 20 });
    expect(field(entries[1], 'actorId')).toBe(owner.id);
  });

  it('discards a draft; discarding nothing is 404', async () => {
    const botId = await createBot();
    const saved = await app.api(botsUrl(`/${botId}/config/draft`), {
      method: 'PUT',
      token: owner.token,
      json: { config: { language: 'ru' } },
    });
    expect(saved.status).toBe(200);
    const discarded = await app.api(botsUrl(`/${botId}/config/draft`), {
      method: 'DELETE',
      token: owner.token,
    });
    expect(discarded.status).toBe(204);
    expect((await app.api(botsUrl(`/${botId}/config`), { token: owner.token })).json.draft).toBeNull();
    const twice = await app.api(botsUrl(`/${botId}/config/draft`), { method: 'DELETE', token: owner.token });
    expect(twice.status).toBe(404);
  });
});

describe('saveBotConfigDraft', () => {
  it('refuses an invalid config with 400 and the path of every problem', async () => {
    const botId = await createBot();
    const response = await app.api(botsUrl(`/${botId}/config/draft`), {
      method: 'PUT',
      token: owner.token,
      json: {
        config: {
          memoryWindow: 500,
          escalationAction: 'shout',
          greeting: { en: '' },
          throttle: { perSecond: 0 },
          workingHours: { timezone: 'Mars/Olympus', schedule: { mon: [{ from: '18:00', to: '09:00' }] } },
          greetng: 'typo',
        },
      },
    });
    expect(response.status).toBe(400);
    expect(response.json.error).toMatchObject({ code: 'VALIDATION_ERROR' });
    const details = field(response.json.error, 'details');
    const paths = Array.isArray(details) ? details.map((detail) => field(detail, 'path')) : [];
    expect(paths).toEqual(
      expect.arrayContaining([
        '/config/memoryWindow',
        '/config/escalationAction',
        '/config/greeting/en',
        '/config/throttle/perSecond',
        '/config/workingHours/timezone',
        '/config/workingHours/schedule/mon/0/to',
      ]),
    );
    expect(String(field(response.json.error, 'message'))).toMatch(/greetng/);
    // Nothing was stored.
    expect((await app.api(botsUrl(`/${botId}/config`), { token: owner.token })).json.draft).toBeNull();
  });

  it('refuses a default language that is not among the offered languages', async () => {
    const botId = await createBot();
    const response = await app.api(botsUrl(`/${botId}/config/draft`), {
      method: 'PUT',
      token: owner.token,
      json: { config: { language: 'ru', languages: ['en'] } },
    });
    expect(response.status).toBe(400);
    expect(JSON.stringify(response.json.error)).toContain('/config/language');
  });
});

describe('bot roles', () => {
  it('lets a viewer read bots and configs but not change them (403)', async () => {
    const botId = await createBot();
    const viewer = await addMember(app, owner, workspaceId, 'viewer');
    for (const path of [
      '',
      `/${botId}`,
      `/${botId}/config`,
      `/${botId}/config/versions`,
      `/${botId}/config/versions/1`,
    ]) {
      const response = await app.api(botsUrl(path), { token: viewer.token });
      expect(response.status, path).toBe(200);
    }
    const draft = await app.api(botsUrl(`/${botId}/config/draft`), {
      method: 'PUT',
      token: viewer.token,
      json: { config: {} },
    });
    expect(draft.status).toBe(403);
    await app.api(botsUrl(`/${botId}/config/draft`), {
      method: 'PUT',
      token: owner.token,
      json: { config: {} },
    });
    const publish = await app.api(botsUrl(`/${botId}/config/publish`), {
      method: 'POST',
      token: viewer.token,
    });
    expect(publish.status).toBe(403);
    expect(publish.json.error).toMatchObject({ code: 'FORBIDDEN' });
    const create = await app.api(botsUrl(), { method: 'POST', token: viewer.token, json: { name: 'x' } });
    expect(create.status).toBe(403);
    const remove = await app.api(botsUrl(`/${botId}`), { method: 'DELETE', token: viewer.token });
    expect(remove.status).toBe(403);
  });
});
