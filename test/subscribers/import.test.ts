import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createStaffMember, createTestApp, loggedInAgent } from '../helpers/app';
import { insertCampaign, newPhone, postSms, smsParams, twilioAuthToken, uploadCsv as upload } from './helpers';

const { app, db } = await createTestApp({ TWILIO_AUTH_TOKEN: twilioAuthToken, DEFAULT_COUNTRY: 'FR' });
const haiti = await insertCampaign(db, { slug: 'seisme-haiti', name: 'Séisme en Haïti', keywords: ['HAITI'], languages: ['fr', 'en'] });
const quebec = await insertCampaign(db, { slug: 'cyclone-quebec', name: 'Cyclone au Québec', keywords: ['QUEBEC'], languages: ['fr'] });
const approver = await createStaffMember(db, 'approver', 'approver@example.org');
const author = await createStaffMember(db, 'author', 'author@example.org');

const fixture = readFileSync(new URL('../fixtures/subscribers-excel-fr.csv', import.meta.url));
const expected = JSON.parse(readFileSync(new URL('../fixtures/subscribers-excel-fr.expect.json', import.meta.url), 'utf8')) as {
  rows: { line: number; valid: boolean | string; phone?: string | null; email?: string | null; lang?: string; campaigns?: string[] }[];
};

const rejectedLines = (html: string) => [...html.matchAll(/<tr data-line="(\d+)"><td>\d+<\/td><td>([^<]*)<\/td><\/tr>/g)].map((m) => ({ line: Number(m[1]), why: m[2]! }));
const snapshot = async () => ({
  subscribers: await db.selectFrom('subscribers').selectAll().orderBy('id').execute(),
  subscriptions: await db.selectFrom('subscriptions').selectAll().orderBy('subscriber_id').orderBy('campaign_id').orderBy('channel').execute(),
  consent: await db.selectFrom('consent_log').selectAll().orderBy('id').execute(),
});
const subscriptionsOf = async (where: { phone?: string; email?: string }) => {
  let q = db.selectFrom('subscribers').select('id');
  if (where.phone) q = q.where('phone', '=', where.phone);
  if (where.email) q = q.where('email', '=', where.email);
  const s = await q.executeTakeFirst();
  if (!s) return null;
  const rows = await db.selectFrom('subscriptions').selectAll().where('subscriber_id', '=', s.id).execute();
  return Object.fromEntries(rows.map((r) => [`${r.channel}:${r.campaign_id}`, r.status]));
};

