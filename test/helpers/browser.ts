/**
 * The staff pages in a real browser: Playwright driving Debian's Chromium, against the app served on a free port
 * of 127.0.0.1. `.ci/run` installs chromium when it is missing; elsewhere, without /usr/bin/chromium, the browser
 * tests are skipped with a message.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { serve } from '@hono/node-server';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { findFreePort } from '../../src/db/embedded';
import { createTestApp, testPassword } from './app';

const executablePath = '/usr/bin/chromium';
export const hasChromium = existsSync(executablePath);
if (!hasChromium) console.warn('Browser tests skipped: /usr/bin/chromium is missing (apt-get install -y chromium).');
export const shots = new URL('../../test-results/screenshots/', import.meta.url).pathname;

/** A test app served over HTTP (PUBLIC_URL is its own address) and a headless browser. */
export async function startBrowserHarness(env: Record<string, string> = {}) {
  const port = await findFreePort();
  const base = `http://127.0.0.1:${port}`;
  const t = await createTestApp({ PUBLIC_URL: base, TRUST_PROXY: 'false', ...env });
  const server = serve({ fetch: t.app.fetch, port, hostname: '127.0.0.1' });
  await new Promise<void>((r) => (server.listening ? r() : server.once('listening', () => r())));
  await mkdir(shots, { recursive: true });
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  return {
    ...t,
    base,
    /** A French-speaking phone. */
    phone: (): Promise<BrowserContext> => browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'fr-FR', isMobile: true, hasTouch: true }),
    async logIn(page: Page, email: string) {
      await page.goto(`${base}/login`);
      await page.fill('#email', email);
      await page.fill('#password', testPassword);
      await Promise.all([page.waitForURL(`${base}/staff`), page.click('button[type=submit]')]);
    },
    async close() {
      await browser.close();
      await new Promise((r) => server.close(r));
    },
  };
}
export type BrowserHarness = Awaited<ReturnType<typeof startBrowserHarness>>;
