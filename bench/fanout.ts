/**
 * The fan-out, measured (issue: fan-out benchmark). Every figure is a ratio
 * against a baseline run in the same process and the same minute, because this
 * machine is shared and noisy:
 *   - materialising 100 000 SMS + 100 000 email deliveries vs a raw INSERT … SELECT;
 *   - SMS/s and email/s end to end vs a bare loop of the same client against the same fake, at 0 and 50 ms;
 *   - the achieved rate with SMS_MAX_PER_SECOND=100;
 *   - signed status callbacks per second through the HTTP server, with p50/p99;
 *   - peak RSS of a worker at 10 000, 100 000 and 1 000 000 recipients.
 * Run: npm run bench -- fanout   (BENCH_SCALE=0.1 for a quick pass)
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import nodemailer from 'nodemailer';
import twilio from 'twilio';
import { createSmtpChannel } from '../src/channels/email/smtp';
import { createDevChannels } from '../src/channels/dev/outbox';
import { createTwilioChannel } from '../src/channels/sms/twilio';
import type { Channel } from '../src/channels/types';
import { parseConfig } from '../src/config';
import type { Db } from '../src/db/connection';
import { findFreePort } from '../src/db/embedded';
import type { Deps } from '../src/deps';
import { drainDeliveries } from '../src/fanout/dispatch';
import { materialiseDeliveries } from '../src/fanout/materialise';
import { silentLog } from '../src/log';
import { createDraft } from '../src/updates/lifecycle';
import { renderContext, renderEmail, renderSettingsOf } from '../src/updates/render';
import { findUpdateView } from '../src/db/updates';
import { createTestCampaign } from '../test/helpers/campaigns';
import { seedSubscribers } from '../test/helpers/subscribers';
import { startSmtpFake } from '../test/fakes/smtp';
import { startTwilioFake } from '../test/fakes/twilio';
import { insertStaff } from '../src/db/staff';
import { benchDatabase, cpuMs, fmt, machine, percentile, report } from './lib';

const scale = Number(process.env.BENCH_SCALE ?? 1);
// BENCH_ONLY=rate,callbacks runs some sections (materialise, throughput, rate, callbacks, rss); default all.
const only = (process.env.BENCH_ONLY ?? '').split(',').filter(Boolean);
const want = (section: string) => !only.length || only.includes(section);
const N = Math.round(100_000 * scale);
const concurrency = 100;
const root = fileURLToPath(new URL('../', import.meta.url));

const { db, url, close } = await benchDatabase();
const fakeTwilio = await startTwilioFake();
const fakeSmtp = await startSmtpFake({ recordBodies: false });

function configFor(extra: Record<string, string> = {}) {
  return parseConfig({
    PUBLIC_URL: 'http://tocsin.bench',
    SMS_MAX_PER_SECOND: '100000',
    EMAIL_MAX_PER_SECOND: '100000',
    SMS_CONCURRENCY: String(concurrency),
    EMAIL_CONCURRENCY: String(concurrency),
    TWILIO_AUTH_TOKEN: fakeTwilio.authToken,
    ...extra,
  });
}

const sms = createTwilioChannel({ accountSid: fakeTwilio.accountSid, authToken: fakeTwilio.authToken, from: '+15005550006', apiUrl: fakeTwilio.url });
const email = createSmtpChannel({ host: fakeSmtp.host, port: fakeSmtp.port, secure: false, from: 'alerts@example.org', maxConnections: concurrency });
function depsWith(config = configFor(), channels?: Partial<Deps['channels']>): Deps {
  return {
    db,
    config,
    clock: { now: () => new Date() },
    log: silentLog,
    channels: { ...createDevChannels(db), sms, email, ...channels },
    secret: 'bench-secret-key-bench-secret-key-0000',
  };
}

const admin = await insertStaff(db, { email: 'bench@example.org', name: 'Bench', password_hash: 'x', role: 'admin', language: 'en' });
const campaign = await createTestCampaign(db, admin, { languages: ['fr'] });
const lines: string[] = [`Machine: ${machine()}`, `Scale: ${N} SMS + ${N} email subscribers`, ''];
const t0 = performance.now();
await seedSubscribers(db, campaign.id, { sms: N, email: N });
lines.push(`Seeded ${fmt(2 * N)} subscribers in ${fmt((performance.now() - t0) / 1000, 1)} s`);

async function newUpdate(): Promise<number> {
  const id = await createDraft(depsWith(), admin, { campaignId: campaign.id, leads: { fr: 'Distribution d’eau à Jérémie ce soir, merci à tous.' }, needs: [] });
  await db.updateTable('updates').set({ status: 'published', published_at: new Date() }).where('id', '=', id).execute();
  return id;
}

// ---- 1. Materialising deliveries -------------------------------------------------
async function timeIt(fn: () => Promise<unknown>): Promise<number> {
  const s = performance.now();
  await fn();
  return performance.now() - s;
}
const ours: number[] = [];
const raw: number[] = [];
for (let i = 0; i < (want('materialise') ? 3 : 0); i++) {
  const a = await newUpdate();
  ours.push(await timeIt(() => db.transaction().execute((trx) => materialiseDeliveries(depsWith(), trx, a))));
  const b = await newUpdate();
  raw.push(
    await timeIt(() =>
      sql`INSERT INTO deliveries (update_id, subscriber_id, channel, language)
          SELECT ${b}, s.id, sub.channel, s.language FROM subscriptions sub JOIN subscribers s ON s.id = sub.subscriber_id
          WHERE sub.campaign_id = ${campaign.id} AND sub.status = 'active'`.execute(db),
    ),
  );
  await sql`DELETE FROM deliveries WHERE update_id IN (${a}, ${b})`.execute(db);
  await sql`DELETE FROM graphile_worker._private_jobs`.execute(db);
}
ours.sort((x, y) => x - y);
raw.sort((x, y) => x - y);
const matRatio = ours[1]! / raw[1]!;
if (want('materialise')) lines.push(
  '',
  `Materialise ${fmt(2 * N)} deliveries (median of 3): Tocsin ${fmt(ours[1]!)} ms, raw INSERT … SELECT ${fmt(raw[1]!)} ms, ratio ${fmt(matRatio, 2)} (target ≤ 1.5: ${matRatio <= 1.5 ? 'met' : 'MISSED'})`,
);

// ---- 2. Throughput end to end vs a bare client loop ------------------------------
async function bareLoop(count: number, send: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const s = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await send(next++);
    }),
  );
  return count / ((performance.now() - s) / 1000);
}

const bareMailer = nodemailer.createTransport({ host: fakeSmtp.host, port: fakeSmtp.port, secure: false, pool: true, maxConnections: concurrency, maxMessages: Infinity, ignoreTLS: true });
const bareTwilio = createTwilioChannel({ accountSid: fakeTwilio.accountSid, authToken: fakeTwilio.authToken, from: '+15005550006', apiUrl: fakeTwilio.url });

for (const latency of want('throughput') ? [0, 50] : []) {
  fakeTwilio.latencyMs = latency;
  fakeSmtp.latencyMs = latency;
  // At 50 ms a run is bounded by concurrency / latency; fewer messages keep the bench short.
  const count = latency ? Math.min(N, 40_000 * scale) : N;
  const id = await newUpdate();
  await db.transaction().execute((trx) => materialiseDeliveries(depsWith(), trx, id));
  // Only `count` of each channel are left queued for this run.
  await sql`UPDATE deliveries SET status = 'skipped' WHERE update_id = ${id} AND id NOT IN (
    (SELECT id FROM deliveries WHERE update_id = ${id} AND channel = 'sms' ORDER BY id LIMIT ${count})
    UNION ALL (SELECT id FROM deliveries WHERE update_id = ${id} AND channel = 'email' ORDER BY id LIMIT ${count}))`.execute(db);

  const bareSms = await bareLoop(count, (i) => bareTwilio.send({ to: `+3361${String(i).padStart(7, '0')}`, body: 'Distribution d’eau à Jérémie ce soir.', statusCallback: `http://tocsin.bench/webhooks/twilio/status/${i}` }, { idempotencyKey: String(i) }));
  let s = performance.now();
  const smsResult = await drainDeliveries(depsWith(), { updateId: id, channel: 'sms' }, { budgetMs: 3_600_000 });
  const oursSms = smsResult.sent / ((performance.now() - s) / 1000);

  // The bare loop sends the very message Tocsin renders (same size, same headers), without Tocsin around it.
  const sample = renderEmail(renderContext(renderSettingsOf(configFor()), (await findUpdateView(db, id))!, campaign, 'fr', null), { unsubscribeUrl: 'http://tocsin.bench/unsubscribe/x', imageUrl: null });
  const bareEmail = await bareLoop(count, (i) =>
    bareMailer.sendMail({
      from: 'alerts@example.org',
      to: `donor${i}@example.org`,
      subject: sample.subject,
      text: sample.text,
      html: sample.html,
      messageId: `<delivery-${i}@tocsin.bench>`,
      replyTo: `reply+${i}.abcdefghijklmnop@tocsin.bench`,
      headers: { 'List-Unsubscribe': '<http://tocsin.bench/unsubscribe/x>, <mailto:unsubscribe@tocsin.bench>', 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
    }),
  );
  s = performance.now();
  const emailResult = await drainDeliveries(depsWith(), { updateId: id, channel: 'email' }, { budgetMs: 3_600_000 });
  const oursEmail = emailResult.sent / ((performance.now() - s) / 1000);
  fakeTwilio.received.length = 0;
  fakeSmtp.received.length = 0;
  const r1 = oursSms / bareSms;
  const r2 = oursEmail / bareEmail;
  lines.push(
    '',
    `Fake latency ${latency} ms, ${fmt(count)} messages per channel, concurrency ${concurrency}:`,
    `  SMS:   Tocsin ${fmt(oursSms)}/s (sent ${fmt(smsResult.sent)}), bare twilio loop ${fmt(bareSms)}/s, ratio ${fmt(r1, 2)} (target ≥ 0.7: ${r1 >= 0.7 ? 'met' : 'MISSED'})`,
    `  Email: Tocsin ${fmt(oursEmail)}/s (sent ${fmt(emailResult.sent)}), bare nodemailer loop ${fmt(bareEmail)}/s, ratio ${fmt(r2, 2)} (target ≥ 0.7: ${r2 >= 0.7 ? 'met' : 'MISSED'})`,
  );
}
bareMailer.close();
fakeTwilio.latencyMs = 0;

// ---- 3. Rate limit ---------------------------------------------------------------
if (want('rate')) {
  const rateCount = Math.max(300, Math.round(3000 * scale));
  const id = await newUpdate();
  await db.transaction().execute((trx) => materialiseDeliveries(depsWith(), trx, id));
  await sql`UPDATE deliveries SET status = 'skipped' WHERE update_id = ${id} AND (channel = 'email' OR id NOT IN (
    SELECT id FROM deliveries WHERE update_id = ${id} AND channel = 'sms' ORDER BY id LIMIT ${rateCount}))`.execute(db);
  const starts: number[] = [];
  const timed: Channel<'sms'> = { ...sms, send: (m, o) => (starts.push(performance.now()), sms.send(m, o)) };
  await drainDeliveries(depsWith(configFor({ SMS_MAX_PER_SECOND: '100', SMS_CONCURRENCY: '20' }), { sms: timed }), { updateId: id, channel: 'sms' }, { budgetMs: 3_600_000 });
  starts.sort((a, b) => a - b);
  const achieved = (starts.length - 1) / ((starts.at(-1)! - starts[0]!) / 1000);
  let maxWindow = 0;
  for (let i = 0, j = 0; i < starts.length; i++) {
    while (starts[i]! - starts[j]! >= 1000) j++;
    maxWindow = Math.max(maxWindow, i - j + 1);
  }
  const within = Math.abs(achieved - 100) / 100 <= 0.02;
  lines.push(
    '',
    `SMS_MAX_PER_SECOND=100, ${fmt(starts.length)} messages: achieved ${fmt(achieved, 2)}/s (within 2 %: ${within ? 'yes' : 'NO'}), busiest 1-second window ${maxWindow} sends (never above 100: ${maxWindow <= 100 ? 'yes' : 'NO'})`,
  );
}

// ---- 4. Status-callback ingestion ------------------------------------------------
if (want('callbacks')) {
  const port = await findFreePort();
  const server = spawn(process.execPath, ['--import', 'tsx', 'src/entry/node.ts'], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: url,
      PORT: String(port),
      PUBLIC_URL: 'http://tocsin.bench',
      RUN_WORKER: 'false',
      LOG_LEVEL: 'warn',
      DATABASE_POOL_SIZE: '32',
      TWILIO_ACCOUNT_SID: fakeTwilio.accountSid,
      TWILIO_AUTH_TOKEN: fakeTwilio.authToken,
      TWILIO_FROM: '+15005550006',
      TWILIO_API_URL: fakeTwilio.url,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    const ok = await fetch(`${base}/readyz`).then((r) => r.ok).catch(() => false);
    if (ok) break;
    if (i > 300 || server.exitCode !== null) throw new Error('the server did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  const targets = (await sql<{ id: number; provider_id: string }>`
    SELECT id, provider_id FROM deliveries WHERE channel = 'sms' AND status = 'sent' AND provider_id IS NOT NULL ORDER BY id LIMIT ${Math.round(50_000 * scale)}`.execute(db)).rows;
  const requests = targets.map((t) => {
    const path = `/webhooks/twilio/status/${t.id}`;
    const params = { MessageSid: t.provider_id, MessageStatus: 'delivered', AccountSid: fakeTwilio.accountSid };
    return { path, body: new URLSearchParams(params).toString(), signature: twilio.getExpectedTwilioSignature(fakeTwilio.authToken, `http://tocsin.bench${path}`, params) };
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const cpuBefore = cpuMs(server.pid);
  const s = performance.now();
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < requests.length) {
        const r = requests[next++]!;
        const started = performance.now();
        const status = await new Promise<number>((resolve, reject) => {
          const req = http.request(`${base}${r.path}`, { method: 'POST', agent, headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': r.signature } }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          });
          req.on('error', reject);
          req.end(r.body);
        });
        latencies.push(performance.now() - started);
        if (status !== 204) errors++;
      }
    }),
  );
  const perSecond = requests.length / ((performance.now() - s) / 1000);
  // The server's own CPU per callback says what one process could take were the load generator and PostgreSQL elsewhere.
  const cpuAfter = cpuMs(server.pid);
  const serverCpu = cpuBefore === null || cpuAfter === null ? 'n/a' : `${fmt(((cpuAfter - cpuBefore) * 1000) / requests.length)} µs`;
  latencies.sort((a, b) => a - b);
  const delivered = await sql<{ n: number }>`SELECT count(*)::int AS n FROM deliveries WHERE status = 'delivered'`.execute(db);
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  agent.destroy();
  const p99 = percentile(latencies, 99);
  lines.push(
    '',
    `Status callbacks (signed, committed before the 204), ${fmt(requests.length)} over 64 keep-alive connections: ${fmt(perSecond)}/s (target ≥ 5 000: ${perSecond >= 5000 ? 'met' : 'MISSED'}), p50 ${fmt(percentile(latencies, 50), 1)} ms, p99 ${fmt(p99, 1)} ms (target < 100: ${p99 < 100 ? 'met' : 'MISSED'}), server CPU per callback ${serverCpu}, errors ${errors}, deliveries now delivered: ${fmt(delivered.rows[0]!.n)}`,
  );
}

// ---- 5. Peak RSS by audience size ------------------------------------------------
if (want('rss')) {
  const sizes = [10_000, 100_000, 1_000_000].map((n) => Math.round(n * scale));
  const peaks: number[] = [];
  let seeded = 2 * N;
  for (const size of sizes) {
    const rssCampaign = await createTestCampaign(db, admin, { languages: ['fr'] });
    const s0 = performance.now();
    await seedSubscribers(db, rssCampaign.id, { sms: size });
    seeded += size;
    const seedMs = performance.now() - s0;
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/lib-rss-child.ts'], {
      cwd: root,
      env: { ...process.env, BENCH_URL: url, BENCH_CAMPAIGN: String(rssCampaign.id), BENCH_ADMIN: String(admin.id), BENCH_TWILIO: JSON.stringify({ url: fakeTwilio.url, sid: fakeTwilio.accountSid, token: fakeTwilio.authToken }) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    await new Promise((r) => child.once('exit', r));
    const result = JSON.parse(out.trim().split('\n').at(-1)!) as { peakRssMb: number; materialiseMs: number; sent: number; drainMs: number };
    peaks.push(result.peakRssMb);
    lines.push(
      `${peaks.length === 1 ? '\n' : ''}Peak RSS with ${fmt(size)} recipients: ${fmt(result.peakRssMb)} MB (seeded in ${fmt(seedMs / 1000, 1)} s, materialised in ${fmt(result.materialiseMs)} ms, then ${fmt(result.sent)} sent in ${fmt(result.drainMs / 1000, 1)} s of draining)`,
    );
    fakeTwilio.received.length = 0;
  }
  const ratio = peaks[2]! / peaks[1]!;
  lines.push(`RSS at 1M ÷ RSS at 100k: ${fmt(ratio, 2)} (target ≤ 1.3: ${ratio <= 1.3 ? 'met' : 'MISSED'}); ${fmt(seeded)} subscribers in the database by then`);
}

report(lines);
await email.close?.();
await fakeTwilio.close();
await fakeSmtp.close();
await close();
export type { Db };
