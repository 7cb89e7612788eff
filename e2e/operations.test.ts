import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureAdminPanelBuilt } from '../src/features/system/pages.ts';
import { FakeTelegram } from '../testkit/src/fake-telegram.ts';
import { startTestApp, type TestApp } from '../testkit/src/start-app.ts';
import { seedTelegramBot } from '../testkit/src/telegram-bot.ts';
import { addMember, createTestWorkspace, signUp, type TestUser } from '../testkit/src/users.ts';
import { hasChromium, launchBrowser, newContext, screenshot, signIn } from './browser.ts';

/**
 * The operating screens in a real browser: an operator takes a waiting customer from the inbox
 * and replies, and the customer gets the reply on (fake) Telegram; a document uploaded on the
 * knowledge screen gets indexed to "ready"; a product CSV import lists the rows it refused.
 * Screenshots of every operating screen go to docs/screenshots/.
 */
describe.skipIf(!hasChromium)('operating screens in Chromium', () => {
  let app: TestApp;
  let fake: FakeTelegram;
  let browser: Browser;
  let owner: TestUser;
  let operator: TestUser;
  let workspaceId: string;
  let token = '';
  let base = '';
  const files = mkdtempSync(path.join(tmpdir(), 'sb-e2e-'));
  const chatId = 7301;
  const customer = {
    id: chatId,
    first_name: 'Maria',
    last_name: 'Ivanova',
    username: 'maria_iv',
    language_code: 'en',
  };

  beforeAll(async () => {
    ensureAdminPanelBuilt();
    fake = await FakeTelegram.start();
    app = await startTestApp({ env: { TELEGRAM_API_ROOT: fake.url } });
    owner = await signUp(app, { name: 'Olivia Owner' });
    workspaceId = await createTestWorkspace(app, owner, 'Acme Coffee');
    operator = await addMember(app, owner, workspaceId, 'operator');
    const bot = await seedTelegramBot(app.ctx, fake, {
      workspaceId,
      webhookBaseUrl: app.url,
      config: { language: 'en', throttle: { perSecond: 100, burst: 100 } },
    });
    token = bot.token;
    base = `${app.url}/w/${workspaceId}`;
    browser = await launchBrowser();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await fake?.close();
  });

  it('an operator takes over a waiting customer from the inbox and replies; the customer gets it on Telegram', async () => {
    await app.api(`/api/workspaces/${workspaceId}/canned-responses`, {
      method: 'POST',
      token: owner.token,
      json: { shortcut: 'thanks', text: 'Thank you for waiting! Let me check that for you.' },
    });
    // The customer writes, then asks for a person: the conversation waits for an operator.
    fake.sendText(token, { chatId, from: customer, text: 'Hi! Where is my order #1042?' });
    await fake.waitFor(() => fake.sentMessages(token, chatId).length >= 1, 20_000);
    fake.sendText(token, { chatId, from: customer, text: '/escalate' });
    await fake.waitFor(() => fake.sentMessages(token, chatId).length >= 2, 20_000);

    const context = await newContext(browser);
    const page = await context.newPage();
    await signIn(page, app.url, operator);
    await page.goto(`${base}/inbox`);
    await expect
      .poll(() => page.getByTestId('live-status').getAttribute('data-status'), { timeout: 15_000 })
      .toBe('live');
    const list = page.getByTestId('inbox-list');
    await expect.poll(() => list.getByText('Maria Ivanova').isVisible(), { timeout: 15_000 }).toBe(true);
    await page.getByRole('switch', { name: 'Available for chats' }).click();
    await expect.poll(() => page.getByText('Online', { exact: true }).isVisible()).toBe(true);
    await list.getByText('Maria Ivanova').click();
    await expect
      .poll(() => page.getByTestId('thread').getByText('Hi! Where is my order #1042?').isVisible())
      .toBe(true);
    await page.getByRole('button', { name: 'Take over' }).click();
    await expect.poll(() => page.getByTestId('composer').isVisible(), { timeout: 15_000 }).toBe(true);

    // A canned response through the "/" shortcut, then sent with Enter.
    await page.getByTestId('composer').fill('/than');
    await page.getByRole('button', { name: /\/thanks/ }).click();
    await expect
      .poll(() => page.getByTestId('composer').inputValue())
      .toBe('Thank you for waiting! Let me check that for you.');
    await page
      .getByTestId('composer')
      .fill('Your order #1042 left our warehouse today, it arrives on Friday.');
    await page.getByTestId('composer').press('Enter');
    const delivered = await fake.waitFor(
      () => fake.sentMessages(token, chatId).find((message) => message.text?.includes('arrives on Friday')),
      20_000,
    );
    expect(delivered.text).toBe('Your order #1042 left our warehouse today, it arrives on Friday.');
    await expect.poll(() => page.getByTestId('thread').getByText('arrives on Friday').isVisible()).toBe(true);

    // The customer answers: the message appears without a reload (the event stream).
    fake.sendText(token, { chatId, from: customer, text: 'Great, thanks a lot!' });
    await expect
      .poll(() => page.getByTestId('thread').getByText('Great, thanks a lot!').isVisible(), {
        timeout: 15_000,
      })
      .toBe(true);
    await page.getByRole('tab', { name: /Mine/ }).click();
    await screenshot(page, 'inbox');

    // A note on the escalation, visible beside the conversation.
    await page.getByLabel('Add note').fill('Customer is a regular, offer free delivery next time.');
    await page.getByRole('button', { name: 'Add note' }).click();
    await expect.poll(() => page.getByText('offer free delivery next time').isVisible()).toBe(true);
    await context.close();

    // The escalations screen shows it, with its snapshot and the note.
    const ownerContext = await newContext(browser);
    const ownerPage = await ownerContext.newPage();
    await signIn(ownerPage, app.url, owner);
    await ownerPage.goto(`${base}/escalations`);
    await expect
      .poll(() => ownerPage.getByText('Maria Ivanova').first().isVisible(), { timeout: 15_000 })
      .toBe(true);
    await screenshot(ownerPage, 'escalations');
    await ownerPage.getByText('Maria Ivanova').first().click();
    await expect
      .poll(() => ownerPage.getByRole('dialog').getByText('offer free delivery next time').isVisible())
      .toBe(true);
    await screenshot(ownerPage, 'escalation-detail');
    await ownerContext.close();
  }, 180_000);

  it('a document uploaded on the knowledge screen shows upload progress and reaches "ready"; the probe finds it', async () => {
    const file = path.join(files, 'delivery-terms.md');
    writeFileSync(
      file,
      '# Delivery\n\nWe deliver coffee beans across Moscow within two days. Orders over 3000 RUB ship for free.\n\n# Returns\n\nUnopened packs can be returned within 14 days.\n',
    );
    const context = await newContext(browser);
    const page = await context.newPage();
    await signIn(page, app.url, owner);
    await page.goto(`${base}/knowledge`);
    await expect.poll(() => page.getByText('No documents yet').isVisible(), { timeout: 15_000 }).toBe(true);
    await page.getByTestId('knowledge-file').setInputFiles(file);
    const row = page.getByTestId('document-row').filter({ hasText: 'delivery-terms' });
    await expect.poll(() => row.getAttribute('data-status'), { timeout: 30_000 }).toBe('ready');
    await expect.poll(() => row.getByText('Ready').isVisible()).toBe(true);
    await screenshot(page, 'knowledge');

    await page.getByRole('tab', { name: 'Try a question' }).click();
    await page.getByLabel('Question', { exact: true }).fill('How long does delivery take?');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await expect
      .poll(
        () =>
          page
            .getByTestId('probe-results')
            .getByText(/within two days/)
            .isVisible(),
        { timeout: 15_000 },
      )
      .toBe(true);
    await screenshot(page, 'knowledge-probe');
    await context.close();
  }, 180_000);

  it('a product CSV import shows its progress and the rows it refused, with the reason', async () => {
    const csv = path.join(files, 'products.csv');
    writeFileSync(
      csv,
      [
        'sku,name,price,currency,category,description',
        'ESP-250,Espresso blend 250 g,890,RUB,Coffee,Dark roast for espresso machines',
        'COL-1000,Colombia Supremo 1 kg,2990,RUB,Coffee,Medium roast single origin',
        'GRD-01,Hand grinder,not-a-price,RUB,Equipment,Ceramic burrs',
        ',Nameless mug,450,RUB,Accessories,',
        'KET-07,Gooseneck kettle,3490,RUB,Equipment,0.7 l for pour-over',
      ].join('\n'),
    );
    const context = await newContext(browser);
    const page = await context.newPage();
    await signIn(page, app.url, owner);
    await page.goto(`${base}/products`);
    await expect.poll(() => page.getByText('No products yet').isVisible(), { timeout: 15_000 }).toBe(true);
    await page.getByRole('button', { name: 'Import CSV' }).first().click();
    await page.getByTestId('import-file').setInputFiles(csv);
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    const result = page.getByTestId('import-result');
    await expect.poll(() => result.isVisible(), { timeout: 30_000 }).toBe(true);
    await expect.poll(() => page.getByTestId('import-error').count()).toBe(2);
    await expect
      .poll(() => page.getByTestId('import-error').filter({ hasText: 'GRD-01' }).isVisible())
      .toBe(true);
    await screenshot(page, 'products-import');
    await page.getByRole('button', { name: 'Done' }).click();
    await expect
      .poll(() => page.getByText('Espresso blend 250 g').isVisible(), { timeout: 15_000 })
      .toBe(true);
    await screenshot(page, 'products');
    await page.getByText('Gooseneck kettle').click();
    await expect.poll(() => page.getByRole('dialog').getByLabel('SKU').inputValue()).toBe('KET-07');
    await screenshot(page, 'product-edit');
    await context.close();
  }, 180_000);

  it('renders dashboard, conversations, contacts and settings, in light and dark, on a laptop and a phone', async () => {
    const light = await newContext(browser);
    const page = await light.newPage();
    await signIn(page, app.url, owner);
    await visit(page, `${base}/dashboard`, 'Unique users', 'dashboard');
    await visit(page, `${base}/conversations`, 'Maria Ivanova', 'conversations');
    await page.getByRole('tab', { name: 'Contacts' }).click();
    await expect.poll(() => page.getByText('@maria_iv').isVisible()).toBe(true);
    await page.getByText('@maria_iv').click();
    await expect.poll(() => page.getByRole('dialog').getByText('Came from').isVisible()).toBe(true);
    await screenshot(page, 'contact-profile');
    await page.keyboard.press('Escape');
    await visit(page, `${base}/settings`, 'Canned responses', 'settings-operations', { fullPage: true });
    await light.close();

    const dark = await newContext(browser, { colorScheme: 'dark' });
    const darkPage = await dark.newPage();
    await signIn(darkPage, app.url, owner);
    await visit(darkPage, `${base}/dashboard`, 'Unique users', 'dashboard-dark');
    await darkPage.goto(`${base}/inbox`);
    await darkPage.getByRole('tab', { name: /Active/ }).click();
    await darkPage.getByTestId('inbox-list').getByText('Maria Ivanova').click();
    await expect
      .poll(() => darkPage.getByTestId('thread').getByText('Great, thanks a lot!').isVisible(), {
        timeout: 15_000,
      })
      .toBe(true);
    await screenshot(darkPage, 'inbox-dark');
    await dark.close();

    const phone = await newContext(browser, { mobile: true });
    const phonePage = await phone.newPage();
    await signIn(phonePage, app.url, operator);
    await visit(phonePage, `${base}/inbox`, 'Waiting', 'phone-inbox');
    await phonePage.getByRole('tab', { name: /Active/ }).click();
    await phonePage.getByTestId('inbox-list').getByText('Maria Ivanova').click();
    await expect
      .poll(() => phonePage.getByTestId('thread').getByText('Great, thanks a lot!').isVisible(), {
        timeout: 15_000,
      })
      .toBe(true);
    await screenshot(phonePage, 'phone-inbox-conversation');
    await visit(phonePage, `${base}/products`, 'Espresso blend 250 g', 'phone-products');
    await phone.close();
  }, 180_000);
});

async function visit(
  page: Page,
  url: string,
  text: string,
  name: string,
  options: { fullPage?: boolean } = {},
) {
  await page.goto(url);
  await expect
    .poll(() => page.getByText(text, { exact: false }).first().isVisible(), { timeout: 15_000 })
    .toBe(true);
  await screenshot(page, name, options);
}
