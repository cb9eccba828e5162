import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { markPhoneInvalid, markPhoneUnsubscribedByCarrier } from '../../src/subscribers/provider-errors';
import { Agent, createStaffMember, createTestApp, loggedInAgent } from '../helpers/app';
import { insertCampaign, newPhone, postSms, smsParams, twilioAuthToken, uploadCsv } from './helpers';

const { app, db, clock } = await createTestApp({ TWILIO_AUTH_TOKEN: twilioAuthToken });
const haiti = await insertCampaign(db, { slug: 'seisme-haiti', name: 'Séisme en Haïti', keywords: ['HAITI'], languages: ['fr', 'en'] });
const quebec = await insertCampaign(db, { slug: 'cyclone-quebec', name: 'Cyclone au Québec', keywords: ['QUEBEC'], languages: ['fr'] });
const admin = await createStaffMember(db, 'admin', 'admin@example.org');
const approver = await createStaffMember(db, 'approver', 'approver@example.org');
const author = await createStaffMember(db, 'author', 'author@example.org');

const subscriberByPhone = (phone: string) => db.selectFrom('subscribers').selectAll().where('phone', '=', phone).executeTakeFirstOrThrow();
const text = (from: string, body: string) => postSms(app, smsParams(from, body));

describe('who may do what', () => {
  it('sends a visitor without a session to the log-in page', async () => {
    const res = await new Agent(app).get('/staff/subscribers');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/login?next=%2Fstaff%2Fsubscribers');
    expect((await new Agent(app).get('/staff/subscribers/export.csv')).status).toBe(303);
  });

  it('lets an author see subscribers, but not import, export or erase', async () => {
    const phone = newPhone();
    await text(phone, 'JOIN');
    const s = await subscriberByPhone(phone);
    const agent = await loggedInAgent(app, author);
    const list = await agent.get('/staff/subscribers');
    expect(list.status).toBe(200);
    const html = await list.text();
    expect(html).toContain(phone);
    expect(html).toContain('href="/staff/subscribers"');
    expect(html).not.toContain('/staff/subscribers/import');
    expect((await agent.get(`/staff/subscribers/${s.id}`)).status).toBe(200);
    expect((await agent.get('/staff/subscribers/import')).status).toBe(403);
    expect((await agent.get('/staff/subscribers/export.csv')).status).toBe(403);
    const erase = await agent.post(`/staff/subscribers/${s.id}/erase`, { confirm: 'yes' });
    expect(erase.status).toBe(403);
    expect((await subscriberByPhone(phone)).erased_at).toBeNull();
  });

  it('lets an approver import and export, not erase', async () => {
    const phone = newPhone();
    await text(phone, 'JOIN');
    const s = await subscriberByPhone(phone);
    const agent = await loggedInAgent(app, approver);
    expect((await agent.get('/staff/subscribers/import')).status).toBe(200);
    expect((await agent.get('/staff/subscribers/export.csv')).status).toBe(200);
    expect((await agent.post(`/staff/subscribers/${s.id}/erase`, { confirm: 'yes' })).status).toBe(403);
    expect((await subscriberByPhone(phone)).phone).toBe(phone);
    // The erase form is not even shown.
    expect(await (await agent.get(`/staff/subscribers/${s.id}`)).text()).not.toContain('/erase');
  });

  it('answers an unknown subscriber with 404', async () => {
    const agent = await loggedInAgent(app, author);
    expect((await agent.get('/staff/subscribers/99999999')).status).toBe(404);
    expect((await agent.get('/staff/subscribers/abc')).status).toBe(404);
  });
});

