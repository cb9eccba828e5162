/**
 * Sending: a real receiver on 127.0.0.1 verifies every signature, fails on demand (500, a dropped connection,
 * a hang, a redirect), and Tocsin retries, records every attempt, gives up, and lets an admin retry.
 */
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { insertReply } from '../../src/db/replies';
import { createWebhookEndpoint, sendTestEvent, setWebhookEndpointEnabled } from '../../src/webhooks/endpoints';
import { scanWebhookSources } from '../../src/webhooks/scan';
import { pauseAfterFailures, sendWebhookDelivery } from '../../src/webhooks/send';
import { createStaffMember, createTestApp, loggedInAgent } from '../helpers/app';
import { makeDeliveriesDue, sendDueDeliveries, startReceiver } from './helpers';

const { app, db, deps, clock } = await createTestApp({ WEBHOOK_MAX_ATTEMPTS: '4' });
// Signatures carry the sending time, and the receiver checks it against its own clock.
clock.current = new Date();
const admin = await createStaffMember(db, 'admin');

const secrets = new Map<number, string>();
const receiver = await startReceiver({ secret: () => [...secrets.values()].at(-1) });
afterAll(() => receiver.close());

async function endpoint(events: Parameters<typeof createWebhookEndpoint>[2]['events'] = ['update.published'], url = receiver.url) {
  const { id, secret } = await createWebhookEndpoint(deps, admin, { url, description: 'test receiver', events }, '127.0.0.1');
  secrets.set(id, secret);
  return id;
}

async function pingDelivery(endpointId: number) {
  const eventId = await sendTestEvent(deps, admin, endpointId, '127.0.0.1');
  return db.selectFrom('webhook_deliveries').selectAll().where('event_id', '=', eventId).executeTakeFirstOrThrow();
}

const attemptsOf = (deliveryId: number) => db.selectFrom('webhook_attempts').selectAll().where('delivery_id', '=', deliveryId).orderBy('id').execute();
const deliveryRow = (id: number) => db.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

