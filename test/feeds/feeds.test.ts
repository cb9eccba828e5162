import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Parser from 'rss-parser';
import { afterAll, describe, expect, it } from 'vitest';
import { validateXML } from 'xmllint-wasm';
import { tocsinNamespace } from '../../src/feeds/feeds';
import { feedUrlsToPing, pingWebSubHub } from '../../src/feeds/websub';
import { createDraft, submitForApproval } from '../../src/updates/lifecycle';
import { createStaffMember, createTestApp } from '../helpers/app';
import { createTestCampaign } from '../helpers/campaigns';
import { draftInput, publishUpdate } from '../helpers/public-updates';

const { app, deps, db, clock, logLines } = await createTestApp({ WEBSUB_HUB: 'http://127.0.0.1:9/hub' });
const admin = await createStaffMember(db, 'admin');
const author = await createStaffMember(db, 'author');
const approver = await createStaffMember(db, 'approver');
const people = { author, approver };
const haiti = await createTestCampaign(db, admin);
const other = await createTestCampaign(db, admin, { languages: ['en'], currency: 'USD', goal: '5000' });

const nasty = {
  fr: 'Alerte <script>alert("x")</script> & « guillemets » \'simples\' 😀 ]]> fin',
  en: 'Alert <script>alert("x")</script> & "quotes" \'single\' 😀 ]]> end',
};
const first = await publishUpdate(deps, clock, people, draftInput(haiti.id));
const correction = await publishUpdate(deps, clock, people, draftInput(haiti.id, { leads: nasty, raised: '50 000,50', donors: '900', correctsId: first }));
const otherId = await publishUpdate(deps, clock, people, draftInput(other.id, { leads: { en: 'Floods: 300 families sheltered.' }, needs: [], raised: '1200', currency: 'USD', goal: '5000', donors: '31' }));
const draft = await createDraft(deps, author, draftInput(haiti.id, { leads: { fr: 'BROUILLON secret', en: 'DRAFT secret' } }));
const pending = await createDraft(deps, author, draftInput(haiti.id, { leads: { fr: 'EN ATTENTE secret', en: 'PENDING secret' } }));
await submitForApproval(deps, author, pending);

type Figures = Record<string, unknown>;
const customFields = ['tocsin:raised', 'tocsin:goal', 'tocsin:currency', 'tocsin:donors', 'tocsin:as_of', 'tocsin:language', 'tocsin:corrects', 'tocsin:campaign'];
const parser = new Parser<Record<string, unknown>, Figures>({
  customFields: { item: [...customFields, ['tocsin:need', 'needs', { keepArray: true }], ['tocsin:corrected_by', 'correctedBy', { keepArray: true }]] as never },
});

async function get(path: string, headers: Record<string, string> = {}) {
  return app.request(`http://tocsin.test${path}`, { headers });
}

async function wellFormed(xml: string) {
  const r = await validateXML({ xml: [{ fileName: 'feed.xml', contents: xml }], normalization: 'format' });
  expect(r.errors).toEqual([]);
}

