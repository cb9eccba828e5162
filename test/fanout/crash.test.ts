/**
 * kill -9 in the middle of a 20 000-recipient broadcast, then restart: every
 * recipient ends up with exactly one message, except those whose send was in
 * flight at the kill (at most the concurrency), which their status callbacks
 * resolve or which stay `unknown` for staff.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import twilio from 'twilio';
import { afterAll, describe, expect, it } from 'vitest';
import { sweepStalledWork } from '../../src/fanout/sweep';
import { silentLog } from '../../src/log';
import { breakGlassPublish, createDraft } from '../../src/updates/lifecycle';
import { createStaffMember, createTestApp } from '../helpers/app';
import { createTestCampaign } from '../helpers/campaigns';
import { createTestDatabase } from '../helpers/db';
import { seedSubscribers } from '../helpers/subscribers';
import { startTwilioFake } from '../fakes/twilio';

const recipients = 20_000;
const concurrency = 64;
const root = fileURLToPath(new URL('../../', import.meta.url));

const fake = await startTwilioFake({ latencyMs: 3 });
const { db, url } = await createTestDatabase();
const { app, deps } = await createTestApp({ TWILIO_AUTH_TOKEN: fake.authToken }, { db });
const children: ChildProcess[] = [];
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await fake.close();
});

function startWorker(): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/entry/node.ts', 'worker'], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: url,
      PUBLIC_URL: 'http://tocsin.test',
      LOG_LEVEL: 'error',
      TWILIO_ACCOUNT_SID: fake.accountSid,
      TWILIO_AUTH_TOKEN: fake.authToken,
      TWILIO_FROM: '+15005550006',
      TWILIO_API_URL: fake.url,
      SMS_MAX_PER_SECOND: '5000',
      SMS_CONCURRENCY: String(concurrency),
      WORKER_CONCURRENCY: '2',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
  return child;
}

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string) {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('crash safety', () => {
  it('kill -9 mid-broadcast and restart: nobody gets two messages, nobody is silently lost', async () => {
    const admin = await createStaffMember(db, 'admin');
    const campaign = await createTestCampaign(db, admin, { languages: ['fr'] });
    await seedSubscribers(db, campaign.id, { sms: recipients });
    const updateId = await createDraft(deps, admin, { campaignId: campaign.id, leads: { fr: 'Distribution d’eau à Jérémie ce soir.' }, needs: [] });
    await breakGlassPublish(deps, admin, updateId, undefined, 'Crash test of the fan-out', '127.0.0.1');

    const first = startWorker();
    await waitFor(() => fake.received.length >= 4000, 60_000, 'the first worker to send 4000');
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    const killedAt = (await sql<{ t: Date }>`SELECT now() AS t`.execute(db)).rows[0]!.t;
    const atKill = fake.received.length;
    expect(atKill).toBeLessThan(recipients);

    const second = startWorker();
    await waitFor(async () => {
      const left = await sql<{ n: number }>`SELECT count(*)::int AS n FROM deliveries WHERE update_id = ${updateId} AND status = 'queued'`.execute(db);
      return left.rows[0]!.n === 0;
    }, 90_000, 'the restarted worker to empty the queue');
    // The second worker's own claims (made after the kill) all end; the dead worker's stay `sending`.
    await waitFor(async () => {
      const r = await sql<{ n: number }>`SELECT count(*)::int AS n FROM deliveries WHERE update_id = ${updateId} AND status = 'sending' AND updated_at > ${killedAt}`.execute(db);
      return r.rows[0]!.n === 0;
    }, 30_000, 'the second worker’s sends to finish');
    second.kill('SIGTERM');
    await new Promise((r) => second.once('exit', r));

    // The first worker's claimed-but-unfinished sends: their lease would run out; make it so now.
    await sql`UPDATE deliveries SET lease_until = now() - interval '1 second' WHERE update_id = ${updateId} AND status = 'sending'`.execute(db);
    const swept = await sweepStalledWork({ db, log: silentLog });
    expect(swept.unknown).toBeLessThanOrEqual(concurrency);

    // Nobody got two messages.
    const phones = fake.received.map((m) => m.to);
    expect(new Set(phones).size).toBe(phones.length);

    // Twilio reports on what it received; those callbacks resolve the unknowns it has.
    const unknown = await db.selectFrom('deliveries').select('id').where('update_id', '=', updateId).where('status', '=', 'unknown').execute();
    for (const u of unknown) {
      const msg = fake.received.find((m) => m.statusCallback?.endsWith(`/status/${u.id}`));
      if (!msg) continue;
      const params = { MessageSid: msg.sid, MessageStatus: 'delivered' };
      const path = `/webhooks/twilio/status/${u.id}`;
      const res = await app.request(`http://tocsin.test${path}`, {
        method: 'POST',
        body: new URLSearchParams(params),
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilio.getExpectedTwilioSignature(fake.authToken, `http://tocsin.test${path}`, params) },
      });
      expect(res.status).toBe(204);
    }

    const counts = Object.fromEntries(
      (await sql<{ status: string; n: number }>`SELECT status, count(*)::int AS n FROM deliveries WHERE update_id = ${updateId} GROUP BY status`.execute(db)).rows.map((r) => [r.status, r.n]),
    );
    const stillUnknown = counts.unknown ?? 0;
    // Everyone has exactly one message, except the in-flight ones Twilio never got, which staff see as unknown.
    expect((counts.sent ?? 0) + (counts.delivered ?? 0) + stillUnknown).toBe(recipients);
    expect(fake.received.length).toBe(recipients - stillUnknown);
    expect(stillUnknown).toBeLessThanOrEqual(concurrency);
  }, 180_000);
});
