import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { drainDeliveries } from '../../src/fanout/dispatch';
import { replyAddress } from '../../src/fanout/reply-address';
import { sendReplyDigests } from '../../src/replies/digest';
import { stripQuotedText } from '../../src/replies/quotes';
import { listUnsubscribeHeaders } from '../../src/subscribers/links';
import { breakGlassPublish, createDraft } from '../../src/updates/lifecycle';
import { Agent, createStaffMember, createTestApp, loggedInAgent } from '../helpers/app';
import { createTestCampaign } from '../helpers/campaigns';
import { seedSubscribers } from '../helpers/subscribers';
import { newMessageSid, postSms, twilioAuthToken } from '../subscribers/helpers';

const inboundSecret = 'inbound-email-secret-0123456789';
const { app, db, deps, clock } = await createTestApp({ TWILIO_AUTH_TOKEN: twilioAuthToken, INBOUND_EMAIL_SECRET: inboundSecret, SMS_MAX_PER_SECOND: '1000', EMAIL_MAX_PER_SECOND: '1000', REPLY_AUTO_ACK: 'true' });
const admin = await createStaffMember(db, 'admin');
const author = await createStaffMember(db, 'author');
const campaign = await createTestCampaign(db, admin);
await seedSubscribers(db, campaign.id, { sms: 2, email: 2, language: 'en' });
const updateId = await createDraft(deps, admin, { campaignId: campaign.id, leads: { fr: 'Bonjour', en: 'Hello' }, needs: [] });
await breakGlassPublish(deps, admin, updateId, undefined, 'Testing the inbox end to end', '127.0.0.1');
await drainDeliveries(deps, { updateId, channel: 'sms' });
await drainDeliveries(deps, { updateId, channel: 'email' });
const smsDelivery = await db.selectFrom('deliveries as d').innerJoin('subscribers as s', 's.id', 'd.subscriber_id').select(['d.id', 's.phone']).where('d.channel', '=', 'sms').orderBy('d.id').executeTakeFirstOrThrow();
const emailDelivery = await db.selectFrom('deliveries as d').innerJoin('subscribers as s', 's.id', 'd.subscriber_id').select(['d.id', 's.email']).where('d.channel', '=', 'email').orderBy('d.id').executeTakeFirstOrThrow();

function postEmail(raw: string, signature?: string) {
  const sig = signature ?? `sha256=${createHmac('sha256', inboundSecret).update(raw).digest('hex')}`;
  return app.request('http://tocsin.test/webhooks/email/inbound', { method: 'POST', body: raw, headers: { 'content-type': 'message/rfc822', 'x-tocsin-signature': sig } });
}

function email(h: Record<string, string>, body: string) {
  return [...Object.entries(h).map(([k, v]) => `${k}: ${v}`), 'Content-Type: text/plain; charset=utf-8', '', body].join('\r\n');
}

describe('SMS replies', () => {
  it('are linked to the last update sent to that number and acknowledged when configured', async () => {
    const res = await postSms(app, { MessageSid: newMessageSid(), From: smsDelivery.phone!, To: '+15005550006', Body: 'Where can I bring blankets?' });
    expect(await res.text()).toContain('a person from our team will read your message');
    const reply = await db.selectFrom('replies').selectAll().where('body', '=', 'Where can I bring blankets?').executeTakeFirstOrThrow();
    expect(reply).toMatchObject({ channel: 'sms', update_id: updateId, possible_opt_out: false, state: 'new' });
  });

  it('from an unknown number are kept, about no update', async () => {
    await postSms(app, { MessageSid: newMessageSid(), From: '+33699999999', To: '+15005550006', Body: 'Who is this?' });
    const reply = await db.selectFrom('replies').selectAll().where('body', '=', 'Who is this?').executeTakeFirstOrThrow();
    expect(reply).toMatchObject({ subscriber_id: null, update_id: null });
  });

  it('flag a stop word inside a sentence as a possible opt-out, without unsubscribing', async () => {
    await postSms(app, { MessageSid: newMessageSid(), From: smsDelivery.phone!, To: '+15005550006', Body: 'please stop texting me at night' });
    const reply = await db.selectFrom('replies').selectAll().where('body', '=', 'please stop texting me at night').executeTakeFirstOrThrow();
    expect(reply.possible_opt_out).toBe(true);
    const s = await db.selectFrom('subscribers').select('sms_opted_out_at').where('phone', '=', smsDelivery.phone).executeTakeFirstOrThrow();
    expect(s.sms_opted_out_at).toBeNull();
  });
});

