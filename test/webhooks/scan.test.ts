/**
 * Events from real rows: an update published through the lifecycle, delivery statuses moving, a reply stored,
 * consent entries, an erasure. Each scan picks up what is new past its cursor, once; batches respect their
 * size; a transaction that commits late is waited for, not skipped.
 */
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { insertReply } from '../../src/db/replies';
import { webhookEventTypes, type WebhookEvent } from '../../src/db/schema-webhooks';
import { insertConsentEntries } from '../../src/db/subscribers';
import { eraseSubscriber } from '../../src/subscribers/erase';
import { breakGlassPublish, createDraft } from '../../src/updates/lifecycle';
import { createWebhookEndpoint, setWebhookEndpointEnabled } from '../../src/webhooks/endpoints';
import { scanWebhookSources, type ScanOptions } from '../../src/webhooks/scan';
import { createStaffMember, createTestApp } from '../helpers/app';
import { createTestCampaign } from '../helpers/campaigns';
import { createTestDatabase } from '../helpers/db';
import { seedSubscribers } from '../helpers/subscribers';
import { sendDueDeliveries, startReceiver } from './helpers';

const { db, url } = await createTestDatabase();
const { deps, clock } = await createTestApp({}, { db });
clock.current = new Date();
const admin = await createStaffMember(db, 'admin');
const campaign = await createTestCampaign(db, admin, { languages: ['fr'] });
await seedSubscribers(db, campaign.id, { sms: 6, email: 4 });

const secrets = new Map<string, string>();
const receiver = await startReceiver({ secret: (path) => secrets.get(new URL(path, 'http://x').searchParams.get('e') ?? '') });
afterAll(() => receiver.close());

async function endpoint(name: string, events: (typeof webhookEventTypes)[number][]) {
  const { id, secret } = await createWebhookEndpoint(deps, admin, { url: `${receiver.url}?e=${name}`, description: name, events }, '127.0.0.1');
  secrets.set(name, secret);
  return id;
}
const everything = await endpoint('everything', [...webhookEventTypes]);
const repliesOnly = await endpoint('replies', ['reply.received']);
const disabled = await endpoint('disabled', [...webhookEventTypes]);
await setWebhookEndpointEnabled(deps, admin, disabled, false, '127.0.0.1');

const scan = (o: ScanOptions = {}) => scanWebhookSources(deps, { settleMarginMs: 0, settleWaitMs: 2000, ...o });

const seen = new Set<string>();
/** Events made since the last call, oldest first. */
async function newEvents(): Promise<WebhookEvent[]> {
  const rows = await db.selectFrom('webhook_events').selectAll().orderBy('created_at').orderBy('occurred_at').execute();
  const fresh = rows.filter((r) => !seen.has(r.id));
  for (const r of fresh) seen.add(r.id);
  return fresh;
}
async function endpointsOf(eventId: string): Promise<number[]> {
  return (await db.selectFrom('webhook_deliveries').select('endpoint_id').where('event_id', '=', eventId).orderBy('endpoint_id').execute()).map((r) => r.endpoint_id);
}

const updateId = await createDraft(deps, admin, { campaignId: campaign.id, leads: { fr: 'Distribution d’eau à Jérémie ce soir, 18 h.' }, needs: [] });
const subscribers = await db.selectFrom('subscribers').select(['id', 'phone', 'email']).orderBy('id').execute();

describe('update.published', () => {
  it('is made once when an update is published, as the API shows it', async () => {
    await breakGlassPublish(deps, admin, updateId, undefined, 'Testing webhooks on publication', '127.0.0.1');
    await scan();
    const events = await newEvents();
    // The publication queued ten deliveries: queued is not a status change anyone is told about.
    expect(events.map((e) => e.type)).toEqual(['update.published']);
    expect(events[0]!.data).toMatchObject({
      update: { id: updateId, status: 'published', campaign_id: campaign.id, leads: { fr: 'Distribution d’eau à Jérémie ce soir, 18 h.' }, url: `http://tocsin.test/updates/${updateId}` },
    });
    expect(events[0]!.occurred_at.getTime()).toBe(clock.now().getTime());
    expect(await endpointsOf(events[0]!.id)).toEqual([everything]);

    expect((await scan()).events).toBe(0);
    expect(await newEvents()).toEqual([]);
  });
});

