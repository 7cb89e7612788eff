import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeOpenAI } from '../../../testkit/src/fake-openai.ts';
import { startTestApp, type TestApp } from '../../../testkit/src/start-app.ts';
import { addMember, createTestWorkspace, signUp, type TestUser } from '../../../testkit/src/users.ts';
import { flushLlmUsage, getLlm, LlmUnavailableError } from '../../assistant/llm/index.ts';
import { decryptSecret } from '../../platform/crypto.ts';
import { analyticsEvents } from '../analytics/schema.ts';
import { auditLog } from '../audit/schema.ts';
import { llmProviders, llmUsage } from './schema.ts';

const SECRET_KEY = 'sk-live-super-secret-key-WXYZ';

let app: TestApp;
let platform: FakeOpenAI;
let own: FakeOpenAI;
let owner: TestUser;
let viewer: TestUser;
let workspaceId: string;

beforeAll(async () => {
  [platform, own] = await Promise.all([FakeOpenAI.start(), FakeOpenAI.start({ apiKey: SECRET_KEY })]);
  app = await startTestApp({
    env: {
      LLM_BASE_URL: platform.url,
      LLM_API_KEY: platform.apiKey,
      LLM_MODEL: 'platform-chat',
      LLM_EMBEDDINGS_MODEL: 'platform-embeddings',
      LLM_MAX_RETRIES: '1',
      LLM_RETRY_BASE_MS: '5',
      LLM_TIMEOUT_MS: '1000',
      LLM_BREAKER_THRESHOLD: '4',
      LLM_BREAKER_COOLDOWN_MS: '60000',
    },
  });
  owner = await signUp(app);
  workspaceId = await createTestWorkspace(app, owner, 'LLM');
  viewer = await addMember(app, owner, workspaceId, 'viewer');
});
afterAll(async () => {
  await app?.close();
  await Promise.all([platform?.close(), own?.close()]);
});
beforeEach(async () => {
  platform.reset();
  own.reset();
  await removeAllProviders();
});

const url = (suffix = '') => `/api/workspaces/${workspaceId}/llm${suffix}`;

async function createProvider(json: Record<string, unknown>) {
  const response = await app.api(url('/providers'), { method: 'POST', token: owner.token, json });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response;
}

async function removeAllProviders() {
  const list = await app.api(url('/providers'), { token: owner.token });
  const items = Array.isArray(list.json.items) ? list.json.items : [];
  for (const item of items) {
    const id = typeof item === 'object' && item !== null && 'id' in item ? String(item.id) : '';
    await app.api(url(`/providers/${id}`), { method: 'DELETE', token: owner.token });
  }
}

