import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatKeyOf, updateTypeOf } from '../src/channels/telegram/normalize.ts';
import { defaultBotConfig } from '../src/features/bots/bot-config.ts';
import type { TelegramUpdatesHandler } from '../src/features/channels/telegram-poller.ts';
import { startTelegramPoller, type TelegramPoller } from '../src/features/channels/telegram-poller.ts';
import { ensureAdminPanelBuilt } from '../src/features/system/pages.ts';
import { createIngest } from '../src/pipeline/ingest.ts';
import { wakeWorkers } from '../src/pipeline/wake.ts';
import { FakeTelegram } from '../testkit/src/fake-telegram.ts';
import { startTestApp, type TestApp } from '../testkit/src/start-app.ts';
import { addMember, createTestWorkspace, signUp, type TestUser } from '../testkit/src/users.ts';
import { hasChromium, launchBrowser, newContext, screenshot, signIn } from './browser.ts';

/**
 * The panel in a real browser against the real app and the fake Telegram: an owner builds a
 * bot from nothing to a customer's greeting; a viewer sees it all and can change nothing.
 * Each step saves a screenshot of the screen it is on (docs/screenshots/).
 */
describe.skipIf(!hasChromium)('admin panel in Chromium', { timeout: 120_000 }, () => {
  let app: TestApp;
  let fake: FakeTelegram;
  let browser: Browser;
  let owner: TestUser;
  let viewer: TestUser;
  let workspaceId: string;
  let poller: TelegramPoller | undefined;
  let botPath = '';
  const greeting = 'Welcome to Acme Coffee! Ask about beans, grinders or your order.';

  beforeAll(async () => {
    ensureAdminPanelBuilt();
    fake = await FakeTelegram.start();
    app = await startTestApp({ env: { TELEGRAM_API_ROOT: fake.url } });
    owner = await signUp(app, { name: 'Olivia Owner' });
    workspaceId = await createTestWorkspace(app, owner, 'Acme Coffee');
    viewer = await addMember(app, owner, workspaceId, 'viewer');
    browser = await launchBrowser();
  }, 180_000);

  afterAll(async () => {
    await poller?.stop();
    await browser?.close();
    await app?.close();
    await fake?.close();
  });

  it('owner signs in, creates a bot, connects Telegram and publishes a greeting the customer gets on /start', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await page.goto(`${app.url}/`);
    await page.waitForURL(/\/sign-in/);
    await page.getByLabel('Email').fill(owner.email);
    await screenshot(page, 'sign-in');
    await signIn(page, app.url, owner);

    await expect.poll(() => page.getByText('No bots yet').isVisible()).toBe(true);
    await screenshot(page, 'bots-empty');
    await page.getByRole('button', { name: 'New bot' }).first().click();
    await page.getByLabel('Name').fill('Support bot');
    await page.getByLabel('Description').fill('Answers customers of the coffee shop on Telegram.');
    await page.getByRole('button', { name: 'New bot' }).last().click();
    await page.waitForURL(/\/bots\/[0-9a-f-]+$/);
    botPath = new URL(page.url()).pathname;

    // Channels: connect the fake Telegram bot in polling mode.
    const telegramBot = fake.addBot({ username: 'acme_coffee_bot', firstName: 'Acme Coffee' });
    await page.getByRole('tab', { name: 'Channels' }).click();
    await page.getByRole('button', { name: 'Connect Telegram' }).click();
    await page.getByLabel('Bot token').fill('not a token');
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await expect.poll(() => page.getByText('must be a bot token from @BotFather').isVisible()).toBe(true);
    await page.getByLabel('Bot token').fill(telegramBot.token);
    await page.getByLabel('Delivery mode').selectOption('polling');
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await expect.poll(() => page.getByText('@acme_coffee_bot').isVisible()).toBe(true);
    await screenshot(page, 'bot-channels');

    // Config: edit the English greeting, publish.
    await page.getByRole('tab', { name: 'Configuration' }).click();
    const greetingField = page.locator('textarea[name="greeting.en"]');
    await greetingField.fill('');
    await expect.poll(() => page.getByText('Too small', { exact: false }).first().isVisible()).toBe(true);
    await greetingField.fill(greeting);
    await expect.poll(() => page.getByText('Unsaved changes', { exact: true }).isVisible()).toBe(true);
    await screenshot(page, 'bot-config');
    await page.getByRole('button', { name: 'Publish' }).first().click();
    await page.getByLabel('Note (optional)').fill('New greeting');
    await page.getByRole('dialog').getByRole('button', { name: 'Publish' }).click();
    await expect.poll(() => page.getByText('Live: version 2', { exact: true }).isVisible()).toBe(true);

    // The customer's /start on Telegram gets the published greeting.
    poller = await startTelegramPoller(app.ctx, { onUpdates: ingestPolled(app), timeoutSeconds: 1 });
    fake.sendText(telegramBot.token, {
      chatId: 4242,
      from: { id: 4242, first_name: 'Cora', language_code: 'en' },
      text: '/start',
    });
    const [reply] = await fake.waitFor(() => {
      const sent = fake.sentMessages(telegramBot.token, 4242);
      return sent.length > 0 ? sent : undefined;
    }, 20_000);
    expect(reply?.text).toBe(greeting);

    // History: version 2 against version 1 shows the greeting change.
    await page.getByRole('tab', { name: 'History' }).click();
    await expect.poll(() => page.getByText('Changes in version 2', { exact: true }).isVisible()).toBe(true);
    await expect.poll(() => page.getByText('greeting.en', { exact: true }).isVisible()).toBe(true);
    await screenshot(page, 'bot-history');
    await context.close();
  });

  it('the playground answers from the config in the editor, unsaved changes included', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await signIn(page, app.url, owner);
    await page.goto(`${app.url}${botPath}`);
    const chat = page.getByLabel('Playground');
    await chat.getByRole('button', { name: '/help' }).click();
    await expect
      .poll(() => chat.getByText(defaultBotConfig().helpText.en.split('\n')[0] ?? '').isVisible())
      .toBe(true);
    await page.locator('textarea[name="greeting.en"]').fill('Hi from the draft!');
    await chat.getByLabel('Write a message…').fill('/start');
    await chat.getByRole('button', { name: 'Send' }).click();
    await expect.poll(() => chat.getByText('Hi from the draft!').isVisible()).toBe(true);
    await chat.getByLabel('Write a message…').fill('I want to talk to a manager');
    await chat.getByRole('button', { name: 'Send' }).click();
    await expect.poll(() => chat.getByText(/Escalated to people/).isVisible()).toBe(true);
    await screenshot(page, 'bot-playground');
    await context.close();
  });

  it('viewer sees the bot but cannot edit it, and the API refuses the edit', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await signIn(page, app.url, viewer);
    await expect.poll(() => page.getByText('Support bot', { exact: true }).isVisible()).toBe(true);
    expect(await page.getByRole('button', { name: 'New bot' }).count()).toBe(0);
    await page.goto(`${app.url}${botPath}`);
    await expect.poll(() => page.getByText('Read only', { exact: true }).isVisible()).toBe(true);
    expect(await page.locator('textarea[name="greeting.en"]').isDisabled()).toBe(true);
    expect(await page.getByRole('button', { name: 'Publish' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Pause' }).count()).toBe(0);
    await page.getByRole('tab', { name: 'Channels' }).click();
    expect(await page.getByRole('button', { name: 'Connect Telegram' }).count()).toBe(0);
    // The sidebar hides what a viewer may not open; the API refuses the edit anyway.
    expect(await page.getByRole('link', { name: 'API keys' }).count()).toBe(0);
    const botId = botPath.split('/').at(-1) ?? '';
    const refused = await app.api(`/api/workspaces/${workspaceId}/bots/${botId}/config/draft`, {
      method: 'PUT',
      token: viewer.token,
      json: { config: { greeting: { en: 'hijacked' } } },
    });
    expect(refused.status).toBe(403);
    await context.close();
  });

  it('renders the other screens, in light and dark, on a laptop and a phone', async () => {
    const light = await newContext(browser);
    const page = await light.newPage();
    await signIn(page, app.url, owner);
    const base = `${app.url}/w/${workspaceId}`;
    await visit(page, `${base}/bots`, 'Support bot', 'bots');
    await visit(page, `${base}/members`, viewer.email, 'members');
    await page.getByRole('button', { name: 'Invite people' }).click();
    await page.getByLabel('Email').fill('new.operator@example.com');
    await page.getByRole('button', { name: 'Create invitation' }).click();
    await expect.poll(() => page.getByText('Invitation created').isVisible()).toBe(true);
    await screenshot(page, 'members-invite-link');
    await page.keyboard.press('Escape');
    await visit(page, `${base}/api-keys`, 'No API keys', 'api-keys');
    await page.getByRole('button', { name: 'New key' }).first().click();
    await page.getByLabel('Name').fill('CRM sync');
    await page.getByRole('dialog').getByRole('button', { name: 'New key' }).click();
    await expect.poll(() => page.getByText('Copy the key now').isVisible()).toBe(true);
    await page.keyboard.press('Escape');
    await visit(page, `${base}/audit`, 'bot_config.publish', 'audit');
    await page.getByRole('button', { name: /bot_config\.publish/ }).click();
    await expect
      .poll(() => page.getByText('Welcome to Acme Coffee!', { exact: false }).first().isVisible())
      .toBe(true);
    await screenshot(page, 'audit-diff');
    await visit(page, `${base}/settings`, 'Workspace', 'settings');
    await visit(page, `${base}/inbox`, 'Nobody is waiting', 'inbox-empty');
    await light.close();

    const dark = await newContext(browser, { colorScheme: 'dark' });
    const darkPage = await dark.newPage();
    await signIn(darkPage, app.url, owner);
    await visit(darkPage, `${app.url}${botPath}`, 'Playground', 'bot-config-dark');
    await visit(darkPage, `${base}/bots`, 'Support bot', 'bots-dark');
    await dark.close();

    const phone = await newContext(browser, { mobile: true });
    const phonePage = await phone.newPage();
    await signIn(phonePage, app.url, owner);
    await visit(phonePage, `${base}/bots`, 'Support bot', 'phone-bots');
    await phonePage.getByRole('button', { name: 'Menu', exact: true }).click();
    await expect
      .poll(() => phonePage.getByRole('dialog').getByRole('link', { name: 'Members' }).isVisible())
      .toBe(true);
    await screenshot(phonePage, 'phone-menu');
    await phone.close();
  });
});

async function visit(page: Page, url: string, text: string, name: string) {
  await page.goto(url);
  await expect
    .poll(() => page.getByText(text, { exact: false }).first().isVisible(), { timeout: 15_000 })
    .toBe(true);
  await screenshot(page, name);
}

/**
 * What `switchboard start` wires for polling channels (the pipeline's onTelegramUpdates):
 * polled updates go into the same ingest as webhooks, and the app's own workers answer them.
 */
function ingestPolled(app: TestApp): TelegramUpdatesHandler {
  const ingest = createIngest(app.ctx, { onStored: () => wakeWorkers(app.ctx, 'process') });
  return (channel, updates) =>
    ingest.accept(
      updates.map((update) => {
        const payload: Record<string, unknown> = { ...update };
        return {
          channelId: channel.id,
          updateId: update.update_id,
          chatKey: chatKeyOf(payload),
          updateType: updateTypeOf(payload),
          payload,
        };
      }),
    );
}