describe('email replies', () => {
  it('refuse a forged or missing signature and store nothing', async () => {
    const raw = email({ From: 'a@example.org', To: 'x@tocsin.test', 'Message-ID': '<forged@x>', Subject: 'Hi' }, 'Hello');
    expect((await postEmail(raw, 'sha256=00')).status).toBe(403);
    expect((await app.request('http://tocsin.test/webhooks/email/inbound', { method: 'POST', body: raw })).status).toBe(403);
    expect(await db.selectFrom('replies').selectAll().where('provider_message_id', '=', '<forged@x>').execute()).toEqual([]);
  });

  it('are linked through the Reply-To token, stored once, without the quoted text', async () => {
    const raw = email(
      { From: `Donor <${emailDelivery.email}>`, To: replyAddress(deps, emailDelivery.id), 'Message-ID': '<r1@mail.example>', Subject: 'Re: Séisme en Haïti' },
      'I can volunteer on Saturday.\n\nOn Mon, Nov 23, 2026 at 10:00 AM Tocsin <alerts@tocsin.test> wrote:\n> Hello\n> STOP',
    );
    const res = await postEmail(raw);
    expect(res.status).toBe(200);
    expect(await postEmail(raw)).toHaveProperty('status', 200);
    const rows = await db.selectFrom('replies').selectAll().where('provider_message_id', '=', '<r1@mail.example>').execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ channel: 'email', update_id: updateId, body: 'I can volunteer on Saturday.', possible_opt_out: false });
  });

  it('are linked through In-Reply-To when the token is gone', async () => {
    const raw = email({ From: emailDelivery.email!, To: 'somewhere@else.example', 'Message-ID': '<r2@mail.example>', 'In-Reply-To': `<delivery-${emailDelivery.id}@tocsin.test>`, Subject: 'Re' }, 'Merci !');
    await postEmail(raw);
    expect(await db.selectFrom('replies').select('update_id').where('provider_message_id', '=', '<r2@mail.example>').executeTakeFirstOrThrow()).toEqual({ update_id: updateId });
  });

  it('to the unsubscribe mailbox, with the token in the subject, unsubscribe (the List-Unsubscribe mailto)', async () => {
    const sub = await db.selectFrom('subscribers').select('id').where('email', '=', emailDelivery.email).executeTakeFirstOrThrow();
    const mailto = listUnsubscribeHeaders(deps, { subscriberId: sub.id, campaignId: null })['List-Unsubscribe'].match(/<mailto:([^?]+)\?subject=([^>]+)>/)!;
    const raw = email({ From: emailDelivery.email!, To: mailto[1]!, 'Message-ID': '<unsub@mail.example>', Subject: decodeURIComponent(mailto[2]!) }, '');
    expect(await (await postEmail(raw)).json()).toEqual({ outcome: 'unsubscribed' });
    expect((await db.selectFrom('subscribers').select('email_opted_out_at').where('id', '=', sub.id).executeTakeFirstOrThrow()).email_opted_out_at).toBeInstanceOf(Date);
    await db.updateTable('subscribers').set({ email_opted_out_at: null }).where('id', '=', sub.id).execute();
  });

  it('strip quotes the way mail clients write them, in both languages', () => {
    expect(stripQuotedText('Oui.\n\nLe lun. 23 nov. 2026 à 10:00, Tocsin <a@b.c> a écrit :\n> Bonjour')).toBe('Oui.');
    expect(stripQuotedText('Yes\n-----Original Message-----\nFrom: x')).toBe('Yes');
    expect(stripQuotedText('Line one\n> quoted\nLine two\n-- \nAna')).toBe('Line one\nLine two');
  });
});

