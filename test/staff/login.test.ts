import { describe, expect, it } from 'vitest';
import { hashToken } from '../../src/staff/tokens';
import { Agent, createStaffMember, createTestApp, testPassword } from '../helpers/app';

const { app, db, clock } = await createTestApp();
const author = await createStaffMember(db, 'author', 'writer@example.org');

describe('log in and log out', () => {
  it('opens a session stored hashed, with a safe cookie', async () => {
    const agent = new Agent(app);
    const res = await agent.post('/login', { email: 'Writer@Example.org ', password: testPassword });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/staff');
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('tocsin_session='))!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).not.toMatch(/Secure/);
    const token = agent.cookies.get('tocsin_session')!;
    const row = await db.selectFrom('staff_sessions').selectAll().where('token_hash', '=', hashToken(token)).executeTakeFirst();
    expect(row?.staff_id).toBe(author.id);
    expect(JSON.stringify(await db.selectFrom('staff_sessions').selectAll().execute())).not.toContain(token);
    expect((await agent.get('/staff')).status).toBe(200);

    const out = await agent.post('/logout', {});
    expect(out.headers.get('location')).toBe('/login?out=1');
    expect(await db.selectFrom('staff_sessions').selectAll().where('token_hash', '=', hashToken(token)).executeTakeFirst()).toBeUndefined();
    // The old cookie no longer opens anything, even if replayed.
    const replay = await app.request('http://tocsin.test/staff', { headers: { cookie: `tocsin_session=${token}` } });
    expect(replay.status).toBe(303);
  });

  it('marks the cookie Secure when PUBLIC_URL is https', async () => {
    const secure = await createTestApp({ PUBLIC_URL: 'https://alerts.example.org' }, { db });
    const res = await new Agent(secure.app).request('/login');
    expect(res.headers.getSetCookie().find((c) => c.startsWith('tocsin_csrf='))).toMatch(/Secure/);
  });

  it('answers a wrong password with 401, a message, and an audit entry', async () => {
    const res = await new Agent(app, '198.51.100.1').post('/login', { email: 'writer@example.org', password: 'wrong password!' });
    expect(res.status).toBe(401);
    expect(await res.text()).toContain('Wrong email or password.');
    const failed = await db.selectFrom('audit_log').selectAll().where('action', '=', 'login.failed').execute();
    expect(failed.at(-1)).toMatchObject({ actor: 'writer@example.org', ip: '198.51.100.1' });
  });

  it('gives the same answer for an unknown address', async () => {
    const res = await new Agent(app, '198.51.100.2').post('/login', { email: 'nobody@example.org', password: testPassword });
    expect(res.status).toBe(401);
    expect(await res.text()).toContain('Wrong email or password.');
  });

  it('sends the user back where they were going, but only inside the staff area', async () => {
    const agent = new Agent(app, '198.51.100.3');
    const redirect = await agent.get('/staff/account');
    expect(redirect.headers.get('location')).toBe('/login?next=%2Fstaff%2Faccount');
    const res = await agent.post('/login', { email: 'writer@example.org', password: testPassword, next: '/staff/account' });
    expect(res.headers.get('location')).toBe('/staff/account');
    const evil = await new Agent(app, '198.51.100.3').post('/login', { email: 'writer@example.org', password: testPassword, next: 'https://evil.example/' });
    expect(evil.headers.get('location')).toBe('/staff');
  });
});

describe('login throttling', () => {
  it('blocks an account after 5 failures in 15 minutes, even with the right password', async () => {
    const victim = await createStaffMember(db, 'approver', 'victim@example.org');
    for (let i = 0; i < 5; i++) {
      const res = await new Agent(app, `192.0.2.${i + 1}`).post('/login', { email: victim.email, password: `guess ${i} guess` });
      expect(res.status).toBe(401);
    }
    const blocked = await new Agent(app, '192.0.2.99').post('/login', { email: victim.email, password: testPassword });
    expect(blocked.status).toBe(429);
    expect(blocked.headers.get('retry-after')).toBe('900');
    expect(await blocked.text()).toContain('Too many failed log-ins for this account. Try again in 15 minutes.');

    clock.advance(16 * 60_000);
    const later = await new Agent(app, '192.0.2.99').post('/login', { email: victim.email, password: testPassword });
    expect(later.status).toBe(303);
  });

  it('blocks an address after 20 failures across accounts', async () => {
    const agent = new Agent(app, '203.0.113.77');
    for (let i = 0; i < 20; i++) {
      expect((await agent.post('/login', { email: `spray${i}@example.org`, password: 'password123456' })).status).toBe(401);
    }
    const res = await agent.post('/login', { email: 'writer@example.org', password: testPassword });
    expect(res.status).toBe(429);
    expect(await res.text()).toContain('Too many failed log-ins from your network.');
    // Other addresses are not affected.
    expect((await new Agent(app, '203.0.113.78').post('/login', { email: 'writer@example.org', password: testPassword })).status).toBe(303);
  });

  it('refuses a disabled account with its own message', async () => {
    const gone = await createStaffMember(db, 'author', 'gone@example.org');
    await db.updateTable('staff').set({ disabled_at: new Date() }).where('id', '=', gone.id).execute();
    const res = await new Agent(app, '203.0.113.90').post('/login', { email: gone.email, password: testPassword });
    expect(res.status).toBe(401);
    expect(await res.text()).toContain('This account has been disabled.');
  });
});

describe('session expiry', () => {
  it('ends a session idle for longer than SESSION_IDLE_MINUTES', async () => {
    const agent = new Agent(app, '203.0.113.120');
    await agent.logIn('writer@example.org');
    clock.advance(700 * 60_000);
    expect((await agent.get('/staff')).status).toBe(200); // 700 min < 720: still in, and this visit counts
    clock.advance(700 * 60_000);
    expect((await agent.get('/staff')).status).toBe(200);
    clock.advance(721 * 60_000);
    const res = await agent.get('/staff');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/login?next=%2Fstaff&expired=1');
    expect(await (await agent.get('/login?next=%2Fstaff&expired=1')).text()).toContain('Your session has ended.');
  });

  it('ends any session after SESSION_MAX_HOURS, however active', async () => {
    const agent = new Agent(app, '203.0.113.121');
    await agent.logIn('writer@example.org');
    for (let h = 0; h < 168; h += 10) {
      clock.advance(10 * 3_600_000 - 1);
      if (h + 10 < 168) expect((await agent.get('/staff')).status).toBe(200);
    }
    clock.advance(3_600_000);
    expect((await agent.get('/staff')).status).toBe(303);
  });
});
