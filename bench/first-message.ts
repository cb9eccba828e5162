/**
 * Time from an approval (the publishing transaction's commit) to the first SMS
 * handed to the provider, with a job worker running — beside, in the same run,
 * graphile-worker's own latency from adding a no-op job to running it.
 * Target: under 1 s. Run: npm run bench -- first-message
 */
import { sql } from 'kysely';
import { createDevChannels } from '../src/channels/dev/outbox';
import { createTwilioChannel } from '../src/channels/sms/twilio';
import { parseConfig } from '../src/config';
import { insertStaff } from '../src/db/staff';
import type { Deps } from '../src/deps';
import { addJob } from '../src/fanout/jobs';
import { startWorker } from '../src/fanout/worker';
import { silentLog } from '../src/log';
import { breakGlassPublish, createDraft } from '../src/updates/lifecycle';
import { createPool } from '../src/db/connection';
import { createTestCampaign } from '../test/helpers/campaigns';
import { seedSubscribers } from '../test/helpers/subscribers';
import { startTwilioFake } from '../test/fakes/twilio';
import { benchDatabase, fmt, machine, percentile, report } from './lib';

const { db, url, close } = await benchDatabase();
const fake = await startTwilioFake();
const deps: Deps = {
  db,
  config: parseConfig({ PUBLIC_URL: 'http://tocsin.bench', SMS_MAX_PER_SECOND: '100', SMS_CONCURRENCY: '10' }),
  clock: { now: () => new Date() },
  log: silentLog,
  channels: { ...createDevChannels(db), sms: createTwilioChannel({ accountSid: fake.accountSid, authToken: fake.authToken, from: '+15005550006', apiUrl: fake.url }) },
  secret: 'bench-secret-key-bench-secret-key-0000',
};
const admin = await insertStaff(db, { email: 'bench@example.org', name: 'Bench', password_hash: 'x', role: 'admin', language: 'en' });
const campaign = await createTestCampaign(db, admin, { languages: ['fr'] });
await seedSubscribers(db, campaign.id, { sms: 1000 });

let noopStarted: (() => void) | null = null;
const workerPool = createPool(url, 8);
const runner = await startWorker(deps, workerPool, { tasks: { bench_noop: async () => noopStarted?.() } });

const noop: number[] = [];
const first: number[] = [];
for (let i = 0; i < 15; i++) {
  const started = new Promise<void>((r) => (noopStarted = r));
  let t = performance.now();
  await addJob(db, 'bench_noop', {});
  await started;
  noop.push(performance.now() - t);

  const id = await createDraft(deps, admin, { campaignId: campaign.id, leads: { fr: `Alerte n° ${i} : distribution d’eau ce soir.` }, needs: [] });
  const before = fake.received.length;
  t = performance.now();
  await breakGlassPublish(deps, admin, id, undefined, 'Benchmark of the first message latency', '127.0.0.1');
  while (fake.received.length === before) await new Promise((r) => setImmediate(r));
  first.push(performance.now() - t);
  // Let this broadcast finish so the next one starts from an idle worker.
  while ((await sql<{ n: number }>`SELECT count(*)::int AS n FROM deliveries WHERE update_id = ${id} AND status IN ('queued', 'sending')`.execute(db)).rows[0]!.n > 0) {
    await new Promise((r) => setTimeout(r, 100));
  }
}
noop.sort((a, b) => a - b);
first.sort((a, b) => a - b);
const p50 = percentile(first, 50);
const max = first.at(-1)!;
report([
  `Machine: ${machine()}`,
  '',
  `Approval → first SMS at the provider (15 broadcasts of 1,000, worker running): p50 ${fmt(p50)} ms, max ${fmt(max)} ms (target < 1 s: ${max < 1000 ? 'met' : 'MISSED'})`,
  `Baseline, graphile-worker add_job → no-op task running: p50 ${fmt(percentile(noop, 50))} ms, max ${fmt(noop.at(-1)!)} ms; ratio of p50s ${fmt(p50 / percentile(noop, 50), 1)}`,
]);
await runner.stop();
await workerPool.end();
await fake.close();
await close();
