/**
 * The staff pages in a real browser: Playwright driving Debian's Chromium at a
 * phone's size. `.ci/run` installs chromium when it is missing; elsewhere, without
 * /usr/bin/chromium, this file is skipped with a message.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFreePort } from '../../src/db/embedded';
import { createStaffMember, createTestApp, testPassword } from '../helpers/app';
import { createTestCampaign } from '../helpers/campaigns';

const executablePath = '/usr/bin/chromium';
const hasChromium = existsSync(executablePath);
if (!hasChromium) console.warn('Browser tests skipped: /usr/bin/chromium is missing (apt-get install -y chromium).');
const shots = new URL('../../test-results/screenshots/', import.meta.url).pathname;

describe.skipIf(!hasChromium)('compose and approve on a phone', () => {
  let server: ServerType;
  let browser: Browser;
  let base = '';
  let db: Awaited<ReturnType<typeof createTestApp>>['db'];
  let author: Awaited<ReturnType<typeof createStaffMember>>;
  let approver: Awaited<ReturnType<typeof createStaffMember>>;

  beforeAll(async () => {
    const port = await findFreePort();
    base = `http://127.0.0.1:${port}`;
    const t = await createTestApp({ PUBLIC_URL: base, TRUST_PROXY: 'false' });
    db = t.db;
    const admin = await createStaffMember(db, 'admin');
    author = await createStaffMember(db, 'author', 'auteur@example.org');
    approver = await createStaffMember(db, 'approver', 'approbatrice@example.org');
    await createTestCampaign(db, admin, { languages: ['fr'], name: 'Inondations au Québec' });
    // Staff pages in French, as a francophone team would have them.
    await db.updateTable('staff').set({ language: null }).execute();
    server = serve({ fetch: t.app.fetch, port, hostname: '127.0.0.1' });
    await new Promise<void>((r) => (server.listening ? r() : server.once('listening', () => r())));
    expect((server.address() as AddressInfo).port).toBe(port);
    await mkdir(shots, { recursive: true });
    browser = await chromium.launch({
      executablePath,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => server?.close(r));
  });

  async function logIn(page: Page, email: string) {
    await page.goto(`${base}/login`);
    await page.fill('#email', email);
    await page.fill('#password', testPassword);
    await Promise.all([page.waitForURL(`${base}/staff`), page.click('button[type=submit]')]);
  }

  it('an author writes a French update with "ê", accepts the GSM-7 rewrite and submits; an approver publishes it', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'fr-FR', isMobile: true, hasTouch: true });
    const page = await context.newPage();
    await logIn(page, author.email);

    await page.goto(`${base}/staff/updates/new`);
    await page.fill('#lead_fr', 'Nous avons besoin de tentes et de vêtements chauds à Trois-Rivières dès ce soir.');
    // The live preview (small script, no build step) shows the UCS-2 warning and the segment count.
    const warning = page.locator('.ucs2-warning');
    await warning.waitFor({ timeout: 10_000 });
    expect(await warning.textContent()).toContain('ê');
    const smsCounter = page.locator('[data-channel=sms] .counter').first();
    expect(await smsCounter.getAttribute('data-encoding')).toBe('UCS-2');
    expect(Number(await smsCounter.getAttribute('data-segments'))).toBeGreaterThanOrEqual(2);
    await page.screenshot({ path: `${shots}compose-ucs2.png`, fullPage: true });

    // One tap on the rewrite saves the draft with the GSM-7 version for the SMS.
    await Promise.all([page.waitForURL(/\/staff\/updates\/\d+\/edit/), page.click('button.accept-rewrite')]);
    const id = Number(page.url().match(/updates\/(\d+)/)![1]);
    const counter = page.locator('[data-channel=sms] .counter').first();
    expect(await counter.getAttribute('data-encoding')).toBe('GSM-7');
    expect(await page.locator('.ucs2-warning').count()).toBe(0);
    expect(await page.locator('[data-channel=sms] pre.msg').first().textContent()).toContain('vetements');
    await page.screenshot({ path: `${shots}compose-gsm7.png`, fullPage: true });

    await Promise.all([page.waitForURL(new RegExp(`/staff/updates/${id}\\?notice=update.submitted`)), page.click('button[value=submit]')]);
    expect(await page.locator('h1 .badge').textContent()).toBe('En attente d’approbation');
    await context.close();

    const context2 = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'fr-FR', isMobile: true, hasTouch: true });
    const page2 = await context2.newPage();
    await logIn(page2, approver.email);
    await page2.goto(`${base}/staff/updates?status=pending_approval`);
    await Promise.all([page2.waitForURL(`${base}/staff/updates/${id}`), page2.click(`a[href="/staff/updates/${id}"]`)]);
    await Promise.all([page2.waitForURL(new RegExp(`/staff/updates/${id}\\?notice=update.approved`)), page2.click('button.approve')]);
    expect(await page2.locator('h1 .badge').textContent()).toBe('Publié');
    await page2.screenshot({ path: `${shots}approved.png`, fullPage: true });
    await context2.close();

    const row = await db.selectFrom('updates').select(['status', 'decided_by']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(row).toEqual({ status: 'published', decided_by: approver.id });
  }, 60_000);
});
