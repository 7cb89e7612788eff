import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../../testkit/src/start-app.ts';
import { addMember, createTestWorkspace, signUp, type TestUser } from '../../../testkit/src/users.ts';
import { defaultBotConfig } from './bot-config.ts';

let app: TestApp;
let owner: TestUser;
let workspaceId: string;
let botId: string;

beforeAll(async () => {
  app = await startTestApp({ work: false });
  owner = await signUp(app);
  workspaceId = await createTestWorkspace(app, owner);
  const created = await app.api(`/api/workspaces/${workspaceId}/bots`, {
    method: 'POST',
    token: owner.token,
    json: { name: 'Playground bot' },
  });
  botId = String(created.json.id);
});

afterAll(async () => {
  await app?.close();
});

const playground = (token: string, json: unknown, bot = botId) =>
  app.api(`/api/workspaces/${workspaceId}/bots/${bot}/playground`, { method: 'POST', token, json });

describe('POST /api/workspaces/:ws/bots/:bot/playground', () => {
  it('answers with the published config, then the draft, then the unsaved config sent along', async () => {
    const published = await playground(owner.token, { text: '/start' });
    expect(published.status).toBe(200);
    expect(published.json).toMatchObject({
      source: 'published',
      language: 'en',
      messages: [{ type: 'text', text: defaultBotConfig().greeting.en }],
    });

    const draftConfig = defaultBotConfig({ greeting: { en: 'Draft hello' } });
    const saved = await app.api(`/api/workspaces/${workspaceId}/bots/${botId}/config/draft`, {
      method: 'PUT',
      token: owner.token,
      json: { config: draftConfig },
    });
    expect(saved.status).toBe(200);
    const draft = await playground(owner.token, { text: '/start' });
    expect(draft.json).toMatchObject({ source: 'draft', messages: [{ type: 'text', text: 'Draft hello' }] });

    const unsaved = await playground(owner.token, {
      text: '/start',
      language: 'ru',
      config: defaultBotConfig({ greeting: { ru: 'Привет из редактора' } }),
    });
    expect(unsaved.json).toMatchObject({
      source: 'request',
      language: 'ru',
      messages: [{ type: 'text', text: 'Привет из редактора' }],
    });
  });

  it('reports an escalation as a note and stores nothing', async () => {
    const response = await playground(owner.token, { text: 'I need a manager now' });
    expect(response.status).toBe(200);
    const messages = response.json.messages;
    expect(Array.isArray(messages) && messages[0]).toMatchObject({ type: 'note', kind: 'escalation' });
    const escalations = await app.ctx.db.execute('select count(*)::int as n from conversations');
    expect(JSON.stringify(escalations)).toContain('"n":0');
  });

  it('presses a button by its callback data', async () => {
    const response = await playground(owner.token, { callbackData: 'lang:ru' });
    expect(response.json.messages).toEqual([
      { type: 'note', kind: 'language', text: 'Language set to ru' },
      { type: 'text', text: defaultBotConfig().messages.languageChanged.ru },
    ]);
  });

  it('refuses a turn with neither text nor a button, an invalid config and a viewer', async () => {
    const empty = await playground(owner.token, {});
    expect(empty.status).toBe(400);
    expect(empty.json).toMatchObject({ error: { code: 'VALIDATION_ERROR' } });
    const invalid = await playground(owner.token, { text: 'hi', config: { memoryWindow: -1 } });
    expect(invalid.status).toBe(400);
    const viewer = await addMember(app, owner, workspaceId, 'viewer');
    expect((await playground(viewer.token, { text: 'hi' })).status).toBe(403);
    const missing = await playground(owner.token, { text: 'hi' }, '00000000-0000-4000-8000-000000000000');
    expect(missing.status).toBe(404);
  });
});