describe('LLM provider routes', () => {
  it('stores the key encrypted, shows only that it is set and its last 4 characters', async () => {
    const created = await createProvider({
      name: 'Own OpenAI',
      baseUrl: `${own.url}/`,
      apiKey: SECRET_KEY,
      chatModel: 'own-chat',
      priority: 1,
    });
    expect(created.json).toMatchObject({
      name: 'Own OpenAI',
      baseUrl: own.url,
      apiKeySet: true,
      apiKeyLast4: 'WXYZ',
      chatModel: 'own-chat',
      embeddingsModel: null,
      priority: 1,
      enabled: true,
    });
    expect(JSON.stringify(created.body)).not.toContain(SECRET_KEY);
    const id = String(created.json.id);

    const [row] = await app.ctx.db.select().from(llmProviders).where(eq(llmProviders.id, id));
    expect(row?.apiKeyEncrypted).toBeTruthy();
    expect(row?.apiKeyEncrypted).not.toContain(SECRET_KEY);
    expect(row?.apiKeyEncrypted).not.toContain('WXYZ');
    expect(decryptSecret(app.ctx.keys.encryption, row?.apiKeyEncrypted ?? '')).toBe(SECRET_KEY);

    for (const path of ['/providers', `/providers/${id}`]) {
      const read = await app.api(url(path), { token: owner.token });
      expect(read.status).toBe(200);
      expect(JSON.stringify(read.body)).not.toContain(SECRET_KEY);
    }

    const newKey = 'sk-rotated-key-0000-ABCD';
    const patched = await app.api(url(`/providers/${id}`), {
      method: 'PATCH',
      token: owner.token,
      json: { apiKey: newKey, embeddingsModel: 'own-embeddings' },
    });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ apiKeyLast4: 'ABCD', embeddingsModel: 'own-embeddings' });

    const audit = await app.ctx.db.select().from(auditLog).where(eq(auditLog.targetId, id));
    expect(audit.map((entry) => entry.action).sort()).toEqual(['llm_provider.create', 'llm_provider.update']);
    const auditText = JSON.stringify(audit);
    expect(auditText).not.toContain(SECRET_KEY);
    expect(auditText).not.toContain(newKey);
    expect(auditText).not.toContain(row?.apiKeyEncrypted ?? 'never');
    expect(audit.find((entry) => entry.action === 'llm_provider.update')?.diff).toMatchObject({
      apiKeyChanged: { before: false, after: true },
      apiKeyLast4: { before: 'WXYZ', after: 'ABCD' },
    });

    const removed = await app.api(url(`/providers/${id}`), { method: 'DELETE', token: owner.token });
    expect(removed.status).toBe(204);
    expect((await app.api(url(`/providers/${id}`), { token: owner.token })).status).toBe(404);
  });

  it('refuses bad input: no model, the reserved name, a duplicate name, a non-http URL, an empty patch', async () => {
    const cases: Array<[Record<string, unknown>, number]> = [
      [{ name: 'x', baseUrl: own.url }, 400],
      [{ name: 'Platform', baseUrl: own.url, chatModel: 'm' }, 400],
      [{ name: 'x', baseUrl: 'ftp://example.com/v1', chatModel: 'm' }, 400],
      [{ name: 'x', baseUrl: own.url, chatModel: 'm', apiKey: '' }, 400],
    ];
    for (const [json, status] of cases) {
      const response = await app.api(url('/providers'), { method: 'POST', token: owner.token, json });
      expect(response.status, JSON.stringify(json)).toBe(status);
    }
    const first = await createProvider({ name: 'Dup', baseUrl: own.url, chatModel: 'm' });
    const again = await app.api(url('/providers'), {
      method: 'POST',
      token: owner.token,
      json: { name: 'Dup', baseUrl: own.url, chatModel: 'm' },
    });
    expect(again.status).toBe(409);
    const empty = await app.api(url(`/providers/${String(first.json.id)}`), {
      method: 'PATCH',
      token: owner.token,
      json: {},
    });
    expect(empty.status).toBe(400);
    await removeAllProviders();
  });

  it('is for admins: a viewer may read settings and usage but not providers', async () => {
    expect((await app.api(url('/providers'), { token: viewer.token })).status).toBe(403);
    expect(
      (
        await app.api(url('/providers'), {
          method: 'POST',
          token: viewer.token,
          json: { name: 'v', baseUrl: own.url, chatModel: 'm' },
        })
      ).status,
    ).toBe(403);
    expect((await app.api(url('/settings'), { token: viewer.token })).status).toBe(200);
    expect((await app.api(url('/usage'), { token: viewer.token })).status).toBe(200);
  });

  it('tests a provider with one real call and reports ok, latency or the error', async () => {
    const created = await createProvider({
      name: 'Probe',
      baseUrl: own.url,
      apiKey: SECRET_KEY,
      chatModel: 'p',
    });
    const id = String(created.json.id);
    const ok = await app.api(url(`/providers/${id}/test`), { method: 'POST', token: owner.token });
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ ok: true, capability: 'chat', model: 'p', error: null });
    expect(typeof ok.json.latencyMs).toBe('number');
    expect(own.requestsTo('/v1/chat/completions')).toHaveLength(1);

    own.mode('serverError', { status: 503 });
    const failing = await app.api(url(`/providers/${id}/test`), { method: 'POST', token: owner.token });
    expect(failing.json).toMatchObject({ ok: false, capability: 'chat' });
    expect(String(failing.json.error)).toContain('503');
    // No retries for a test call.
    expect(own.requestsTo('/v1/chat/completions')).toHaveLength(2);
    own.mode('normal');

    await app.api(url(`/providers/${id}`), {
      method: 'PATCH',
      token: owner.token,
      json: { apiKey: 'sk-wrong' },
    });
    const unauthorized = await app.api(url(`/providers/${id}/test`), { method: 'POST', token: owner.token });
    expect(unauthorized.json).toMatchObject({ ok: false });
    expect(String(unauthorized.json.error)).toContain('401');
    await removeAllProviders();
  });
});

