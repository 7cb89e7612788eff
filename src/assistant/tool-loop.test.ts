import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buttonDataOf, chatSession, loadExampleShop } from '../../testkit/src/chat-session.ts';
import { FakeOpenAI } from '../../testkit/src/fake-openai.ts';
import { FakeTelegram } from '../../testkit/src/fake-telegram.ts';
import { renderTextPng } from '../../testkit/src/price-tag-image.ts';
import { startTestApp, type TestApp } from '../../testkit/src/start-app.ts';
import { seedTelegramBot } from '../../testkit/src/telegram-bot.ts';
import { createTestWorkspace, signUp, type TestUser } from '../../testkit/src/users.ts';
import { priceAlerts } from '../features/catalog/schema.ts';
import { findProductBySku } from '../features/catalog/service.ts';
import { conversations, messages } from '../features/conversations/schema.ts';
import { escalations } from '../features/escalations/schema.ts';

/**
 * The assistant with an LLM, end to end: the fake Telegram in front, the pipeline, and two fake
 * OpenAI-compatible servers behind — the workspace's own provider (tried first) and the
 * platform default (its fallback).
 */

let fake: FakeTelegram;
let own: FakeOpenAI;
let platform: FakeOpenAI;
let app: TestApp;
let owner: TestUser;
let workspaceId: string;
let bot: Awaited<ReturnType<typeof seedTelegramBot>>;
let nextChat = 2000;

beforeAll(async () => {
  [fake, own, platform] = await Promise.all([
    FakeTelegram.start({ webhookRetryBaseMs: 20, rateLimits: false }),
    FakeOpenAI.start(),
    FakeOpenAI.start(),
  ]);
  app = await startTestApp({
    env: {
      TELEGRAM_API_ROOT: fake.url,
      LLM_BASE_URL: platform.url,
      LLM_API_KEY: platform.apiKey,
      LLM_MODEL: 'platform-chat',
      LLM_MAX_RETRIES: '0',
      LLM_RETRY_BASE_MS: '5',
      LLM_TIMEOUT_MS: '5000',
      // High enough that the failure tests never open a breaker for the tests after them.
      LLM_BREAKER_THRESHOLD: '1000',
    },
  });
  owner = await signUp(app);
  workspaceId = await createTestWorkspace(app, owner, 'Uyut Furniture');
  await loadExampleShop(app, owner, workspaceId);
  const provider = await app.api(`/api/workspaces/${workspaceId}/llm/providers`, {
    method: 'POST',
    token: owner.token,
    json: {
      name: 'Own',
      baseUrl: own.url,
      apiKey: own.apiKey,
      chatModel: 'own-chat',
      transcriptionModel: 'own-whisper',
      visionModel: 'own-vision',
      priority: 1,
    },
  });
  expect(provider.status, JSON.stringify(provider.body)).toBe(201);
  bot = await seedTelegramBot(app.ctx, fake, {
    workspaceId,
    webhookBaseUrl: app.url,
    config: { language: 'en' },
  });
}, 180_000);
afterAll(async () => {
  await app?.close();
  await Promise.all([fake?.close(), own?.close(), platform?.close()]);
});
beforeEach(() => {
  own.reset();
  platform.reset();
});

const newChat = () => chatSession(app, fake, bot, nextChat++);

function toolMessages(request: { body: Record<string, unknown> } | undefined): string[] {
  const list = Array.isArray(request?.body.messages) ? request.body.messages : [];
  return list.flatMap((message: { role?: string; content?: unknown }) =>
    message.role === 'tool' ? [String(message.content)] : [],
  );
}

async function conversationOf(chatId: number) {
  const [conversation] = await app.ctx.db
    .select()
    .from(conversations)
    .where(and(eq(conversations.workspaceId, workspaceId), eq(conversations.chatId, String(chatId))));
  if (!conversation) throw new Error(`no conversation for chat ${chatId}`);
  return conversation;
}

