import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { updateCampaign } from '../../src/campaigns/campaigns';
import { publicVersionTtlMs } from '../../src/routes/public/cache';
import { createDraft } from '../../src/updates/lifecycle';
import { createStaffMember, createTestApp } from '../helpers/app';
import { createTestCampaign } from '../helpers/campaigns';
import { draftInput, publishUpdate } from '../helpers/public-updates';

const { app, deps, db, clock } = await createTestApp();
const admin = await createStaffMember(db, 'admin');
const people = { author: await createStaffMember(db, 'author'), approver: await createStaffMember(db, 'approver') };
const campaign = await createTestCampaign(db, admin);
const first = await publishUpdate(deps, clock, people, draftInput(campaign.id));

/** Each process trusts the version it read for publicVersionTtlMs; after that, every change is seen. */
const settle = () => new Promise((r) => setTimeout(r, publicVersionTtlMs + 20));

const get = (path: string, headers: Record<string, string> = {}, method = 'GET') => app.request(`http://tocsin.test${path}`, { headers, method });

const paths = () => [
  '/',
  `/updates/${first}`,
  `/campaigns/${campaign.slug}`,
  '/feed.rss',
  '/feed.atom',
  '/feed.json',
  '/feed.rss?lang=en',
  `/campaigns/${campaign.slug}/feed.rss`,
  `/campaigns/${campaign.slug}/feed.atom`,
  `/campaigns/${campaign.slug}/feed.json?lang=fr`,
  `/updates/${first}.cap`,
  '/feed.cap.atom',
];

describe('HTTP caching of public pages and feeds', () => {
  it.each(paths())('%s has a strong ETag, Last-Modified, a short public max-age, and answers 304', async (path) => {
    const res = await get(path);
    expect(res.status).toBe(200);
    const etag = res.headers.get('etag')!;
    const lastModified = res.headers.get('last-modified')!;
    expect(etag).toMatch(/^"[\w-]{27}"$/);
    expect(new Date(lastModified).toUTCString()).toBe(lastModified);
    expect(res.headers.get('cache-control')).toBe('public, max-age=60');

    const byTag = await get(path, { 'if-none-match': etag });
    expect(byTag.status).toBe(304);
    expect(await byTag.text()).toBe('');
    expect(byTag.headers.get('etag')).toBe(etag);
    expect(byTag.headers.get('cache-control')).toBe('public, max-age=60');
    // Answered before the session, CSRF and security-header middleware: nothing but the validators.
    expect(byTag.headers.get('content-security-policy')).toBeNull();
    expect(byTag.headers.getSetCookie()).toEqual([]);
    expect(byTag.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    // A list, and the weak form a proxy may send, both match.
    expect((await get(path, { 'if-none-match': `"other", W/${etag}` })).status).toBe(304);
    expect((await get(path, { 'if-modified-since': lastModified })).status).toBe(304);
    // If-None-Match wins over If-Modified-Since (RFC 9110 §13.1.3).
    expect((await get(path, { 'if-none-match': '"stale"', 'if-modified-since': lastModified })).status).toBe(200);
    expect((await get(path, { 'if-modified-since': new Date(Date.parse(lastModified) - 1000).toUTCString() })).status).toBe(200);
    expect((await get(path, { 'if-modified-since': 'not a date' })).status).toBe(200);
  });

  it('feeds set no cookie, so any cache can keep them', async () => {
    const res = await get('/feed.rss?lang=fr');
    expect(res.headers.getSetCookie()).toEqual([]);
  });

  it('HEAD answers like GET without a body', async () => {
    const res = await get('/feed.rss', {}, 'HEAD');
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toMatch(/^"/);
    expect(await res.text()).toBe('');
  });

  it('a page’s ETag depends on its language; a feed’s on its URL', async () => {
    const en = (await get('/', { 'accept-language': 'en' })).headers.get('etag');
    const fr = (await get('/', { 'accept-language': 'fr' })).headers.get('etag');
    expect(en).not.toBe(fr);
    expect((await get('/feed.rss')).headers.get('etag')).not.toBe((await get('/feed.rss?lang=en')).headers.get('etag'));
    expect((await get('/feed.rss')).headers.get('etag')).not.toBe((await get('/feed.atom')).headers.get('etag'));
  });

  it('a draft changes nothing public; a publication or a campaign edit changes every ETag', async () => {
    const before = await Promise.all(paths().map(async (p) => (await get(p)).headers.get('etag')));
    const body = await (await get('/feed.rss')).text();
    await createDraft(deps, people.author, draftInput(campaign.id, { leads: { fr: 'Brouillon', en: 'Draft' } }));
    await settle();
    expect((await get('/feed.rss', { 'if-none-match': before[3]! })).status).toBe(304);

    await publishUpdate(deps, clock, people, draftInput(campaign.id, { leads: { fr: 'Nouveau', en: 'New one' } }));
    await settle();
    const after = await Promise.all(paths().map(async (p) => (await get(p)).headers.get('etag')));
    after.forEach((etag, i) => expect(etag, paths()[i]).not.toBe(before[i]));
    const res = await get('/feed.rss', { 'if-none-match': before[3]! });
    expect(res.status).toBe(200);
    expect(await res.text()).not.toBe(body);

    await updateCampaign(deps, admin, campaign.id, { name: 'Renamed campaign', slug: campaign.slug, keywords: campaign.keywords.join(' '), hashtag: '', languages: campaign.languages, goal: '100000', currency: 'EUR', donate_url: '' }, '127.0.0.1');
    await settle();
    const renamed = await get('/feed.rss', { 'if-none-match': after[3]! });
    expect(renamed.status).toBe(200);
    expect(await renamed.text()).toContain('Renamed campaign');
  });

  it('another process publishing is seen within the version TTL: the version is in the database', async () => {
    await settle();
    const etag = (await get('/feed.json')).headers.get('etag')!;
    // As another process would: a publication committed behind this app's back.
    await sql`UPDATE updates SET published_at = published_at WHERE id = ${first}`.execute(db);
    await settle();
    expect((await get('/feed.json', { 'if-none-match': etag })).status).toBe(200);
  });
});