describe('RSS 2.0', async () => {
  const res = await get('/feed.rss');
  const xml = await res.text();
  const feed = await parser.parseString(xml);

  it('is RSS with our namespace, a self link and the WebSub hub', async () => {
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/rss+xml; charset=utf-8');
    expect(xml).toContain(`xmlns:tocsin="${tocsinNamespace}"`);
    expect(feed.feedUrl).toBe('http://tocsin.test/feed.rss');
    expect(xml).toMatch(/<atom:link href="http:\/\/127.0.0.1:9\/hub" rel="hub"\/>/);
    await wellFormed(xml);
  });

  it('carries published updates only, newest first', () => {
    expect(feed.items.map((i) => i.link)).toEqual([otherId, correction, first].map((id) => `http://tocsin.test/updates/${id}`));
    expect(xml).not.toContain('secret');
    expect(xml).not.toContain(`/updates/${draft}`);
    expect(xml).not.toContain(`/updates/${pending}`);
  });

  it('round-trips the figures through the tocsin namespace', () => {
    const item = feed.items.find((i) => i.link === `http://tocsin.test/updates/${first}`)!;
    expect(item).toMatchObject({ 'tocsin:raised': '45200', 'tocsin:goal': '100000', 'tocsin:currency': 'EUR', 'tocsin:donors': '812', 'tocsin:as_of': '2026-11-20T18:00:00.000Z', 'tocsin:language': 'fr' });
    const needs = item.needs as { $: { urgency: string; met: string }; 'tocsin:item': string[]; 'tocsin:quantity': string[]; 'tocsin:unit': string[] }[];
    expect(needs.map((n) => [n['tocsin:item'][0], n['tocsin:quantity'][0], n['tocsin:unit'][0], n.$.urgency, n.$.met])).toEqual([
      ['bâches', '4000', 'unités', 'critical', 'false'],
      ['eau potable', '12000', 'litres', 'high', 'false'],
    ]);
    expect((item.correctedBy as { _: string }[])[0]!._).toBe(String(correction));
    const fixed = feed.items.find((i) => i.link === `http://tocsin.test/updates/${correction}`)!;
    expect(fixed['tocsin:raised']).toBe('50000.5');
    expect(fixed['tocsin:corrects']).toBe(String(first));
  });

  it('marks the correction and keeps user text as text', () => {
    const fixed = feed.items.find((i) => i.link === `http://tocsin.test/updates/${correction}`)!;
    // A title is plain text: exactly what was typed, after "Rectificatif : ".
    expect(fixed.title!.replace(/\u200b/g, '')).toBe(`Rectificatif : ${nasty.fr}`);
    // The description is HTML: the lead's markup is escaped, never live.
    expect(fixed.content).toContain('Alerte &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; « guillemets »');
    expect(fixed.content).not.toContain('<script>');
    expect(fixed.content).toContain(`<a href="http://tocsin.test/updates/${first}">`);
    expect(fixed.contentSnippet).toContain('😀');
  });

  it('in one language with ?lang=en', async () => {
    const en = await parser.parseString(await (await get('/feed.rss?lang=en')).text());
    expect(en.items.map((i) => i['tocsin:language'])).toEqual(['en', 'en', 'en']);
    expect(en.items[1]!.title!.replace(/\u200b/g, '')).toBe(`Correction: ${nasty.en}`);
    expect(en.feedUrl).toBe('http://tocsin.test/feed.rss?lang=en');
  });

  it('per campaign, and 404 for an unknown one', async () => {
    const one = await parser.parseString(await (await get(`/campaigns/${other.slug}/feed.rss`)).text());
    expect(one.items.map((i) => i.link)).toEqual([`http://tocsin.test/updates/${otherId}`]);
    expect(one.items[0]).toMatchObject({ 'tocsin:raised': '1200', 'tocsin:currency': 'USD', 'tocsin:donors': '31' });
    expect((await get('/campaigns/no-such-thing/feed.rss')).status).toBe(404);
  });
});

describe('Atom', async () => {
  const res = await get('/feed.atom');
  const xml = await res.text();
  const feed = await parser.parseString(xml);

  it('is Atom with our namespace, self and hub links, and an author', async () => {
    expect(res.headers.get('content-type')).toBe('application/atom+xml; charset=utf-8');
    expect(xml).toContain(`xmlns:tocsin="${tocsinNamespace}"`);
    expect(xml).toContain('<link rel="self" href="http://tocsin.test/feed.atom"/>');
    expect(xml).toContain('<link rel="hub" href="http://127.0.0.1:9/hub"/>');
    expect(xml).toMatch(/<author>\s*<name>Tocsin<\/name>/);
    await wellFormed(xml);
  });

  it('round-trips the figures and marks the correction', () => {
    expect(feed.items).toHaveLength(3);
    const fixed = feed.items.find((i) => i.link === `http://tocsin.test/updates/${correction}`)!;
    expect(fixed).toMatchObject({ 'tocsin:raised': '50000.5', 'tocsin:goal': '100000', 'tocsin:currency': 'EUR', 'tocsin:donors': '900', 'tocsin:corrects': String(first) });
    expect((fixed.needs as unknown[]).length).toBe(2);
    // type="html": the title is escaped HTML whose text is what was typed.
    expect(fixed.title).toContain('Rectificatif : Alerte &lt;script&gt;');
    expect(fixed.content).not.toContain('<script>');
    expect(xml).not.toContain('secret');
  });
});

