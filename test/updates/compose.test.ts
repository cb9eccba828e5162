import { describe, expect, it } from 'vitest';
import { Agent, createStaffMember, createTestApp, loggedInAgent } from '../helpers/app';
import { createTestCampaign } from '../helpers/campaigns';

const { app, db } = await createTestApp({ FOUNDATION_NAME: 'Fondation Lumière' });
const admin = await createStaffMember(db, 'admin');
const approver = await createStaffMember(db, 'approver');
const author = await createStaffMember(db, 'author');
const campaign = await createTestCampaign(db, admin);

const frLead = 'Séisme en Haïti : nos équipes distribuent de l’eau à Jérémie. Il manque encore 4 000 bâches.';
const enLead = 'Haiti earthquake: our teams are distributing water in Jérémie. Still needed: 4,000 tarpaulins.';

function composeFields(over: Record<string, string> = {}) {
  return {
    campaign: String(campaign.id),
    lead_fr: frLead,
    lead_en: enLead,
    need_item_0: 'bâches',
    need_quantity_0: '4000',
    need_unit_0: 'unités',
    need_urgency_0: 'critical',
    need_item_1: '',
    raised: '45 200',
    goal: '100000',
    currency: 'EUR',
    donors: '812',
    asOf: '2026-11-20T18:00',
    link: '',
    imageAlt: '',
    action: 'save',
    ...over,
  };
}

async function createDraft(agent: Agent, over: Record<string, string> = {}) {
  const res = await agent.post('/staff/updates', composeFields(over));
  expect(res.status).toBe(303);
  const id = Number(res.headers.get('location')!.match(/\/staff\/updates\/(\d+)/)![1]);
  return id;
}

