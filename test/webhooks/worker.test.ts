/**
 * The wiring the lead adds to startWorker: the scan task finds a new reply, the send task delivers it through
 * the real job runner (graphile-worker), and the scan comes back soon while there is news.
 */
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { createPool } from '../../src/db/connection';
import { insertReply } from '../../src/db/replies';
import { startWorker } from '../../src/fanout/worker';
import { createWebhookEndpoint } from '../../src/webhooks/endpoints';
import { addScanJob } from '../../src/webhooks/jobs';
import { webhookCrontab, webhookTasks } from '../../src/webhooks/tasks';
import { createStaffMember, createTestApp } from '../helpers/app';
import { createTestDatabase } from '../helpers/db';
import { startReceiver } from './helpers';

const { db, url } = await createTestDatabase();
const { deps, clock } = await createTestApp({}, { db });
clock.current = new Date();
const admin = await createStaffMember(db, 'admin');
let secret = '';
const receiver = await startReceiver({ secret: () => secret });
const pool = createPool(url, 6);
const runner = await startWorker(deps, pool, { tasks: webhookTasks(deps), crontab: webhookCrontab });
afterAll(async () => {
  await runner.stop();
  await pool.end();
  await receiver.close();
});

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string) {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('webhooks in the job runner', () => {
  it('the crontab line names the scan task, once at a time', () => {
    expect(webhookCrontab).toEqual(['* * * * * webhooks_scan ?max=1&jobKey=webhooks_scan']);
  });

  it('a new reply reaches the integrator through the scan and send jobs', async () => {
    const created = await createWebhookEndpoint(deps, admin, { url: receiver.url, description: 'CRM', events: ['reply.received'] }, '127.0.0.1');
    secret = created.secret;
    const replyId = await insertReply(db, { channel: 'email', subscriber_id: null, sender: 'ana@example.org', body: 'Où déposer des dons ?', provider_message_id: '<m1@example.org>' });
    await addScanJob(db, new Date());

    await waitFor(() => receiver.received.some((r) => r.json.type === 'reply.received'), 15_000, 'the reply to be delivered');
    const got = receiver.received.find((r) => r.json.type === 'reply.received')!;
    expect(got.verified).toBe(true);
    expect(got.json.data.reply).toMatchObject({ id: replyId, channel: 'email', text: 'Où déposer des dons ?' });
    expect(got.body).not.toContain('ana@example.org');

    await waitFor(async () => {
      const d = await db.selectFrom('webhook_deliveries').select('status').where('endpoint_id', '=', created.id).executeTakeFirst();
      return d?.status === 'delivered';
    }, 5000, 'the delivery to be recorded');
    // There was news: the scan is back in a few seconds rather than at the next minute.
    const next = await sql<{ run_at: Date }>`SELECT run_at FROM graphile_worker.jobs WHERE key = 'webhooks_scan' AND locked_at IS NULL`.execute(db);
    expect(next.rows).toHaveLength(1);
    expect(next.rows[0]!.run_at.getTime() - Date.now()).toBeLessThan(6000);
  });
});
