/**
 * Public pages and feeds under load (issue 4): requests per second for /feed.rss and / with 1 000 published
 * updates, with and without If-None-Match, beside a bare Hono handler returning the same bytes, in the same run.
 * Tocsin runs as `npm start` would (src/entry/node.ts, its own process, external PostgreSQL); the bare handler in
 * another process; the load generator (keep-alive HTTP/1.1, a fixed number of connections, each sending its next
 * request when the previous answer is in, like autocannon) in this one, all on 127.0.0.1.
 * Target: the 304 path within 2× of the bare handler.
 * Run: npm run bench -- public   (BENCH_SECONDS=10 per measurement, BENCH_CONNECTIONS=32, BENCH_ROUNDS=2)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { findFreePort } from '../src/db/embedded';
import { insertStaff } from '../src/db/staff';
import { createTestCampaign } from '../test/helpers/campaigns';
import { benchDatabase, cpuMs, fmt, machine, percentile, report } from './lib';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
const updatesCount = 1000;

const { db, url, close } = await benchDatabase();
const admin = await insertStaff(db, { email: 'bench@example.org', name: 'Bench', password_hash: 'x', role: 'admin', language: 'en' });
const campaigns = [
  await createTestCampaign(db, admin, { name: 'Séisme en Haïti', languages: ['fr', 'en'] }),
  await createTestCampaign(db, admin, { name: 'Floods in Mozambique', languages: ['en'], currency: 'USD', goal: '250000' }),
];

// 1 000 published updates, as the lifecycle leaves them (inserted in bulk: the benchmark is about reading).
const needs = JSON.stringify([
  { item: 'bâches', quantity: 4000, unit: 'unités', urgency: 'critical', met: false },
  { item: 'eau potable', quantity: 12000, unit: 'litres', urgency: 'high', met: false },
  { item: 'kits d’hygiène', quantity: 800, unit: null, urgency: 'normal', met: true },
]);
for (const [i, c] of campaigns.entries()) {
  const n = i === 0 ? updatesCount * 0.7 : updatesCount * 0.3;
  await sql`
    INSERT INTO updates (campaign_id, status, needs, raised, goal, currency, donors, as_of, source, author_id, published_at, created_at, updated_at)
    SELECT ${c.id}, 'published', ${needs}::jsonb, 1000 * g, 100000, ${c.currency}, 10 * g, now() - (${n} - g) * interval '7 minutes', 'staff', ${admin.id},
           now() - (${n} - g) * interval '7 minutes' + ${i} * interval '1 second', now(), now()
    FROM generate_series(1, ${n}::int) AS g`.execute(db);
  await sql`
    INSERT INTO update_texts (update_id, language, lead)
    SELECT u.id, l.lang, CASE l.lang
      WHEN 'fr' THEN 'Point de situation n° ' || u.id || ' : nos équipes distribuent de l’eau à Jérémie, il manque encore des bâches et des kits d’hygiène.'
      ELSE 'Situation report #' || u.id || ': our teams are distributing water; tarpaulins and hygiene kits are still needed.' END
    FROM updates u CROSS JOIN unnest(${sql.val(c.languages)}::text[]) AS l(lang)
    WHERE u.campaign_id = ${c.id}`.execute(db);
}

async function waitFor(check: () => Promise<boolean>, child: ChildProcess, what: string) {
  for (let i = 0; ; i++) {
    if (await check().catch(() => false)) return;
    if (i > 300 || child.exitCode !== null) throw new Error(`${what} did not start`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const appPort = await findFreePort();
// BENCH_PROFILE=dir: a CPU profile of the Tocsin process, written when it stops.
const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
const app = spawn(process.execPath, [...profile, '--import', 'tsx', 'src/entry/node.ts'], {
  env: { ...process.env, DATABASE_URL: url, PORT: String(appPort), HOST: '127.0.0.1', PUBLIC_URL: 'http://tocsin.bench', RUN_WORKER: 'false', LOG_LEVEL: 'warn', DATABASE_POOL_SIZE: '10' },
  stdio: ['ignore', 'ignore', 'inherit'],
});
const appBase = `http://127.0.0.1:${appPort}`;
await waitFor(async () => (await fetch(`${appBase}/readyz`)).ok, app, 'Tocsin');

// The exact bytes Tocsin serves, for the bare handler.
const targets = ['/feed.rss', '/'];
const served: Record<string, { type: string; body: string; etag: string }> = {};
for (const p of targets) {
  const res = await fetch(`${appBase}${p}`);
  served[p] = { type: res.headers.get('content-type')!, body: await res.text(), etag: res.headers.get('etag')! };
}
const bodiesFile = path.join(tmpdir(), `tocsin-bench-bodies-${process.pid}.json`);
writeFileSync(bodiesFile, JSON.stringify(served));
const barePort = await findFreePort();
const bare = spawn(process.execPath, ['--import', 'tsx', 'bench/lib-bare-server.ts'], { env: { ...process.env, PORT: String(barePort), BENCH_BODIES: bodiesFile }, stdio: ['ignore', 'pipe', 'inherit'] });
const bareBase = `http://127.0.0.1:${barePort}`;
await waitFor(async () => (await fetch(`${bareBase}/feed.rss`)).ok, bare, 'the bare handler');

interface Result {
  rps: number;
  /** Server CPU per request, µs: what the comparison means even when the load generator is the limit. */
  cpuUs: number | null;
  p50: number;
  p99: number;
  statuses: Record<number, number>;
  bytes: number;
}

