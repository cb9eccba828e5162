import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { addFeedSource } from '../../src/feeds/feed-settings';
import { importFeedById, runRssImport } from '../../src/feeds/rss-import';
import { createStaffMember, createTestApp, loggedInAgent } from '../helpers/app';
import { createTestCampaign } from '../helpers/campaigns';

const blog = readFileSync(new URL('../fixtures/blog-feed.rss', import.meta.url), 'utf8');

// A local "blog" server: each path behaves as a real feed host might.
const hits: { path: string; headers: IncomingMessage['headers'] }[] = [];
let blogEtag = '"v1"';
const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => void> = {
  '/blog/feed.rss': (req, res) => {
    if (req.headers['if-none-match'] === blogEtag) {
      res.writeHead(304, { etag: blogEtag });
      return res.end();
    }
    res.writeHead(200, { 'content-type': 'application/rss+xml; charset=utf-8', etag: blogEtag, 'last-modified': 'Sat, 21 Nov 2026 17:05:00 GMT' });
    res.end(blog);
  },
  '/malformed.rss': (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/rss+xml' });
    res.end('<rss version="2.0"><channel><title>Broken & unclosed<item></channel>');
  },
  '/not-a-feed': (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<html><body>Hello</body></html>');
  },
  '/slow.rss': () => {
    // Never answers: the import must give up on its own.
  },
  '/huge.rss': (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/rss+xml' });
    // Streamed without a Content-Length, so only counting the bytes read can stop it.
    const chunk = `<!-- ${'x'.repeat(64 * 1024)} -->`;
    let sent = 0;
    const push = () => {
      while (sent < 40 && res.write(chunk)) sent++;
      if (sent < 40) res.once('drain', push);
      else res.end();
    };
    res.write('<rss version="2.0"><channel>');
    push();
  },
  '/gone.rss': (_req, res) => {
    res.writeHead(404);
    res.end('not here');
  },
};
const server = createServer((req, res) => {
  hits.push({ path: req.url!, headers: req.headers });
  (routes[req.url!] ?? routes['/gone.rss']!)(req, res);
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const { app, deps, db } = await createTestApp();
const admin = await createStaffMember(db, 'admin');
const campaign = await createTestCampaign(db, admin, { languages: ['fr', 'en'] });
const opts = { timeoutMs: 500, maxBytes: 256 * 1024 };

const add = (path: string) => addFeedSource(deps, admin, { url: `${base}${path}`, campaignId: campaign.id }, '127.0.0.1');
const blogFeed = await add('/blog/feed.rss');

const rssDrafts = () =>
  db.selectFrom('updates as u').innerJoin('update_texts as t', 't.update_id', 'u.id').select(['u.id', 'u.status', 'u.source', 'u.link', 'u.author_id', 't.language', 't.lead']).where('u.source', '=', 'rss').orderBy('u.id').execute();
const feedRow = (id: number) => db.selectFrom('feed_sources').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

beforeEach(() => {
  hits.length = 0;
});

describe('RSS import', () => {
  it('turns each new item into a draft in the campaign’s first language, never published', async () => {
    const r = await importFeedById(deps, blogFeed, opts);
    expect(r).toMatchObject({ created: 2, duplicates: 1, skipped: 0, error: null });
    const drafts = await rssDrafts();
    expect(drafts).toHaveLength(2);
    expect(drafts.every((d) => d.status === 'draft' && d.language === 'fr' && d.author_id === admin.id)).toBe(true);
    // Oldest first; the relative link resolved against the feed's URL; entities decoded, HTML stripped.
    expect(drafts[0]!.lead).toBe('Appel aux dons : objectif 100 000 €\nNous lançons un appel & comptons sur vous.');
    expect(drafts[0]!.link).toBe(`${base}/blog/2026/11/19/appel-aux-dons`);
    expect(drafts[1]!.lead).toBe('Jérémie : premier convoi d’eau arrivé\nLe convoi de 12 camions est arrivé à Jérémie ce matin. Il reste 4 000 bâches à financer.');
    expect(drafts[1]!.lead).not.toMatch(/<|CDATA/);
    expect(drafts[1]!.link).toBe('https://fondation.example.org/blog/2026/11/21/convoi-eau');
    const events = await db.selectFrom('update_events').select('action').where('update_id', '=', drafts[0]!.id).execute();
    expect(events.map((e) => e.action)).toEqual(['imported']);
    const keys = await db.selectFrom('feed_items').select('item_key').where('feed_source_id', '=', blogFeed).orderBy('item_key').execute();
    expect(keys.map((k) => k.item_key).sort()).toEqual(['fondation-blog-1842', `${base}/blog/2026/11/19/appel-aux-dons`].sort());
    expect(await feedRow(blogFeed)).toMatchObject({ last_error: null, etag: '"v1"', last_modified: 'Sat, 21 Nov 2026 17:05:00 GMT', items_imported: 2 });
  });

  it('sends the stored validators and creates nothing on 304', async () => {
    const r = await importFeedById(deps, blogFeed, opts);
    expect(r).toMatchObject({ created: 0, notModified: true, error: null });
    expect(hits[0]!.headers['if-none-match']).toBe('"v1"');
    expect(hits[0]!.headers['if-modified-since']).toBe('Sat, 21 Nov 2026 17:05:00 GMT');
    expect(await rssDrafts()).toHaveLength(2);
  });

  it('re-imports nothing when the same items come back in full', async () => {
    blogEtag = '"v2"';
    const r = await importFeedById(deps, blogFeed, opts);
    expect(r).toMatchObject({ created: 0, duplicates: 3, error: null });
    expect(await rssDrafts()).toHaveLength(2);
    expect((await feedRow(blogFeed)).etag).toBe('"v2"');
  });

  it.each([
    ['/malformed.rss', /not a readable RSS or Atom feed/],
    ['/not-a-feed', /not a readable RSS or Atom feed/],
    ['/slow.rss', /no answer within 1 s/],
    ['/huge.rss', /larger than 256 KB/],
    ['/gone.rss', /HTTP 404/],
  ])('%s is recorded as a problem, and creates nothing', async (path, error) => {
    const id = await add(path);
    const started = Date.now();
    const r = await importFeedById(deps, id, opts);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(r.error).toMatch(error);
    const row = await feedRow(id);
    expect(row.last_error).toMatch(error);
    expect(row.last_checked_at).not.toBeNull();
    expect(row.last_success_at).toBeNull();
    expect(await rssDrafts()).toHaveLength(2);
  });

  it('an unreachable host is recorded too', async () => {
    const id = (await addFeedSource(deps, admin, { url: 'http://127.0.0.1:9/feed.rss', campaignId: campaign.id }, '127.0.0.1'));
    const r = await importFeedById(deps, id, opts);
    expect(r.error).toMatch(/unreachable/);
  });

  it('one broken feed never stops the others (the scheduled task)', async () => {
    blogEtag = '"v3"';
    // Every feed added above: most fail; the blog is still read, and the run itself never throws.
    const summary = await runRssImport(deps, opts);
    expect(summary.feeds).toBeGreaterThanOrEqual(7);
    expect(summary.failed).toBe(summary.feeds - 1);
    expect(hits.some((h) => h.path === '/blog/feed.rss')).toBe(true);
    expect((await feedRow(blogFeed)).last_error).toBeNull();
  });
});

describe('the settings page', () => {
  it('is for admins only', async () => {
    const author = await createStaffMember(db, 'author');
    expect((await (await loggedInAgent(app, author)).get('/staff/feeds')).status).toBe(403);
  });

  it('lists the feeds with their problems, adds, fetches now, removes', async () => {
    const agent = await loggedInAgent(app, admin);
    const html = await (await agent.get('/staff/feeds')).text();
    expect(html).toContain(`${base}/blog/feed.rss`);
    expect(html).toContain('Problem: no answer within 1 s');
    expect(html).toContain('Problem: the server answered HTTP 404');

    const bad = await agent.post('/staff/feeds', { url: 'ftp://example.org/feed', campaign: String(campaign.id) });
    expect(bad.status).toBe(422);
    expect(await bad.text()).toContain('starting with https://');
    const dup = await agent.post('/staff/feeds', { url: `${base}/blog/feed.rss`, campaign: String(campaign.id) });
    expect(await dup.text()).toContain('already in the list');

    const added = await agent.post('/staff/feeds', { url: `${base}/blog/other.rss`, campaign: String(campaign.id) });
    expect(added.status).toBe(303);
    const id = (await db.selectFrom('feed_sources').select('id').where('url', '=', `${base}/blog/other.rss`).executeTakeFirstOrThrow()).id;
    const fetched = await agent.post(`/staff/feeds/${id}/fetch`, {});
    expect(fetched.headers.get('location')).toBe('/staff/feeds?fetched=0,1');
    expect(await (await agent.get(fetched.headers.get('location')!)).text()).toContain('Fetched: 0 new drafts; 1 feeds could not be read.');
    expect((await agent.post(`/staff/feeds/${id}/remove`, {})).status).toBe(303);
    expect(await db.selectFrom('feed_sources').select('id').where('id', '=', id).executeTakeFirst()).toBeUndefined();
    const audit = await db.selectFrom('audit_log').select('action').where('action', 'like', 'feed.%').execute();
    expect(audit.map((a) => a.action)).toContain('feed.removed');
  });
});