describe('delivery.status_changed', () => {
  it('batches changes (up to the batch size per event) and reports each once', async () => {
    const ids = (await db.selectFrom('deliveries').select('id').where('update_id', '=', updateId).orderBy('id').execute()).map((r) => r.id);
    expect(ids).toHaveLength(10);
    await sql`UPDATE deliveries SET status = 'sending', updated_at = now() WHERE id = ANY(${ids.slice(7)})`.execute(db);
    await sql`UPDATE deliveries SET status = 'sent', attempts = 1, updated_at = now() WHERE id = ANY(${ids.slice(0, 4)})`.execute(db);
    await sql`UPDATE deliveries SET status = 'failed', error_code = '30003', updated_at = now() WHERE id = ANY(${ids.slice(4, 6)})`.execute(db);
    await sql`UPDATE deliveries SET status = 'delivered', updated_at = now() WHERE id = ${ids[6]!}`.execute(db);

    await scan({ batchSize: 3 });
    const events = await newEvents();
    expect(events.map((e) => e.type)).toEqual(['delivery.status_changed', 'delivery.status_changed', 'delivery.status_changed']);
    const batches = events.map((e) => (e.data as { deliveries: Record<string, unknown>[] }).deliveries);
    expect(batches.map((b) => b.length)).toEqual([3, 3, 1]);
    const reported = batches.flat();
    expect(reported.map((d) => d.id).sort((a, b) => Number(a) - Number(b))).toEqual(ids.slice(0, 7));
    for (const d of reported) expect(Object.keys(d).sort()).toEqual(['at', 'channel', 'error_code', 'id', 'status', 'update_id']);
    expect(reported.find((d) => d.id === ids[4])).toMatchObject({ update_id: updateId, status: 'failed', error_code: '30003' });
    for (const e of events) expect(await endpointsOf(e.id)).toEqual([everything]);

    expect((await scan({ batchSize: 3 })).events).toBe(0);
    expect(await newEvents()).toEqual([]);

    // Later changes to the same deliveries are new changes.
    await sql`UPDATE deliveries SET status = 'delivered', updated_at = now() WHERE id = ANY(${ids.slice(0, 2)})`.execute(db);
    await scan({ batchSize: 3 });
    const again = await newEvents();
    expect(again).toHaveLength(1);
    expect((again[0]!.data as { deliveries: { id: number; status: string }[] }).deliveries.map((d) => [d.id, d.status])).toEqual([[ids[0], 'delivered'], [ids[1], 'delivered']]);
  });

  it('waits for a transaction that stamped its change earlier but commits later, instead of skipping it', async () => {
    const [early, late] = (await db.selectFrom('deliveries').select('id').where('update_id', '=', updateId).where('status', '=', 'sending').orderBy('id').execute()).map((r) => r.id);
    const slow = new pg.Client({ connectionString: url });
    await slow.connect();
    try {
      await slow.query('BEGIN');
      // now() is when this transaction began: its change sorts before the one committed below.
      await slow.query(`UPDATE deliveries SET status = 'delivered', updated_at = now() WHERE id = $1`, [early]);
      await new Promise((r) => setTimeout(r, 20));
      await sql`UPDATE deliveries SET status = 'undelivered', error_code = '30005', updated_at = now() WHERE id = ${late!}`.execute(db);

      const waiting = await scan({ settleWaitMs: 200 });
      expect(waiting.waiting).toEqual(['deliveries']);
      expect(await newEvents()).toEqual([]);

      await slow.query('COMMIT');
    } finally {
      await slow.end();
    }
    await scan();
    const events = await newEvents();
    expect(events).toHaveLength(1);
    expect((events[0]!.data as { deliveries: { id: number; status: string }[] }).deliveries.map((d) => [d.id, d.status])).toEqual([[early, 'delivered'], [late, 'undelivered']]);
  });

  it('two scans at once still report each change once', async () => {
    const ids = (await db.selectFrom('deliveries').select('id').where('update_id', '=', updateId).orderBy('id').execute()).map((r) => r.id);
    await sql`UPDATE deliveries SET status = 'bounced', updated_at = now() WHERE id = ANY(${ids.slice(2, 5)})`.execute(db);
    await Promise.all([scan(), scan(), scan()]);
    const reported = (await newEvents()).flatMap((e) => (e.data as { deliveries: { id: number }[] }).deliveries.map((d) => d.id));
    expect(reported.sort((a, b) => a - b)).toEqual(ids.slice(2, 5));
  });
});

