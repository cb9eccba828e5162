import { describe, expect, it } from 'vitest';
import { drainDeliveries } from '../../src/fanout/dispatch';
import { createApiToken } from '../../src/staff/api-tokens';
import { breakGlassPublish, createDraft } from '../../src/updates/lifecycle';
import { createStaffMember, createTestApp } from '../helpers/app';
import { createTestCampaign } from '../helpers/campaigns';
import { seedSubscribers } from '../helpers/subscribers';

const { app, db, deps } = await createTestApp({ SMS_MAX_PER_SECOND: '1000' });
const admin = await createStaffMember(db, 'admin');
const { token } = await createApiToken(deps, admin, 'monitoring', '127.0.0.1');
const campaign = await createTestCampaign(db, admin);
await seedSubscribers(db, campaign.id, { sms: 5, email: 3 });
const updateId = await createDraft(deps, admin, { campaignId: campaign.id, leads: { fr: 'Bonjour', en: 'Hello' }, needs: [] });
await breakGlassPublish(deps, admin, updateId, undefined, 'Testing the delivery API', '127.0.0.1');
await drainDeliveries(deps, { updateId, channel: 'sms' });

const get = (path: string) => app.request(`http://tocsin.test${path}`, { headers: { authorization: `Bearer ${token}` } });

describe('delivery figures in the API', () => {
  it('gives counts per channel and status, and the posts', async () => {
    const res = await get(`/api/v1/updates/${updateId}/figures`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body.finished).toBe(false);
    expect(body.channels).toEqual([
      expect.objectContaining({ channel: 'sms', total: 5, done: 5, by_status: { sent: 5 }, replies: 0 }),
      expect.objectContaining({ channel: 'email', total: 3, done: 0, by_status: { queued: 3 } }),
    ]);
    expect(body.posts.map((p: { network: string }) => p.network)).toEqual(['bluesky', 'mastodon', 'x']);
  });

  it('lists deliveries by status with a cursor, without addresses', async () => {
    const first = (await (await get(`/api/v1/updates/${updateId}/deliveries?status=sent&limit=2`)).json()) as any;
    expect(first.items).toHaveLength(2);
    expect(first.items[0]).not.toHaveProperty('phone');
    const second = (await (await get(`/api/v1/updates/${updateId}/deliveries?status=sent&limit=2&cursor=${first.next_cursor}`)).json()) as any;
    const third = (await (await get(`/api/v1/updates/${updateId}/deliveries?status=sent&limit=2&cursor=${second.next_cursor}`)).json()) as any;
    expect([...first.items, ...second.items, ...third.items].map((d: { id: number }) => d.id)).toHaveLength(5);
    expect(third.next_cursor).toBeNull();
    const queued = (await (await get(`/api/v1/updates/${updateId}/deliveries?status=queued`)).json()) as any;
    expect(queued.items.every((d: { channel: string }) => d.channel === 'email')).toBe(true);
  });

  it('answers bad input with 4xx', async () => {
    expect((await get(`/api/v1/updates/${updateId}/deliveries?status=exploded`)).status).toBe(422);
    expect((await get(`/api/v1/updates/${updateId}/deliveries?cursor=nonsense`)).status).toBe(422);
    expect((await get('/api/v1/updates/999999/figures')).status).toBe(404);
    expect((await app.request(`http://tocsin.test/api/v1/updates/${updateId}/figures`)).status).toBe(401);
  });
});
