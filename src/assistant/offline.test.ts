import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buttonDataOf, chatSession, loadExampleShop, waitUntil } from '../../testkit/src/chat-session.ts';
import { FakeTelegram } from '../../testkit/src/fake-telegram.ts';
import { renderTextPng } from '../../testkit/src/price-tag-image.ts';
import { startTestApp, type TestApp } from '../../testkit/src/start-app.ts';
import { seedTelegramBot } from '../../testkit/src/telegram-bot.ts';
import { createTestWorkspace, signUp, type TestUser } from '../../testkit/src/users.ts';
import { analyticsEvents } from '../features/analytics/schema.ts';
import { priceAlerts } from '../features/catalog/schema.ts';
import { checkPriceAlerts, findProductBySku } from '../features/catalog/service.ts';
import { conversations, messages } from '../features/conversations/schema.ts';
import { escalations } from '../features/escalations/schema.ts';

/**
 * The assistant with no LLM configured, end to end through the fake Telegram: what `npm start`
 * shows with no key once the example catalog and FAQ are loaded.
 */

let fake: FakeTelegram;
let app: TestApp;
let owner: TestUser;
let workspaceId: string;
let token: string;
let bot: Awaited<ReturnType<typeof seedTelegramBot>>;

beforeAll(async () => {
  fake = await FakeTelegram.start({ webhookRetryBaseMs: 20, rateLimits: false });
  app = await startTestApp({ env: { TELEGRAM_API_ROOT: fake.url } });
  owner = await signUp(app);
  workspaceId = await createTestWorkspace(app, owner, 'Uyut Furniture');
  await loadExampleShop(app, owner, workspaceId);
  bot = await seedTelegramBot(app.ctx, fake, {
    workspaceId,
    webhookBaseUrl: app.url,
    config: { language: 'en' },
  });
  token = bot.token;
}, 180_000);
afterAll(async () => {
  await app?.close();
  await fake?.close();
});

const sessions = new Map<number, ReturnType<typeof chatSession>>();
const session = (chatId: number) => {
  let found = sessions.get(chatId);
  if (!found) {
    found = chatSession(app, fake, bot, chatId);
    sessions.set(chatId, found);
  }
  return found;
};
const ask = (chatId: number, text: string) => session(chatId).text(text);
const press = (chatId: number, data: string) => session(chatId).press(data);
const buttonsOf = buttonDataOf;

async function escalationsOf(chatId: number) {
  const [conversation] = await app.ctx.db
    .select()
    .from(conversations)
    .where(and(eq(conversations.workspaceId, workspaceId), eq(conversations.chatId, String(chatId))));
  if (!conversation) return [];
  return app.ctx.db.select().from(escalations).where(eq(escalations.conversationId, conversation.id));
}

