/** Compose and approve on a phone, in a real browser (see test/helpers/browser.ts). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStaffMember } from '../helpers/app';
import { hasChromium, shots, startBrowserHarness, type BrowserHarness } from '../helpers/browser';
import { createTestCampaign } from '../helpers/campaigns';

describe.skipIf(!hasChromium)('compose and approve on a phone', () => {
  let h: BrowserHarness;
  let author: Awaited<ReturnType<typeof createStaffMember>>;
  let approver: Awaited<ReturnType<typeof createStaffMember>>;

  beforeAll(async () => {
    h = await startBrowserHarness();
    const admin = await createStaffMember(h.db, 'admin');
    author = await createStaffMember(h.db, 'author', 'auteur@example.org');
    approver = await createStaffMember(h.db, 'approver', 'approbatrice@example.org');
    await createTestCampaign(h.db, admin, { languages: ['fr'], name: 'Inondations au Québec' });
    // Staff pages in French, as a francophone team would have them.
    await h.db.updateTable('staff').set({ language: null }).execute();
  });

  afterAll(async () => {
    await h?.close();
  });

  it('an author writes a French update with "ê", accepts the GSM-7 rewrite and submits; an approver publishes it', async () => {
    const context = await h.phone();
    const page = await context.newPage();
    await h.logIn(page, author.email);

    await page.goto(`${h.base}/staff/updates/new`);
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

    const context2 = await h.phone();
    const page2 = await context2.newPage();
    await h.logIn(page2, approver.email);
    await page2.goto(`${h.base}/staff/updates?status=pending_approval`);
    await Promise.all([page2.waitForURL(`${h.base}/staff/updates/${id}`), page2.click(`a[href="/staff/updates/${id}"]`)]);
    await Promise.all([page2.waitForURL(new RegExp(`/staff/updates/${id}\\?notice=update.approved`)), page2.click('button.approve')]);
    expect(await page2.locator('h1 .badge').textContent()).toBe('Publié');
    await page2.screenshot({ path: `${shots}approved.png`, fullPage: true });
    await context2.close();

    const row = await h.db.selectFrom('updates').select(['status', 'decided_by']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(row).toEqual({ status: 'published', decided_by: approver.id });
  }, 60_000);
});