describe('reply.received', () => {
  it('goes to every endpoint that asked for it, with the text read at send time and never the sender', async () => {
    const who = subscribers[0]!;
    const replyId = await insertReply(db, {
      channel: 'sms', subscriber_id: who.id, sender: who.phone!, body: 'Merci ! Il manque des bâches à Jérémie.', provider_message_id: 'SMwebhook1', update_id: updateId,
    });
    await scan();
    const events = await newEvents();
    expect(events.map((e) => e.type)).toEqual(['reply.received']);
    expect(events[0]!.data).toEqual({
      reply: { id: replyId, channel: 'sms', update_id: updateId, subscriber_id: who.id, possible_opt_out: false, received_at: expect.any(String) },
    });
    expect(JSON.stringify(events[0]!.data)).not.toContain(who.phone!);
    expect(await endpointsOf(events[0]!.id)).toEqual([everything, repliesOnly]);

    const before = receiver.received.length;
    await sendDueDeliveries(deps);
    const got = receiver.received.slice(before).filter((r) => r.json.type === 'reply.received');
    expect(got.map((g) => g.path.split('?e=')[1]).sort()).toEqual(['everything', 'replies']);
    for (const g of got) {
      expect(g.verified).toBe(true);
      expect(g.json.data.reply).toMatchObject({ id: replyId, text: 'Merci ! Il manque des bâches à Jérémie.' });
      expect(g.body).not.toContain(who.phone!);
    }
    expect((await scan()).events).toBe(0);
  });

  it('waits for a reply whose transaction commits after a later one', async () => {
    const slow = new pg.Client({ connectionString: url });
    await slow.connect();
    let first: number;
    try {
      await slow.query('BEGIN');
      first = (await slow.query(`INSERT INTO replies (channel, sender, body, provider_message_id) VALUES ('sms', '+33699999999', 'first', 'SMslow') RETURNING id`)).rows[0].id;
      const second = await insertReply(db, { channel: 'sms', subscriber_id: null, sender: '+33699999998', body: 'second', provider_message_id: 'SMfast' });
      expect(second).toBeGreaterThan(first);
      const waiting = await scan({ settleWaitMs: 200 });
      expect(waiting.waiting).toEqual(['replies']);
      expect(await newEvents()).toEqual([]);
      await slow.query('COMMIT');
    } finally {
      await slow.end();
    }
    await scan();
    const events = await newEvents();
    expect(events.map((e) => (e.data as { reply: { id: number } }).reply.id).sort((a, b) => a - b)).toEqual([Number(first!), Number(first!) + 1]);
  });
});