describe('the assistant with an LLM', () => {
  it('sends the products of a scripted search_products call as cards under the model’s answer', async () => {
    own.script(
      { toolCalls: [{ name: 'search_products', arguments: { query: 'sofa', price_max: 150000 } }] },
      'Here are our sofas under 150 000 ₽.',
    );
    const chatId = nextChat;
    const replies = await newChat().text('what sofas under 150000?');
    expect(replies[0]?.text).toBe('Here are our sofas under 150 000 ₽.');
    const cards = replies.slice(1).filter((message) => /SKU: /.test(message.text ?? ''));
    expect(cards).toHaveLength(3);
    for (const card of cards) {
      expect(card.text).toMatch(/SKU: SOFA-\d{3}/);
      expect(buttonDataOf(card)).toHaveLength(4);
    }

    const [first, second] = own.requestsTo('/v1/chat/completions');
    const tools = Array.isArray(first?.body.tools) ? first.body.tools : [];
    expect(tools.map((tool: { function: { name: string } }) => tool.function.name).sort()).toEqual([
      'create_price_alert',
      'escalate_to_human',
      'get_product',
      'search_knowledge',
      'search_products',
    ]);
    expect(JSON.stringify(first?.body.messages)).toContain('Uyut Furniture');
    const [result] = toolMessages(second);
    expect(JSON.parse(result ?? '{}').results.every((item: { price: number }) => item.price <= 150000)).toBe(
      true,
    );
    expect(platform.requests).toEqual([]);
    // The conversation's memory reaches the model on the next turn.
    own.script('You asked about sofas.');
    await chatSession(app, fake, bot, chatId).text('what did I ask?');
    expect(JSON.stringify(own.requestsTo('/v1/chat/completions').at(-1)?.body.messages)).toContain(
      'what sofas under 150000?',
    );
  });

  it('survives malformed and invalid tool arguments: the model gets the error and answers', async () => {
    own.script(
      { toolCalls: [{ name: 'search_products', arguments: '{"query": "sofa",' }] },
      { toolCalls: [{ name: 'search_products', arguments: { price_max: 'cheap' } }] },
      { toolCalls: [{ name: 'order_pizza', arguments: {} }] },
      'Sorry, I could not search just now. Could you rephrase?',
    );
    const replies = await newChat().text('sofas?');
    expect(replies.map((message) => message.text)).toEqual([
      'Sorry, I could not search just now. Could you rephrase?',
    ]);
    const requests = own.requestsTo('/v1/chat/completions');
    expect(requests).toHaveLength(4);
    const errors = toolMessages(requests[3]);
    expect(errors[0]).toContain('not valid JSON');
    expect(errors[1]).toContain('invalid arguments');
    expect(errors[2]).toContain('unknown tool');
  });

  it('falls over to the next provider when the first answers 500 or 429', async () => {
    own.mode('serverError', { status: 500 });
    platform.script('The platform model answered.');
    expect((await newChat().text('hello there')).map((message) => message.text)).toEqual([
      'The platform model answered.',
    ]);
    expect(own.requestsTo('/v1/chat/completions').every((request) => request.status === 500)).toBe(true);

    own.reset();
    own.mode('rateLimit', { retryAfterSeconds: 0 });
    platform.script('Answered despite the rate limit.');
    expect((await newChat().text('hello again')).map((message) => message.text)).toEqual([
      'Answered despite the rate limit.',
    ]);
    expect(own.requestsTo('/v1/chat/completions')[0]?.status).toBe(429);
  });

  it('answers offline when every provider fails, and counts the fallback', async () => {
    own.mode('serverError');
    platform.mode('serverError', { status: 503 });
    const replies = await newChat().text('what sofas under 150000?');
    expect(replies[0]?.text).toBe('Here is what I found:');
    expect(replies[1]?.text).toMatch(/SKU: SOFA-\d{3}/);
    const metrics = await fetch(`${app.url}/metrics`).then((response) => response.text());
    expect(metrics).toMatch(/switchboard_assistant_offline_fallbacks_total\{reason="unavailable"\} [1-9]/);
  });

  it('escalates with source llm when the model calls escalate_to_human', async () => {
    const sofa = await findProductBySku(app.ctx, workspaceId, 'SOFA-002');
    own.script(
      {
        toolCalls: [
          { name: 'escalate_to_human', arguments: { reason: 'wants a custom fabric', product_id: sofa?.id } },
        ],
      },
      'I have asked a colleague to help you with the fabric.',
    );
    const chatId = nextChat;
    const replies = await newChat().text('Can you make the Oscar sofa in my own fabric?');
    expect(replies.map((message) => message.text)).toEqual([
      'I have asked a colleague to help you with the fabric.',
    ]);
    const conversation = await conversationOf(chatId);
    const rows = await app.ctx.db
      .select()
      .from(escalations)
      .where(eq(escalations.conversationId, conversation.id));
    expect(rows).toMatchObject([{ source: 'llm', reason: 'wants a custom fabric', productId: sofa?.id }]);
  });

  it('creates a price alert through create_price_alert', async () => {
    const sofa = await findProductBySku(app.ctx, workspaceId, 'SOFA-006');
    if (!sofa) throw new Error('example catalog missing');
    own.script(
      {
        toolCalls: [{ name: 'create_price_alert', arguments: { product_id: sofa.id, target_price: 150000 } }],
      },
      'Done, I will tell you when the Loft sofa costs 150 000 ₽ or less.',
    );
    const chatId = nextChat;
    await newChat().text('Tell me when the Loft sofa is under 150000');
    const conversation = await conversationOf(chatId);
    const alerts = await app.ctx.db
      .select()
      .from(priceAlerts)
      .where(and(eq(priceAlerts.productId, sofa.id), eq(priceAlerts.conversationId, conversation.id)));
    expect(alerts).toMatchObject([{ targetPrice: 150000, status: 'active' }]);
    expect(JSON.parse(toolMessages(own.requestsTo('/v1/chat/completions')[1])[0] ?? '{}')).toMatchObject({
      ok: true,
      current_price: 198500,
    });
  });

  it('stops after maxToolRounds and answers with what the tools found', async () => {
    const search = { toolCalls: [{ name: 'search_products', arguments: { query: 'armchair' } }] };
    own.script(search, search, search, search, search);
    const replies = await newChat().text('armchairs');
    expect(own.requestsTo('/v1/chat/completions')).toHaveLength(4);
    expect(replies[0]?.text).toBe('Here is what I found:');
    expect(replies[1]?.text).toMatch(/SKU: ARM-\d{3}/);
  });

  it('transcribes a voice note, stores the transcript and answers it like text', async () => {
    own.scriptTranscription('do you have a showroom?');
    own.script('Yes, come to 12 Garden Street.');
    const chatId = nextChat;
    const replies = await newChat().voice({ bytes: Buffer.from('OggS fake opus'), mimeType: 'audio/ogg' });
    expect(replies.map((message) => message.text)).toEqual(['Yes, come to 12 Garden Street.']);
    expect(own.requestsTo('/v1/audio/transcriptions')).toHaveLength(1);
    const conversation = await conversationOf(chatId);
    const [inbound] = await app.ctx.db
      .select()
      .from(messages)
      .where(and(eq(messages.conversationId, conversation.id), eq(messages.direction, 'in')));
    expect(inbound).toMatchObject({ type: 'voice', text: 'do you have a showroom?' });
    expect(inbound?.payload).toMatchObject({ transcript: 'do you have a showroom?' });
  });

  it('asks the vision model about a photo without an article number and searches its description', async () => {
    own.script('brown leather chesterfield sofa');
    const chatId = nextChat;
    const replies = await newChat().photo({ bytes: renderTextPng(['HELLO']), mimeType: 'image/png' });
    expect(replies[0]?.text).toBe('Here is what I found:');
    expect(replies[1]?.text).toContain('SOFA-001');
    const vision = own.requestsTo('/v1/chat/completions')[0];
    expect(vision?.model).toBe('own-vision');
    const conversation = await conversationOf(chatId);
    const [inbound] = await app.ctx.db
      .select()
      .from(messages)
      .where(and(eq(messages.conversationId, conversation.id), eq(messages.direction, 'in')));
    expect(inbound?.payload).toMatchObject({ vision: 'brown leather chesterfield sofa' });
  });
});
