import { describe, expect, it } from 'vitest';
import { issueSetupTokenIfNoAdmin } from '../../src/staff/setup';
import { Agent, createTestApp, testPassword } from '../helpers/app';

const { app, deps, db } = await createTestApp();

const countStaff = async () => (await db.selectFrom('staff').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n;

describe('first-run setup link', () => {
  let token = '';

  it('is issued while no admin exists, and replaced at each start', async () => {
    const first = await issueSetupTokenIfNoAdmin(deps);
    token = (await issueSetupTokenIfNoAdmin(deps))!;
    expect(first).toBeTruthy();
    expect(token).not.toBe(first);
    const old = await new Agent(app).get(`/setup?token=${first}`);
    expect(old.status).toBe(404);
  });

  it('is the only way in: /setup without the token shows no form', async () => {
    const res = await new Agent(app).get('/setup?token=guess');
    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain('name="password"');
  });

  it('rejects bad input with field messages and creates nothing', async () => {
    const agent = new Agent(app);
    expect((await agent.get(`/setup?token=${token}`)).status).toBe(200);
    const res = await agent.post('/setup', { token, name: '', email: 'not-an-email', password: 'short', password2: 'short' });
    expect(res.status).toBe(422);
    const html = await res.text();
    expect(html).toContain('Name is required.');
    expect(html).toContain('This email address is not valid.');
    expect(html).toContain('The password must have at least 12 characters.');
    expect(await countStaff()).toBe(0);

    const mismatch = await agent.post('/setup', { token, name: 'Ana', email: 'ana@example.org', password: testPassword, password2: testPassword + 'x' });
    expect(mismatch.status).toBe(422);
    expect(await mismatch.text()).toContain('The two passwords differ.');
    expect(await countStaff()).toBe(0);
  });

  it('creates the first admin, logs them in, and then stops working', async () => {
    const agent = new Agent(app);
    const res = await agent.post('/setup', { token, name: 'Ana Admin', email: 'Ana@Example.org', password: testPassword, password2: testPassword });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/staff?notice=home.setupDone');
    const home = await agent.get('/staff?notice=home.setupDone');
    expect(home.status).toBe(200);
    const html = await home.text();
    expect(html).toContain('Welcome, Ana Admin');
    expect(html).toContain('Your admin account is ready.');

    const admin = await db.selectFrom('staff').selectAll().executeTakeFirstOrThrow();
    expect(admin).toMatchObject({ email: 'ana@example.org', role: 'admin' });
    expect(admin.password_hash).toMatch(/^scrypt\$/);
    expect(admin.password_hash).not.toContain(testPassword);

    const again = await new Agent(app).post('/setup', { token, name: 'Mallory', email: 'm@example.org', password: testPassword, password2: testPassword });
    expect(again.status).toBe(410);
    expect(await countStaff()).toBe(1);
    expect(await issueSetupTokenIfNoAdmin(deps)).toBeNull();

    const audit = await db.selectFrom('audit_log').select(['action', 'actor']).execute();
    expect(audit).toContainEqual({ action: 'setup.admin_created', actor: 'ana@example.org' });
  });
});