describe('getLlm', () => {
  it('uses the platform default when the workspace has no provider of its own', async () => {
    const llm = await getLlm(app.ctx, workspaceId);
    expect(llm?.capabilities).toEqual({ chat: true, embeddings: true, transcription: false, vision: false });
    const result = await llm?.chat(
      { messages: [{ role: 'user', content: 'hello' }] },
      { workspaceId, purpose: 'chat' },
    );
    expect(result).toMatchObject({
      provider: 'platform',
      model: 'platform-chat',
      message: { content: 'Echo: hello' },
    });
    const vectors = await llm?.embed(['sofa'], { workspaceId, purpose: 'embeddings' });
    expect(vectors?.[0]).toHaveLength(256);
  });

  it('tries the workspace providers first and falls over to the platform default, recording every attempt', async () => {
    await createProvider({ name: 'Primary', baseUrl: own.url, apiKey: SECRET_KEY, chatModel: 'own-chat' });
    own.mode('serverError', { status: 500 });
    const bot = await app.api(`/api/workspaces/${workspaceId}/bots`, {
      method: 'POST',
      token: owner.token,
      json: { name: 'Fallback bot' },
    });
    const botId = String(bot.json.id);
    const conversationId = '01900000-0000-7000-8000-00000000c0de';

    const llm = await getLlm(app.ctx, workspaceId);
    const result = await llm?.chat(
      { messages: [{ role: 'user', content: 'anyone there?' }] },
      { workspaceId, botId, conversationId, purpose: 'chat' },
    );
    expect(result?.provider).toBe('platform');
    expect(own.requestsTo('/v1/chat/completions')).toHaveLength(2); // one try + one retry
    expect(platform.requestsTo('/v1/chat/completions')).toHaveLength(1);

    await flushLlmUsage(app.ctx);
    const rows = await app.ctx.db
      .select()
      .from(llmUsage)
      .where(eq(llmUsage.conversationId, conversationId))
      .orderBy(llmUsage.createdAt, llmUsage.id);
    expect(rows.map((row) => [row.provider, row.model, row.ok])).toEqual([
      ['Primary', 'own-chat', false],
      ['Primary', 'own-chat', false],
      ['platform', 'platform-chat', true],
    ]);
    expect(rows[0]).toMatchObject({ botId, purpose: 'chat', promptTokens: 0 });
    expect(rows[0]?.error).toContain('HTTP 500');
    expect(rows[2]?.promptTokens).toBeGreaterThan(0);
    expect(rows[2]?.error).toBeNull();

    await app.ctx.analytics.flush();
    const events = await app.ctx.db.select().from(analyticsEvents).where(eq(analyticsEvents.botId, botId));
    const calls = events.filter((event) => event.type === 'llm_call');
    expect(calls).toHaveLength(3);
    expect(calls.map((event) => event.data.ok).sort()).toEqual([false, false, true]);

    const metrics = await app.api('/metrics');
    const text = String(metrics.body);
    expect(text).toContain(
      'switchboard_llm_request_duration_seconds_count{provider="platform",model="platform-chat",purpose="chat",outcome="ok"}',
    );
    expect(text).toMatch(
      /switchboard_llm_tokens_total\{provider="platform",model="platform-chat",kind="prompt"\} \d+/,
    );
    expect(text).toContain('switchboard_llm_fallbacks_total{provider="platform",purpose="chat"} 1');
    own.mode('normal');
    await removeAllProviders();
  });

  it('shows the chain with breaker states; the breaker opens and the provider is then skipped', async () => {
    const created = await createProvider({
      name: 'Flaky',
      baseUrl: own.url,
      apiKey: SECRET_KEY,
      chatModel: 'f',
    });
    own.mode('serverError');
    const llm = await getLlm(app.ctx, workspaceId);
    const ask = () =>
      llm?.chat({ messages: [{ role: 'user', content: 'x' }] }, { workspaceId, purpose: 'chat' });
    await ask(); // 2 failures
    await ask(); // 4 failures: threshold reached
    expect(own.requests).toHaveLength(4);
    await ask();
    expect(own.requests).toHaveLength(4);

    const settings = await app.api(url('/settings'), { token: viewer.token });
    expect(settings.json).toMatchObject({
      usePlatformDefault: true,
      platformDefault: { configured: true, capabilities: { chat: true, embeddings: true } },
      capabilities: { chat: true, embeddings: true, transcription: false, vision: false },
      chain: [
        {
          id: created.json.id,
          name: 'Flaky',
          source: 'workspace',
          breaker: { state: 'open', consecutiveFailures: 4 },
        },
        { id: 'platform', name: 'platform', source: 'platform', breaker: { state: 'closed' } },
      ],
    });
    const metrics = String((await app.api('/metrics')).body);
    expect(metrics).toContain(
      `switchboard_llm_breaker_state{provider="Flaky",provider_id="${String(created.json.id)}"} 2`,
    );

    // A new base URL (or key) is a different endpoint: it starts with a closed breaker.
    await app.api(url(`/providers/${String(created.json.id)}`), {
      method: 'PATCH',
      token: owner.token,
      json: { baseUrl: own.url.replace('127.0.0.1', 'localhost') },
    });
    own.mode('normal');
    const fresh = await getLlm(app.ctx, workspaceId);
    const answer = await fresh?.chat(
      { messages: [{ role: 'user', content: 'y' }] },
      { workspaceId, purpose: 'chat' },
    );
    expect(answer?.provider).toBe('Flaky');
    await removeAllProviders();
  });

  it('honours the opt-out of the platform default; null when nothing is left', async () => {
    const out = await app.api(url('/settings'), {
      method: 'PUT',
      token: owner.token,
      json: { usePlatformDefault: false },
    });
    expect(out.status).toBe(200);
    expect(out.json).toMatchObject({ usePlatformDefault: false, chain: [] });
    expect(await getLlm(app.ctx, workspaceId)).toBeNull();

    await createProvider({
      name: 'Only',
      baseUrl: own.url,
      apiKey: SECRET_KEY,
      transcriptionModel: 'whisper-1',
    });
    const llm = await getLlm(app.ctx, workspaceId);
    expect(llm?.capabilities).toEqual({ chat: false, embeddings: false, transcription: true, vision: false });
    own.scriptTranscription('hello from a voice note');
    const text = await llm?.transcribe(
      { data: Buffer.alloc(500, 3), filename: 'voice.oga', mimeType: 'audio/ogg' },
      { workspaceId, purpose: 'transcription' },
    );
    expect(text).toBe('hello from a voice note');
    await expect(
      llm?.chat({ messages: [{ role: 'user', content: 'x' }] }, { workspaceId, purpose: 'chat' }),
    ).rejects.toBeInstanceOf(LlmUnavailableError);

    const disabled = await app.api(url('/providers'), { token: owner.token });
    const items = Array.isArray(disabled.json.items) ? disabled.json.items : [];
    const id =
      typeof items[0] === 'object' && items[0] !== null && 'id' in items[0] ? String(items[0].id) : '';
    await app.api(url(`/providers/${id}`), { method: 'PATCH', token: owner.token, json: { enabled: false } });
    expect(await getLlm(app.ctx, workspaceId)).toBeNull();

    await app.api(url('/settings'), {
      method: 'PUT',
      token: owner.token,
      json: { usePlatformDefault: true },
    });
    expect(await getLlm(app.ctx, workspaceId)).not.toBeNull();
    await removeAllProviders();
  });
});