/** Closed-loop load: `connections` keep-alive connections, each sending its next request when the answer is in. */
async function load(base: string, p: string, headers: Record<string, string>, pid: number | undefined): Promise<Result> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const latencies: number[] = [];
  const statuses: Record<number, number> = {};
  let bytes = 0;
  let measuring = false;
  let stop = false;
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const started = performance.now();
      const req = http.request(`${base}${p}`, { agent, headers }, (res) => {
        res.on('data', (d: Buffer) => (bytes += measuring ? d.length : 0));
        res.on('end', () => {
          if (measuring) {
            latencies.push(performance.now() - started);
            statuses[res.statusCode!] = (statuses[res.statusCode!] ?? 0) + 1;
          }
          resolve();
        });
      });
      req.on('error', reject);
      req.end();
    });
  const loops = Array.from({ length: connections }, async () => {
    while (!stop) await one();
  });
  // One second of warm-up (connections open, caches filled), then the measured window.
  await new Promise((r) => setTimeout(r, 1000));
  measuring = true;
  const s = performance.now();
  const cpuBefore = cpuMs(pid);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const cpuAfter = cpuMs(pid);
  measuring = false;
  const elapsed = (performance.now() - s) / 1000;
  stop = true;
  await Promise.all(loops);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const cpuUs = cpuBefore !== null && cpuAfter !== null && latencies.length ? ((cpuAfter - cpuBefore) * 1000) / latencies.length : null;
  return { rps: latencies.length / elapsed, cpuUs, p50: percentile(latencies, 50), p99: percentile(latencies, 99), statuses, bytes };
}

const scenarios = targets.flatMap((p) => [
  { name: `bare handler ${p} (same bytes, 200)`, base: bareBase, path: p, headers: {} as Record<string, string>, key: `bare ${p}`, pid: bare.pid },
  { name: `Tocsin ${p} (200)`, base: appBase, path: p, headers: {}, key: `200 ${p}`, pid: app.pid },
  { name: `Tocsin ${p} with If-None-Match (304)`, base: appBase, path: p, headers: { 'if-none-match': served[p]!.etag }, key: `304 ${p}`, pid: app.pid },
]);
const results: Record<string, Result[]> = {};
for (let r = 0; r < rounds; r++) {
  for (const sc of scenarios) (results[sc.key] ??= []).push(await load(sc.base, sc.path, sc.headers, sc.pid));
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

const lines = [
  `Machine: ${machine()}`,
  `Data: ${updatesCount} published updates in ${campaigns.length} campaigns; /feed.rss = ${fmt(Buffer.byteLength(served['/feed.rss']!.body) / 1024, 1)} KB (50 items), / = ${fmt(Buffer.byteLength(served['/']!.body) / 1024, 1)} KB`,
  `Load: ${connections} keep-alive connections on 127.0.0.1, ${seconds} s per measurement after 1 s of warm-up, ${rounds} rounds interleaved (mean shown)`,
  '',
  '| scenario | req/s | server CPU µs/req | p50 ms | p99 ms | statuses |',
  '|---|---:|---:|---:|---:|---|',
  ...scenarios.map((sc) => {
    const rs = results[sc.key]!;
    const statuses = Object.entries(rs.reduce<Record<string, number>>((acc, x) => {
      for (const [k, v] of Object.entries(x.statuses)) acc[k] = (acc[k] ?? 0) + v;
      return acc;
    }, {})).map(([k, v]) => `${k}×${fmt(v)}`).join(' ');
    const cpu = rs.every((x) => x.cpuUs !== null) ? fmt(mean(rs.map((x) => x.cpuUs!))) : 'n/a';
    return `| ${sc.name} | ${fmt(mean(rs.map((x) => x.rps)))} | ${cpu} | ${fmt(mean(rs.map((x) => x.p50)), 2)} | ${fmt(mean(rs.map((x) => x.p99)), 2)} | ${statuses} |`;
  }),
  '',
];
for (const p of targets) {
  const bareRps = mean(results[`bare ${p}`]!.map((x) => x.rps));
  const notModified = mean(results[`304 ${p}`]!.map((x) => x.rps));
  const full = mean(results[`200 ${p}`]!.map((x) => x.rps));
  const ratio = bareRps / notModified;
  const cpu = (k: string) => mean(results[k]!.map((x) => x.cpuUs ?? NaN));
  const cpuRatio = cpu(`304 ${p}`) / cpu(`bare ${p}`);
  lines.push(
    `${p}: req/s bare / 304 = ${fmt(ratio, 2)}× (target ≤ 2: ${ratio <= 2 ? 'met' : 'MISSED'}); bare / 200 = ${fmt(bareRps / full, 2)}×; ` +
      `server CPU per request 304 / bare = ${Number.isNaN(cpuRatio) ? 'n/a' : `${fmt(cpuRatio, 2)}×`}`,
  );
}
report(lines);

app.kill('SIGTERM');
bare.kill('SIGTERM');
await Promise.all([app, bare].map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));
await close();
