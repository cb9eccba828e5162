import twilio from 'twilio';
import { describe, expect, it } from 'vitest';
import { drainDeliveries } from '../../src/fanout/dispatch';
import { breakGlassPublish, createDraft } from '../../src/updates/lifecycle';
import { createStaffMember, createTestApp } from '../helpers/app';
import { createTestCampaign } from '../helpers/campaigns';
import { seedSubscribers } from '../helpers/subscribers';

const authToken = 'f'.repeat(32);
const { app, db, deps } = await createTestApp({ TWILIO_AUTH_TOKEN: authToken, SMS_MAX_PER_SECOND: '1000' });
const admin = await createStaffMember(db, 'admin');
const campaign = await createTestCampaign(db, admin);
await seedSubscribers(db, campaign.id, { sms: 3 });
const updateId = await createDraft(deps, admin, { campaignId: campaign.id, leads: { fr: 'Bonjour', en: 'Hello' }, needs: [] });
await breakGlassPublish(deps, admin, updateId, undefined, 'Testing status callbacks', '127.0.0.1');
await drainDeliveries(deps, { updateId, channel: 'sms' });
// The dev outbox sent these; give them the SIDs Twilio would have.
for (const [i, d] of (await db.selectFrom('deliveries').select('id').where('update_id', '=', updateId).orderBy('id').execute()).entries()) {
  await db.updateTable('deliveries').set({ provider_id: `SM${String(100 + i).padStart(32, '0')}` }).where('id', '=', d.id).execute();
}
const deliveries = await db.selectFrom('deliveries').select(['id', 'provider_id', 'subscriber_id']).where('update_id', '=', updateId).orderBy('id').execute();

function callback(deliveryId: number, params: Record<string, string>, opts: { signature?: string | null } = {}) {
  const path = `/webhooks/twilio/status/${deliveryId}`;
  const signature = opts.signature === undefined ? twilio.getExpectedTwilioSignature(authToken, `http://tocsin.test${path}`, params) : opts.signature;
  return app.request(`http://internal-proxy-host${path}`, {
    method: 'POST',
    body: new URLSearchParams(params),
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(signature ? { 'x-twilio-signature': signature } : {}) },
  });
}
const sid = (n: number) => `SM${String(n).padStart(32, '0')}`;
const eventsOf = async (id: number) => db.selectFrom('delivery_events').select(['status', 'raw']).where('delivery_id', '=', id).orderBy('id').execute();
const statusOf = async (id: number) => (await db.selectFrom('deliveries').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status;

describe('Twilio status callbacks', () => {
  it('refuse a forged or missing signature with 403 and store nothing', async () => {
    const d = deliveries[0]!;
    const params = { MessageSid: d.provider_id!, MessageStatus: 'delivered', AccountSid: 'AC1' };
    expect((await callback(d.id, params, { signature: 'forged' })).status).toBe(403);
    expect((await callback(d.id, params, { signature: null })).status).toBe(403);
    // Signed for another delivery's URL: also refused.
    const other = twilio.getExpectedTwilioSignature(authToken, `http://tocsin.test/webhooks/twilio/status/${deliveries[1]!.id}`, params);
    expect((await callback(d.id, params, { signature: other })).status).toBe(403);
    expect(await eventsOf(d.id)).toEqual([]);
    expect(await statusOf(d.id)).toBe('sent');
  });

  it('move a delivery forward only, keep every callback raw, and shrug off duplicates', async () => {
    const d = deliveries[0]!;
    const delivered = { MessageSid: d.provider_id!, MessageStatus: 'delivered', AccountSid: 'AC1', To: '+33600000000' };
    expect((await callback(d.id, delivered)).status).toBe(204);
    expect(await statusOf(d.id)).toBe('delivered');
    // Twilio's callbacks can arrive out of order: a late "sent" changes nothing.
    expect((await callback(d.id, { ...delivered, MessageStatus: 'sent' })).status).toBe(204);
    expect((await callback(d.id, delivered)).status).toBe(204);
    expect(await statusOf(d.id)).toBe('delivered');
    const events = await eventsOf(d.id);
    expect(events.map((e) => e.status)).toEqual(['delivered', 'sent', 'delivered']);
    expect(events[0]!.raw).toMatchObject({ To: '+33600000000', MessageStatus: 'delivered' });
  });

  it('resolve a delivery left in flight by a crash', async () => {
    const d = deliveries[1]!;
    await db.updateTable('deliveries').set({ status: 'unknown', provider_id: null }).where('id', '=', d.id).execute();
    const res = await callback(d.id, { MessageSid: sid(7), MessageStatus: 'undelivered', ErrorCode: '30003' });
    expect(res.status).toBe(204);
    const row = await db.selectFrom('deliveries').select(['status', 'provider_id', 'error_code']).where('id', '=', d.id).executeTakeFirstOrThrow();
    expect(row).toEqual({ status: 'undelivered', provider_id: sid(7), error_code: '30003' });
  });

  it('a failed status with 21610 opts the phone out', async () => {
    const d = deliveries[2]!;
    await callback(d.id, { MessageSid: d.provider_id!, MessageStatus: 'failed', ErrorCode: '21610' });
    const s = await db.selectFrom('subscribers').select('sms_opted_out_at').where('id', '=', d.subscriber_id).executeTakeFirstOrThrow();
    expect(s.sms_opted_out_at).toBeInstanceOf(Date);
  });

  it('answer bad input with 4xx and change nothing', async () => {
    expect((await callback(999999, { MessageSid: sid(1), MessageStatus: 'delivered' })).status).toBe(404);
    expect((await callback(deliveries[0]!.id, { MessageSid: sid(2), MessageStatus: 'delivered' })).status).toBe(409);
    expect((await callback(deliveries[0]!.id, { MessageSid: deliveries[0]!.provider_id!, MessageStatus: 'exploded' })).status).toBe(422);
    expect((await callback(deliveries[0]!.id, { MessageSid: 'nope', MessageStatus: 'delivered' })).status).toBe(422);
  });
});

describe('Twilio webhooks', () => {
  it('refuse a body larger than any Twilio form with 413, storing nothing', async () => {
    const d = deliveries[0]!;
    const params = { MessageSid: d.provider_id!, MessageStatus: 'failed', Padding: 'x'.repeat(70 * 1024) };
    const before = (await eventsOf(d.id)).length;
    expect((await callback(d.id, params)).status).toBe(413);
    expect((await eventsOf(d.id)).length).toBe(before);
  });

  it('write callbacks arriving together in one batch, each answered after its own commit', async () => {
    const others = await db.selectFrom('deliveries').select(['id', 'provider_id']).where('update_id', '=', updateId).execute();
    const results = await Promise.all(
      others.flatMap((d) => [callback(d.id, { MessageSid: d.provider_id!, MessageStatus: 'sent' }), callback(d.id, { MessageSid: d.provider_id!, MessageStatus: 'read' })]),
    );
    expect(results.map((r) => r.status).every((s) => s === 204 || s === 409)).toBe(true);
    for (const d of others) expect(['delivered', 'undelivered', 'failed']).toContain(await statusOf(d.id));
  });
});
