/**
 * The baseline for bench/public.ts: a bare Hono app on @hono/node-server, no middleware, no database, answering
 * each path with the exact bytes (and content type) Tocsin served for it. Paths come as JSON in BENCH_BODIES.
 */
import { readFileSync } from 'node:fs';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

const bodies = JSON.parse(readFileSync(process.env.BENCH_BODIES!, 'utf8')) as Record<string, { type: string; body: string }>;
const app = new Hono();
for (const [path, { type, body }] of Object.entries(bodies)) {
  const bytes = Buffer.from(body);
  app.get(path, (c) => c.body(bytes, 200, { 'content-type': type }));
}
serve({ fetch: app.fetch, port: Number(process.env.PORT), hostname: '127.0.0.1' }, () => process.stdout.write('ready\n'));
