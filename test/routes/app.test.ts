import { describe, expect, it } from 'vitest';
import { createDb } from '../../src/db/connection';
import { AppError } from '../../src/errors';
import { Agent, createTestApp } from '../helpers/app';

const { app, logLines, deps } = await createTestApp();

describe('health and readiness', () => {
  it('answers /healthz while the process is up', async () => {
    const res = await app.request('/healthz');
    expect(res.status).toBe(200);
    expect((await res.json()) as any).toEqual({ status: 'ok' });
  });

  it('answers /readyz 200 when the database is reachable', async () => {
    const res = await app.request('/readyz');
    expect(res.status).toBe(200);
  });

  it('answers /readyz 503 when the database is not', async () => {
    const { createApp } = await import('../../src/app');
    const deadDb = createDb('postgres://nobody@127.0.0.1:1/none', 1);
    const broken = createApp({ ...deps, db: deadDb });
    const res = await broken.request('/readyz');
    expect(res.status).toBe(503);
    expect(((await res.json()) as any).status).toBe('unavailable');
    await deadDb.destroy();
  });
});

describe('every response', () => {
  it('carries X-Request-Id and produces one JSON log line', async () => {
    const before = logLines.length;
    const res = await app.request('/');
    const id = res.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const lines = logLines.slice(before).map((l) => JSON.parse(l)).filter((l) => l.msg === 'request');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ requestId: id, method: 'GET', path: '/', status: 200 });
  });

  it('never logs query strings, which carry tokens', async () => {
    const before = logLines.length;
    await app.request('/setup?token=secret-setup-token');
    expect(logLines.slice(before).join('\n')).not.toContain('secret-setup-token');
  });
});

describe('the error handler', () => {
  it('answers unknown API paths with a JSON error carrying the request id', async () => {
    const res = await app.request('/api/nothing-here');
    expect(res.status).toBe(404);
    const body = (await res.json()) as any;
    expect(body.error).toMatchObject({ code: 'NOT_FOUND', requestId: res.headers.get('x-request-id') });
    expect(typeof body.error.message).toBe('string');
  });

  it('answers unknown pages with a friendly page in the reader’s language', async () => {
    const res = await app.request('/no-such-page', { headers: { 'accept-language': 'fr-CA,fr;q=0.9' } });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('text/html');
    const html = await res.text();
    expect(html).toContain('Cette page n’existe pas.');
    expect(html).toContain(res.headers.get('x-request-id')!);
  });

  it('logs an unexpected error with its request id and answers 500 without details', async () => {
    const { app: local, logLines: lines } = await createTestApp({}, { db: deps.db });
    local.get('/api/boom', () => {
      throw new Error('database password is hunter2');
    });
    local.get('/boom', () => {
      throw new Error('kaboom');
    });
    const res = await local.request('/api/boom');
    expect(res.status).toBe(500);
    const body = (await res.json()) as any;
    expect(body.error.code).toBe('INTERNAL');
    expect(JSON.stringify(body)).not.toContain('hunter2');
    const logged = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'unhandled error');
    expect(logged.requestId).toBe(body.error.requestId);
    expect(logged.error.message).toContain('hunter2');

    const page = await local.request('/boom');
    expect(page.status).toBe(500);
    expect(await page.text()).toContain('An unexpected error occurred');
  });

  it('maps coded errors to their status', async () => {
    const { app: local } = await createTestApp({}, { db: deps.db });
    local.get('/api/limited', () => {
      throw new AppError('RATE_LIMITED', 'Slow down.');
    });
    const res = await local.request('/api/limited');
    expect(res.status).toBe(429);
    expect(((await res.json()) as any).error).toMatchObject({ code: 'RATE_LIMITED', message: 'Slow down.' });
  });

  it('rejects an oversized body with 413, not 500', async () => {
    const agent = new Agent(app);
    const res = await agent.post('/login', { email: 'a@b.org', password: 'x'.repeat(1_100_000) });
    expect(res.status).toBe(413);
  });

  it('rejects a form sent as JSON with 4xx, not 500', async () => {
    const agent = new Agent(app);
    await agent.get('/login');
    const res = await agent.request('/login', {
      method: 'POST',
      body: JSON.stringify({ email: 'a@b.org' }),
      headers: { 'content-type': 'application/json', 'x-csrf-token': agent.cookies.get('tocsin_csrf')! },
    });
    expect(res.status).toBe(415);
  });
});

describe('pages', () => {
  it('stay under 60 KB and are usable on a phone', async () => {
    for (const path of ['/', '/login', '/no-such-page']) {
      const res = await app.request(path);
      const html = await res.text();
      expect(Buffer.byteLength(html)).toBeLessThan(60 * 1024);
      expect(html).toContain('name="viewport"');
    }
  });

  it('are served in French or English as asked', async () => {
    expect(await (await app.request('/login?lang=fr')).text()).toContain('Connexion de l’équipe');
    expect(await (await app.request('/login', { headers: { 'accept-language': 'en-GB' } })).text()).toContain('Staff log in');
  });
});
