import { describe, expect, it } from 'vitest';
import { Agent, createStaffMember, createTestApp, loggedInAgent, testPassword } from '../helpers/app';

const { app, db, clock } = await createTestApp();
const admin = await createStaffMember(db, 'admin', 'boss@example.org');

async function invite(agent: Agent, email: string, role: string) {
  const res = await agent.post('/staff/team/invite', { email, role });
  const html = await res.text();
  const url = html.match(/http:\/\/tocsin\.test\/invite\?token=[\w-]+/)?.[0];
  return { res, html, path: url?.replace('http://tocsin.test', '') };
}

describe('invitations', () => {
  it('an admin invites someone, who joins with the role given, once', async () => {
    const boss = await loggedInAgent(app, admin);
    const { res, path } = await invite(boss, 'New.Approver@example.org', 'approver');
    expect(res.status).toBe(200);
    expect(path).toBeTruthy();

    const guest = new Agent(app, '203.0.113.50');
    const form = await guest.get(path!);
    expect(await form.text()).toContain('new.approver@example.org');
    const token = new URL(`http://x${path}`).searchParams.get('token')!;
    const joined = await guest.post('/invite', { token, name: 'Nadia', password: testPassword, password2: testPassword });
    expect(joined.status).toBe(303);
    expect((await guest.get('/staff')).status).toBe(200);
    const row = await db.selectFrom('staff').selectAll().where('email', '=', 'new.approver@example.org').executeTakeFirstOrThrow();
    expect(row).toMatchObject({ name: 'Nadia', role: 'approver' });

    const reuse = await new Agent(app).post('/invite', { token, name: 'Eve', password: testPassword, password2: testPassword });
    expect(reuse.status).toBe(410);
    expect(await reuse.text()).toContain('This invitation link is not valid');
    expect((await new Agent(app).get(path!)).status).toBe(410);
  });

  it('an expired invitation does not work', async () => {
    const boss = await loggedInAgent(app, admin);
    const { path } = await invite(boss, 'late@example.org', 'author');
    clock.advance(73 * 3_600_000);
    expect((await new Agent(app).get(path!)).status).toBe(410);
    const token = new URL(`http://x${path}`).searchParams.get('token')!;
    const res = await new Agent(app).post('/invite', { token, name: 'Late', password: testPassword, password2: testPassword });
    expect(res.status).toBe(410);
    expect(await db.selectFrom('staff').selectAll().where('email', '=', 'late@example.org').executeTakeFirst()).toBeUndefined();
  });

  it('rejects an invitation to an existing address or with an unknown role', async () => {
    const boss = await loggedInAgent(app, admin);
    const taken = await invite(boss, 'boss@example.org', 'author');
    expect(taken.res.status).toBe(422);
    expect(taken.html).toContain('An account with this email address already exists.');
    const role = await invite(boss, 'someone@example.org', 'superuser');
    expect(role.res.status).toBe(422);
    expect(role.html).toContain('Role has an unexpected value.');
  });

  it('a revoked invitation does not work', async () => {
    const boss = await loggedInAgent(app, admin);
    const { path } = await invite(boss, 'revoked@example.org', 'author');
    const pending = await db.selectFrom('staff_invites').select('id').where('email', '=', 'revoked@example.org').executeTakeFirstOrThrow();
    expect((await boss.post(`/staff/team/invites/${pending.id}/revoke`, {})).status).toBe(303);
    expect((await new Agent(app).get(path!)).status).toBe(410);
  });
});

describe('managing the team', () => {
  it('changes a role, recorded in the audit log with who and from where', async () => {
    const member = await createStaffMember(db, 'author', 'promote-me@example.org');
    const boss = await loggedInAgent(app, admin, '198.51.100.9');
    const res = await boss.post(`/staff/team/${member.id}/role`, { role: 'approver' });
    expect(res.headers.get('location')).toBe('/staff/team?notice=team.roleChanged');
    expect((await db.selectFrom('staff').select('role').where('id', '=', member.id).executeTakeFirstOrThrow()).role).toBe('approver');
    const entry = await db.selectFrom('audit_log').selectAll().where('action', '=', 'staff.role_changed').executeTakeFirstOrThrow();
    expect(entry).toMatchObject({ actor: 'boss@example.org', target: 'promote-me@example.org', ip: '198.51.100.9', detail: { from: 'author', to: 'approver' } });
    const page = await (await boss.get('/staff/audit')).text();
    expect(page).toContain('staff.role_changed');
    expect(page).toContain('promote-me@example.org');
  });

  it('never leaves Tocsin without an active admin', async () => {
    const boss = await loggedInAgent(app, admin);
    const res = await boss.post(`/staff/team/${admin.id}/role`, { role: 'author' });
    expect(res.status).toBe(422);
    expect(await res.text()).toContain('Tocsin needs at least one active admin');
    expect((await db.selectFrom('staff').select('role').where('id', '=', admin.id).executeTakeFirstOrThrow()).role).toBe('admin');
    const self = await boss.post(`/staff/team/${admin.id}/disable`, {});
    expect(self.status).toBe(422);
  });

  it('disabling an account closes its open sessions at once', async () => {
    const member = await createStaffMember(db, 'author', 'leaving@example.org');
    const theirs = await loggedInAgent(app, member);
    expect((await theirs.get('/staff')).status).toBe(200);
    const boss = await loggedInAgent(app, admin);
    expect((await boss.post(`/staff/team/${member.id}/disable`, {})).status).toBe(303);
    expect((await theirs.get('/staff')).status).toBe(303);
    expect((await boss.post(`/staff/team/${member.id}/enable`, {})).status).toBe(303);
    expect((await new Agent(app).post('/login', { email: member.email, password: testPassword })).status).toBe(303);
  });

  it('answers an unknown staff id with 404, not 500', async () => {
    const boss = await loggedInAgent(app, admin);
    expect((await boss.post('/staff/team/999999/role', { role: 'author' })).status).toBe(404);
    expect((await boss.post('/staff/team/abc/role', { role: 'author' })).status).toBe(404);
  });
});

describe('my account', () => {
  it('switches my pages to French', async () => {
    const member = await createStaffMember(db, 'author', 'francophone@example.org');
    const agent = await loggedInAgent(app, member);
    expect((await agent.post('/staff/account/language', { language: 'fr' })).status).toBe(303);
    expect(await (await agent.get('/staff')).text()).toContain('Bienvenue');
    expect((await agent.post('/staff/account/language', { language: 'de' })).status).toBe(422);
  });

  it('changes my password, closing my other sessions', async () => {
    const member = await createStaffMember(db, 'author', 'rotate@example.org');
    const here = await loggedInAgent(app, member);
    const elsewhere = await loggedInAgent(app, member);
    const wrong = await here.post('/staff/account/password', { current: 'not it at all', password: 'a new long password', password2: 'a new long password' });
    expect(wrong.status).toBe(422);
    expect(await wrong.text()).toContain('The current password is wrong.');
    const ok = await here.post('/staff/account/password', { current: testPassword, password: 'a new long password', password2: 'a new long password' });
    expect(ok.status).toBe(303);
    expect((await here.get('/staff')).status).toBe(200);
    expect((await elsewhere.get('/staff')).status).toBe(303);
    expect((await new Agent(app).post('/login', { email: member.email, password: 'a new long password' })).status).toBe(303);
  });
});
