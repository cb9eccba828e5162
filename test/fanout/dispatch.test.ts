import { sql } from 'kysely';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createSmtpChannel } from '../../src/channels/email/smtp';
import { createTwilioChannel } from '../../src/channels/sms/twilio';
import type { Deps } from '../../src/deps';
import { drainDeliveries } from '../../src/fanout/dispatch';
import { deliveryIdFromReplyAddress } from '../../src/fanout/reply-address';
import { breakGlassPublish, createDraft } from '../../src/updates/lifecycle';
import { createStaffMember, createTestApp } from '../helpers/app';
import { createTestCampaign } from '../helpers/campaigns';
import { seedSubscribers } from '../helpers/subscribers';
import { startSmtpFake } from '../fakes/smtp';
import { startTwilioFake } from '../fakes/twilio';

const twilioFake = await startTwilioFake();
const smtpFake = await startSmtpFake();
const { db, deps: base } = await createTestApp({ SMS_MAX_PER_SECOND: '1000', EMAIL_MAX_PER_SECOND: '1000', FOUNDATION_NAME: 'Fondation Lumière' });
const deps: Deps = {
  ...base,
  channels: {
    ...base.channels,
    sms: createTwilioChannel({ accountSid: twilioFake.accountSid, authToken: twilioFake.authToken, from: '+15005550006', apiUrl: twilioFake.url, timeoutMs: 2000 }),
    email: createSmtpChannel({ host: smtpFake.host, port: smtpFake.port, secure: false, from: 'alerts@example.org', timeoutMs: 2000 }),
  },
};
afterAll(async () => {
  await deps.channels.email.close?.();
  await twilioFake.close();
  await smtpFake.close();
});
beforeEach(() => {
  twilioFake.received.length = 0;
  smtpFake.received.length = 0;
});

const admin = await createStaffMember(db, 'admin');

async function publishedUpdate(campaignId: number, leads: { fr?: string; en?: string } = { fr: 'Il manque des tentes à Jérémie.', en: 'Tents are needed in Jérémie.' }) {
  const id = await createDraft(deps, admin, { campaignId, leads, needs: [] });
  await breakGlassPublish(deps, admin, id, undefined, 'Testing the fan-out end to end', '127.0.0.1');
  return id;
}

const statusesOf = async (updateId: number) =>
  Object.fromEntries(
    (await db.selectFrom('deliveries').select(['status', (eb) => eb.fn.countAll<number>().as('n')]).where('update_id', '=', updateId).groupBy('status').execute()).map((r) => [r.status, r.n]),
  );

describe('materialising deliveries on publish', () => {
  it('creates one delivery per active subscriber and channel, in their language, once', async () => {
    const campaign = await createTestCampaign(db, admin);
    await seedSubscribers(db, campaign.id, { sms: 30, email: 20, language: 'fr' });
    await seedSubscribers(db, campaign.id, { sms: 5, language: 'en' });
    const other = await createTestCampaign(db, admin);
    await seedSubscribers(db, other.id, { sms: 7 });
    const id = await publishedUpdate(campaign.id);
    const rows = await db.selectFrom('deliveries').select(['channel', 'language', (eb) => eb.fn.countAll<number>().as('n')]).where('update_id', '=', id).groupBy(['channel', 'language']).orderBy('channel').orderBy('language').execute();
    expect(rows).toEqual([
      { channel: 'email', language: 'fr', n: 20 },
      { channel: 'sms', language: 'en', n: 5 },
      { channel: 'sms', language: 'fr', n: 30 },
    ]);
    expect(await db.selectFrom('posts').select('network').where('update_id', '=', id).orderBy('network').execute()).toEqual([{ network: 'bluesky' }, { network: 'mastodon' }, { network: 'x' }]);
    // Publishing again (a double click that got through) adds nothing.
    const { materialiseDeliveries } = await import('../../src/fanout/materialise');
    const again = await db.transaction().execute((trx) => materialiseDeliveries(deps, trx, id));
    expect(again).toEqual({ deliveries: 0, posts: 0 });
  });

  it('falls back to the campaign’s first language when the update lacks the subscriber’s', async () => {
    const campaign = await createTestCampaign(db, admin, { languages: ['fr'] });
    await seedSubscribers(db, campaign.id, { sms: 3, language: 'en' });
    const id = await publishedUpdate(campaign.id, { fr: 'Seulement en français.' });
    expect(await db.selectFrom('deliveries').select('language').distinct().where('update_id', '=', id).execute()).toEqual([{ language: 'fr' }]);
  });
});

