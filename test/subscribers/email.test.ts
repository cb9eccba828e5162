import { describe, expect, it } from 'vitest';
import { encodeLink, listUnsubscribeHeaders, tokenFromUnsubscribeSubject } from '../../src/subscribers/links';
import { Agent, createTestApp, publicUrl } from '../helpers/app';
import { insertCampaign } from './helpers';

const { app, db, deps, clock, logLines } = await createTestApp({ FOUNDATION_NAME: 'Fondation Secours', SUBSCRIBE_LIMIT_PER_HOUR: '50' });
const haiti = await insertCampaign(db, { slug: 'seisme-haiti', name: 'Séisme en Haïti', languages: ['fr', 'en'] });
const quebec = await insertCampaign(db, { slug: 'cyclone-quebec', name: 'Cyclone <au> Québec', languages: ['fr'] });
const closed = await insertCampaign(db, { slug: 'old-flood', name: 'Old flood', active: false });

let ipCount = 0;
const visitor = () => new Agent(app, `198.51.100.${++ipCount}`);

async function subscribe(agent: Agent, fields: Record<string, string>, campaigns: number[]) {
  await agent.get('/subscribe');
  const body = new URLSearchParams({ ...fields, _csrf: agent.cookies.get('tocsin_csrf')! });
  for (const c of campaigns) body.append('campaigns', String(c));
  return agent.request('/subscribe', { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
}

const lastEmailTo = (to: string) => db.selectFrom('dev_outbox').selectAll().where('recipient', '=', to).orderBy('id', 'desc').executeTakeFirst();
const confirmPathIn = (body: string) => /http:\/\/tocsin\.test(\/subscribe\/confirm\?token=[\w.-]+)/.exec(body)?.[1];
const subscriberByEmail = (email: string) => db.selectFrom('subscribers').selectAll().where('email', '=', email).executeTakeFirst();
const emailSubscriptions = async (email: string) => {
  const s = await subscriberByEmail(email);
  if (!s) return {};
  const rows = await db.selectFrom('subscriptions').selectAll().where('subscriber_id', '=', s.id).where('channel', '=', 'email').execute();
  return Object.fromEntries(rows.map((r) => [r.campaign_id, r.status]));
};
const consentOf = async (email: string) => {
  const s = await subscriberByEmail(email);
  return s ? db.selectFrom('consent_log').selectAll().where('subscriber_id', '=', s.id).orderBy('id').execute() : [];
};
const everything = async () => ({
  subscribers: await db.selectFrom('subscribers').selectAll().orderBy('id').execute(),
  subscriptions: await db.selectFrom('subscriptions').selectAll().orderBy('subscriber_id').orderBy('campaign_id').execute(),
  consent: (await db.selectFrom('consent_log').select('id').execute()).length,
  emails: (await db.selectFrom('dev_outbox').select('id').execute()).length,
});

async function subscribed(email: string, campaigns = [haiti]) {
  const agent = visitor();
  const res = await subscribe(agent, { email, language: 'fr' }, campaigns);
  expect(res.status).toBe(200);
  const mail = (await lastEmailTo(email))!;
  return { agent, res, mail, confirmPath: confirmPathIn(mail.body)! };
}

async function confirm(agent: Agent, confirmPath: string) {
  const page = await agent.get(confirmPath);
  const token = new URL(`http://x${confirmPath}`).searchParams.get('token')!;
  return { page, post: await agent.post('/subscribe/confirm', { token }) };
}

describe('the subscription form', () => {
  it('offers the active campaigns, with a honeypot and the consent sentence', async () => {
    const res = await visitor().get('/subscribe');
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('Séisme en Haïti');
    expect(html).toContain('Cyclone &lt;au&gt; Québec');
    expect(html).not.toContain('Old flood');
    expect(html).toContain('name="website"');
    expect(html).toContain('I want to receive crisis updates from Fondation Secours by email');
  });

  it('records a pending request and sends a confirmation email with List-Unsubscribe; nothing is active yet', async () => {
    const agent = visitor();
    const res = await subscribe(agent, { email: 'Marie.Dupont@Example.fr', language: 'fr' }, [haiti, quebec]);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('we sent a link to marie.dupont@example.fr');
    expect(await emailSubscriptions('marie.dupont@example.fr')).toEqual({ [haiti]: 'pending', [quebec]: 'pending' });
    const subscriber = (await subscriberByEmail('marie.dupont@example.fr'))!;
    expect(subscriber.language).toBe('fr');
    const log = await consentOf('marie.dupont@example.fr');
    expect(log).toHaveLength(2);
    expect(log[0]).toMatchObject({ action: 'subscribe', channel: 'email', source: 'web_form', source_ref: agent.ip });
    expect(log[0]!.shown_text).toContain('I want to receive crisis updates from Fondation Secours by email');

    const mail = (await lastEmailTo('marie.dupont@example.fr'))!;
    expect(mail.subject).toBe('Confirmez votre abonnement à Fondation Secours');
    expect(mail.body).toContain('Cyclone <au> Québec');
    expect((mail.meta as { html: string }).html).toContain('Cyclone &lt;au&gt; Québec');
    const headers = (mail.meta as { headers: Record<string, string> }).headers;
    expect(headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
    expect(headers['List-Unsubscribe']).toMatch(/^<http:\/\/tocsin\.test\/unsubscribe\/link\?token=[\w-]+\.[\w-]+>, <mailto:unsubscribe@tocsin\.test\?subject=unsubscribe%20[\w.-]+>$/);
    expect(confirmPathIn(mail.body)).toBeTruthy();
  });

  it('only the confirmation makes the subscription active; the link’s GET only shows a button', async () => {
    const { agent, confirmPath } = await subscribed('jp@example.ca', [haiti, quebec]);
    const { page, post } = await confirm(agent, confirmPath);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Confirmer mon abonnement');
    expect(post.status).toBe(200);
    expect(await post.text()).toContain('vous recevrez nos nouvelles par courriel');
    expect(await emailSubscriptions('jp@example.ca')).toEqual({ [haiti]: 'active', [quebec]: 'active' });
    const log = await consentOf('jp@example.ca');
    expect(log.filter((e) => e.action === 'confirm').map((e) => [e.campaign_id, e.source, e.source_ref])).toEqual(
      expect.arrayContaining([[haiti, 'email_link', agent.ip], [quebec, 'email_link', agent.ip]]),
    );
    // Confirming twice changes nothing more.
    const before = await everything();
    await confirm(agent, confirmPath);
    expect(await everything()).toEqual(before);
  });

  it('the GET of a confirmation link changes nothing (mail scanners open links)', async () => {
    const { agent, confirmPath } = await subscribed('scanned@example.org');
    const before = await everything();
    expect((await agent.get(confirmPath)).status).toBe(200);
    expect(await everything()).toEqual(before);
    expect(await emailSubscriptions('scanned@example.org')).toEqual({ [haiti]: 'pending' });
  });

  it('an expired link shows a clear page and changes nothing', async () => {
    const { agent, confirmPath } = await subscribed('late@example.org');
    clock.advance(73 * 3_600_000);
    try {
      const before = await everything();
      const { page, post } = await confirm(agent, confirmPath);
      expect(page.status).toBe(410);
      expect(await page.text()).toContain('This confirmation link has expired.');
      expect(post.status).toBe(410);
      expect(await everything()).toEqual(before);
      expect(await emailSubscriptions('late@example.org')).toEqual({ [haiti]: 'pending' });
    } finally {
      clock.advance(-73 * 3_600_000);
    }
  });

  it('a tampered link (other campaigns, other person, broken signature) changes nothing', async () => {
    const { agent, confirmPath } = await subscribed('tamper@example.org');
    const token = new URL(`http://x${confirmPath}`).searchParams.get('token')!;
    const [body, signature] = token.split('.') as [string, string];
    const payload = JSON.parse(Buffer.from(body, 'base64url').toString()) as Record<string, unknown>;
    const forged = [
      `${Buffer.from(JSON.stringify({ ...payload, c: [haiti, quebec, closed] })).toString('base64url')}.${signature}`,
      `${Buffer.from(JSON.stringify({ ...payload, x: Number(payload.x) + 86400 * 365 })).toString('base64url')}.${signature}`,
      `${body}.${signature.slice(0, -2)}AA`,
      encodeLink('another-secret-key-that-is-long-enough-123', { kind: 'confirm', subscriberId: payload.s as number, email: 'tamper@example.org', campaignIds: [quebec], language: 'fr', expires: Number(payload.x) }),
      `${body}`,
      'garbage',
    ];
    const before = await everything();
    for (const t of forged) {
      const page = await agent.get(`/subscribe/confirm?token=${encodeURIComponent(t)}`);
      expect(page.status).toBe(400);
      expect(await page.text()).toContain('This link is not valid.');
      expect((await agent.post('/subscribe/confirm', { token: t })).status).toBe(400);
    }
    expect(await everything()).toEqual(before);
  });

  it('rejects bad input with messages in the page’s language, storing and sending nothing', async () => {
    const before = await everything();
    const agent = visitor();
    await agent.get('/subscribe?lang=fr');
    const bad = await subscribe(agent, { email: 'pas-un-courriel', language: 'fr' }, []);
    expect(bad.status).toBe(422);
    const html = await bad.text();
    expect(html).toContain('Cette adresse de courriel n’est pas valide.');
    expect(html).toContain('Choisissez au moins une campagne.');
    const unknown = await subscribe(visitor(), { email: 'ok@example.org', language: 'en' }, [999999]);
    expect(unknown.status).toBe(422);
    expect(await unknown.text()).toContain('Choose at least one campaign.');
    const closedOne = await subscribe(visitor(), { email: 'ok@example.org', language: 'en' }, [closed]);
    expect(closedOne.status).toBe(422);
    const language = await subscribe(visitor(), { email: 'ok@example.org', language: 'de' }, [haiti]);
    expect(language.status).toBe(422);
    expect(await language.text()).toContain('Choose a language.');
    expect(await everything()).toEqual(before);
  });

  it('needs the CSRF token like every browser form', async () => {
    const agent = visitor();
    const res = await agent.post('/subscribe', { email: 'csrf@example.org', language: 'en', campaigns: String(haiti) }, { csrf: 'wrong' });
    expect(res.status).toBe(403);
    expect(await subscriberByEmail('csrf@example.org')).toBeUndefined();
  });

  it('a robot that fills the honeypot sees the usual answer, and nothing happens', async () => {
    const before = await everything();
    const res = await subscribe(visitor(), { email: 'robot@example.org', language: 'en', website: 'http://spam.example' }, [haiti]);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('we sent a link to robot@example.org');
    expect(await everything()).toEqual(before);
  });

  it('limits requests per IP with a clear 429 page, shared through the database', async () => {
    const limited = await createTestApp({ SUBSCRIBE_LIMIT_PER_HOUR: '3' }, { db });
    const agent = new Agent(limited.app, '203.0.113.77');
    for (let i = 0; i < 3; i++) expect((await subscribe(agent, { email: `burst${i}@example.org`, language: 'en' }, [haiti])).status).toBe(200);
    const before = await everything();
    const res = await subscribe(agent, { email: 'burst9@example.org', language: 'en' }, [haiti]);
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await res.text()).toMatch(/Too many subscription requests from your network or for this address\. Please try again in \d+ minutes\./);
    expect(await everything()).toEqual(before);
    // Another process sharing the database counts the same hits.
    const other = await createTestApp({ SUBSCRIBE_LIMIT_PER_HOUR: '3' }, { db });
    expect((await subscribe(new Agent(other.app, '203.0.113.77'), { email: 'burst10@example.org', language: 'en' }, [haiti])).status).toBe(429);
    expect((await subscribe(new Agent(limited.app, '203.0.113.78'), { email: 'burst11@example.org', language: 'en' }, [haiti])).status).toBe(200);
  });

  it('limits confirmation emails to one address, whoever asks', async () => {
    for (let i = 0; i < 3; i++) expect((await subscribe(visitor(), { email: 'victim@example.org', language: 'en' }, [haiti])).status).toBe(200);
    const res = await subscribe(visitor(), { email: 'victim@example.org', language: 'en' }, [haiti]);
    expect(res.status).toBe(429);
    expect((await db.selectFrom('dev_outbox').select('id').where('recipient', '=', 'victim@example.org').execute()).length).toBe(3);
  });
});

describe('unsubscribing by link', () => {
  async function activeSubscriber(email: string) {
    const { agent, confirmPath } = await subscribed(email, [haiti, quebec]);
    await confirm(agent, confirmPath);
    return (await subscriberByEmail(email))!;
  }

  it('one-click POST without cookies or CSRF token unsubscribes from the campaign of the link', async () => {
    const s = await activeSubscriber('oneclick@example.org');
    const header = listUnsubscribeHeaders(deps, { subscriberId: s.id, campaignId: haiti })['List-Unsubscribe'];
    const url = /<(http[^>]+)>/.exec(header)![1]!;
    const res = await app.request(url, { method: 'POST', body: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(res.status).toBe(200);
    expect(await emailSubscriptions('oneclick@example.org')).toEqual({ [haiti]: 'unsubscribed', [quebec]: 'active' });
    expect((await consentOf('oneclick@example.org')).at(-1)).toMatchObject({ action: 'unsubscribe', campaign_id: haiti, source: 'one_click', channel: 'email' });
    // A provider repeating the POST changes nothing more.
    const before = await everything();
    expect((await app.request(url, { method: 'POST', body: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } })).status).toBe(200);
    expect(await everything()).toEqual(before);
  });

  it('the link of a message to everyone opts out of every email', async () => {
    const s = await activeSubscriber('all@example.org');
    const url = /<(http[^>]+)>/.exec(listUnsubscribeHeaders(deps, { subscriberId: s.id, campaignId: null })['List-Unsubscribe'])![1]!;
    expect((await app.request(url, { method: 'POST', body: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } })).status).toBe(200);
    expect((await subscriberByEmail('all@example.org'))!.email_opted_out_at).not.toBeNull();
    expect((await consentOf('all@example.org')).at(-1)).toMatchObject({ action: 'opt_out_all', campaign_id: null, source: 'one_click' });
  });

  it('a GET shows a confirmation button and unsubscribes no one', async () => {
    const s = await activeSubscriber('getter@example.org');
    const url = /<(http[^>]+)>/.exec(listUnsubscribeHeaders(deps, { subscriberId: s.id, campaignId: haiti })['List-Unsubscribe'])![1]!;
    const before = await everything();
    const res = await app.request(url);
    expect(res.status).toBe(200);
    const html = await res.text();
    // The subscriber's language, since the visitor chose none.
    expect(html).toContain('Me désabonner de Séisme en Haïti');
    expect(html).toContain(`action="${url.replace(publicUrl, '')}"`);
    expect(url).toMatch(/^http:\/\/tocsin\.test\/unsubscribe\/link\?token=/);
    expect(await everything()).toEqual(before);
    // The token is the key to this person's subscriptions: it stays out of the access log.
    expect(logLines.join('\n')).not.toContain(new URL(url).searchParams.get('token')!);
  });

  it('the page’s "everything" button opts out of every email, recorded with the text of the button', async () => {
    const s = await activeSubscriber('button@example.org');
    const path = /<(http[^>]+)>/.exec(listUnsubscribeHeaders(deps, { subscriberId: s.id, campaignId: haiti })['List-Unsubscribe'])![1]!.replace(publicUrl, '');
    const res = await new Agent(app).post(path, { scope: 'all', from: 'page' }, { csrf: false });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('ne vous enverra plus de courriel');
    expect((await subscriberByEmail('button@example.org'))!.email_opted_out_at).not.toBeNull();
    expect((await consentOf('button@example.org')).at(-1)).toMatchObject({ action: 'opt_out_all', source: 'email_link', shown_text: 'Me désabonner de tous les courriels de Fondation Secours' });

    // Subscribing again takes the person's own confirmation, which lifts the opt-out.
    const again = await subscribed('button@example.org', [quebec]);
    expect((await subscriberByEmail('button@example.org'))!.email_opted_out_at).not.toBeNull();
    await confirm(again.agent, again.confirmPath);
    expect((await subscriberByEmail('button@example.org'))!.email_opted_out_at).toBeNull();
    expect((await consentOf('button@example.org')).map((e) => e.action)).toContain('resubscribe');
  });

  it('an edited or unknown link is refused and changes nothing', async () => {
    const s = await activeSubscriber('forged@example.org');
    const token = /token=([\w.-]+)>/.exec(listUnsubscribeHeaders(deps, { subscriberId: s.id, campaignId: haiti })['List-Unsubscribe'])![1]!;
    const [, signature] = token.split('.');
    const other = `${Buffer.from(JSON.stringify({ k: 'u', s: s.id - 1, c: null })).toString('base64url')}.${signature}`;
    const before = await everything();
    for (const t of [other, 'nope', `${token}x`]) {
      expect((await app.request(`${publicUrl}/unsubscribe/link?token=${t}`, { method: 'POST', body: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } })).status).toBe(400);
      expect((await app.request(`${publicUrl}/unsubscribe/link?token=${t}`)).status).toBe(400);
    }
    expect(await everything()).toEqual(before);
  });

  it('the mailto subject carries the token for the inbound email handler', () => {
    const h = listUnsubscribeHeaders(deps, { subscriberId: 42, campaignId: null })['List-Unsubscribe'];
    const subject = decodeURIComponent(/subject=([^>]+)>/.exec(h)![1]!);
    expect(tokenFromUnsubscribeSubject(`Re: ${subject}`)).toBe(/token=([\w.-]+)>/.exec(h)![1]);
  });
});