describe('subscriber.changed', () => {
  it('carries the subscriber id, channel, campaign and what happened; nothing personal', async () => {
    const who = subscribers[1]!;
    await insertConsentEntries(db, [
      { subscriber_id: who.id, campaign_id: campaign.id, channel: 'sms', action: 'unsubscribe', source: 'sms_keyword', source_ref: 'SMconsent1', staff_id: null, shown_text: 'Vous êtes désabonné(e).', detail: 'ARRET', at: clock.now() },
      { subscriber_id: who.id, campaign_id: null, channel: 'sms', action: 'opt_out_all', source: 'sms_keyword', source_ref: 'SMconsent2', staff_id: null, shown_text: 'Plus aucun SMS.', detail: 'STOP', at: clock.now() },
    ]);
    await scan();
    const events = await newEvents();
    expect(events.map((e) => e.type)).toEqual(['subscriber.changed']);
    const changes = (events[0]!.data as { changes: Record<string, unknown>[] }).changes;
    expect(changes).toEqual([
      { id: expect.any(Number), subscriber_id: who.id, channel: 'sms', campaign_id: campaign.id, action: 'unsubscribe', source: 'sms_keyword', at: clock.now().toISOString() },
      { id: expect.any(Number), subscriber_id: who.id, channel: 'sms', campaign_id: null, action: 'opt_out_all', source: 'sms_keyword', at: clock.now().toISOString() },
    ]);
    const json = JSON.stringify(events[0]!.data);
    for (const personal of [who.phone!, 'SMconsent1', 'ARRET', 'désabonné']) expect(json).not.toContain(personal);
    expect(await endpointsOf(events[0]!.id)).toEqual([everything]);
  });

  it('batches a large change (a CSV import) by the batch size', async () => {
    await insertConsentEntries(db, subscribers.slice(0, 7).map((s) => ({
      subscriber_id: s.id, campaign_id: campaign.id, channel: s.phone ? 'sms' as const : 'email' as const, action: 'subscribe' as const, source: 'staff_import' as const,
      source_ref: 'import:1', staff_id: admin.id, shown_text: null, detail: 'paper form', at: clock.now(),
    })));
    await scan({ batchSize: 4 });
    const events = await newEvents();
    expect(events.map((e) => (e.data as { changes: unknown[] }).changes.length)).toEqual([4, 3]);
    expect((await scan({ batchSize: 4 })).events).toBe(0);
  });

  it('an erasure is announced as `erased`, and a reply still waiting to be sent goes out blank', async () => {
    const who = subscribers[2]!;
    const replyId = await insertReply(db, { channel: 'sms', subscriber_id: who.id, sender: who.phone!, body: 'Appelez-moi au bureau', provider_message_id: 'SMerase1' });
    await scan();
    expect((await newEvents()).map((e) => e.type)).toEqual(['reply.received']);

    await eraseSubscriber(deps, admin, who.id, '127.0.0.1');
    await scan();
    const events = await newEvents();
    expect(events.map((e) => e.type)).toEqual(['subscriber.changed']);
    expect((events[0]!.data as { changes: Record<string, unknown>[] }).changes).toEqual([
      { id: expect.any(Number), subscriber_id: who.id, channel: 'sms', campaign_id: null, action: 'erased', source: 'staff', at: expect.any(String) },
    ]);

    const before = receiver.received.length;
    await sendDueDeliveries(deps);
    const got = receiver.received.slice(before);
    const reply = got.filter((g) => g.json.type === 'reply.received' && g.json.data.reply.id === replyId);
    expect(reply).toHaveLength(2);
    for (const g of reply) expect(g.json.data.reply.text).toBeNull();
    for (const g of got) {
      expect(g.body).not.toContain(who.phone!);
      expect(g.body).not.toContain('Appelez-moi');
    }
  });
});

describe('who gets what', () => {
  it('an endpoint gets only the types it asked for, and a disabled one gets nothing', async () => {
    const types = async (endpointId: number) =>
      new Set((await db.selectFrom('webhook_deliveries as d').innerJoin('webhook_events as e', 'e.id', 'd.event_id').select('e.type').where('d.endpoint_id', '=', endpointId).execute()).map((r) => r.type));
    expect(await types(everything)).toEqual(new Set(webhookEventTypes));
    expect(await types(repliesOnly)).toEqual(new Set(['reply.received']));
    expect(await types(disabled)).toEqual(new Set());
    expect(receiver.received.filter((r) => r.path.endsWith('e=disabled'))).toEqual([]);
  });

  it('the cursors stay put when nothing is new', async () => {
    const before = await db.selectFrom('webhook_cursors').select(['source', 'last_at', 'last_id']).orderBy('source').execute();
    expect((await scan()).events).toBe(0);
    const after = await db.selectFrom('webhook_cursors').select(['source', 'last_id']).orderBy('source').execute();
    expect(after.map((c) => c.last_id)).toEqual(before.map((c) => c.source === 'deliveries' ? 0 : c.last_id));
  });
});