describe('sending', () => {
  it('sends every SMS and email exactly once, through the real clients, with what the providers need', async () => {
    const campaign = await createTestCampaign(db, admin);
    await seedSubscribers(db, campaign.id, { sms: 25, email: 15 });
    const id = await publishedUpdate(campaign.id);
    const sms = await drainDeliveries(deps, { updateId: id, channel: 'sms' });
    const email = await drainDeliveries(deps, { updateId: id, channel: 'email' });
    expect(sms).toMatchObject({ sent: 25, failed: 0, retrying: 0, more: false });
    expect(email).toMatchObject({ sent: 15, failed: 0 });
    expect(await statusesOf(id)).toEqual({ sent: 40 });
    expect(new Set(twilioFake.received.map((m) => m.to)).size).toBe(25);
    expect(twilioFake.received).toHaveLength(25);

    const deliveries = await db.selectFrom('deliveries').selectAll().where('update_id', '=', id).where('channel', '=', 'sms').execute();
    for (const d of deliveries) {
      const msg = twilioFake.received.find((m) => m.sid === d.provider_id)!;
      expect(msg.statusCallback).toBe(`http://tocsin.test/webhooks/twilio/status/${d.id}`);
      expect(msg.body).toContain('Fondation Lumière : Il manque des tentes à Jérémie.');
      expect(msg.body).toContain(`http://tocsin.test/updates/${id}`);
    }
    const mail = smtpFake.received[0]!;
    const delivery = await db.selectFrom('deliveries').select('id').where('provider_id', 'is not', null).where('update_id', '=', id).where('channel', '=', 'email').orderBy('id').executeTakeFirstOrThrow();
    expect(mail.headers['list-unsubscribe-post']).toBe('List-Unsubscribe=One-Click');
    expect(mail.headers['list-unsubscribe']).toMatch(/^<http:\/\/tocsin\.test\/unsubscribe\/[^>]+>, <mailto:/);
    expect(mail.headers['message-id']).toMatch(/^<delivery-\d+@tocsin\.test>$/);
    const replyTo = smtpFake.received.map((m) => m.headers['reply-to']!);
    expect(replyTo.map((r) => deliveryIdFromReplyAddress(deps, r))).toContain(delivery.id);
    expect(mail.html).toContain('/unsubscribe/');
    expect(mail.html).not.toContain('unsubscribe-placeholder');
  });

  it('retries 5xx and 429 with backoff, and a later run sends them', async () => {
    const campaign = await createTestCampaign(db, admin);
    await seedSubscribers(db, campaign.id, { sms: 6 });
    const id = await publishedUpdate(campaign.id);
    twilioFake.failNext(2, { status: 503 });
    twilioFake.failNext(1, { status: 429, retryAfter: 1 });
    const first = await drainDeliveries(deps, { updateId: id, channel: 'sms' });
    expect(first).toMatchObject({ sent: 3, retrying: 3, failed: 0 });
    const waiting = await db.selectFrom('deliveries').select(['status', 'next_attempt_at', 'attempts', 'last_error']).where('update_id', '=', id).where('status', '=', 'queued').execute();
    expect(waiting).toHaveLength(3);
    for (const w of waiting) expect(w.next_attempt_at!.getTime()).toBeGreaterThan(Date.now());
    // A retry job is scheduled for the earliest of them.
    const earliest = Math.min(...waiting.map((w) => w.next_attempt_at!.getTime()));
    const jobs = await sql<{ run_at: Date }>`SELECT run_at FROM graphile_worker.jobs WHERE key LIKE ${`drain:${id}:sms:%`}`.execute(db);
    expect(jobs.rows.length).toBeGreaterThan(0);
    expect(Math.min(...jobs.rows.map((j) => new Date(j.run_at).getTime()))).toBeLessThanOrEqual(earliest + 1000);
    await db.updateTable('deliveries').set({ next_attempt_at: new Date(Date.now() - 1000) }).where('update_id', '=', id).where('status', '=', 'queued').execute();
    const second = await drainDeliveries(deps, { updateId: id, channel: 'sms' });
    expect(second).toMatchObject({ sent: 3, retrying: 0 });
    expect(await statusesOf(id)).toEqual({ sent: 6 });
    expect(twilioFake.received).toHaveLength(6);
  });

  it('gives up on a final 4xx at once, recording the provider’s code; 21610 unsubscribes the phone', async () => {
    const campaign = await createTestCampaign(db, admin);
    await seedSubscribers(db, campaign.id, { sms: 3 });
    const id = await publishedUpdate(campaign.id);
    twilioFake.failNext(1, { status: 400, code: 21610, message: 'Attempt to send to unsubscribed recipient' });
    const r = await drainDeliveries(deps, { updateId: id, channel: 'sms' });
    expect(r).toMatchObject({ sent: 2, failed: 1, retrying: 0 });
    const failed = await db.selectFrom('deliveries as d').innerJoin('subscribers as s', 's.id', 'd.subscriber_id').select(['d.error_code', 'd.last_error', 's.sms_opted_out_at']).where('d.update_id', '=', id).where('d.status', '=', 'failed').executeTakeFirstOrThrow();
    expect(failed.error_code).toBe('21610');
    expect(failed.last_error).toContain('unsubscribed recipient');
    expect(failed.sms_opted_out_at).toBeInstanceOf(Date);
  });

  it('marks a delivery failed, with its reason, after the last attempt — never stuck in sending', async () => {
    const campaign = await createTestCampaign(db, admin);
    await seedSubscribers(db, campaign.id, { email: 1 });
    const id = await publishedUpdate(campaign.id);
    for (let attempt = 1; attempt <= deps.config.FANOUT_MAX_ATTEMPTS; attempt++) {
      smtpFake.failNext(1, { code: 451, message: 'Try again later' });
      await db.updateTable('deliveries').set({ next_attempt_at: null }).where('update_id', '=', id).execute();
      await drainDeliveries(deps, { updateId: id, channel: 'email' });
    }
    const row = await db.selectFrom('deliveries').select(['status', 'attempts', 'last_error', 'error_code']).where('update_id', '=', id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'failed', attempts: deps.config.FANOUT_MAX_ATTEMPTS, error_code: '451' });
    expect(row.last_error).toContain(`gave up after ${deps.config.FANOUT_MAX_ATTEMPTS} attempts`);
  });

  it('skips subscribers who left after publication, and ignores those who joined after it', async () => {
    const campaign = await createTestCampaign(db, admin);
    await seedSubscribers(db, campaign.id, { sms: 4 });
    const id = await publishedUpdate(campaign.id);
    const leaver = await db.selectFrom('deliveries').select('subscriber_id').where('update_id', '=', id).orderBy('id').executeTakeFirstOrThrow();
    await db.updateTable('subscriptions').set({ status: 'unsubscribed' }).where('subscriber_id', '=', leaver.subscriber_id).execute();
    await seedSubscribers(db, campaign.id, { sms: 2 });
    const r = await drainDeliveries(deps, { updateId: id, channel: 'sms' });
    expect(r.sent).toBe(3);
    expect(await statusesOf(id)).toEqual({ sent: 3, skipped: 1 });
    expect(twilioFake.received).toHaveLength(3);
  });

  it('goes on past a whole claim of leavers, and past a row another worker holds', async () => {
    const campaign = await createTestCampaign(db, admin);
    await seedSubscribers(db, campaign.id, { sms: 40 });
    const id = await publishedUpdate(campaign.id);
    const rows = await db.selectFrom('deliveries').select(['id', 'subscriber_id']).where('update_id', '=', id).orderBy('id').execute();
    // The first 20 (several claims' worth at SMS_CONCURRENCY 10) left before anything was sent.
    const leavers = rows.slice(0, 20).map((r) => r.subscriber_id);
    await db.updateTable('subscriptions').set({ status: 'unsubscribed' }).where('subscriber_id', 'in', leavers).execute();
    // Another worker's claim holds the 25th row for the whole run.
    const first = await db.connection().execute(async (conn) => {
      await sql`BEGIN`.execute(conn);
      await sql`SELECT id FROM deliveries WHERE id = ${rows[24]!.id} FOR UPDATE`.execute(conn);
      const r = await drainDeliveries(deps, { updateId: id, channel: 'sms' });
      await sql`ROLLBACK`.execute(conn);
      return r;
    });
    expect(first).toMatchObject({ sent: 19, more: false });
    expect(await statusesOf(id)).toEqual({ sent: 19, skipped: 20, queued: 1 });
    // That claim fell through: the next run (its job's retry) sends the row.
    expect((await drainDeliveries(deps, { updateId: id, channel: 'sms' })).sent).toBe(1);
    expect(await statusesOf(id)).toEqual({ sent: 20, skipped: 20 });
    expect(twilioFake.received).toHaveLength(20);
  });

  it('keeps one broken channel from holding back the other', async () => {
    const campaign = await createTestCampaign(db, admin);
    await seedSubscribers(db, campaign.id, { sms: 2, email: 2 });
    const id = await publishedUpdate(campaign.id);
    twilioFake.hang = true;
    const broken = createTwilioChannel({ accountSid: twilioFake.accountSid, authToken: twilioFake.authToken, from: '+15005550006', apiUrl: twilioFake.url, timeoutMs: 300 });
    const withHang = { ...deps, channels: { ...deps.channels, sms: broken } };
    const [sms, email] = await Promise.all([drainDeliveries(withHang, { updateId: id, channel: 'sms' }), drainDeliveries(withHang, { updateId: id, channel: 'email' })]);
    twilioFake.hang = false;
    expect(email.sent).toBe(2);
    expect(sms).toMatchObject({ sent: 0, retrying: 2 });
  });
});