describe('a delivery', () => {
  it('is a signed JSON POST with the documented headers, queued as its own job in the endpoint’s queue', async () => {
    const id = await endpoint();
    const d = await pingDelivery(id);
    const job = await sql<{ task_identifier: string; queue_name: string | null; payload: unknown; priority: number }>`
      SELECT j.task_identifier, j.queue_name, p.payload, j.priority FROM graphile_worker.jobs j JOIN graphile_worker._private_jobs p ON p.id = j.id WHERE j.key = ${`webhook:${d.id}`}`.execute(db);
    expect(job.rows).toEqual([{ task_identifier: 'webhooks_send', queue_name: `webhooks:endpoint:${id}`, payload: { deliveryId: d.id }, priority: 5 }]);

    const before = receiver.received.length;
    expect(await sendWebhookDelivery(deps, d.id)).toBe('delivered');
    const [got] = receiver.received.slice(before);
    expect(got!.verified).toBe(true);
    expect(got!.headers).toMatchObject({
      'content-type': 'application/json',
      'user-agent': 'Tocsin-Webhooks/1',
      'tocsin-event-id': d.event_id,
      'tocsin-timestamp': String(Math.floor(clock.now().getTime() / 1000)),
    });
    expect(got!.headers['tocsin-signature']).toMatch(/^v1=[0-9a-f]{64}$/);
    expect(got!.json).toEqual({ id: d.event_id, type: 'ping', occurred_at: clock.now().toISOString(), data: { endpoint_id: id, message: 'A test event from Tocsin.' } });

    expect(await deliveryRow(d.id)).toMatchObject({ status: 'delivered', attempts: 1, last_status_code: 200, last_error: null, lease_until: null });
    const [attempt] = await attemptsOf(d.id);
    expect(attempt).toMatchObject({ status_code: 200, error: null, response_body: 'ok' });
    expect(attempt!.duration_ms).toBeGreaterThanOrEqual(0);
    // Sent once: another run of its job finds nothing to do.
    expect(await sendWebhookDelivery(deps, d.id)).toBe('skipped');
    expect(receiver.received.length).toBe(before + 1);
  });

  it('fails twice (500, then a dropped connection), then succeeds: three attempts, one delivery delivered', async () => {
    const id = await endpoint();
    const d = await pingDelivery(id);
    receiver.respond({ status: 500, body: 'boom: database unavailable' }, { close: true });
    const before = receiver.received.length;

    expect(await sendWebhookDelivery(deps, d.id)).toBe('retrying');
    const afterFirst = await deliveryRow(d.id);
    expect(afterFirst).toMatchObject({ status: 'pending', attempts: 1, last_status_code: 500, last_error: 'HTTP 500' });
    // Backoff: 30 s ± 50 %, and the job waits until then.
    const wait = afterFirst.next_attempt_at!.getTime() - Date.now();
    expect(wait).toBeGreaterThan(10_000);
    expect(wait).toBeLessThan(50_000);
    const job = await sql<{ run_at: Date }>`SELECT run_at FROM graphile_worker.jobs WHERE key = ${`webhook:${d.id}`}`.execute(db);
    expect(job.rows[0]!.run_at.getTime()).toBe(afterFirst.next_attempt_at!.getTime());
    // Not due yet: a stray run of the job does nothing.
    expect(await sendWebhookDelivery(deps, d.id)).toBe('skipped');

    await makeDeliveriesDue(db);
    expect(await sendWebhookDelivery(deps, d.id)).toBe('retrying');
    expect(await deliveryRow(d.id)).toMatchObject({ status: 'pending', attempts: 2, last_status_code: null });
    await makeDeliveriesDue(db);
    expect(await sendWebhookDelivery(deps, d.id)).toBe('delivered');

    const attempts = await attemptsOf(d.id);
    expect(attempts.map((a) => a.status_code)).toEqual([500, null, 200]);
    expect(attempts[0]!.response_body).toBe('boom: database unavailable');
    expect(attempts[1]!.error).toMatch(/^connection failed/);
    expect(await deliveryRow(d.id)).toMatchObject({ status: 'delivered', attempts: 3, last_error: null });
    expect(await db.selectFrom('webhook_deliveries').select('id').where('endpoint_id', '=', id).execute()).toHaveLength(1);

    // The same event each time (same id, same body), each request signed afresh.
    const got = receiver.received.slice(before);
    expect(got).toHaveLength(3);
    expect(new Set(got.map((g) => g.json.id))).toEqual(new Set([d.event_id]));
    expect(new Set(got.map((g) => g.body)).size).toBe(1);
    expect(got.every((g) => g.verified)).toBe(true);

    // The endpoint's page shows every attempt.
    const agent = await loggedInAgent(app, admin);
    const page = await (await agent.get(`/staff/webhooks/${id}`)).text();
    expect(page).toContain('Delivered');
    expect(page).toContain('boom: database unavailable');
    expect(page).toContain('HTTP 500');
    expect(page.match(/class="webhook-attempt"/g)).toHaveLength(3);
    expect((await db.selectFrom('webhook_endpoints').select('consecutive_failures').where('id', '=', id).executeTakeFirstOrThrow()).consecutive_failures).toBe(0);
  });

  it('gives up on a receiver that does not answer in time', async () => {
    const id = await endpoint();
    const d = await pingDelivery(id);
    receiver.respond({ delayMs: 3000 });
    const started = Date.now();
    expect(await sendWebhookDelivery(deps, d.id, { timeoutMs: 300 })).toBe('retrying');
    expect(Date.now() - started).toBeLessThan(2500);
    const [attempt] = await attemptsOf(d.id);
    expect(attempt).toMatchObject({ status_code: null, error: 'no answer within 0.3 s' });
    expect(attempt!.duration_ms).toBeGreaterThanOrEqual(290);
  });

  it('never follows a redirect', async () => {
    const id = await endpoint();
    const d = await pingDelivery(id);
    receiver.respond({ status: 307, headers: { location: `${receiver.url}/moved` } });
    const before = receiver.received.length;
    expect(await sendWebhookDelivery(deps, d.id)).toBe('retrying');
    expect(receiver.received.length).toBe(before + 1);
    expect((await attemptsOf(d.id))[0]).toMatchObject({ status_code: 307, error: `HTTP 307: redirect to ${receiver.url}/moved not followed` });
  });

  it('keeps 500 characters of a long answer', async () => {
    const id = await endpoint();
    const d = await pingDelivery(id);
    receiver.respond({ status: 400, body: 'é'.repeat(100_000) });
    expect(await sendWebhookDelivery(deps, d.id)).toBe('retrying');
    expect((await attemptsOf(d.id))[0]!.response_body).toBe('é'.repeat(500));
  });

  it('fails after WEBHOOK_MAX_ATTEMPTS, and an admin can retry it now', async () => {
    const id = await endpoint();
    const d = await pingDelivery(id);
    receiver.respond({ status: 503 }, { status: 503 }, { status: 503 }, { status: 503 });
    for (let i = 0; i < 4; i++) {
      await makeDeliveriesDue(db);
      await sendWebhookDelivery(deps, d.id);
    }
    expect(await deliveryRow(d.id)).toMatchObject({ status: 'failed', attempts: 4, next_attempt_at: null, last_error: 'HTTP 503 (gave up after 4 attempts)' });
    await makeDeliveriesDue(db);
    expect(await sendWebhookDelivery(deps, d.id)).toBe('skipped');

    const agent = await loggedInAgent(app, admin);
    const page = await (await agent.get(`/staff/webhooks/${id}`)).text();
    expect(page).toContain('Failed');
    expect(page).toContain(`/staff/webhooks/${id}/deliveries/${d.id}/retry`);
    const retried = await agent.post(`/staff/webhooks/${id}/deliveries/${d.id}/retry`, {});
    expect(retried.status).toBe(303);
    expect(await deliveryRow(d.id)).toMatchObject({ status: 'pending', attempts: 0 });
    expect(await sendWebhookDelivery(deps, d.id)).toBe('delivered');
    expect((await attemptsOf(d.id)).map((a) => a.status_code)).toEqual([503, 503, 503, 503, 200]);
    expect((await db.selectFrom('audit_log').select('action').where('target', '=', `webhook:${id}`).orderBy('id', 'desc').executeTakeFirstOrThrow()).action).toBe('webhook.retried');
    // Only a failed delivery can be retried.
    expect((await agent.post(`/staff/webhooks/${id}/deliveries/${d.id}/retry`, {})).status).toBe(409);
  });

  it('is not sent once its endpoint is disabled', async () => {
    const id = await endpoint();
    const d = await pingDelivery(id);
    await setWebhookEndpointEnabled(deps, admin, id, false, '127.0.0.1');
    const before = receiver.received.length;
    expect(await sendWebhookDelivery(deps, d.id)).toBe('failed');
    expect(receiver.received.length).toBe(before);
    expect(await deliveryRow(d.id)).toMatchObject({ status: 'failed', attempts: 0, last_error: 'not sent: the endpoint is disabled' });
    expect(await attemptsOf(d.id)).toEqual([]);
  });

  it('an endpoint failing again and again is paused, so its backlog does not tie up workers; a test event still goes', async () => {
    const id = await endpoint(['reply.received']);
    for (let i = 0; i < pauseAfterFailures + 2; i++) {
      await insertReply(db, { channel: 'sms', subscriber_id: null, sender: '+33612345678', body: `reply ${i}`, provider_message_id: `SMpause${i}` });
    }
    await scanWebhookSources(deps, { settleMarginMs: 0 });
    const deliveries = await db.selectFrom('webhook_deliveries').select('id').where('endpoint_id', '=', id).orderBy('id').execute();
    expect(deliveries).toHaveLength(pauseAfterFailures + 2);

    receiver.respond(...Array.from({ length: pauseAfterFailures }, () => ({ status: 502 })));
    const before = receiver.received.length;
    for (const d of deliveries.slice(0, pauseAfterFailures)) expect(await sendWebhookDelivery(deps, d.id)).toBe('retrying');
    const paused = await db.selectFrom('webhook_endpoints').select(['consecutive_failures', 'paused_until']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(paused.consecutive_failures).toBe(pauseAfterFailures);
    expect(paused.paused_until!.getTime()).toBeGreaterThan(Date.now());

    // The rest wait without a request.
    for (const d of deliveries.slice(pauseAfterFailures)) expect(await sendWebhookDelivery(deps, d.id)).toBe('retrying');
    expect(receiver.received.length).toBe(before + pauseAfterFailures);
    const waiting = await attemptsOf(deliveries.at(-1)!.id);
    expect(waiting).toHaveLength(1);
    expect(waiting[0]!.error).toMatch(/^not sent: the endpoint failed 5 times in a row; paused until /);
    expect((await deliveryRow(deliveries.at(-1)!.id)).next_attempt_at!.getTime()).toBeGreaterThanOrEqual(paused.paused_until!.getTime());
    const agent = await loggedInAgent(app, admin);
    expect(await (await agent.get(`/staff/webhooks/${id}`)).text()).toContain('Failing: paused until');

    // The admin checks with a test event: it goes, and its success lifts the pause.
    const ping = await pingDelivery(id);
    expect(await sendWebhookDelivery(deps, ping.id)).toBe('delivered');
    expect(await db.selectFrom('webhook_endpoints').select(['consecutive_failures', 'paused_until']).where('id', '=', id).executeTakeFirstOrThrow())
      .toEqual({ consecutive_failures: 0, paused_until: null });
    await makeDeliveriesDue(db);
    const outcomes = await sendDueDeliveries(deps);
    expect(outcomes.filter((o) => o === 'delivered').length).toBeGreaterThanOrEqual(deliveries.length);
    const texts = receiver.received.filter((r) => r.json.type === 'reply.received' && r.verified).map((r) => r.json.data.reply.text);
    expect(new Set(texts)).toEqual(new Set(Array.from({ length: pauseAfterFailures + 2 }, (_, i) => `reply ${i}`)));
  });

  it('a delivery whose endpoint was deleted meanwhile is skipped', async () => {
    const id = await endpoint();
    const d = await pingDelivery(id);
    await db.deleteFrom('webhook_endpoints').where('id', '=', id).execute();
    expect(await sendWebhookDelivery(deps, d.id)).toBe('skipped');
  });
});
