import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { drainDeliveries } from '../../src/fanout/dispatch';
import { sendPost } from '../../src/fanout/posts';
import { readUpdateProgress } from '../../src/fanout/progress';
import { breakGlassPublish, createDraft } from '../../src/updates/lifecycle';
import { createStaffMember, createTestApp, loggedInAgent } from '../helpers/app';
import { createTestCampaign } from '../helpers/campaigns';
import { seedSubscribers } from '../helpers/subscribers';

const { app, db, deps } = await createTestApp({ SMS_MAX_PER_SECOND: '1', EMAIL_MAX_PER_SECOND: '500' });
const admin = await createStaffMember(db, 'admin');

describe('before approval', () => {
  it('shows the expected drain time and warns beyond Twilio’s 10-hour window', async () => {
    const campaign = await createTestCampaign(db, admin);
    await seedSubscribers(db, campaign.id, { sms: 40_000, email: 1000 });
    const id = await createDraft(deps, admin, { campaignId: campaign.id, leads: { fr: 'Bonjour', en: 'Hello' }, needs: [] });
    const html = await (await (await loggedInAgent(app, admin)).get(`/staff/updates/${id}`)).text();
    expect(html).toContain('40,000 SMS at 1/s ≈ 11 h 07');
    expect(html).toContain('1,000 Email at 500/s ≈ 2 s');
    expect(html).toContain('More than Twilio’s 10-hour queue window');
    // The cost estimate counts the same subscribers.
    expect(html).toMatch(/× 40,000 subscribers ×/);
  });
});

describe('after approval', () => {
  it('shows counts per channel and status, the posts’ links, live over SSE until finished', async () => {
    const campaign = await createTestCampaign(db, admin);
    await seedSubscribers(db, campaign.id, { email: 12 });
    const id = await createDraft(deps, admin, { campaignId: campaign.id, leads: { fr: 'Bonjour', en: 'Hello' }, needs: [] });
    await breakGlassPublish(deps, admin, id, undefined, 'Testing progress figures', '127.0.0.1');
    const agent = await loggedInAgent(app, admin);
    const before = await (await agent.get(`/staff/updates/${id}`)).text();
    expect(before).toContain('0 of 12 done');
    expect(before).toContain('12 queued');
    expect(before).toContain('src="/static/progress.js"');

    await drainDeliveries(deps, { updateId: id, channel: 'email' });
    for (const p of await db.selectFrom('posts').select('id').where('update_id', '=', id).execute()) await sendPost(deps, p.id);

    const res = await agent.get(`/staff/updates/${id}/progress`);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const stream = await res.text();
    expect(stream).toContain('event: progress');
    expect(stream).toContain('12 of 12 done');
    expect(stream).toContain('event: done');
    expect(stream).toMatch(/Mastodon: posted · <a href="\/dev\/outbox#\d+"/);

    const outbox = await (await agent.get('/dev/outbox')).text();
    expect(outbox.match(/data-channel="email"/g)).toHaveLength(12);
    expect(outbox).toContain('data-channel="bluesky"');
  });

  it('takes the rate of a broadcast younger than a minute over its own age, for an honest ETA', async () => {
    const campaign = await createTestCampaign(db, admin);
    await seedSubscribers(db, campaign.id, { sms: 40 });
    const id = await createDraft(deps, admin, { campaignId: campaign.id, leads: { fr: 'Bonjour', en: 'Hello' }, needs: [] });
    await breakGlassPublish(deps, admin, id, undefined, 'Testing the sending rate', '127.0.0.1');
    // 20 sent over the last 10 seconds, one every half second; 20 still queued.
    await sql`UPDATE deliveries d SET status = 'sent', sent_at = now() - make_interval(secs => 10 - x.n * 0.5)
      FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM deliveries WHERE update_id = ${id} ORDER BY id LIMIT 20) x
      WHERE d.id = x.id`.execute(db);
    const sms = (await readUpdateProgress(db, id)).channels.find((c) => c.channel === 'sms')!;
    expect(sms).toMatchObject({ total: 40, done: 20 });
    expect(sms.ratePerSecond).toBeGreaterThan(1.9);
    expect(sms.ratePerSecond).toBeLessThan(2.1);
    expect(sms.etaSeconds).toBe(10);
  });
});
