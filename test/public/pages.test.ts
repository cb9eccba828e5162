import { describe, expect, it } from 'vitest';
import { updateCampaign } from '../../src/campaigns/campaigns';
import { createDraft } from '../../src/updates/lifecycle';
import { createStaffMember, createTestApp, loggedInAgent } from '../helpers/app';
import { createTestCampaign } from '../helpers/campaigns';
import { draftInput, publishUpdate } from '../helpers/public-updates';

const { app, deps, db, clock } = await createTestApp({ FOUNDATION_NAME: 'Fondation Lumière' });
const admin = await createStaffMember(db, 'admin');
const people = { author: await createStaffMember(db, 'author'), approver: await createStaffMember(db, 'approver') };
const haiti = await createTestCampaign(db, admin, { name: 'Séisme en Haïti' });
const closed = await createTestCampaign(db, admin, { name: 'Ouragan 2025' });

const nasty = { fr: 'Alerte <script>alert("x")</script> & « guillemets » \'simples\' 😀', en: 'Alert <script>alert("x")</script> & "quotes" \'single\' 😀' };
const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]);
const older = await publishUpdate(deps, clock, people, draftInput(haiti.id, { raised: '30000', donors: '500' }));
const first = await publishUpdate(deps, clock, people, draftInput(haiti.id, { image: png, imageAlt: 'Volontaires "déchargeant" un camion' }));
const correction = await publishUpdate(deps, clock, people, draftInput(haiti.id, {
  leads: nasty,
  correctsId: first,
  raised: '50 000',
  donors: '900',
  needs: [{ item: 'tentes <b>', quantity: '300', unit: 'unités', urgency: 'critical' }, { item: 'bâches', quantity: '4000', urgency: 'high', met: true }],
}));
await publishUpdate(deps, clock, people, draftInput(closed.id, { leads: { fr: 'Campagne close : merci.', en: 'Campaign closed: thank you.' } }));
await updateCampaign(deps, admin, closed.id, { name: closed.name, slug: closed.slug, keywords: closed.keywords.join(' '), hashtag: '', languages: closed.languages, goal: closed.goal ?? '', currency: closed.currency, donate_url: '', active: false }, '127.0.0.1');
const draft = await createDraft(deps, people.author, draftInput(haiti.id, { leads: { fr: 'BROUILLON secret', en: 'DRAFT secret' } }));

const get = (path: string, headers: Record<string, string> = {}) => app.request(`http://tocsin.test${path}`, { headers });
const text = async (path: string, headers: Record<string, string> = {}) => {
  const res = await get(path, headers);
  expect(res.status).toBe(200);
  return res.text();
};

function expectEscaped(html: string) {
  expect(html).not.toContain('<script>');
  expect(html).toContain('&lt;script&gt;');
  expect(html).toContain('😀');
}

describe('the public home page', async () => {
  const fr = await text('/?lang=fr');
  const en = await text('/', { 'accept-language': 'en-GB,en;q=0.9' });

  it('shows each active campaign with its progress, current needs and latest updates', () => {
    expect(fr).toContain('Séisme en Haïti');
    expect(fr).not.toContain('Ouragan 2025');
    // The latest snapshot (the correction's): 50 000 € of 100 000 €, 900 donors, as of…
    expect(fr).toMatch(/50[\u202f\u00a0 ]000[\u202f\u00a0 ]€ collectés sur 100[\u202f\u00a0 ]000[\u202f\u00a0 ]€/);
    expect(fr).toMatch(/role="progressbar"[^>]*aria-valuenow="50"/);
    expect(fr).toContain('style="width:50.0%"');
    expect(fr).toContain('900 donateurs');
    expect(fr).toContain('au 20 nov. 2026');
    // Current needs: the open ones of the latest update only (the met tarpaulins are gone).
    const needs = fr.split('Besoins actuels')[1]!.split('</ul>')[0]!;
    expect(needs).toContain('tentes &lt;b&gt; : 300 unités (critique)');
    expect(needs).not.toContain('bâches');
    expect(fr).toContain(`href="/updates/${correction}"`);
    expect(fr).toContain(`href="/updates/${first}"`);
  });

  it('is in English for an English browser, French with ?lang=fr', () => {
    expect(en).toContain('<html lang="en">');
    expect(en).toContain('€50,000 raised of €100,000');
    expect(en).toContain('900 donors');
    expect(fr).toContain('<html lang="fr">');
  });

  it('escapes what staff wrote, shows no draft, and stays small', () => {
    expectEscaped(fr);
    expect(fr).not.toContain('secret');
    expect(Buffer.byteLength(fr)).toBeLessThan(60 * 1024);
    expect(fr).toContain('href="/feed.rss"');
  });

  it('is the same for staff (no menu, no CSRF token) so caches may share it', async () => {
    const agent = await loggedInAgent(app, admin);
    const res = await agent.get('/?lang=fr');
    const html = await res.text();
    expect(html).not.toContain('href="/staff/updates"');
    expect(html).not.toContain('name="_csrf"');
    expect(res.headers.getSetCookie().some((c) => c.startsWith('tocsin_csrf='))).toBe(false);
    expect(res.headers.get('cache-control')).toBe('public, max-age=60');
    expect(res.headers.get('vary')).toBe('Accept-Language, Cookie');
  });
});

