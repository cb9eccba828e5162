/**
 * A worker's life for bench/fanout.ts's memory figure: publish to every subscriber
 * of a campaign (BENCH_CAMPAIGN), then send for up to 20 s, sampling RSS all along.
 * Prints one JSON line.
 */
import { createDevChannels } from '../src/channels/dev/outbox';
import { createTwilioChannel } from '../src/channels/sms/twilio';
import { parseConfig } from '../src/config';
import { createPool, dbFromPool } from '../src/db/connection';
import type { Deps } from '../src/deps';
import { drainDeliveries } from '../src/fanout/dispatch';
import { materialiseDeliveries } from '../src/fanout/materialise';
import { silentLog } from '../src/log';
import { createDraft } from '../src/updates/lifecycle';

let peak = process.memoryUsage().rss;
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
const twilioFake = JSON.parse(process.env.BENCH_TWILIO!) as { url: string; sid: string; token: string };
const db = dbFromPool(createPool(process.env.BENCH_URL!, 10));
const config = parseConfig({ PUBLIC_URL: 'http://tocsin.bench', SMS_MAX_PER_SECOND: '100000', SMS_CONCURRENCY: '100' });
const deps: Deps = {
  db,
  config,
  clock: { now: () => new Date() },
  log: silentLog,
  channels: { ...createDevChannels(db), sms: createTwilioChannel({ accountSid: twilioFake.sid, authToken: twilioFake.token, from: '+15005550006', apiUrl: twilioFake.url }) },
  secret: 'bench-secret-key-bench-secret-key-0000',
};
const staff = await db.selectFrom('staff').selectAll().where('id', '=', Number(process.env.BENCH_ADMIN)).executeTakeFirstOrThrow();
const id = await createDraft(deps, staff, { campaignId: Number(process.env.BENCH_CAMPAIGN), leads: { fr: 'Distribution d’eau à Jérémie ce soir.' }, needs: [] });
await db.updateTable('updates').set({ status: 'published', published_at: new Date() }).where('id', '=', id).execute();
let s = performance.now();
await db.transaction().execute((trx) => materialiseDeliveries(deps, trx, id));
const materialiseMs = performance.now() - s;
s = performance.now();
const result = await drainDeliveries(deps, { updateId: id, channel: 'sms' }, { budgetMs: 20_000 });
const drainMs = performance.now() - s;
clearInterval(sampler);
peak = Math.max(peak, process.memoryUsage().rss);
await db.destroy();
process.stdout.write(JSON.stringify({ peakRssMb: Math.round(peak / 1048576), materialiseMs: Math.round(materialiseMs), sent: result.sent, drainMs: Math.round(drainMs) }) + '\n');
process.exit(0);
