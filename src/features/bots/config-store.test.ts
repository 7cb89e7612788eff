import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../../testkit/src/start-app.ts';
import { createTestWorkspace, signUp, type TestUser } from '../../../testkit/src/users.ts';
import { createPorts } from '../../platform/ports/index.ts';
import type { Ports } from '../../platform/ports/types.ts';
import { type BotConfigStore, createBotConfigStore } from './config-store.ts';

let app: TestApp;
let owner: TestUser;
let workspaceId: string;
const opened: Array<BotConfigStore | Ports> = [];

beforeAll(async () => {
  app = await startTestApp();
  owner = await signUp(app);
  workspaceId = await createTestWorkspace(app, owner);
});
afterAll(async () => {
  for (const resource of opened.reverse()) await resource.close();
  await app?.close();
});

async function createBot(): Promise<string> {
  const response = await app.api(`/api/workspaces/${workspaceId}/bots`, {
    method: 'POST',
    token: owner.token,
    json: { name: 'Hot reload' },
  });
  expect(response.status).toBe(201);
  return String(response.json.id);
}

async function publish(botId: string, memoryWindow: number) {
  const base = `/api/workspaces/${workspaceId}/bots/${botId}/config`;
  const draft = await app.api(`${base}/draft`, {
    method: 'PUT',
    token: owner.token,
    json: { config: { memoryWindow } },
  });
  expect(draft.status).toBe(200);
  const published = await app.api(`${base}/publish`, { method: 'POST', token: owner.token });
  expect(published.status).toBe(200);
}

/**
 * Two instances: their own ports (with Redis: two connections on one key prefix, like two
 * processes; in memory: one shared bus, like one process) and stores over the same database.
 */
async function twoInstances(ttlMs: number) {
  const prefix = `cfg-${randomBytes(6).toString('hex')}`;
  const redisUrl = process.env.TEST_REDIS_URL;
  const portsA = await createPorts({ redisUrl, prefix, logger: app.ctx.logger });
  const portsB = redisUrl ? await createPorts({ redisUrl, prefix, logger: app.ctx.logger }) : portsA;
  opened.push(portsA);
  if (portsB !== portsA) opened.push(portsB);
  const a = await createBotConfigStore({ db: app.ctx.db, ports: portsA, logger: app.ctx.logger }, { ttlMs });
  const b = await createBotConfigStore({ db: app.ctx.db, ports: portsB, logger: app.ctx.logger }, { ttlMs });
  opened.push(a, b);
  return { a, b };
}

async function eventually(check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('createBotConfigStore', () => {
  it('serves the published config from memory until a publish is announced', async () => {
    const botId = await createBot();
    const { a } = await twoInstances(3_600_000);
    expect((await a.getPublished(botId)).version).toBe(1);
    // Published behind the store's back (the app announces on its own bus): the entry stays,
    // which shows reads come from memory.
    await publish(botId, 30);
    expect((await a.getPublished(botId)).version).toBe(1);
    await a.announce(botId);
    const fresh = await a.getPublished(botId);
    expect(fresh.version).toBe(2);
    expect(fresh.config.memoryWindow).toBe(30);
  });

  it("sees another instance's publish within a second, with a TTL of an hour", async () => {
    const botId = await createBot();
    const { a, b } = await twoInstances(3_600_000);
    expect((await b.getPublished(botId)).version).toBe(1);
    await publish(botId, 40);
    await a.announce(botId);
    const waited = await eventually(async () => (await b.getPublished(botId)).version === 2, 1000);
    expect(waited).toBeLessThan(1000);
    expect((await b.getPublished(botId)).config.memoryWindow).toBe(40);
  });

  it('answers concurrent misses with one load and reports an unknown bot as NOT_FOUND', async () => {
    const botId = await createBot();
    const { a } = await twoInstances(60_000);
    const results = await Promise.all(Array.from({ length: 20 }, () => a.getPublished(botId)));
    expect(new Set(results).size).toBe(1);
    await expect(a.getPublished('0196b9a0-0000-7000-8000-000000000000')).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('refreshes after the TTL even if an announcement was lost', async () => {
    const botId = await createBot();
    const { a } = await twoInstances(200);
    expect((await a.getPublished(botId)).version).toBe(1);
    await publish(botId, 50);
    await eventually(async () => (await a.getPublished(botId)).version === 2, 3000);
  });

  it('reads the draft from the database for the playground', async () => {
    const botId = await createBot();
    expect(await app.ctx.botConfigs.getDraft(botId)).toBeUndefined();
    await app.api(`/api/workspaces/${workspaceId}/bots/${botId}/config/draft`, {
      method: 'PUT',
      token: owner.token,
      json: { config: { language: 'ru' }, note: 'try Russian' },
    });
    expect(await app.ctx.botConfigs.getDraft(botId)).toMatchObject({
      note: 'try Russian',
      config: { language: 'ru' },
    });
  });
});