describe('an update’s permalink', () => {
  it('has OpenGraph and Twitter Card tags with the absolute image URL', async () => {
    const html = await text(`/updates/${first}?lang=en`);
    const imageId = (await db.selectFrom('updates').select('image_id').where('id', '=', first).executeTakeFirstOrThrow()).image_id;
    expect(html).toContain(`<meta property="og:url" content="http://tocsin.test/updates/${first}"/>`);
    expect(html).toContain('<meta property="og:title" content="Earthquake: our teams are distributing water in Jérémie."/>');
    expect(html).toMatch(/<meta property="og:description" content="Earthquake: our teams are distributing water in Jérémie\. €45,200 raised of €100,000/);
    expect(html).toContain(`<meta property="og:image" content="http://tocsin.test/images/${imageId}"/>`);
    expect(html).toContain('<meta property="og:image:alt" content="Volontaires &quot;déchargeant&quot; un camion"/>');
    expect(html).toContain('<meta name="twitter:card" content="summary_large_image"/>');
    expect(html).toContain(`<meta name="twitter:image" content="http://tocsin.test/images/${imageId}"/>`);
    expect(html).toContain(`<img src="/images/${imageId}" alt="Volontaires &quot;déchargeant&quot; un camion"`);
    // The image is public now that its update is.
    expect((await get(`/images/${imageId}`)).status).toBe(200);
  });

  it('links a correction to what it corrects, and back', async () => {
    const original = await text(`/updates/${first}?lang=en`);
    expect(original).toContain('This update was corrected on');
    expect(original).toContain(`<a href="/updates/${correction}">Read the correction</a>`);
    const fixed = await text(`/updates/${correction}?lang=en`);
    expect(fixed).toContain('This corrects our update of');
    expect(fixed).toContain(`<a href="/updates/${first}">Read the corrected update</a>`);
    expect(fixed).toContain('<meta name="twitter:card" content="summary"/>');
  });

  it('escapes the lead in the page, its title and its meta tags', async () => {
    const html = await text(`/updates/${correction}?lang=fr`);
    expectEscaped(html);
    expect(html).toContain('<meta property="og:title" content="Rectificatif : Alerte &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; « guillemets » &#39;simples&#39; 😀"/>');
    expect(html).toMatch(/<title>Rectificatif : Alerte &lt;script&gt;/);
  });

  it('does not exist for a draft, an unknown id or garbage', async () => {
    for (const path of [`/updates/${draft}`, '/updates/999999', '/updates/abc', '/updates/-1', '/updates/99999999999999999999']) {
      const res = await get(path);
      expect(res.status, path).toBe(404);
      expect(await res.text()).not.toContain('secret');
    }
  });
});

describe('a campaign’s page', () => {
  it('lists its updates a page at a time, newest first', async () => {
    const extra = await db.selectFrom('updates').select((eb) => eb.fn.countAll<number>().as('n')).where('campaign_id', '=', haiti.id).where('status', '=', 'published').executeTakeFirstOrThrow();
    for (let i = Number(extra.n); i < 22; i++) await publishUpdate(deps, clock, people, draftInput(haiti.id, { leads: { fr: `Point de situation n° ${i}`, en: `Situation report #${i}` } }));
    const page1 = await text(`/campaigns/${haiti.slug}?lang=en`);
    expect(page1).toContain('Page 1 of 2');
    expect(page1).toContain('Situation report #21');
    expect(page1).not.toContain(`id="update-${older}"`);
    expect(page1).toContain(`href="/campaigns/${haiti.slug}?page=2" rel="next"`);
    const page2 = await text(`/campaigns/${haiti.slug}?page=2&lang=en`);
    expect(page2).toContain(`id="update-${older}"`);
    expect(page2).toContain('Page 2 of 2');
    expect(Buffer.byteLength(page1)).toBeLessThan(60 * 1024);
    expect((await get(`/campaigns/${haiti.slug}?page=3`)).status).toBe(404);
    expect((await get(`/campaigns/${haiti.slug}?page=zero`)).status).toBe(404);
    expect((await get('/campaigns/nobody')).status).toBe(404);
  });

  it('still shows a closed campaign, marked as such', async () => {
    const html = await text(`/campaigns/${closed.slug}?lang=en`);
    expect(html).toContain('This campaign is closed.');
    expect(html).toContain('Campaign closed: thank you.');
  });
});
