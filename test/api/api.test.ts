import { describe, expect, it } from 'vitest';
import { setStaffDisabled } from '../../src/db/staff';
import type { Staff } from '../../src/db/schema';
import { createStaffMember, createTestApp, loggedInAgent } from '../helpers/app';
import { createTestCampaign } from '../helpers/campaigns';

const { app, db, clock, logLines } = await createTestApp();
const admin = await createStaffMember(db, 'admin');
const approver = await createStaffMember(db, 'approver');
const author = await createStaffMember(db, 'author');
const campaign = await createTestCampaign(db, admin);

/** A token created the way staff do it: on /staff/api-tokens, read once from the page. */
async function tokenFor(staff: Staff, name = 'integration') {
  const agent = await loggedInAgent(app, staff);
  const res = await agent.post('/staff/api-tokens', { name });
  expect(res.status).toBe(200);
  expect(res.headers.get('cache-control')).toBe('no-store');
  const token = (await res.text()).match(/<code class="link new-token">(tocsin_[\w-]+)<\/code>/)![1]!;
  return { token, agent };
}

const call = (token: string | null, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  app.request(`http://tocsin.test${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
const json = async (res: Response) => (await res.json()) as Record<string, any>;

const authorT = await tokenFor(author);
const approverT = await tokenFor(approver);
const adminT = await tokenFor(admin);

const newUpdate = (over: Record<string, unknown> = {}) => ({
  campaign_id: campaign.id,
  leads: { fr: 'Séisme : l’eau arrive à Jérémie.', en: 'Earthquake: water is reaching Jérémie.' },
  needs: [{ item: 'bâches', quantity: 4000, unit: 'unités', urgency: 'critical' }],
  raised: '45 200',
  goal: 100000,
  currency: 'EUR',
  donors: 812,
  as_of: '2026-11-20T18:00:00Z',
  ...over,
});

function expectError(body: Record<string, any>, code: string) {
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe('string');
  expect(body.error.requestId).toMatch(/^[0-9a-f-]{36}$/);
}

describe('API authentication', () => {
  it('no token: 401 in the app’s error shape, with WWW-Authenticate', async () => {
    const res = await call(null, 'GET', '/api/v1/campaigns');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expectError(await json(res), 'UNAUTHENTICATED');
    expect((await call('tocsin_not-a-real-token', 'GET', '/api/v1/campaigns')).status).toBe(401);
    expect((await call(null, 'GET', '/api/v1/campaigns', undefined, { authorization: 'Basic abc' })).status).toBe(401);
  });

  it('a staff session is not an API credential', async () => {
    const agent = await loggedInAgent(app, admin);
    expect((await agent.get('/api/v1/campaigns')).status).toBe(401);
  });

  it('stores only a hash of the token, and records its use', async () => {
    const rows = await db.selectFrom('api_tokens').selectAll().where('staff_id', '=', author.id).execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.token_hash.toString('hex')).not.toContain(authorT.token);
    expect(rows[0]!.last_used_at).toBeNull();
    expect((await call(authorT.token, 'GET', '/api/v1/campaigns')).status).toBe(200);
    const used = await db.selectFrom('api_tokens').select('last_used_at').where('id', '=', rows[0]!.id).executeTakeFirstOrThrow();
    expect(used.last_used_at).toEqual(clock.now());
    expect(await (await authorT.agent.get('/staff/api-tokens')).text()).not.toContain('never used');
  });

  it('a revoked token: 401', async () => {
    const { token, agent } = await tokenFor(author, 'short-lived');
    expect((await call(token, 'GET', '/api/v1/campaigns')).status).toBe(200);
    const id = (await db.selectFrom('api_tokens').select('id').where('name', '=', 'short-lived').executeTakeFirstOrThrow()).id;
    expect((await agent.post(`/staff/api-tokens/${id}/revoke`, {})).status).toBe(303);
    expect((await call(token, 'GET', '/api/v1/campaigns')).status).toBe(401);
    // Someone else's token cannot be revoked by an author.
    const other = (await db.selectFrom('api_tokens').select('id').where('staff_id', '=', approver.id).executeTakeFirstOrThrow()).id;
    expect((await agent.post(`/staff/api-tokens/${other}/revoke`, {})).status).toBe(403);
  });

  it('a disabled creator: 401; the role is the creator’s at request time', async () => {
    const temp = await createStaffMember(db, 'approver');
    const { token } = await tokenFor(temp, 'temp');
    await db.updateTable('staff').set({ role: 'author' }).where('id', '=', temp.id).execute();
    const draft = await json(await call(authorT.token, 'POST', '/api/v1/updates', newUpdate()));
    await call(authorT.token, 'POST', `/api/v1/updates/${draft.id}/submit`, {});
    expect((await call(token, 'POST', `/api/v1/updates/${draft.id}/approve`, {})).status).toBe(403);
    await setStaffDisabled(db, temp.id, clock.now());
    expect((await call(token, 'GET', '/api/v1/campaigns')).status).toBe(401);
  });
});

describe('API updates: the same lifecycle as the staff pages', () => {
  it('an author creates and submits; approving their own → 403; an approver publishes', async () => {
    const created = await call(authorT.token, 'POST', '/api/v1/updates', newUpdate());
    expect(created.status).toBe(201);
    const draft = await json(created);
    expect(created.headers.get('location')).toBe(`/api/v1/updates/${draft.id}`);
    expect(draft).toMatchObject({ status: 'draft', source: 'api', author_id: author.id, raised: '45200', goal: '100000', donors: 812, as_of: '2026-11-20T18:00:00.000Z', url: null });
    expect(draft.needs).toEqual([{ item: 'bâches', quantity: 4000, unit: 'unités', urgency: 'critical', met: false }]);

    const submitted = await json(await call(authorT.token, 'POST', `/api/v1/updates/${draft.id}/submit`, { version: draft.version }));
    expect(submitted.status).toBe('pending_approval');

    const own = await call(authorT.token, 'POST', `/api/v1/updates/${draft.id}/approve`, {});
    expect(own.status).toBe(403);
    expectError(await json(own), 'FORBIDDEN');

    const stale = await call(approverT.token, 'POST', `/api/v1/updates/${draft.id}/approve`, { version: draft.version });
    expect(stale.status).toBe(409);

    const approved = await call(approverT.token, 'POST', `/api/v1/updates/${draft.id}/approve`, { version: submitted.version, comment: 'ok' });
    expect(approved.status).toBe(200);
    expect(await json(approved)).toMatchObject({ status: 'published', url: `http://tocsin.test/updates/${draft.id}` });
    // And it is public now.
    expect((await app.request(`http://tocsin.test/updates/${draft.id}`)).status).toBe(200);
  });

  it('reject needs a comment; break-glass needs an admin and a reason', async () => {
    const d = await json(await call(authorT.token, 'POST', '/api/v1/updates', newUpdate()));
    await call(authorT.token, 'POST', `/api/v1/updates/${d.id}/submit`, {});
    const noComment = await call(approverT.token, 'POST', `/api/v1/updates/${d.id}/reject`, {});
    expect(noComment.status).toBe(422);
    expect((await json(noComment)).error.details[0].field).toBe('comment');
    expect((await json(await call(approverT.token, 'POST', `/api/v1/updates/${d.id}/reject`, { comment: 'Figures are wrong' }))).status).toBe('rejected');

    const e = await json(await call(authorT.token, 'POST', '/api/v1/updates', newUpdate()));
    expect((await call(authorT.token, 'POST', `/api/v1/updates/${e.id}/publish`, { reason: 'The network is down everywhere' })).status).toBe(403);
    const short = await call(adminT.token, 'POST', `/api/v1/updates/${e.id}/publish`, { reason: 'now' });
    expect(short.status).toBe(422);
    expect((await json(short)).error.details).toEqual([{ field: 'reason', message: expect.stringMatching(/10/) }]);
    const published = await call(adminT.token, 'POST', `/api/v1/updates/${e.id}/publish`, { reason: 'The approver is unreachable tonight' });
    expect((await json(published)).status).toBe('published');
  });

  it('bad input is a 4xx in the error shape, never a 500', async () => {
    const typed = await call(authorT.token, 'POST', '/api/v1/updates', { campaign_id: 'one', leads: 'x' });
    expect(typed.status).toBe(422);
    const body = await json(typed);
    expectError(body, 'INVALID_INPUT');
    expect(body.error.details.map((d: { field: string }) => d.field).sort()).toEqual(['campaign_id', 'leads']);

    const domain = await call(authorT.token, 'POST', '/api/v1/updates', newUpdate({ leads: { en: 'only English' }, donors: 'many' }));
    expect(domain.status).toBe(422);
    const fields = (await json(domain)).error.details.map((d: { field: string }) => d.field);
    expect(fields).toEqual(expect.arrayContaining(['lead_fr', 'donors']));

    const unknownCampaign = await call(authorT.token, 'POST', '/api/v1/updates', newUpdate({ campaign_id: 999999 }));
    expect(unknownCampaign.status).toBe(422);

    const malformed = await call(authorT.token, 'POST', '/api/v1/updates', '{"campaign_id": ');
    expect(malformed.status).toBe(400);
    expectError(await json(malformed), 'BAD_REQUEST');
    const form = await call(authorT.token, 'POST', '/api/v1/updates', undefined, { 'content-type': 'text/plain' });
    expect([400, 415]).toContain(form.status);

    expect((await call(authorT.token, 'GET', '/api/v1/updates/999999')).status).toBe(404);
    expect((await call(authorT.token, 'GET', '/api/v1/updates/abc')).status).toBe(404);
    expect((await call(authorT.token, 'GET', '/api/v1/updates?limit=lots')).status).toBe(422);
    expect((await call(authorT.token, 'GET', '/api/v1/updates?cursor=garbage')).status).toBe(422);
    expect((await call(authorT.token, 'GET', '/api/v1/nothing-here')).status).toBe(404);
    expect(logLines.filter((l) => l.includes('unhandled error'))).toEqual([]);
  });

  it('lists with cursor pagination, newest first, every update exactly once', async () => {
    for (let i = 0; i < 5; i++) await call(authorT.token, 'POST', '/api/v1/updates', newUpdate());
    const all = await db.selectFrom('updates').select('id').orderBy('id', 'desc').execute();
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const page: Record<string, any> = await json(await call(authorT.token, 'GET', `/api/v1/updates?limit=2${cursor ? `&cursor=${cursor}` : ''}`));
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((u: { id: number }) => u.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual(all.map((r) => r.id));
    const drafts = await json(await call(authorT.token, 'GET', `/api/v1/updates?status=draft&campaign_id=${campaign.id}&limit=100`));
    expect(drafts.items.every((u: { status: string }) => u.status === 'draft')).toBe(true);
  });

  it('campaigns and the public feed data', async () => {
    const list = await json(await call(authorT.token, 'GET', '/api/v1/campaigns'));
    expect(list.items.map((c: { slug: string }) => c.slug)).toContain(campaign.slug);
    const one = await json(await call(authorT.token, 'GET', `/api/v1/campaigns/${campaign.id}`));
    expect(one).toMatchObject({ slug: campaign.slug, languages: ['fr', 'en'], snapshot: { raised: '45200', donors: 812, currency: 'EUR' } });
    expect((await call(authorT.token, 'GET', '/api/v1/campaigns/999999')).status).toBe(404);

    const feed = await json(await call(authorT.token, 'GET', `/api/v1/feed?campaign=${campaign.slug}&lang=en`));
    expect(feed.items.length).toBeGreaterThan(0);
    expect(feed.items.every((i: { figures: { language: string } }) => i.figures.language === 'en')).toBe(true);
    expect(feed.items[0].figures).toMatchObject({ raised: '45200', currency: 'EUR', donors: 812 });
    expect((await call(authorT.token, 'GET', '/api/v1/feed?campaign=nope')).status).toBe(404);
  });
});

describe('OpenAPI', () => {
  it('documents exactly the routes the API serves', async () => {
    const res = await app.request('http://tocsin.test/api/openapi.json');
    expect(res.status).toBe(200);
    const doc = await json(res);
    expect(doc.openapi).toBe('3.1.0');
    const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`))
      .sort();
    const served = [...new Set(app.routes.filter((r) => r.path.startsWith('/api/v1/') && r.method !== 'ALL').map((r) => `${r.method} ${r.path}`))].sort();
    expect(documented).toEqual(served);
    expect(documented).toContain('POST /api/v1/updates/:id/approve');
    for (const ops of Object.values(doc.paths as Record<string, Record<string, { security?: unknown }>>)) {
      for (const op of Object.values(ops)) expect(op.security).toEqual([{ bearerAuth: [] }]);
    }
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.components.schemas.NewUpdate.properties.campaign_id).toBeDefined();
  });

  it('has interactive docs that keep the strict CSP', async () => {
    const res = await app.request('http://tocsin.test/api/docs');
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<script src="/api/docs.js"></script>');
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    const js = await app.request('http://tocsin.test/api/docs.js');
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
  });
});