describe('the offline assistant', () => {
  it('answers "what sofas under 150000?" with product cards of sofas in the price range', async () => {
    const replies = await ask(1001, 'what sofas under 150000?');
    const [intro, ...cards] = replies;
    expect(intro?.text).toBe('Here is what I found:');
    // Three cards, the last one telling how many more there are (no fifth message).
    expect(cards).toHaveLength(3);
    expect(cards.at(-1)?.text).toMatch(/\n\n…and \d+\+? more\. Tell me what matters most/);
    for (const card of cards.slice(0, 3)) {
      expect(card.text).toMatch(/SKU: SOFA-\d{3}/);
      const price = Number(/([\d,]+)/.exec(card.text?.split('\n')[1] ?? '')?.[1]?.replaceAll(',', ''));
      expect(price).toBeLessThanOrEqual(150000);
      const buttons = buttonsOf(card);
      expect(buttons).toEqual([
        expect.stringMatching(/^p:/),
        expect.stringMatching(/^pm:/),
        expect.stringMatching(/^pa:/),
        expect.stringMatching(/^h:/),
      ]);
      for (const data of buttons) expect(Buffer.byteLength(data)).toBeLessThanOrEqual(64);
    }
    await waitUntil(async () => {
      const events = await app.ctx.db
        .select()
        .from(analyticsEvents)
        .where(and(eq(analyticsEvents.workspaceId, workspaceId), eq(analyticsEvents.type, 'search')));
      return events.some((event) => JSON.stringify(event.data).includes('what sofas under 150000?'));
    });
  });

  it('finds Russian queries with price phrases and answers an article number with the full card', async () => {
    const russian = await ask(1002, 'Есть ли диваны дешевле 100 000 ₽?');
    expect(russian.map((message) => message.text ?? '').join('\n')).toMatch(/SOFA-00[34]/);
    const [card] = await ask(1002, 'Tell me about SOFA-001');
    expect(card?.text).toContain('Chester sofa');
    expect(card?.text).toContain('material: leather');
    expect(buttonsOf(card)).not.toContainEqual(expect.stringMatching(/^p:/));
  });

  it('answers a FAQ question with its QA pair, and a policy question with the knowledge passage', async () => {
    const [qa] = await ask(1003, 'do you have a showroom?');
    expect(qa?.text).toBe('Yes! Our showroom is at 12 Garden Street, open daily 10:00–20:00.');
    const [warranty] = await ask(1003, 'What warranty do sofa frames have?');
    expect(warranty?.text).toContain('5 years');
    expect(warranty?.text).toContain('— ');
    const [delivery] = await ask(1003, 'Сколько стоит доставка по городу?');
    expect(delivery?.text).toContain('1 500 ₽');
  });

  it('escalates "I want a manager"', async () => {
    const [reply] = await ask(1004, 'I want a manager');
    expect(reply?.text).toContain('manager');
    await waitUntil(async () => (await escalationsOf(1004)).length === 1);
    expect((await escalationsOf(1004))[0]).toMatchObject({ source: 'keyword' });
  });

  it('says it does not know with a button to a person, and escalates the second time in a row', async () => {
    const [first] = await ask(1005, 'qwerty zxcvb plugh');
    expect(first?.text).toBe('I am not sure I can answer that myself. Would you like to talk to a person?');
    expect(buttonsOf(first)).toEqual(['escalate']);
    expect(await escalationsOf(1005)).toEqual([]);
    await ask(1005, 'blorp frobnicate');
    await waitUntil(async () => (await escalationsOf(1005)).length === 1);
    expect((await escalationsOf(1005))[0]).toMatchObject({ source: 'repeated_unknown' });
  });

  it('says so when nothing matches, and suggests the categories', async () => {
    const [reply] = await ask(1006, 'show me sofas under 100');
    expect(reply?.text).toContain('I could not find anything');
    expect(reply?.text).toContain('sofas');
  });

  it('handles the card buttons: details, similar products, price alert, a person about the product', async () => {
    const sofa = await findProductBySku(app.ctx, workspaceId, 'SOFA-001');
    if (!sofa) throw new Error('example catalog missing');
    const [details] = await press(1007, `p:${sofa.id}`);
    expect(details?.text).toContain('Three-seat Chesterfield sofa');

    const [intro, ...similar] = await press(1007, `pm:${sofa.id}`);
    expect(intro?.text).toContain('Similar to');
    expect(similar.map((card) => card.text ?? '').join('\n')).not.toContain('SOFA-001');
    expect(similar[0]?.text).toMatch(/SOFA-\d{3}/);

    const [confirmation] = await press(1007, `pa:${sofa.id}`);
    expect(confirmation?.text).toMatch(/^Done! I will message you when/);
    const alerts = await app.ctx.db.select().from(priceAlerts).where(eq(priceAlerts.productId, sofa.id));
    expect(alerts).toMatchObject([{ targetPrice: 123405, status: 'active' }]);

    await press(1007, `h:${sofa.id}`);
    await waitUntil(async () => (await escalationsOf(1007)).length === 1);
    expect((await escalationsOf(1007))[0]).toMatchObject({ source: 'button', productId: sofa.id });
    expect(fake.requests({ token, method: 'answerCallbackQuery' }).length).toBeGreaterThanOrEqual(4);
  });

  it('notifies the customer who pressed the price-alert button exactly once when the price drops', async () => {
    const chair = await findProductBySku(app.ctx, workspaceId, 'CHR-002');
    if (!chair) throw new Error('example catalog missing');
    await press(1012, `pa:${chair.id}`);
    const lower = async (price: number) => {
      const response = await app.api(`/api/workspaces/${workspaceId}/products/${chair.id}`, {
        method: 'PATCH',
        token: owner.token,
        json: { price },
      });
      expect(response.status).toBe(200);
    };
    await lower(29000);
    await fake.waitFor(
      () => fake.sentMessages(token, 1012).some((message) => message.text?.startsWith('🔔')),
      15_000,
    );
    await waitUntil(async () => {
      const [alert] = await app.ctx.db.select().from(priceAlerts).where(eq(priceAlerts.productId, chair.id));
      return alert?.status === 'fired';
    });
    await lower(25000);
    // The check a price change triggers, run here too: the fired alert never fires again.
    expect(await checkPriceAlerts(app.ctx, [chair.id])).toBe(0);
    await session(1012).text('/help');
    expect(fake.sentMessages(token, 1012).filter((message) => message.text?.startsWith('🔔'))).toHaveLength(
      1,
    );
  });

  it('keeps the commands of the simple responder', async () => {
    const [help] = await ask(1008, '/help');
    expect(help?.text).toContain('/contact');
  });

  it('reads SOFA-001 off a photographed price tag and answers with that product', async () => {
    const tag = renderTextPng(['PRICE 129900', 'SOFA-001']);
    const [card] = await session(1009).photo({ bytes: tag, mimeType: 'image/png' });
    expect(card?.text).toContain('SKU: SOFA-001');
    expect(card?.text).toContain('Chester sofa');
    const inbound = await inboundMessages(1009);
    expect(String(inbound[0]?.payload.ocr)).toContain('SOFA-001');
  }, 60_000);

  it('asks for a description of a photo it cannot read, and says voice is not available', async () => {
    const [photo] = await session(1010).photo({ bytes: renderTextPng(['HELLO']), mimeType: 'image/png' });
    expect(photo?.text).toMatch(/^I could not recognise a product on this photo/);
    const [voice] = await session(1010).voice({ bytes: Buffer.from('OggS'), mimeType: 'audio/ogg' });
    expect(voice?.text).toBe('Sorry, I cannot listen to voice messages here. Please type your question.');
  }, 60_000);

  it('answers a photo caption with an article number without reading the photo', async () => {
    const [card] = await session(1011).photo({
      bytes: renderTextPng(['HELLO']),
      caption: 'Is ARM-002 in stock?',
    });
    expect(card?.text).toContain('SKU: ARM-002');
  }, 60_000);
});

async function inboundMessages(chatId: number) {
  const [conversation] = await app.ctx.db
    .select()
    .from(conversations)
    .where(and(eq(conversations.workspaceId, workspaceId), eq(conversations.chatId, String(chatId))));
  if (!conversation) return [];
  return app.ctx.db
    .select()
    .from(messages)
    .where(and(eq(messages.conversationId, conversation.id), eq(messages.direction, 'in')));
}