describe('the list', () => {
  it('searches by phone or email, filters by campaign, channel status and language, counts per campaign', async () => {
    const agent = await loggedInAgent(app, approver);
    const a = newPhone();
    const b = newPhone();
    await text(a, 'HAITI');
    await text(b, 'ABONNER');
    await text(b, 'STOP HAITI');
    await uploadCsv(agent, ['phone;email;language;campaigns;source', `;searchable.person@example.org;fr;cyclone-quebec;paper`].join('\n'));

    const page = async (query: string) => (await agent.get(`/staff/subscribers${query}`)).text();
    const bySearch = await page(`?q=${encodeURIComponent(a.slice(-6))}`);
    expect(bySearch).toContain(a);
    expect(bySearch).not.toContain(b);
    expect(bySearch).toContain('1 subscribers match.');
    const byEmail = await page('?q=SEARCHABLE');
    expect(byEmail).toContain('searchable.person@example.org');
    expect(byEmail).not.toContain(a);

    const unsubscribedFromHaiti = await page(`?campaign=${haiti}&channel=sms&status=unsubscribed`);
    expect(unsubscribedFromHaiti).toContain(b);
    expect(unsubscribedFromHaiti).not.toContain(a);
    const receivingHaiti = await page(`?campaign=${haiti}&channel=sms&status=active`);
    expect(receivingHaiti).toContain(a);
    expect(receivingHaiti).not.toContain(b);
    const french = await page('?language=fr');
    expect(french).toContain(b);
    const emailOnly = await page('?channel=email');
    expect(emailOnly).toContain('searchable.person@example.org');
    expect(emailOnly).not.toContain(a);

    // The counts are what the database holds, per campaign and channel.
    const html = await page('');
    const expected = await sql<{ campaign_id: number; channel: string; active: number }>`
      SELECT x.campaign_id, x.channel, count(*) FILTER (WHERE x.status = 'active' AND s.sms_opted_out_at IS NULL AND s.email_opted_out_at IS NULL AND s.phone_invalid_at IS NULL)::int AS active
      FROM subscriptions x JOIN subscribers s ON s.id = x.subscriber_id WHERE s.erased_at IS NULL GROUP BY 1, 2`.execute(db);
    for (const row of expected.rows) {
      const cells = new RegExp(`<tr data-campaign="${row.campaign_id}" data-channel="${row.channel}"><td>[^<]*</td><td>[^<]*</td><td>(\\d+)</td>`).exec(html);
      expect(Number(cells?.[1])).toBe(row.active);
    }
    expect(expected.rows.find((r) => r.campaign_id === quebec && r.channel === 'email')?.active).toBeGreaterThan(0);
  });

  it('pages through many subscribers', async () => {
    const agent = await loggedInAgent(app, approver);
    const rows = Array.from({ length: 60 }, (_, i) => `;many${i}@example.org;fr;seisme-haiti;paper`);
    await uploadCsv(agent, ['phone;email;language;campaigns;source', ...rows].join('\n'));
    const first = await (await agent.get('/staff/subscribers?q=many')).text();
    expect(first).toContain('60 subscribers match.');
    expect(first).toContain('Page 1 of 2');
    expect(first).toContain('href="/staff/subscribers?q=many&amp;page=2"');
    const second = await (await agent.get('/staff/subscribers?q=many&page=2')).text();
    expect((second.match(/many\d+@example\.org/g) ?? []).length).toBe(10);
  });

  it('exports CSV with formula-like cells neutralised, and records the export', async () => {
    const agent = await loggedInAgent(app, approver);
    const phone = newPhone();
    await uploadCsv(agent, ['phone;email;language;campaigns;source', `${phone};"=cmd|'/ccalc'!A1@evil.org";fr;seisme-haiti;paper`].join('\n'));
    const res = await agent.get(`/staff/subscribers/export.csv?q=${phone.slice(-7)}`);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="subscribers-\d{4}-\d\d-\d\d\.csv"$/);
    const csv = (await res.text()).replace(/^\uFEFF/, '');
    const [header, line] = csv.trim().split('\r\n');
    expect(header).toBe('phone,email,language,sms_campaigns,email_campaigns,sms_opted_out_at,email_opted_out_at,phone_invalid_at,created_at');
    expect(line).toContain(`'${phone}`);
    expect(line).toContain(`'=cmd|'/ccalc'!a1@evil.org,`);
    expect(line).toContain('seisme-haiti');
    expect(await db.selectFrom('audit_log').select('detail').where('action', '=', 'subscribers.exported').where('actor', '=', approver.email).execute()).not.toHaveLength(0);
  });
});