const countUpdates = async () => (await db.selectFrom('updates').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n;

describe('composing an update', () => {
  it('prefills the figures from the campaign and shows one lead field per language', async () => {
    const agent = await loggedInAgent(app, author);
    const html = await (await agent.get(`/staff/updates/new?campaign=${campaign.id}`)).text();
    expect(html).toContain('name="lead_fr"');
    expect(html).toContain('name="lead_en"');
    expect(html).toMatch(/name="goal"[^>]*value="100000"/);
    expect(html).toContain('src="/static/compose.js"');
  });

  it('saves a draft and previews every channel in every language', async () => {
    const agent = await loggedInAgent(app, author);
    const id = await createDraft(agent);
    const html = await (await agent.get(`/staff/updates/${id}/edit`)).text();
    // French amounts with the locale's spaces; English with commas.
    expect(html).toMatch(/45[\u202f\u00a0 ]200[\u202f\u00a0 ]€ collectés sur 100[\u202f\u00a0 ]000[\u202f\u00a0 ]€/);
    expect(html).toContain('€45,200 raised of €100,000 (45%), 812 donors');
    for (const channel of ['sms', 'email', 'mastodon', 'bluesky', 'x']) expect(html).toContain(`data-channel="${channel}"`);
    // The French lead has ’ and â: UCS-2, with the characters named and a rewrite offered.
    expect(html).toMatch(/data-encoding="UCS-2"/);
    expect(html).toContain('’');
    expect(html).toContain('value="rewrite_on:fr"');
    expect(html).toContain('#HaitiQuake');
    expect(html).toContain(`http://tocsin.test/updates/${id}`);
  });

  it('accepts the GSM-7 rewrite with one tap: the SMS becomes GSM-7, the email keeps its typography', async () => {
    const agent = await loggedInAgent(app, author);
    const id = await createDraft(agent);
    const res = await agent.post(`/staff/updates/${id}`, composeFields({ action: 'rewrite_on:fr', version: await versionOf(id) }));
    expect(res.status).toBe(303);
    const html = await (await agent.get(`/staff/updates/${id}/edit`)).text();
    const frSms = html.split('data-lang="fr"')[1]!.split('data-channel="email"')[0]!;
    expect(frSms).toContain('data-encoding="GSM-7"');
    expect(frSms).toContain('l&#39;eau');
    const frEmail = html.split('data-lang="fr"')[1]!.split('data-channel="email"')[1]!.split('data-channel="mastodon"')[0]!;
    expect(frEmail).toContain('l’eau');
  });

  it('rejects bad input with messages in the form’s language and stores nothing', async () => {
    const agent = await loggedInAgent(app, author);
    await agent.post('/staff/account/language', { language: 'fr' });
    const before = await countUpdates();
    const cases: [Record<string, string>, string][] = [
      [{ lead_fr: '   ' }, 'Écrivez ce qui se passe (FR).'],
      [{ lead_fr: 'x'.repeat(1001) }, 'Le texte en FR compte 1001 caractères ; la limite est 1000.'],
      [{ raised: '-5' }, 'Saisissez un montant de 0 ou plus'],
      [{ raised: 'beaucoup' }, 'Saisissez un montant de 0 ou plus'],
      [{ currency: 'XYZ' }, 'XYZ n’est pas un code de devise'],
      [{ need_quantity_0: 'lots' }, 'Besoin 1 : la quantité doit être un nombre entier'],
      [{ link: 'javascript:alert(1)' }, 'Ce n’est pas une adresse web valide'],
    ];
    for (const [over, message] of cases) {
      const res = await agent.post('/staff/updates', composeFields(over));
      expect(res.status, JSON.stringify(over)).toBe(422);
      expect(await res.text()).toContain(message.replace(/’/g, '’'));
    }
    expect(await countUpdates()).toBe(before);
    await agent.post('/staff/account/language', { language: 'en' });
  });

  it('rejects an image that is not an image, or one without a description', async () => {
    const agent = await loggedInAgent(app, author);
    const before = await countUpdates();
    const send = async (bytes: Uint8Array, alt: string) => {
      const body = new FormData();
      for (const [k, v] of Object.entries(composeFields({ imageAlt: alt }))) body.set(k, v);
      body.set('_csrf', agent.cookies.get('tocsin_csrf')!);
      body.set('image', new File([bytes], 'photo.jpg', { type: 'image/jpeg' }));
      return agent.request('/staff/updates', { method: 'POST', body });
    };
    const notImage = await send(new TextEncoder().encode('<?php evil(); ?>'), 'A truck');
    expect(notImage.status).toBe(422);
    expect(await notImage.text()).toContain('This file is not a JPEG, PNG, GIF or WebP image.');
    const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]);
    const noAlt = await send(png, '');
    expect(noAlt.status).toBe(422);
    expect(await noAlt.text()).toContain('Describe the image for people who cannot see it.');
    const tooBig = await send(new Uint8Array(5 * 1024 * 1024 + 10).fill(0xff), 'Big');
    expect([413, 422]).toContain(tooBig.status);
    expect(await countUpdates()).toBe(before);
    expect((await db.selectFrom('images').selectAll().execute()).length).toBe(0);

    const ok = await send(png, 'Volunteers unloading a truck');
    expect(ok.status).toBe(303);
    const image = await db.selectFrom('images').select(['id', 'content_type']).executeTakeFirstOrThrow();
    expect(image.content_type).toBe('image/png');
    expect((await new Agent(app).get(`/images/${image.id}`)).status).toBe(404); // not public until published
    expect((await agent.get(`/images/${image.id}`)).status).toBe(200);
  });

  it('renders the live preview from the form without saving anything', async () => {
    const agent = await loggedInAgent(app, author);
    const before = await countUpdates();
    const res = await agent.post('/staff/updates/preview', composeFields({ lead_fr: 'Il manque des tentes à Jérémie.', lead_en: '', need_item_0: 'tentes' }), {
      headers: { 'x-csrf-token': agent.cookies.get('tocsin_csrf')! },
    });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('Il manque des tentes à Jérémie.');
    expect(html).toContain('data-encoding="GSM-7"');
    expect(await countUpdates()).toBe(before);
  });

  it('sends a test to the author through the same channels (the dev outbox here)', async () => {
    await db.updateTable('staff').set({ phone: '+33612345678' }).where('id', '=', author.id).execute();
    const agent = await loggedInAgent(app, author);
    const id = await createDraft(agent);
    const res = await agent.post(`/staff/updates/${id}`, composeFields({ action: 'test', version: await versionOf(id) }));
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Test sent: SMS, email.');
    const outbox = await db.selectFrom('dev_outbox').selectAll().orderBy('id').execute();
    const sms = outbox.find((o) => o.channel === 'sms' && o.recipient === '+33612345678')!;
    expect(sms.body).toContain(`http://tocsin.test/updates/${id}`);
    const email = outbox.find((o) => o.channel === 'email' && o.recipient === author.email)!;
    expect(email.subject).toMatch(/^\[TEST\] /);
  });
});

