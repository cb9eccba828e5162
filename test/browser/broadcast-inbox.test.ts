/**
 * After approval, in a real browser at a phone's size (see test/helpers/browser.ts): the update's page follows the
 * sending live (Server-Sent Events, no reload), then a donor's SMS reply is assigned and answered from the inbox,
 * which closes it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drainDeliveries } from '../../src/fanout/dispatch';
import { breakGlassPublish, createDraft } from '../../src/updates/lifecycle';
import { createStaffMember } from '../helpers/app';
import { hasChromium, shots, startBrowserHarness, type BrowserHarness } from '../helpers/browser';
import { createTestCampaign } from '../helpers/campaigns';
import { seedSubscribers } from '../helpers/subscribers';
import { postSms, smsParams, twilioAuthToken } from '../subscribers/helpers';

describe.skipIf(!hasChromium)('a broadcast and its replies on a phone', () => {
  let h: BrowserHarness;

  beforeAll(async () => {
    h = await startBrowserHarness({ TWILIO_AUTH_TOKEN: twilioAuthToken, SMS_MAX_PER_SECOND: '1000', EMAIL_MAX_PER_SECOND: '1000' });
  });

  afterAll(async () => {
    await h?.close();
  });

  it('shows the sending live, then answers an SMS reply from the inbox', async () => {
    const { db, deps, base } = h;
    const admin = await createStaffMember(db, 'admin');
    const approver = await createStaffMember(db, 'approver', 'coordinatrice@example.org');
    const campaign = await createTestCampaign(db, admin, { languages: ['fr'], name: 'Séisme en Haïti' });
    await seedSubscribers(db, campaign.id, { sms: 30, email: 10, language: 'fr' });
    const id = await createDraft(deps, admin, { campaignId: campaign.id, leads: { fr: 'Distribution d’eau à Jérémie ce soir.' }, needs: [] });
    await breakGlassPublish(deps, admin, id, undefined, 'Browser test of the live progress', '127.0.0.1');

    const context = await h.phone();
    const page = await context.newPage();
    await h.logIn(page, approver.email);
    await page.goto(`${base}/staff/updates/${id}`);
    const sms = page.locator('#progress .progress-channel[data-channel=sms]');
    expect(await sms.getAttribute('data-total')).toBe('30');
    expect(await sms.getAttribute('data-done')).toBe('0');
    // Marks this document: a reload would lose it.
    await page.evaluate(() => ((globalThis as unknown as { stillHere: boolean }).stillHere = true));

    // The worker's own drain runs while the page is open.
    await drainDeliveries(deps, { updateId: id, channel: 'sms' });
    await page.locator('#progress .progress-channel[data-channel=sms][data-done="30"]').waitFor({ timeout: 10_000 });
    await drainDeliveries(deps, { updateId: id, channel: 'email' });
    await page.locator('#progress .progress-channel[data-channel=email][data-done="10"]').waitFor({ timeout: 10_000 });
    expect(await page.evaluate(() => (globalThis as unknown as { stillHere?: boolean }).stillHere)).toBe(true);
    expect(await page.locator('#progress progress').first().getAttribute('value')).toBe('30');
    await page.screenshot({ path: `${shots}progress-live.png`, fullPage: true });

    // A donor answers the SMS; Twilio posts it, signed.
    const donor = await db.selectFrom('deliveries as d').innerJoin('subscribers as s', 's.id', 'd.subscriber_id').select('s.phone').where('d.update_id', '=', id).where('d.channel', '=', 'sms').orderBy('d.id').executeTakeFirstOrThrow();
    const url = `${base}/webhooks/twilio/sms`;
    const res = await postSms(h.app, smsParams(donor.phone!, 'Où peut-on déposer des couvertures ? <b>merci</b>'), { signedUrl: url, requestUrl: url });
    expect(res.status).toBe(200);

    await page.goto(`${base}/staff/inbox`);
    const row = page.locator('a.reply-row', { hasText: 'Où peut-on déposer des couvertures ?' });
    expect(await row.getAttribute('data-state')).toBe('new');
    // The reply's markup is shown as text, never interpreted.
    expect(await row.innerText()).toContain('<b>merci</b>');
    await Promise.all([page.waitForURL(/\/staff\/inbox\/\d+$/), row.click()]);
    const replyPath = new URL(page.url()).pathname;
    expect(await page.locator('pre.msg').first().textContent()).toBe('Où peut-on déposer des couvertures ? <b>merci</b>');
    expect(await page.locator(`a[href="/staff/updates/${id}"]`).count()).toBe(1);

    await Promise.all([page.waitForURL(`${base}${replyPath}`), page.click(`form[action="${replyPath}/assign"] button`)]);
    await page.fill('#body', 'Au centre communautaire de Jérémie, de 9 h à 18 h. Merci !');
    await Promise.all([page.waitForURL(`${base}${replyPath}?notice=inbox.answerSent`), page.click(`form[action="${replyPath}/answer"] button`)]);
    expect(await page.locator('.card pre.msg').last().textContent()).toBe('Au centre communautaire de Jérémie, de 9 h à 18 h. Merci !');
    // A sent answer closes the reply: the page offers to reopen it, and the list says handled.
    expect(await page.locator(`form[action="${replyPath}/reopen"]`).count()).toBe(1);
    await page.goto(`${base}/staff/inbox`);
    expect(await page.locator(`a.reply-row[href="${replyPath}"]`).getAttribute('data-state')).toBe('handled');
    await page.screenshot({ path: `${shots}inbox-answered.png`, fullPage: true });
    await context.close();

    const reply = await db.selectFrom('replies').select(['state', 'assigned_to']).where('body', 'like', 'Où peut-on déposer%').executeTakeFirstOrThrow();
    expect(reply).toEqual({ state: 'handled', assigned_to: approver.id });
    // No provider configured: the answer went through the dev outbox, to the donor's number.
    const sent = await db.selectFrom('dev_outbox').select(['recipient', 'body']).where('channel', '=', 'sms').where('body', 'like', 'Au centre communautaire%').execute();
    expect(sent).toEqual([{ recipient: donor.phone, body: 'Au centre communautaire de Jérémie, de 9 h à 18 h. Merci !' }]);
  }, 60_000);
});
