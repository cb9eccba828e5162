import { createApp, type App } from '../../src/app';
import { createDevChannels } from '../../src/channels/dev/outbox';
import { parseConfig } from '../../src/config';
import type { Db } from '../../src/db/connection';
import { insertStaff } from '../../src/db/staff';
import type { Role, Staff } from '../../src/db/schema';
import type { Clock, Deps } from '../../src/deps';
import { createLog } from '../../src/log';
import { hashPassword } from '../../src/staff/passwords';
import { createTestDatabase } from './db';

/** A clock the test moves by hand (session expiry, invitation expiry). */
export class TestClock implements Clock {
  constructor(public current = new Date('2026-11-22T08:00:00Z')) {}
  now() {
    return new Date(this.current);
  }
  advance(ms: number) {
    this.current = new Date(this.current.getTime() + ms);
  }
}

export const publicUrl = 'http://tocsin.test';

export async function createTestApp(env: Record<string, string> = {}, opts: { db?: Db } = {}) {
  const db = opts.db ?? (await createTestDatabase()).db;
  const config = parseConfig({ PUBLIC_URL: publicUrl, TRUST_PROXY: 'true', PASSWORD_MIN_LENGTH: '12', ...env });
  const logLines: string[] = [];
  const log = createLog('debug', (l) => logLines.push(l));
  const clock = new TestClock();
  const deps: Deps = { db, config, clock, log, channels: createDevChannels(db), secret: 'test-secret-key-that-is-long-enough-000' };
  const app = createApp(deps);
  return { app, deps, db, clock, logLines };
}

export const testPassword = 'correct horse battery';

export async function createStaffMember(db: Db, role: Role, email = `${role}-${Math.random().toString(36).slice(2, 8)}@example.org`, password = testPassword): Promise<Staff> {
  return insertStaff(db, { email, name: `Test ${role}`, password_hash: await hashPassword(password), role, language: 'en' });
}

/** A browser-like client for app.request(): keeps cookies, sends the CSRF token with forms. */
export class Agent {
  cookies = new Map<string, string>();
  constructor(
    readonly app: App,
    readonly ip = '203.0.113.10',
  ) {}

  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    if (!headers.has('x-forwarded-for')) headers.set('x-forwarded-for', this.ip);
    const res = await this.app.request(`${publicUrl}${path}`, { ...init, headers, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const [name, ...rest] = pair!.split('=');
      const value = rest.join('=');
      const expired = attrs.some((a) => /max-age=0/i.test(a.trim()) || /expires=Thu, 01 Jan 1970/i.test(a.trim()));
      if (expired || value === '') this.cookies.delete(name!.trim());
      else this.cookies.set(name!.trim(), value);
    }
    return res;
  }

  get(path: string, headers: Record<string, string> = {}) {
    return this.request(path, { headers });
  }

  /** Submits a form the way a browser does, with this agent's CSRF token unless `csrf: false`. */
  async post(path: string, fields: Record<string, string>, opts: { csrf?: boolean | string; headers?: Record<string, string> } = {}) {
    if (opts.csrf !== false && !this.cookies.has('tocsin_csrf')) await this.get('/login');
    const body = new URLSearchParams(fields);
    if (opts.csrf !== false) body.set('_csrf', typeof opts.csrf === 'string' ? opts.csrf : this.cookies.get('tocsin_csrf')!);
    return this.request(path, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...opts.headers },
    });
  }

  async logIn(email: string, password = testPassword) {
    const res = await this.post('/login', { email, password });
    if (res.status !== 303) throw new Error(`log-in failed with ${res.status}: ${await res.text()}`);
    return res;
  }
}

export async function loggedInAgent(app: App, staff: Staff, ip?: string) {
  const agent = new Agent(app, ip);
  await agent.logIn(staff.email);
  return agent;
}