describe('the subscriber page', () => {
  it('shows the subscriptions and the consent log, with the text the person was sent', async () => {
    const phone = newPhone();
    await text(phone, 'JOIN');
    await text(phone, 'STOP QUEBEC');
    const s = await subscriberByPhone(phone);
    const html = await (await (await loggedInAgent(app, author)).get(`/staff/subscribers/${s.id}`)).text();
    expect(html).toContain('Séisme en Haïti');
    expect((html.match(/data-action="subscribe"/g) ?? []).length).toBe(2);
    expect(html).toContain('data-action="unsubscribe"');
    expect(html).toContain('SMS keyword');
    expect(html).toContain('STOP QUEBEC');
    expect(html).toContain('you will get no more QUEBEC updates');
  });
});

describe('erasure', () => {
  it('an admin erases: personal data gone, consent history replaced by one anonymous entry, replies blanked, audited', async () => {
    const phone = newPhone();
    const agent = await loggedInAgent(app, admin, '198.51.100.20');
    await text(phone, 'JOIN');
    await text(phone, 'Hello, my name is Ana and I live at 3 rue du Port');
    await uploadCsv(agent, ['phone;email;campaigns;source', `${phone};ana@example.org;seisme-haiti;paper`].join('\n'));
    const s = await subscriberByPhone(phone);
    const unrelated = newPhone();
    await text(unrelated, 'JOIN');
    const othersBefore = await db.selectFrom('consent_log').selectAll().where('subscriber_id', '<>', s.id).orderBy('id').execute();

    const refused = await agent.post(`/staff/subscribers/${s.id}/erase`, {});
    expect(refused.status).toBe(422);
    expect(await refused.text()).toContain('Tick the box to confirm the request.');
    expect((await subscriberByPhone(phone)).erased_at).toBeNull();

    const res = await agent.post(`/staff/subscribers/${s.id}/erase`, { confirm: 'yes' });
    expect(res.status).toBe(303);
    const erased = await db.selectFrom('subscribers').selectAll().where('id', '=', s.id).executeTakeFirstOrThrow();
    expect(erased).toMatchObject({ phone: null, email: null });
    expect(erased.erased_at).not.toBeNull();
    expect(await db.selectFrom('subscriptions').selectAll().where('subscriber_id', '=', s.id).execute()).toEqual([]);
    const log = await db.selectFrom('consent_log').selectAll().where('subscriber_id', '=', s.id).execute();
    expect(log.map((e) => [e.action, e.channel, e.source, e.staff_id]).sort()).toEqual([['erased', 'email', 'staff', admin.id], ['erased', 'sms', 'staff', admin.id]]);
    expect(log.every((e) => e.shown_text === null && e.source_ref === null && e.detail === null && e.campaign_id === null)).toBe(true);
    const replies = await db.selectFrom('replies').selectAll().where('subscriber_id', '=', s.id).execute();
    expect(replies).toHaveLength(1);
    expect(replies[0]).toMatchObject({ sender: '', body: '' });
    const audit = await db.selectFrom('audit_log').selectAll().where('action', '=', 'subscriber.erased').executeTakeFirstOrThrow();
    expect(audit).toMatchObject({ actor: 'admin@example.org', target: `subscriber #${s.id}`, ip: '198.51.100.20' });
    expect(JSON.stringify(audit)).not.toContain(phone.slice(1));
    expect(JSON.stringify(audit)).not.toContain('ana@');
    // Nobody else's history moved.
    expect(await db.selectFrom('consent_log').selectAll().where('subscriber_id', '<>', s.id).where('id', '<=', othersBefore.at(-1)!.id).orderBy('id').execute()).toEqual(othersBefore);

    expect(res.headers.get('location')).toBe(`/staff/subscribers/${s.id}?notice=subscribers.erasedNotice`);
    const page = await (await agent.get(res.headers.get('location')!)).text();
    expect(page).toContain('The subscriber was erased.');
    expect(page).not.toContain(phone);
    expect((await agent.post(`/staff/subscribers/${s.id}/erase`, { confirm: 'yes' })).status).toBe(409);

    // The number is free again: texting JOIN makes a new, unrelated subscriber.
    await text(phone, 'JOIN');
    expect((await subscriberByPhone(phone)).id).not.toBe(s.id);
  });
});