async function versionOf(id: number) {
  const row = await db.selectFrom('updates').select('version').where('id', '=', id).executeTakeFirstOrThrow();
  return String(row.version);
}

describe('approval', () => {
  it('author submits, an approver approves: the update is published', async () => {
    const writer = await loggedInAgent(app, author);
    const id = await createDraft(writer);
    const submit = await writer.post(`/staff/updates/${id}`, composeFields({ action: 'submit', version: await versionOf(id) }));
    expect(submit.headers.get('location')).toBe(`/staff/updates/${id}?notice=update.submitted`);
    const pendingList = await (await writer.get('/staff/updates?status=pending_approval')).text();
    expect(pendingList).toContain(`#${id}`);

    // The author sees no approve button on their own update, and cannot approve by posting.
    const own = await (await writer.get(`/staff/updates/${id}`)).text();
    expect(own).not.toContain(`/staff/updates/${id}/approve`);
    expect((await writer.post(`/staff/updates/${id}/approve`, { version: await versionOf(id) })).status).toBe(403);

    const checker = await loggedInAgent(app, approver);
    const page = await (await checker.get(`/staff/updates/${id}`)).text();
    expect(page).toContain(`/staff/updates/${id}/approve`);
    const approve = await checker.post(`/staff/updates/${id}/approve`, { version: await versionOf(id), comment: 'Vérifié' });
    expect(approve.headers.get('location')).toBe(`/staff/updates/${id}?notice=update.approved`);
    const row = await db.selectFrom('updates').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'published', decided_by: approver.id });
    expect(row.published_at).toBeInstanceOf(Date);
    const history = await (await checker.get(`/staff/updates/${id}`)).text();
    expect(history).toContain('approved and published by');
    expect(await db.selectFrom('audit_log').select('action').where('target', '=', `update:${id}`).execute()).toContainEqual({ action: 'update.approved' });
  });

  it('an admin who wrote an update cannot approve it either', async () => {
    const boss = await loggedInAgent(app, admin);
    const id = await createDraft(boss);
    await boss.post(`/staff/updates/${id}/submit`, { version: await versionOf(id) });
    const res = await boss.post(`/staff/updates/${id}/approve`, { version: await versionOf(id) });
    expect(res.status).toBe(403);
    expect((await db.selectFrom('updates').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status).toBe('pending_approval');
  });

  it('a second approval and approving a rejected update change nothing', async () => {
    const writer = await loggedInAgent(app, author);
    const checker = await loggedInAgent(app, approver);
    const id = await createDraft(writer);
    await writer.post(`/staff/updates/${id}/submit`, { version: await versionOf(id) });
    const v = await versionOf(id);
    expect((await checker.post(`/staff/updates/${id}/approve`, { version: v })).status).toBe(303);
    const again = await checker.post(`/staff/updates/${id}/approve`, { version: v });
    expect(again.status).toBe(409);
    const events = await db.selectFrom('update_events').select('action').where('update_id', '=', id).where('action', '=', 'approved').execute();
    expect(events).toHaveLength(1);

    const id2 = await createDraft(writer);
    await writer.post(`/staff/updates/${id2}/submit`, { version: await versionOf(id2) });
    const noReason = await checker.post(`/staff/updates/${id2}/reject`, { version: await versionOf(id2), comment: '' });
    expect(noReason.status).toBe(422);
    expect(await noReason.text()).toContain('Say why the update is rejected.');
    expect((await checker.post(`/staff/updates/${id2}/reject`, { version: await versionOf(id2), comment: 'Chiffres à vérifier' })).status).toBe(303);
    const approveRejected = await checker.post(`/staff/updates/${id2}/approve`, { version: await versionOf(id2) });
    expect(approveRejected.status).toBe(409);
    expect((await db.selectFrom('updates').select('status').where('id', '=', id2).executeTakeFirstOrThrow()).status).toBe('rejected');
  });

  it('refuses to approve a version the approver did not see', async () => {
    const writer = await loggedInAgent(app, author);
    const checker = await loggedInAgent(app, approver);
    const id = await createDraft(writer);
    const seen = await versionOf(id);
    await writer.post(`/staff/updates/${id}/submit`, { version: seen });
    const res = await checker.post(`/staff/updates/${id}/approve`, { version: seen });
    expect(res.status).toBe(409);
    expect((await db.selectFrom('updates').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status).toBe('pending_approval');
  });

  it('break-glass: only an admin, only with a reason, which is audited and shown', async () => {
    const writer = await loggedInAgent(app, author);
    const id = await createDraft(writer);
    expect((await writer.post(`/staff/updates/${id}/publish`, { version: await versionOf(id), reason: 'Cyclone landfall in one hour' })).status).toBe(403);
    const boss = await loggedInAgent(app, admin);
    const short = await boss.post(`/staff/updates/${id}/publish`, { version: await versionOf(id), reason: 'urgent' });
    expect(short.status).toBe(422);
    expect(await short.text()).toContain('Give a reason of at least 10 characters.');
    const ok = await boss.post(`/staff/updates/${id}/publish`, { version: await versionOf(id), reason: 'Cyclone landfall in one hour' });
    expect(ok.status).toBe(303);
    expect((await db.selectFrom('updates').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status).toBe('published');
    const audit = await db.selectFrom('audit_log').selectAll().where('action', '=', 'update.break_glass').executeTakeFirstOrThrow();
    expect(audit.detail).toEqual({ reason: 'Cyclone landfall in one hour' });
    expect(await (await boss.get(`/staff/updates/${id}`)).text()).toContain('Published without a second approval by Test admin: Cyclone landfall in one hour');
  });

  it('a correction references what it corrects and is labelled everywhere', async () => {
    const boss = await loggedInAgent(app, admin);
    const original = await createDraft(boss);
    await boss.post(`/staff/updates/${original}/publish`, { version: await versionOf(original), reason: 'Testing corrections here' });
    const form = await (await boss.get(`/staff/updates/new?corrects=${original}`)).text();
    expect(form).toContain('Correction of update #');
    const res = await boss.post('/staff/updates', composeFields({ corrects: String(original), lead_en: 'We need 60 volunteers, not 600.' }));
    const id = Number(res.headers.get('location')!.match(/(\d+)/)![1]);
    expect((await db.selectFrom('updates').select('corrects_id').where('id', '=', id).executeTakeFirstOrThrow()).corrects_id).toBe(original);
    const html = await (await boss.get(`/staff/updates/${id}/edit`)).text();
    expect(html).toContain('Rectificatif : ');
    expect(html).toContain('Correction: We need 60 volunteers, not 600.');
    expect(await (await boss.get(`/staff/updates/${original}`)).text()).toContain(`Corrected by update #${id}`);
  });
});

describe('who sees what', () => {
  it('only admins create or edit campaigns', async () => {
    const writer = await loggedInAgent(app, author);
    expect((await writer.get('/staff/campaigns/new')).status).toBe(403);
    expect((await writer.post('/staff/campaigns', { name: 'X', slug: 'x', languages: 'en', currency: 'EUR', keywords: '', hashtag: '', goal: '', donate_url: '' })).status).toBe(403);
    const list = await (await writer.get('/staff/campaigns')).text();
    expect(list).not.toContain('/staff/campaigns/new');
  });

  it('an author cannot edit someone else’s draft', async () => {
    const other = await createStaffMember(db, 'author');
    const theirs = await createDraft(await loggedInAgent(app, other));
    const writer = await loggedInAgent(app, author);
    const res = await writer.post(`/staff/updates/${theirs}`, composeFields({ version: await versionOf(theirs), lead_fr: 'Vandalisme' }));
    expect(res.status).toBe(403);
    expect((await db.selectFrom('update_texts').select('lead').where('update_id', '=', theirs).where('language', '=', 'fr').executeTakeFirstOrThrow()).lead).toBe(frLead);
  });

  it('an approver sees no break-glass form; an admin does', async () => {
    const writer = await loggedInAgent(app, author);
    const id = await createDraft(writer);
    expect(await (await (await loggedInAgent(app, approver)).get(`/staff/updates/${id}`)).text()).not.toContain(`/staff/updates/${id}/publish`);
    expect(await (await (await loggedInAgent(app, admin)).get(`/staff/updates/${id}`)).text()).toContain(`/staff/updates/${id}/publish`);
  });
});
