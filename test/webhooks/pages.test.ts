import { describe, expect, it } from 'vitest';
import { Agent, createStaffMember, createTestApp, loggedInAgent } from '../helpers/app';

const { app, db } = await createTestApp();
const admin = await createStaffMember(db, 'admin');
const approver = await createStaffMember(db, 'approver');
const author = await createStaffMember(db, 'author');

/** A browser form with repeated fields (the event checkboxes), with the agent's CSRF token unless `csrf: false`. */
async function submit(agent: Agent, path: string, fields: [string, string][], opts: { csrf?: boolean } = {}) {
  if (!agent.cookies.has('tocsin_csrf')) await agent.get('/login');
  const body = new URLSearchParams(fields);
  if (opts.csrf !== false) body.set('_csrf', agent.cookies.get('tocsin_csrf')!);
  return agent.request(path, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
}

const endpointForm = (url: string, events: string[], description = '') => [['url', url], ['description', description], ...events.map((e) => ['events', e] as [string, string])] as [string, string][];

async function countEndpoints() {
  const r = await db.selectFrom('webhook_endpoints').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(r.n);
}

async function auditActions(target: string) {
  return (await db.selectFrom('audit_log').select('action').where('target', '=', target).orderBy('id').execute()).map((r) => r.action);
}

/** Creates an endpoint through the page; returns its id and the secret read from the page. */
async function createEndpoint(agent: Agent, url: string, events: string[], description = '') {
  const res = await submit(agent, '/staff/webhooks', endpointForm(url, events, description));
  const html = await res.text();
  expect(res.status, html).toBe(200);
  const secret = html.match(/whsec_[A-Za-z0-9_-]+/)?.[0];
  const row = await db.selectFrom('webhook_endpoints').selectAll().orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow();
  return { id: row.id, secret, row, res, html };
}

describe('who may manage webhooks', () => {
  it('admins only: an approver and an author get 403, and a visitor is sent to log in', async () => {
    for (const staff of [approver, author]) {
      const agent = await loggedInAgent(app, staff);
      expect((await agent.get('/staff/webhooks')).status).toBe(403);
      const res = await submit(agent, '/staff/webhooks', endpointForm('https://hooks.example.org/a', ['update.published']));
      expect(res.status).toBe(403);
    }
    const visitor = await new Agent(app).get('/staff/webhooks');
    expect(visitor.status).toBe(303);
    expect(visitor.headers.get('location')).toMatch(/^\/login\?next=/);
    expect(await countEndpoints()).toBe(0);
  });

  it('the forms are CSRF-protected', async () => {
    const agent = await loggedInAgent(app, admin);
    const res = await submit(agent, '/staff/webhooks', endpointForm('https://hooks.example.org/a', ['update.published']), { csrf: false });
    expect(res.status).toBe(403);
    expect(await countEndpoints()).toBe(0);
  });

  it('admins see Webhooks in the navigation; others do not', async () => {
    expect(await (await (await loggedInAgent(app, admin)).get('/staff')).text()).toContain('href="/staff/webhooks"');
    expect(await (await (await loggedInAgent(app, approver)).get('/staff')).text()).not.toContain('href="/staff/webhooks"');
  });
});

describe('registering an endpoint', () => {
  const bad: [string, string, string[], string][] = [
    ['a non-URL', 'hooks dot example', ['update.published'], 'This is not a web address'],
    ['an ftp:// URL', 'ftp://files.example.org/in', ['update.published'], 'Tocsin sends webhooks over https:// only; &quot;ftp:&quot; addresses are not accepted.'],
    ['a javascript: URL', 'javascript:alert(1)', ['update.published'], 'addresses are not accepted'],
    ['http:// to another host', 'http://hooks.example.org/in', ['update.published'], 'http:// is accepted only for localhost and 127.0.0.1'],
    ['credentials in the URL', 'https://user:pw@hooks.example.org/in', ['update.published'], 'Leave the user name and password out of the address'],
    ['no event', 'https://hooks.example.org/in', [], 'Choose at least one event.'],
    ['an unknown event', 'https://hooks.example.org/in', ['update.deleted'], 'One of the chosen events does not exist.'],
    ['no URL', '', ['update.published'], 'Give the address Tocsin should send to.'],
  ];
  it.each(bad)('rejects %s with 422, a clear message, and stores nothing', async (_what, url, events, message) => {
    const agent = await loggedInAgent(app, admin);
    const res = await submit(agent, '/staff/webhooks', endpointForm(url, events, 'Our CRM'));
    const html = await res.text();
    expect(res.status).toBe(422);
    expect(html).toContain(message);
    // What was typed is kept in the form.
    expect(html).toContain('value="Our CRM"');
    expect(await countEndpoints()).toBe(0);
  });

  it('says so in the page’s language', async () => {
    const french = await createStaffMember(db, 'admin');
    await db.updateTable('staff').set({ language: 'fr' }).where('id', '=', french.id).execute();
    const agent = await loggedInAgent(app, french);
    const res = await submit(agent, '/staff/webhooks', endpointForm('ftp://files.example.org/in', []));
    const html = await res.text();
    expect(res.status).toBe(422);
    expect(html).toContain('Tocsin n’envoie des webhooks qu’en https://');
    expect(html).toContain('Choisissez au moins un événement.');
  });

  it('creates it enabled, shows the secret once, and records it in the audit log', async () => {
    const agent = await loggedInAgent(app, admin);
    const { id, secret, row, res, html } = await createEndpoint(agent, 'https://hooks.example.org/tocsin#frag', ['reply.received', 'update.published'], 'Our CRM');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(secret).toBeTruthy();
    expect(html).toContain('it will not be shown again');
    // The fragment is dropped; events are kept in their canonical order.
    expect(row).toMatchObject({ url: 'https://hooks.example.org/tocsin', description: 'Our CRM', events: ['update.published', 'reply.received'], enabled: true, secret });

    const list = await (await agent.get('/staff/webhooks')).text();
    expect(list).toContain('https://hooks.example.org/tocsin');
    expect(list).not.toContain(secret!);
    const page = await (await agent.get(`/staff/webhooks/${id}`)).text();
    expect(page).toContain('Our CRM');
    expect(page).not.toContain(secret!);
    expect(await auditActions(`webhook:${id}`)).toEqual(['webhook.created']);
    const entry = await db.selectFrom('audit_log').selectAll().where('target', '=', `webhook:${id}`).executeTakeFirstOrThrow();
    expect(JSON.stringify(entry.detail)).not.toContain(secret!);
  });

  it('accepts http:// for localhost and 127.0.0.1 (integrators testing locally)', async () => {
    const agent = await loggedInAgent(app, admin);
    for (const url of ['http://localhost:8080/hook', 'http://127.0.0.1:9999/hook']) {
      const { row } = await createEndpoint(agent, url, ['subscriber.changed']);
      expect(row.url).toBe(url);
    }
  });
});

describe('managing an endpoint', () => {
  it('edits, disables, enables and deletes it, each in the audit log', async () => {
    const agent = await loggedInAgent(app, admin);
    const { id } = await createEndpoint(agent, 'https://manage.example.org/hook', ['update.published']);

    const edited = await submit(agent, `/staff/webhooks/${id}`, endpointForm('https://manage.example.org/v2', ['delivery.status_changed', 'subscriber.changed'], 'v2'));
    expect(edited.status).toBe(303);
    expect(edited.headers.get('location')).toBe(`/staff/webhooks/${id}?notice=webhooks.saved`);
    expect(await db.selectFrom('webhook_endpoints').select(['url', 'events', 'description']).where('id', '=', id).executeTakeFirstOrThrow())
      .toEqual({ url: 'https://manage.example.org/v2', events: ['delivery.status_changed', 'subscriber.changed'], description: 'v2' });

    const refused = await submit(agent, `/staff/webhooks/${id}`, endpointForm('ftp://manage.example.org/v3', ['update.published']));
    expect(refused.status).toBe(422);
    expect(await refused.text()).toContain('addresses are not accepted');
    expect((await db.selectFrom('webhook_endpoints').select('url').where('id', '=', id).executeTakeFirstOrThrow()).url).toBe('https://manage.example.org/v2');

    expect((await submit(agent, `/staff/webhooks/${id}/disable`, [])).status).toBe(303);
    const disabledPage = await (await agent.get(`/staff/webhooks/${id}`)).text();
    expect(disabledPage).toContain('Disabled');
    expect(disabledPage).not.toContain(`/staff/webhooks/${id}/ping`);
    // A disabled endpoint gets nothing, not even a test event.
    expect((await submit(agent, `/staff/webhooks/${id}/ping`, [])).status).toBe(409);
    expect((await submit(agent, `/staff/webhooks/${id}/enable`, [])).status).toBe(303);
    expect((await db.selectFrom('webhook_endpoints').select('enabled').where('id', '=', id).executeTakeFirstOrThrow()).enabled).toBe(true);

    expect((await submit(agent, `/staff/webhooks/${id}/ping`, [])).status).toBe(303);
    const page = await (await agent.get(`/staff/webhooks/${id}?notice=webhooks.pingQueued`)).text();
    expect(page).toContain('Test event queued');
    expect(page).toContain('<code>ping</code>');

    const deleted = await submit(agent, `/staff/webhooks/${id}/delete`, []);
    expect(deleted.status).toBe(303);
    expect(deleted.headers.get('location')).toBe('/staff/webhooks?notice=webhooks.deleted');
    expect(await db.selectFrom('webhook_endpoints').select('id').where('id', '=', id).executeTakeFirst()).toBeUndefined();
    expect(await db.selectFrom('webhook_deliveries').select('id').where('endpoint_id', '=', id).execute()).toEqual([]);
    expect(await auditActions(`webhook:${id}`)).toEqual(['webhook.created', 'webhook.updated', 'webhook.disabled', 'webhook.enabled', 'webhook.ping', 'webhook.deleted']);
    expect((await agent.get(`/staff/webhooks/${id}`)).status).toBe(404);
  });

  it('answers 404 for an endpoint that does not exist, and 403 to an approver on its page', async () => {
    const agent = await loggedInAgent(app, admin);
    expect((await agent.get('/staff/webhooks/999999')).status).toBe(404);
    expect((await submit(agent, '/staff/webhooks/999999/delete', [])).status).toBe(404);
    const { id } = await createEndpoint(agent, 'https://approver.example.org/hook', ['update.published']);
    const other = await loggedInAgent(app, approver);
    expect((await other.get(`/staff/webhooks/${id}`)).status).toBe(403);
    expect((await submit(other, `/staff/webhooks/${id}/delete`, [])).status).toBe(403);
    expect(await db.selectFrom('webhook_endpoints').select('id').where('id', '=', id).executeTakeFirst()).toBeTruthy();
  });
});
