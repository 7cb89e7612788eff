import { and, eq, like } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeTelegram } from '../../../testkit/src/fake-telegram.ts';
import { startTestApp, type TestApp } from '../../../testkit/src/start-app.ts';
import { seedTelegramBot } from '../../../testkit/src/telegram-bot.ts';
import { createTestWorkspace, signUp, type TestUser } from '../../../testkit/src/users.ts';
import { outbox } from '../../pipeline/schema.ts';
import { analyticsEvents } from '../analytics/schema.ts';
import { contacts, conversations } from '../conversations/schema.ts';
import { PRICE_ALERT_QUEUE, priceAlertText } from './price-alerts.ts';
import { products } from './schema.ts';
import { checkPriceAlerts, createPriceAlert } from './service.ts';

let fake: FakeTelegram;
let app: TestApp;
let owner: TestUser;
let workspaceId: string;
let token: string;
let channelId: string;

beforeAll(async () => {
  fake = await FakeTelegram.start();
  app = await startTestApp({ env: { TELEGRAM_API_ROOT: fake.url } });
  owner = await signUp(app);
  workspaceId = await createTestWorkspace(app, owner, 'Alert shop');
  const seeded = await seedTelegramBot(app.ctx, fake, {
    workspaceId,
    webhookBaseUrl: app.url,
    config: { language: 'en' },
  });
  token = seeded.token;
  channelId = seeded.channel.id;
});
afterAll(async () => {
  await app?.close();
  await fake?.close();
});

async function waitUntil(predicate: () => Promise<boolean> | boolean, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await predicate()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('condition not met in time');
}

/** A customer who has written to the bot, so a contact and a conversation exist. */
async function customer(chatId: number, languageCode: string) {
  fake.sendText(token, {
    chatId,
    from: { id: chatId, first_name: 'Ann', username: `ann${chatId}`, language_code: languageCode },
    text: 'hello',
  });
  let found: { contactId: string; conversationId: string } | undefined;
  await waitUntil(async () => {
    const [row] = await app.ctx.db
      .select({ contactId: contacts.id, conversationId: conversations.id })
      .from(conversations)
      .innerJoin(contacts, eq(contacts.id, conversations.contactId))
      .where(and(eq(conversations.channelId, channelId), eq(conversations.chatId, String(chatId))));
    found = row;
    return row !== undefined;
  });
  if (!found) throw new Error('no conversation');
  return found;
}

async function createProduct(sku: string, name: string, price: number) {
  const response = await app.api(`/api/workspaces/${workspaceId}/products`, {
    method: 'POST',
    token: owner.token,
    json: { sku, name, price, currency: 'RUB' },
  });
  expect(response.status).toBe(201);
  return String(response.json.id);
}

const setPrice = (productId: string, price: number) =>
  app.api(`/api/workspaces/${workspaceId}/products/${productId}`, {
    method: 'PATCH',
    token: owner.token,
    json: { price },
  });

const alertTexts = (chatId: number) =>
  fake
    .sentMessages(token, chatId)
    .map((message) => message.text ?? '')
    .filter((text) => text.startsWith('🔔'));

async function queueIdle() {
  const stats = await app.ctx.ports.queue.stats(PRICE_ALERT_QUEUE);
  // The repeatable sweep always has its next run delayed; only waiting and running jobs count.
  return stats.waiting === 0 && stats.active === 0;
}

async function alertOutboxRows(alertId: string) {
  return app.ctx.db
    .select()
    .from(outbox)
    .where(and(eq(outbox.channelId, channelId), like(outbox.idempotencyKey, `alert-${alertId}:%`)));
}

