import { describe, expect, it } from 'vitest';
import { createStaffMember, createTestApp, loggedInAgent } from '../helpers/app';
import { insertCampaign, uploadCsv } from './helpers';

const { app, db } = await createTestApp();
await insertCampaign(db, { slug: 'seisme-haiti', keywords: ['HAITI'], languages: ['fr', 'en'] });
await insertCampaign(db, { slug: 'cyclone-quebec', keywords: ['QUEBEC'], languages: ['fr'] });
const admin = await createStaffMember(db, 'admin');

const rows = 100_000;
const lines = ['Téléphone;Courriel;Langue;Campagnes;Source du consentement'];
let expectedSms = 0;
let expectedEmail = 0;
for (let i = 0; i < rows; i++) {
  const withEmail = i % 2 === 0;
  const campaigns = i % 3 === 0 ? 'seisme-haiti|QUEBEC' : 'HAITI';
  const n = campaigns.includes('|') ? 2 : 1;
  expectedSms += n;
  if (withEmail) expectedEmail += n;
  lines.push(`06 ${String(10_000_000 + i).replace(/(\d\d)(?=\d)/g, '$1 ')};${withEmail ? `person${i}@example.org` : ''};fr;${campaigns};formulaire ${i % 7}`);
}
const csv = lines.join('\r\n');

const count = async (table: 'subscribers' | 'subscriptions' | 'consent_log') =>
  (await db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n;

describe('a 100 000-row import', () => {
  it('goes in whole, in one request, and a second time changes nothing', { timeout: 180_000 }, async () => {
    const agent = await loggedInAgent(app, admin);
    const started = performance.now();
    const { res, html } = await uploadCsv(agent, csv, { name: 'big.csv' });
    const seconds = (performance.now() - started) / 1000;
    expect(res.status).toBe(200);
    expect(html).toContain(`${rows} rows read: ${rows} imported, 0 rejected`);
    expect(await count('subscribers')).toBe(rows);
    expect(await count('subscriptions')).toBe(expectedSms + expectedEmail);
    expect(await count('consent_log')).toBe(expectedSms + expectedEmail);
    const sample = await db.selectFrom('subscribers').selectAll().where('email', '=', 'person4242@example.org').executeTakeFirstOrThrow();
    expect(sample.phone).toBe('+33610004242');

    const again = performance.now();
    const second = await uploadCsv(agent, csv, { name: 'big.csv' });
    const secondSeconds = (performance.now() - again) / 1000;
    expect(second.html).toContain('0 new subscribers, 0 new subscriptions.');
    expect(await count('subscribers')).toBe(rows);
    expect(await count('consent_log')).toBe(expectedSms + expectedEmail);
    // Reported, not asserted: timing depends on the machine.
    console.log(`100 000-row CSV import (${(csv.length / 1048576).toFixed(1)} MB): first ${seconds.toFixed(1)} s, again ${secondSeconds.toFixed(1)} s`);
  });
});