describe('GET /llm/usage', () => {
  it('sums calls, failures and tokens by day, provider, model and purpose', async () => {
    const other = await createTestWorkspace(app, owner, 'Usage');
    const llm = await getLlm(app.ctx, other);
    platform.script({ text: 'a', usage: { promptTokens: 100, completionTokens: 20 } });
    platform.script({ text: 'b', usage: { promptTokens: 50, completionTokens: 5 } });
    await llm?.chat(
      { messages: [{ role: 'user', content: 'one' }] },
      { workspaceId: other, purpose: 'chat' },
    );
    await llm?.chat(
      { messages: [{ role: 'user', content: 'two' }] },
      { workspaceId: other, purpose: 'chat' },
    );
    await llm?.embed(['x y z'], { workspaceId: other, purpose: 'embeddings' });
    await flushLlmUsage(app.ctx);

    const today = new Date().toISOString().slice(0, 10);
    const response = await app.api(`/api/workspaces/${other}/llm/usage?from=${today}&to=${today}`, {
      token: owner.token,
    });
    expect(response.status).toBe(200);
    expect(response.json.totals).toMatchObject({
      calls: 3,
      failed: 0,
      promptTokens: 150 + 2,
      completionTokens: 25,
    });
    expect(response.json.rows).toEqual([
      expect.objectContaining({
        day: today,
        provider: 'platform',
        model: 'platform-chat',
        purpose: 'chat',
        calls: 2,
        failed: 0,
        promptTokens: 150,
        completionTokens: 25,
      }),
      expect.objectContaining({ model: 'platform-embeddings', purpose: 'embeddings', calls: 1 }),
    ]);

    const bot = await app.api(`/api/workspaces/${other}/bots`, {
      method: 'POST',
      token: owner.token,
      json: { name: 'b' },
    });
    const botId = String(bot.json.id);
    await llm?.chat(
      { messages: [{ role: 'user', content: 'three' }] },
      { workspaceId: other, botId, purpose: 'chat' },
    );
    await flushLlmUsage(app.ctx);
    const forBot = await app.api(`/api/workspaces/${other}/llm/usage?botId=${botId}`, { token: owner.token });
    expect(forBot.json.totals).toMatchObject({ calls: 1 });

    const bad = await app.api(`/api/workspaces/${other}/llm/usage?from=2026-01-10&to=2026-01-01`, {
      token: owner.token,
    });
    expect(bad.status).toBe(400);
    const tooLong = await app.api(`/api/workspaces/${other}/llm/usage?from=2020-01-01&to=2026-01-01`, {
      token: owner.token,
    });
    expect(tooLong.status).toBe(400);
  });
});
