import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

/**
 * Debian's Chromium driven by playwright-core (never `npx playwright install`: it downloads,
 * and CI has no network for that). `.ci/run` installs the package; without it the browser
 * suite is skipped with a message saying so.
 */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM_PATH);

export const SCREENSHOTS_DIR = fileURLToPath(new URL('../docs/screenshots', import.meta.url));

if (!hasChromium) {
  process.stdout.write(
    `\n  Browser suite (e2e/) SKIPPED: no Chromium at ${CHROMIUM_PATH}. Install it with \`apt-get install chromium\` (or set CHROMIUM_PATH).\n\n`,
  );
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export interface ContextOptions {
  colorScheme?: 'light' | 'dark';
  /** Phone width (390×844) instead of a laptop's (1440×900). */
  mobile?: boolean;
}

export function newContext(browser: Browser, options: ContextOptions = {}): Promise<BrowserContext> {
  return browser.newContext({
    viewport: options.mobile ? { width: 390, height: 844 } : { width: 1440, height: 900 },
    deviceScaleFactor: options.mobile ? 2 : 1,
    colorScheme: options.colorScheme ?? 'light',
    locale: 'en-US',
    timezoneId: 'UTC',
    reducedMotion: 'reduce',
  });
}

/** Saves `docs/screenshots/<name>.png` (the README shows them) once the page is settled. */
export async function screenshot(page: Page, name: string, options: { fullPage?: boolean } = {}) {
  mkdirSync(SCREENSHOTS_DIR, { recursive: true });
  await page.waitForLoadState('networkidle');
  // Toasts and the hover state are transient; keep them out of the pictures.
  await page.mouse.move(0, 0);
  await page.addStyleTag({ content: '[data-sb-toasts] { display: none !important; }' });
  await page.screenshot({
    path: path.join(SCREENSHOTS_DIR, `${name}.png`),
    fullPage: options.fullPage ?? false,
  });
}

/** Signs in through the sign-in page and waits for the panel. */
export async function signIn(page: Page, baseUrl: string, user: { email: string; password: string }) {
  await page.goto(`${baseUrl}/sign-in`);
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/w\/[0-9a-f-]+\//);
}