describe('the inbox', () => {
  it('lists replies newest first, filters them, assigns and marks them handled', async () => {
    const agent = await loggedInAgent(app, author);
    const all = await (await agent.get('/staff/inbox')).text();
    expect(all.indexOf('please stop texting me at night')).toBeLessThan(all.indexOf('Where can I bring blankets?'));
    const flagged = await (await agent.get('/staff/inbox?optout=1')).text();
    expect(flagged).toContain('please stop texting me at night');
    expect(flagged).not.toContain('Who is this?');
    const byUpdate = await (await agent.get(`/staff/inbox?update=${updateId}&channel=email`)).text();
    expect(byUpdate).toContain('I can volunteer on Saturday.');
    expect(byUpdate).not.toContain('Where can I bring blankets?');

    const reply = await db.selectFrom('replies').select('id').where('body', '=', 'Who is this?').executeTakeFirstOrThrow();
    await agent.post(`/staff/inbox/${reply.id}/assign`, {});
    expect(await db.selectFrom('replies').select(['state', 'assigned_to']).where('id', '=', reply.id).executeTakeFirstOrThrow()).toEqual({ state: 'assigned', assigned_to: author.id });
    expect(await (await agent.get('/staff/inbox?mine=1')).text()).toContain('Who is this?');
    await agent.post(`/staff/inbox/${reply.id}/handle`, {});
    expect((await db.selectFrom('replies').select('state').where('id', '=', reply.id).executeTakeFirstOrThrow()).state).toBe('handled');
  });

  it('answers by SMS and by threaded email, each answer tracked', async () => {
    const agent = await loggedInAgent(app, author);
    const sms = await db.selectFrom('replies').select('id').where('body', '=', 'Where can I bring blankets?').executeTakeFirstOrThrow();
    expect((await agent.post(`/staff/inbox/${sms.id}/answer`, { body: 'To the church on Rue Stenio Vincent.' })).status).toBe(303);
    const sent = await db.selectFrom('dev_outbox').selectAll().where('channel', '=', 'sms').where('body', '=', 'To the church on Rue Stenio Vincent.').executeTakeFirstOrThrow();
    expect(sent.recipient).toBe(smsDelivery.phone);

    const mail = await db.selectFrom('replies').select('id').where('provider_message_id', '=', '<r1@mail.example>').executeTakeFirstOrThrow();
    await agent.post(`/staff/inbox/${mail.id}/answer`, { body: 'Thank you! See you on Saturday.' });
    const out = await db.selectFrom('dev_outbox').selectAll().where('channel', '=', 'email').where('recipient', '=', emailDelivery.email).orderBy('id', 'desc').executeTakeFirstOrThrow();
    expect(out.subject).toBe('Re: Séisme en Haïti');
    expect(out.meta).toMatchObject({ inReplyTo: '<r1@mail.example>' });
    const answers = await db.selectFrom('reply_answers').select(['reply_id', 'status', 'channel']).orderBy('id').execute();
    expect(answers).toEqual([
      { reply_id: sms.id, status: 'sent', channel: 'sms' },
      { reply_id: mail.id, status: 'sent', channel: 'email' },
    ]);
    expect((await db.selectFrom('replies').select('state').where('id', '=', mail.id).executeTakeFirstOrThrow()).state).toBe('handled');
  });

  it('refuses to text someone who sent STOP, and empty answers', async () => {
    const agent = await loggedInAgent(app, author);
    const sms = await db.selectFrom('replies').select('id').where('body', '=', 'please stop texting me at night').executeTakeFirstOrThrow();
    expect((await agent.post(`/staff/inbox/${sms.id}/answer`, { body: '   ' })).status).toBe(422);
    await db.updateTable('subscribers').set({ sms_opted_out_at: new Date() }).where('phone', '=', smsDelivery.phone).execute();
    const res = await agent.post(`/staff/inbox/${sms.id}/answer`, { body: 'Sorry!' });
    expect(res.status).toBe(422);
    expect(await res.text()).toContain('This person has opted out of SMS');
    expect(await db.selectFrom('reply_answers').selectAll().where('reply_id', '=', sms.id).execute()).toEqual([]);
  });

  it('shows the figures of the update: sent, failed and replies per channel, reply rate', async () => {
    const page = await (await (await loggedInAgent(app, admin)).get(`/staff/updates/${updateId}`)).text();
    expect(page).toMatch(/<tr data-channel="sms"><th>SMS<\/th><td>2<\/td><td>0<\/td><td>0<\/td><td>2<\/td><td>100%<\/td><\/tr>/);
    expect(page).toMatch(/<tr data-channel="email"><th>Email<\/th><td>2<\/td><td>0<\/td><td>0<\/td><td>2<\/td><td>100%<\/td><\/tr>/);
  });
});

describe('digests', () => {
  it('email staff who asked for one the replies since their last digest, once', async () => {
    const agent = await loggedInAgent(app, author);
    await agent.post('/staff/account/digest', { digest: '15' });
    await postSms(app, { MessageSid: newMessageSid(), From: '+33688888888', To: '+15005550006', Body: 'Any news from Jérémie?' });
    expect(await sendReplyDigests(deps)).toBe(0); // not due yet
    clock.advance(16 * 60_000);
    await postSms(app, { MessageSid: newMessageSid(), From: '+33688888887', To: '+15005550006', Body: 'Second question' });
    expect(await sendReplyDigests(deps)).toBe(1);
    const digest = await db.selectFrom('dev_outbox').selectAll().where('recipient', '=', author.email).orderBy('id', 'desc').executeTakeFirstOrThrow();
    expect(digest.subject).toMatch(/^\d+ new replies to Tocsin$/);
    expect(digest.body).toContain('Second question');
    expect(await sendReplyDigests(deps)).toBe(0);
    expect((await new Agent(app).post('/staff/account/digest', { digest: '15' })).status).toBe(401);
  });
});