describe('JSON Feed 1.1', async () => {
  const res = await get('/feed.json');
  const feed = JSON.parse(await res.text());

  it('is JSON Feed 1.1 with hubs and a _tocsin object per item', () => {
    expect(res.headers.get('content-type')).toBe('application/feed+json; charset=utf-8');
    expect(feed.version).toBe('https://jsonfeed.org/version/1.1');
    expect(feed.feed_url).toBe('http://tocsin.test/feed.json');
    expect(feed.hubs).toEqual([{ type: 'WebSub', url: 'http://127.0.0.1:9/hub' }]);
    expect(feed.items).toHaveLength(3);
    const fixed = feed.items.find((i: { id: string }) => i.id === `http://tocsin.test/updates/${correction}`);
    expect(fixed._tocsin).toMatchObject({
      raised: '50000.5',
      goal: '100000',
      currency: 'EUR',
      donors: 900,
      as_of: '2026-11-20T18:00:00.000Z',
      corrects: { id: first, url: `http://tocsin.test/updates/${first}` },
      needs: [
        { item: 'bâches', quantity: 4000, unit: 'unités', urgency: 'critical', met: false },
        { item: 'eau potable', quantity: 12000, unit: 'litres', urgency: 'high', met: false },
      ],
    });
    expect(fixed.title).toBe(`Rectificatif : ${nasty.fr}`);
    expect(fixed.content_text.startsWith(`Rectificatif : ${nasty.fr}`)).toBe(true);
    expect(fixed.content_html).not.toContain('<script>');
    const original = feed.items.find((i: { id: string }) => i.id === `http://tocsin.test/updates/${first}`);
    expect(original._tocsin.corrected_by).toEqual([{ id: correction, url: `http://tocsin.test/updates/${correction}` }]);
    expect(JSON.stringify(feed)).not.toContain('secret');
  });
});

describe('WebSub', () => {
  it('pings the hub for every feed the update is in; a failing hub is logged, never thrown', async () => {
    const received: string[] = [];
    const hub = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        received.push(body);
        res.statusCode = received.length === 1 ? 500 : 204;
        res.end();
      });
    });
    await new Promise<void>((r) => hub.listen(0, '127.0.0.1', r));
    afterAll(() => new Promise<void>((r) => hub.close(() => r())));
    const url = `http://127.0.0.1:${(hub.address() as AddressInfo).port}/hub`;
    const result = await pingWebSubHub({ ...deps, config: { ...deps.config, WEBSUB_HUB: url } }, otherId);
    const expected = feedUrlsToPing('http://tocsin.test', [other.slug]);
    expect(received.map((b) => new URLSearchParams(b).get('hub.url')).sort()).toEqual([...expected].sort());
    expect(received.every((b) => new URLSearchParams(b).get('hub.mode') === 'publish')).toBe(true);
    expect(expected).toContain(`http://tocsin.test/campaigns/${other.slug}/feed.atom?lang=fr`);
    expect(result).toEqual({ pinged: expected.length - 1, failed: 1 });
    expect(logLines.some((l) => l.includes('websub ping failed'))).toBe(true);
  });

  it('a hub that does not answer times out', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/hub`;
    const result = await pingWebSubHub({ ...deps, config: { ...deps.config, WEBSUB_HUB: url } }, otherId, { timeoutMs: 200 });
    expect(result.pinged).toBe(0);
    silent.closeAllConnections();
    await new Promise<void>((r) => silent.close(() => r()));
  });

  it('does nothing without WEBSUB_HUB', async () => {
    expect(await pingWebSubHub({ ...deps, config: { ...deps.config, WEBSUB_HUB: undefined } }, otherId)).toEqual({ pinged: 0, failed: 0 });
  });
});