describe('the consent log is append-only', () => {
  it('refuses UPDATE, DELETE and TRUNCATE outside an erasure', async () => {
    const phone = newPhone();
    await text(phone, 'JOIN');
    const s = await subscriberByPhone(phone);
    await expect(sql`UPDATE consent_log SET shown_text = 'rewritten' WHERE subscriber_id = ${s.id}`.execute(db)).rejects.toThrow(/append-only/);
    await expect(sql`DELETE FROM consent_log WHERE subscriber_id = ${s.id}`.execute(db)).rejects.toThrow(/append-only/);
    await expect(sql`TRUNCATE consent_log CASCADE`.execute(db)).rejects.toThrow(/append-only/);
    // The erasure setting is local to its transaction: it does not leak to the next one on the same connection.
    await db.transaction().execute(async (trx) => {
      await sql`SELECT set_config('tocsin.erasure', 'on', true)`.execute(trx);
      await sql`UPDATE consent_log SET detail = detail WHERE subscriber_id = ${s.id}`.execute(trx);
    });
    await expect(sql`DELETE FROM consent_log WHERE subscriber_id = ${s.id}`.execute(db)).rejects.toThrow(/append-only/);
    expect(await db.selectFrom('consent_log').select('id').where('subscriber_id', '=', s.id).execute()).toHaveLength(2);
  });
});

describe('provider errors (called by the fan-out)', () => {
  it('21610 marks the phone opted out by the carrier, once, with a consent entry', async () => {
    const phone = newPhone();
    await text(phone, 'JOIN');
    const at = clock.now();
    expect(await markPhoneUnsubscribedByCarrier(db, phone, { at, ref: 'SMfailed1', message: 'Twilio 21610' })).toBe(true);
    expect(await markPhoneUnsubscribedByCarrier(db, phone, { at, ref: 'SMfailed2' })).toBe(false);
    expect(await markPhoneUnsubscribedByCarrier(db, '+33699999999', { at })).toBe(false);
    const s = await subscriberByPhone(phone);
    expect(s.sms_opted_out_at).toEqual(at);
    const last = await db.selectFrom('consent_log').selectAll().where('subscriber_id', '=', s.id).orderBy('id', 'desc').executeTakeFirstOrThrow();
    expect(last).toMatchObject({ action: 'opt_out_all', source: 'carrier_opt_out', source_ref: 'SMfailed1', campaign_id: null, channel: 'sms' });
  });

  it('21211 marks the phone invalid until the person texts from it', async () => {
    const phone = newPhone();
    await text(phone, 'JOIN');
    expect(await markPhoneInvalid(db, phone, { at: clock.now(), ref: 'SMbad' })).toBe(true);
    const s = await subscriberByPhone(phone);
    expect(s.phone_invalid_at).not.toBeNull();
    expect(await db.selectFrom('consent_log').select(['action', 'source']).where('subscriber_id', '=', s.id).orderBy('id', 'desc').executeTakeFirstOrThrow()).toEqual({ action: 'invalid', source: 'provider_error' });
    const agent = await loggedInAgent(app, author);
    expect(await (await agent.get(`/staff/subscribers?status=invalid`)).text()).toContain(phone);
    await text(phone, 'START');
    expect((await subscriberByPhone(phone)).phone_invalid_at).toBeNull();
  });
});
