import { readFileSync } from 'node:fs';
import Parser from 'rss-parser';
import { describe, expect, it } from 'vitest';
import { validateXML } from 'xmllint-wasm';
import { capDateTime } from '../../src/feeds/cap';
import { createDraft } from '../../src/updates/lifecycle';
import { createStaffMember, createTestApp } from '../helpers/app';
import { createTestCampaign } from '../helpers/campaigns';
import { draftInput, publishUpdate } from '../helpers/public-updates';

// The verbatim OASIS schema (test/fixtures/README.md).
const xsd = readFileSync(new URL('../fixtures/cap-1.2.xsd', import.meta.url), 'utf8');

async function capErrors(xml: string) {
  const r = await validateXML({ xml: [{ fileName: 'alert.xml', contents: xml }], schema: [{ fileName: 'cap-1.2.xsd', contents: xsd }] });
  return r.errors.map((e) => e.message);
}

// America/Port-au-Prince: the offset must be written, and UTC would be "-00:00".
const { app, deps, db, clock } = await createTestApp({ TIMEZONE: 'America/Port-au-Prince' });
const admin = await createStaffMember(db, 'admin');
const people = { author: await createStaffMember(db, 'author'), approver: await createStaffMember(db, 'approver') };
const campaign = await createTestCampaign(db, admin);
const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]);
const first = await publishUpdate(deps, clock, people, draftInput(campaign.id, { image: png, imageAlt: 'Camions & <bâches>' }));
const correction = await publishUpdate(deps, clock, people, draftInput(campaign.id, { correctsId: first, leads: { fr: 'Rectificatif <b>&</b> "x" 😀', en: 'Fix <b>&</b> "x" 😀' } }));
const noNeeds = await publishUpdate(deps, clock, people, draftInput(campaign.id, { needs: [{ item: 'eau', quantity: '10', unit: 'l', urgency: 'high' }, { item: 'riz', urgency: 'critical', met: true }] }));
const figuresOnly = await publishUpdate(deps, clock, people, draftInput(campaign.id, { needs: [], raised: '', goal: '', donors: '', currency: '' }));
const draft = await createDraft(deps, people.author, draftInput(campaign.id));

const get = (path: string) => app.request(`http://tocsin.test${path}`);

describe('CAP 1.2', () => {
  it('the schema check catches a broken alert (so passing means something)', async () => {
    expect(await capErrors('<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>x</identifier></alert>')).not.toEqual([]);
  });

  it.each([
    ['an alert with needs and an image', () => first],
    ['a correction', () => correction],
    ['an update with high needs', () => noNeeds],
    ['an update without needs nor figures', () => figuresOnly],
  ])('%s is valid against the OASIS XSD', async (_, id) => {
    const res = await get(`/updates/${id()}.cap`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/cap+xml; charset=utf-8');
    expect(res.headers.get('etag')).toMatch(/^"[\w-]+"$/);
    expect(await capErrors(await res.text())).toEqual([]);
  });

  it('an Alert: sender, sent with the zone offset, Actual, Public, one info per language, levels from the needs', async () => {
    const xml = await (await get(`/updates/${first}.cap`)).text();
    expect(xml).toContain('<identifier>urn:tocsin:tocsin.test:update:' + first + '</identifier>');
    expect(xml).toContain('<sender>tocsin@tocsin.test</sender>');
    // Published at 08:01 UTC = 03:01 in Port-au-Prince (UTC-5 in November).
    expect(xml).toContain('<sent>2026-11-22T03:01:00-05:00</sent>');
    expect(xml).toContain('<status>Actual</status><msgType>Alert</msgType><scope>Public</scope>');
    expect(xml.match(/<info>/g)).toHaveLength(2);
    expect(xml).toContain('<language>fr</language>');
    expect(xml).toContain('<language>en</language>');
    expect(xml).toContain('<category>Other</category>');
    expect(xml).toContain('<urgency>Immediate</urgency><severity>Severe</severity><certainty>Observed</certainty>');
    expect(xml).toContain(`<web>http://tocsin.test/updates/${first}?lang=fr</web>`);
    expect(xml).toContain('<parameter><valueName>raised</valueName><value>45200</value></parameter>');
    expect(xml).toContain('<resourceDesc>Camions &amp; &lt;bâches&gt;</resourceDesc><mimeType>image/png</mimeType>');
    expect(xml).not.toContain('<references>');
  });

  it('a correction is an Update referencing the alert it corrects', async () => {
    const xml = await (await get(`/updates/${correction}.cap`)).text();
    expect(xml).toContain('<msgType>Update</msgType>');
    expect(xml).toContain(`<references>tocsin@tocsin.test,urn:tocsin:tocsin.test:update:${first},2026-11-22T03:01:00-05:00</references>`);
    expect(xml).toContain('<headline>Rectificatif : Rectificatif &lt;b&gt;&amp;&lt;/b&gt; "x" 😀</headline>');
  });

  it('levels: the most urgent open need (met needs do not count); none → Future/Minor/Likely', async () => {
    expect(await (await get(`/updates/${noNeeds}.cap`)).text()).toContain('<urgency>Expected</urgency><severity>Moderate</severity><certainty>Observed</certainty>');
    expect(await (await get(`/updates/${figuresOnly}.cap`)).text()).toContain('<urgency>Future</urgency><severity>Minor</severity><certainty>Likely</certainty>');
  });

  it('writes UTC as -00:00, never Z', () => {
    expect(capDateTime(new Date('2026-11-22T08:01:02.345Z'), 'UTC')).toBe('2026-11-22T08:01:02-00:00');
    expect(capDateTime(new Date('2026-07-01T12:00:00Z'), 'Europe/Paris')).toBe('2026-07-01T14:00:00+02:00');
  });

  it('routes /updates/:id.cap apart from /updates/:id, and never serves a draft', async () => {
    expect((await get(`/updates/${first}`)).headers.get('content-type')).toMatch(/^text\/html/);
    expect((await get(`/updates/${draft}.cap`)).status).toBe(404);
    expect((await get(`/updates/${draft}`)).status).toBe(404);
    expect((await get('/updates/abc.cap')).status).toBe(404);
    expect((await get('/updates/12.cap.cap')).status).toBe(404);
  });

  it('/feed.cap.atom indexes the alerts with typed links', async () => {
    const res = await get('/feed.cap.atom');
    const xml = await res.text();
    expect(res.headers.get('content-type')).toBe('application/atom+xml; charset=utf-8');
    const feed = await new Parser().parseString(xml);
    expect(feed.items).toHaveLength(4);
    for (const id of [first, correction, noNeeds, figuresOnly]) {
      expect(xml).toContain(`<link rel="alternate" type="application/cap+xml" href="http://tocsin.test/updates/${id}.cap"/>`);
    }
    expect(xml).toContain('<link rel="self" href="http://tocsin.test/feed.cap.atom"/>');
    expect(xml).not.toContain(`/updates/${draft}`);
  });
});