describe('price alerts end to end through the fake Telegram API', () => {
  it('notifies the subscribed customer exactly once, in their language, when the price drops below the target', async () => {
    const productId = await createProduct('SOFA-001', 'Диван Честер', 129900);
    const { contactId, conversationId } = await customer(701, 'ru');

    const first = await createPriceAlert(app.ctx, {
      workspaceId,
      contactId,
      conversationId,
      productId,
      targetPrice: 100000,
    });
    expect(first.created).toBe(true);
    const again = await createPriceAlert(app.ctx, {
      workspaceId,
      contactId,
      conversationId,
      productId,
      targetPrice: 120000,
    });
    expect(again).toMatchObject({ created: false, alert: { id: first.alert.id, targetPrice: 120000 } });

    // Above the target: nothing.
    expect((await setPrice(productId, 125000)).status).toBe(200);
    await waitUntil(queueIdle);
    expect(alertTexts(701)).toEqual([]);

    // Below it, twice in a row, plus checks racing each other.
    expect((await setPrice(productId, 119900)).status).toBe(200);
    expect((await setPrice(productId, 109900)).status).toBe(200);
    const raced = await Promise.all([
      checkPriceAlerts(app.ctx, [productId]),
      checkPriceAlerts(app.ctx, [productId]),
      checkPriceAlerts(app.ctx),
    ]);
    await waitUntil(async () => alertTexts(701).length > 0 && (await queueIdle()));
    await waitUntil(async () =>
      (await alertOutboxRows(first.alert.id)).every((row) => row.status === 'sent'),
    );
    expect(raced.reduce((sum, fired) => sum + fired, 0)).toBeLessThanOrEqual(1);
    expect(await checkPriceAlerts(app.ctx)).toBe(0);

    const texts = alertTexts(701);
    expect(texts).toHaveLength(1);
    expect(texts[0]).toContain('Цена снизилась');
    expect(texts[0]).toContain('Диван Честер');
    expect(texts[0]).toContain('SOFA-001');
    expect(await alertOutboxRows(first.alert.id)).toHaveLength(1);

    const listed = await app.api(`/api/workspaces/${workspaceId}/price-alerts?productId=${productId}`, {
      token: owner.token,
    });
    expect(listed.json.items).toEqual([
      expect.objectContaining({
        id: first.alert.id,
        status: 'fired',
        targetPrice: 120000,
        priceAtCreation: 129900,
        product: expect.objectContaining({ sku: 'SOFA-001' }),
      }),
    ]);
    const firedPrice = (Array.isArray(listed.json.items) ? listed.json.items : [])[0]?.firedPrice;
    expect([119900, 109900]).toContain(firedPrice);

    // A fired alert cannot be cancelled.
    const cancel = await app.api(`/api/workspaces/${workspaceId}/price-alerts/${first.alert.id}`, {
      method: 'DELETE',
      token: owner.token,
    });
    expect(cancel.status).toBe(409);

    await app.ctx.analytics.flush();
    const events = await app.ctx.db
      .select({ type: analyticsEvents.type })
      .from(analyticsEvents)
      .where(and(eq(analyticsEvents.workspaceId, workspaceId), eq(analyticsEvents.contactId, contactId)));
    const types = events.map((event) => event.type);
    expect(types.filter((type) => type === 'price_alert_created')).toHaveLength(2);
    expect(types.filter((type) => type === 'price_alert_fired')).toHaveLength(1);
  }, 60_000);

  it('fires once when concurrent checks race for the same due alert', async () => {
    const productId = await createProduct('ARM-001', 'Chester armchair', 64900);
    const { contactId, conversationId } = await customer(702, 'en');
    const { alert } = await createPriceAlert(app.ctx, {
      workspaceId,
      contactId,
      conversationId,
      productId,
      targetPrice: 60000,
    });
    // Changed behind the API's back: no check was queued, the racing checks find it due.
    await app.ctx.db.update(products).set({ price: 59000 }).where(eq(products.id, productId));
    const fired = await Promise.all(Array.from({ length: 4 }, () => checkPriceAlerts(app.ctx, [productId])));
    expect(fired.reduce((sum, count) => sum + count, 0)).toBe(1);
    await waitUntil(() => alertTexts(702).length > 0);
    await waitUntil(async () => (await alertOutboxRows(alert.id)).every((row) => row.status === 'sent'));
    expect(alertTexts(702)).toEqual([
      expect.stringMatching(
        /^🔔 Price drop: “Chester armchair” \(ARM-001\) is now RUB\s?59,000, down from RUB\s?64,900/,
      ),
    ]);
  }, 60_000);

  it('fires on a price drop that arrives through an import', async () => {
    const productId = await createProduct('BED-001', 'Verona bed', 69900);
    const { contactId, conversationId } = await customer(706, 'en');
    const { alert } = await createPriceAlert(app.ctx, {
      workspaceId,
      contactId,
      conversationId,
      productId,
      targetPrice: 65000,
    });
    const imported = await fetch(`${app.url}/api/workspaces/${workspaceId}/products/import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${owner.token}`, 'content-type': 'text/csv' },
      body: 'sku,name,price\nBED-001,Verona bed,64900\n',
    });
    expect(imported.status).toBe(200);
    await waitUntil(() => alertTexts(706).length > 0);
    expect(alertTexts(706)).toEqual([expect.stringContaining('Verona bed')]);
    expect(await alertOutboxRows(alert.id)).toHaveLength(1);
  }, 60_000);

  it('sends nothing for a cancelled alert, and cancelling is idempotent', async () => {
    const productId = await createProduct('LMP-001', 'Arc lamp', 15900);
    const { contactId, conversationId } = await customer(703, 'en');
    const { alert } = await createPriceAlert(app.ctx, {
      workspaceId,
      contactId,
      conversationId,
      productId,
      targetPrice: 15000,
    });
    for (let attempt = 0; attempt < 2; attempt++) {
      const cancelled = await app.api(`/api/workspaces/${workspaceId}/price-alerts/${alert.id}`, {
        method: 'DELETE',
        token: owner.token,
      });
      expect(cancelled.status).toBe(200);
      expect(cancelled.json).toMatchObject({ status: 'cancelled' });
    }
    expect((await setPrice(productId, 9900)).status).toBe(200);
    await waitUntil(queueIdle);
    expect(await checkPriceAlerts(app.ctx)).toBe(0);
    expect(alertTexts(703)).toEqual([]);
    const listed = await app.api(`/api/workspaces/${workspaceId}/price-alerts?status=cancelled`, {
      token: owner.token,
    });
    expect(listed.json.items).toEqual([expect.objectContaining({ id: alert.id })]);
  }, 60_000);

  it('refuses an alert on another workspace’s product or someone else’s conversation', async () => {
    const otherWorkspace = await createTestWorkspace(app, owner, 'Other alert shop');
    const productId = await createProduct('CHR-001', 'Chair', 1000);
    const { contactId, conversationId } = await customer(704, 'en');
    const mine = await customer(705, 'en');
    await expect(
      createPriceAlert(app.ctx, {
        workspaceId: otherWorkspace,
        contactId,
        conversationId,
        productId,
        targetPrice: 10,
      }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(
      createPriceAlert(app.ctx, {
        workspaceId,
        contactId,
        conversationId: mine.conversationId,
        productId,
        targetPrice: 10,
      }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
  }, 60_000);
});

describe('priceAlertText', () => {
  it('names the product and both prices, in Russian or English', () => {
    const base = { name: 'Sofa', sku: 'SOFA-001', currency: 'RUB', was: 129900, now: 99900, target: 100000 };
    expect(priceAlertText({ ...base, language: 'ru' })).toMatch(/Sofa.*SOFA-001.*99\s900.*129\s900/);
    expect(priceAlertText({ ...base, language: 'en-GB' })).toContain('down from RUB');
    expect(priceAlertText({ ...base, language: null, was: 99900 })).toContain('at or below your target');
  });
});