describe('the French spreadsheet fixture', () => {
  it('imports the valid rows, reports each rejected row with its line and reason, merges the duplicate', async () => {
    const agent = await loggedInAgent(app, approver);
    const { res, html } = await upload(agent, fixture, { name: 'subscribers-excel-fr.csv' });
    expect(res.status).toBe(200);

    const rejected = rejectedLines(html);
    for (const row of expected.rows) {
      if (row.valid === true) {
        expect(rejected.map((r) => r.line)).not.toContain(row.line);
        const s = await db
          .selectFrom('subscribers')
          .selectAll()
          .where((eb) => (row.phone ? eb('phone', '=', row.phone) : eb('email', '=', row.email!)))
          .executeTakeFirstOrThrow();
        expect({ phone: s.phone, email: s.email }).toMatchObject({ ...(row.phone !== undefined ? { phone: row.phone } : {}), ...(row.email !== undefined ? { email: row.email } : {}) });
        if (row.lang) expect(s.language).toBe(row.lang);
        if (row.campaigns) {
          const subs = await db.selectFrom('subscriptions').innerJoin('campaigns', 'campaigns.id', 'subscriptions.campaign_id').select('campaigns.slug').where('subscriber_id', '=', s.id).where('status', '=', 'active').execute();
          expect(subs.map((x) => x.slug).sort()).toEqual([...row.campaigns].sort());
        }
      } else if (row.valid === false) {
        expect(rejected.map((r) => r.line)).toContain(row.line);
      }
    }
    // Line 4: a Canadian number written nationally is no valid French number.
    expect(rejected.find((r) => r.line === 4)!.why).toContain('(514) 555-0199');
    expect(rejected.find((r) => r.line === 7)!.why).toMatch(/123.*pas-un-courriel|pas-un-courriel.*123/);
    expect(rejected.find((r) => r.line === 8)!.why).toContain('xx');
    expect(rejected.find((r) => r.line === 9)!.why).toContain('Neither a phone number nor an email address');
    expect(rejected.find((r) => r.line === 10)!.why).toContain('campagne-inconnue');
    expect(rejected.map((r) => r.line)).toEqual([4, 7, 8, 9, 10]);
    expect(html).toContain('Row 6 repeats row 2.');
    expect(html).toContain('9 rows read: 3 imported, 5 rejected, 1 repeated rows merged.');

    // Marie gave a phone and an address: both channels; her consent source is the file's.
    expect(await subscriptionsOf({ email: 'marie.dupont@example.fr' })).toEqual({ [`sms:${haiti}`]: 'active', [`email:${haiti}`]: 'active' });
    const marie = (await db.selectFrom('subscribers').select('id').where('email', '=', 'marie.dupont@example.fr').executeTakeFirstOrThrow()).id;
    const log = await db.selectFrom('consent_log').selectAll().where('subscriber_id', '=', marie).execute();
    expect(log).toHaveLength(2);
    expect(log[0]).toMatchObject({ action: 'subscribe', source: 'staff_import', staff_id: approver.id, detail: 'formulaire papier 2026-11-18' });
    expect(log[0]!.shown_text).toContain('I attest that every person in this file agreed');
    expect(log[0]!.source_ref).toMatch(/^import #\d+$/);

    const report = await db.selectFrom('subscriber_imports').selectAll().orderBy('id', 'desc').executeTakeFirstOrThrow();
    expect(report).toMatchObject({ file_name: 'subscribers-excel-fr.csv', rows_total: 9, rows_valid: 3, rows_rejected: 5, rows_duplicate: 1, subscribers_created: 3, subscriptions_created: 5 });
    // The stored report keeps reasons, not the rejected phone numbers and addresses.
    expect(JSON.stringify(report.rejected)).not.toContain('pas-un-courriel');
    expect(report.rejected.map((r) => r.line)).toEqual([4, 7, 8, 9, 10]);
    expect(await db.selectFrom('audit_log').selectAll().where('action', '=', 'subscribers.imported').execute()).toHaveLength(1);
  });

  it('importing the same file again changes nothing, not even the consent log', async () => {
    const agent = await loggedInAgent(app, approver);
    const before = await snapshot();
    const { res, html } = await upload(agent, fixture);
    expect(res.status).toBe(200);
    expect(html).toContain('0 new subscribers, 0 new subscriptions.');
    expect(await snapshot()).toEqual(before);
  });

  it('with DEFAULT_COUNTRY=CA, line 4 is a Canadian number', async () => {
    const canadian = await createTestApp({ DEFAULT_COUNTRY: 'CA' }, { db });
    const agent = await loggedInAgent(canadian.app, approver);
    const { html } = await upload(agent, fixture);
    expect(rejectedLines(html).map((r) => r.line)).not.toContain(4);
    expect(await subscriptionsOf({ phone: '+15145550199' })).toEqual({ [`sms:${quebec}`]: 'active', [`email:${quebec}`]: 'active' });
  });
});

describe('rows, one by one', () => {
  it('takes commas, keywords, language names, quoted cells, our own export’s apostrophes; rejects conflicts', async () => {
    const agent = await loggedInAgent(app, approver);
    const csv = [
      'Phone,Email,Language,Campaigns,Consent source',
      `'+33 6 11 11 11 11,first@example.org,Français,"haiti|QUEBEC",stand at the fair`,
      ',second@example.org,english,seisme-haiti,',
      '+33 6 11 11 11 11,other@example.org,fr,seisme-haiti,stand',
      ',,,,',
      '',
      '+33 6 22 22 22 22,SECOND@example.org,fr,seisme-haiti,stand',
      '+33 6 33 33 33 33,,fr,,stand',
      `+33 6 44 44 44 44,"=HYPERLINK(""x"")@evil.org",fr,cyclone-quebec,"stand, ""quoted"""`,
    ].join('\n');
    const { res, html } = await upload(agent, csv, { source: 'default: paper form' });
    expect(res.status).toBe(200);
    const rejected = rejectedLines(html);
    expect(rejected.map((r) => r.line)).toEqual([4, 8]);
    expect(rejected[0]!.why).toContain('row 2');
    expect(rejected[1]!.why).toContain('No campaign');
    // The same address again, now with a phone: one person, completed.
    expect(html).toContain('Row 7 repeats row 3.');
    expect(await subscriptionsOf({ phone: '+33611111111' })).toEqual({ [`sms:${haiti}`]: 'active', [`sms:${quebec}`]: 'active', [`email:${haiti}`]: 'active', [`email:${quebec}`]: 'active' });
    const second = await db.selectFrom('subscribers').selectAll().where('email', '=', 'second@example.org').executeTakeFirstOrThrow();
    expect(second).toMatchObject({ language: 'en', phone: '+33622222222' });
    const log = await db.selectFrom('consent_log').select('detail').where('subscriber_id', '=', second.id).executeTakeFirstOrThrow();
    expect(log.detail).toBe('default: paper form');
    expect(await db.selectFrom('subscribers').select('email').where('phone', '=', '+33644444444').executeTakeFirstOrThrow()).toEqual({ email: '=hyperlink("x")@evil.org' });
  });

  it('fills in what an existing subscriber lacks, and refuses to merge two people', async () => {
    const agent = await loggedInAgent(app, approver);
    const phone = newPhone();
    await postSms(app, smsParams(phone, 'HAITI'));
    const first = await upload(agent, ['phone;email;campaigns;source', `${phone};paper@example.org;cyclone-quebec;paper`, `;someone@example.org;seisme-haiti;paper`].join('\r\n'));
    expect(rejectedLines(first.html)).toEqual([]);
    expect(await subscriptionsOf({ phone })).toEqual({ [`sms:${haiti}`]: 'active', [`sms:${quebec}`]: 'active', [`email:${quebec}`]: 'active' });
    expect(await db.selectFrom('subscribers').select('email').where('phone', '=', phone).executeTakeFirstOrThrow()).toEqual({ email: 'paper@example.org' });

    const before = await snapshot();
    const second = await upload(agent, ['phone;email;campaigns;source', `${phone.replace('+33', '0')};someone@example.org;seisme-haiti;paper`, `${phone};other@example.org;seisme-haiti;paper`].join('\r\n'));
    expect(rejectedLines(second.html).map((r) => r.line)).toEqual([2, 3]);
    expect(rejectedLines(second.html)[0]!.why).toContain('different subscribers');
    expect(await snapshot()).toEqual(before);
  });

  it('never re-subscribes someone who texted STOP or left a campaign', async () => {
    const agent = await loggedInAgent(app, approver);
    const stopped = newPhone();
    const leftHaiti = newPhone();
    await postSms(app, smsParams(stopped, 'JOIN'));
    await postSms(app, smsParams(stopped, 'STOP'));
    await postSms(app, smsParams(leftHaiti, 'JOIN'));
    await postSms(app, smsParams(leftHaiti, 'STOP HAITI'));
    const stranger = newPhone();
    await postSms(app, smsParams(stranger, 'ARRET'));
    const before = await snapshot();
    const { html } = await upload(agent, ['phone;campaigns;source', `${stopped};seisme-haiti|cyclone-quebec;old list`, `${leftHaiti};seisme-haiti;old list`, `${stranger};seisme-haiti;old list`].join('\n'));
    expect(html).toContain('3 people in the file had unsubscribed or opted out: they stay so.');
    expect(await snapshot()).toEqual(before);
    expect(await subscriptionsOf({ phone: leftHaiti })).toMatchObject({ [`sms:${haiti}`]: 'unsubscribed' });
    expect(await subscriptionsOf({ phone: stranger })).toEqual({});
  });
});

describe('what is refused as a whole', () => {
  it('without the attestation: 422, nothing stored', async () => {
    const agent = await loggedInAgent(app, approver);
    const before = await snapshot();
    const imports = (await db.selectFrom('subscriber_imports').select('id').execute()).length;
    const { res, html } = await upload(agent, 'phone,campaigns,source\n+33699999999,seisme-haiti,x', { attest: false });
    expect(res.status).toBe(422);
    expect(html).toContain('Tick the attestation');
    expect(await snapshot()).toEqual(before);
    expect((await db.selectFrom('subscriber_imports').select('id').execute()).length).toBe(imports);
  });

  it.each([
    ['an empty file', '', 'Choose a CSV file'],
    ['a file without a header', '+33699999999;seisme-haiti\n+33699999998;seisme-haiti', 'The first row must name the columns'],
    ['a file without campaigns', 'phone;email\n+33699999999;a@b.org', 'The first row must name a campaigns column'],
    ['too many rows', `phone;campaigns;source\n${'1;seisme-haiti;x\n'.repeat(200_001)}`, 'The file has more than 200000 rows.'],
    ['a broken quote', 'phone;campaigns;source\n+33699999999;seisme-haiti;ok\n"+33699999998;seisme-haiti;x\n', 'a quote is not closed, from row 3'],
  ])('%s: 422 with a clear message, nothing stored', async (_, csv, message) => {
    const agent = await loggedInAgent(app, approver);
    const before = await snapshot();
    const { res, html } = await upload(agent, csv);
    expect(res.status).toBe(422);
    expect(html).toContain(message);
    expect(await snapshot()).toEqual(before);
  });

  it('a file over 20 MB: 413 with a clear message; a body over the route’s limit: 413 too', async () => {
    const agent = await loggedInAgent(app, approver);
    const header = 'phone;campaigns;source\n';
    const big = header + '+33611111111;seisme-haiti;x\n'.repeat(Math.ceil((20 * 1024 * 1024) / 27));
    const { res, html } = await upload(agent, big);
    expect(res.status).toBe(413);
    expect(html).toContain('The file is larger than 20 MB. Split it and import the parts.');
    const huge = await upload(agent, big + 'x'.repeat(2 * 1024 * 1024));
    expect(huge.res.status).toBe(413);
    // Other forms keep the 1 MB limit.
    const elsewhere = await agent.post('/staff/account/language', { language: 'x'.repeat(1024 * 1024 + 10) });
    expect(elsewhere.status).toBe(413);
  });

  it('an author cannot import', async () => {
    const agent = await loggedInAgent(app, author);
    expect((await agent.get('/staff/subscribers/import')).status).toBe(403);
    const before = await snapshot();
    const { res } = await upload(agent, 'phone;campaigns;source\n+33699999999;seisme-haiti;x');
    expect(res.status).toBe(403);
    expect(await snapshot()).toEqual(before);
  });
});
