import { describe, expect, it } from 'vitest';
import { Agent, createStaffMember, createTestApp, loggedInAgent } from '../helpers/app';

const { app, db } = await createTestApp();
const admin = await createStaffMember(db, 'admin');
const approver = await createStaffMember(db, 'approver');
const author = await createStaffMember(db, 'author');

describe('roles', () => {
  it('sends an anonymous visitor of a staff page to the log-in page', async () => {
    const res = await new Agent(app).get('/staff/team');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/login?next=%2Fstaff%2Fteam');
  });

  it('answers an anonymous form submission with 401 and changes nothing', async () => {
    const res = await new Agent(app).post('/staff/team/invite', { email: 'x@example.org', role: 'admin' });
    expect(res.status).toBe(401);
    expect(await db.selectFrom('staff_invites').selectAll().execute()).toEqual([]);
  });

  it.each([
    ['author', author],
    ['approver', approver],
  ] as const)('keeps an %s out of the admin pages', async (_, who) => {
    const agent = await loggedInAgent(app, who);
    for (const path of ['/staff/team', '/staff/audit']) {
      const res = await agent.get(path);
      expect(res.status).toBe(403);
      expect(await res.text()).toContain('Your role does not allow this.');
    }
    const post = await agent.post(`/staff/team/${admin.id}/disable`, {});
    expect(post.status).toBe(403);
    const adminRow = await db.selectFrom('staff').select('disabled_at').where('id', '=', admin.id).executeTakeFirstOrThrow();
    expect(adminRow.disabled_at).toBeNull();
    expect(await (await agent.get('/staff')).text()).not.toContain('href="/staff/team"');
  });

  it('lets an admin in, with the admin links shown', async () => {
    const agent = await loggedInAgent(app, admin);
    expect((await agent.get('/staff/team')).status).toBe(200);
    expect((await agent.get('/staff/audit')).status).toBe(200);
    expect(await (await agent.get('/staff')).text()).toContain('href="/staff/team"');
  });
});

describe('CSRF protection', () => {
  it('rejects a log-in form without the token and records nothing', async () => {
    const agent = new Agent(app, '203.0.113.200');
    const res = await agent.post('/login', { email: author.email, password: 'x' }, { csrf: false });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('This form has expired or did not come from Tocsin.');
    expect(await db.selectFrom('login_attempts').selectAll().where('ip', '=', '203.0.113.200').execute()).toEqual([]);
  });

  it('rejects a stale token on a staff form and changes nothing', async () => {
    const agent = await loggedInAgent(app, admin);
    const res = await agent.post('/staff/team/invite', { email: 'new@example.org', role: 'author' }, { csrf: 'a-token-from-another-browser' });
    expect(res.status).toBe(403);
    expect(await db.selectFrom('staff_invites').selectAll().execute()).toEqual([]);
  });

  it('rejects a form posted from another origin, even with the token', async () => {
    const agent = await loggedInAgent(app, admin);
    const res = await agent.post('/staff/team/invite', { email: 'new@example.org', role: 'author' }, { headers: { origin: 'https://evil.example' } });
    expect(res.status).toBe(403);
    expect(await db.selectFrom('staff_invites').selectAll().execute()).toEqual([]);
  });

  it('accepts the same form with the token from our own origin', async () => {
    const agent = await loggedInAgent(app, admin);
    const res = await agent.post('/staff/team/invite', { email: 'new@example.org', role: 'author' }, { headers: { origin: 'http://tocsin.test' } });
    expect(res.status).toBe(200);
    expect(await db.selectFrom('staff_invites').select('email').execute()).toEqual([{ email: 'new@example.org' }]);
  });
});
