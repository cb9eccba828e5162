import twilio from 'twilio';
import { describe, expect, it } from 'vitest';
import { handleInboundSms } from '../../src/subscribers/sms-inbound';
import { createTestApp, publicUrl } from '../helpers/app';
import { insertCampaign, newPhone, postSms, smsParams, twilioAuthToken, twimlMessage } from './helpers';

const foundation = 'Fondation Solidarité Haïti';
const { app, db, deps, logLines } = await createTestApp({ TWILIO_AUTH_TOKEN: twilioAuthToken, FOUNDATION_NAME: foundation, DEFAULT_LANGUAGE: 'en' });
const haiti = await insertCampaign(db, { slug: 'seisme-haiti', name: 'Séisme en Haïti', keywords: ['HAITI'], languages: ['fr', 'en'] });
const quebec = await insertCampaign(db, { slug: 'cyclone-quebec', name: 'Cyclone au Québec', keywords: ['QUEBEC'], languages: ['fr'] });
const closed = await insertCampaign(db, { slug: 'old-flood', keywords: ['FLOOD'], active: false });
// In SMS the foundation's name is written in GSM-7: ï has no GSM-7 form.
const smsName = 'Fondation Solidarité Haiti';

async function text(from: string, body: string, extra: Record<string, string> = {}) {
  const params = smsParams(from, body, extra);
  const res = await postSms(app, params);
  const xml = await res.text();
  return { res, xml, answer: twimlMessage(xml), sid: params.MessageSid! };
}

const subscriberOf = (phone: string) => db.selectFrom('subscribers').selectAll().where('phone', '=', phone).executeTakeFirst();
const subscriptionsOf = async (phone: string) => {
  const s = await subscriberOf(phone);
  if (!s) return {};
  const rows = await db.selectFrom('subscriptions').selectAll().where('subscriber_id', '=', s.id).where('channel', '=', 'sms').execute();
  return Object.fromEntries(rows.map((r) => [r.campaign_id, r.status]));
};
const consentOf = async (phone: string) => {
  const s = await subscriberOf(phone);
  return s ? db.selectFrom('consent_log').selectAll().where('subscriber_id', '=', s.id).orderBy('id').execute() : [];
};
const counts = async () => ({
  subscribers: (await db.selectFrom('subscribers').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n,
  consent: (await db.selectFrom('consent_log').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n,
  replies: (await db.selectFrom('replies').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n,
  inbound: (await db.selectFrom('inbound_messages').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n,
});

describe('the webhook answers TwiML', () => {
  it('as text/xml, with one <Message> naming the foundation', async () => {
    const { res, xml, answer } = await text(newPhone(), 'JOIN');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/xml/);
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?><Response><Message>/);
    expect(answer).toContain(smsName);
  });
});

describe('join keywords', () => {
  const forms: [string, 'en' | 'fr' | null][] = [
    ['JOIN', 'en'], ['join', 'en'], ['Join', 'en'], [' join ', 'en'],
    ['START', null], ['start', null], ['Start', null],
    ['YES', 'en'], ['yes', 'en'], ['Yes!', 'en'],
    ['UNSTOP', null], ['unstop', null],
    ['ABONNER', 'fr'], ['abonner', 'fr'], ['Abonner', 'fr'],
    ['OUI', 'fr'], ['oui', 'fr'], ['Oui', 'fr'],
  ];
  it.each(forms)('%j subscribes a new number to every active campaign', async (keyword, lang) => {
    const phone = newPhone();
    const { answer, sid } = await text(phone, keyword);
    const subscriber = await subscriberOf(phone);
    expect(subscriber).toBeDefined();
    expect(subscriber!.language).toBe(lang ?? 'en');
    expect(await subscriptionsOf(phone)).toEqual({ [haiti]: 'active', [quebec]: 'active' });
    const log = await consentOf(phone);
    expect(log.map((e) => [e.action, e.campaign_id, e.source, e.source_ref])).toEqual(
      expect.arrayContaining([['subscribe', haiti, 'sms_keyword', sid], ['subscribe', quebec, 'sms_keyword', sid]]),
    );
    expect(log.every((e) => e.shown_text === answer)).toBe(true);
    expect(answer).toContain(smsName);
    expect(answer).toContain('STOP');
    if (lang === 'fr') expect(answer).toContain('vous recevrez');
    else expect(answer).toContain('you will receive');
  });

  it.each(['HAITI', 'haiti', 'Haiti', 'Haïti', 'HAÏTI', 'join haiti', 'ABONNER HAITI'])('the campaign keyword %j joins that campaign only', async (keyword) => {
    const phone = newPhone();
    const { answer } = await text(phone, keyword);
    expect(await subscriptionsOf(phone)).toEqual({ [haiti]: 'active' });
    expect(answer).toContain('HAITI');
    expect(answer).toContain('STOP HAITI');
  });

  it('a campaign keyword answers in the campaign’s language for someone new', async () => {
    const phone = newPhone();
    const { answer } = await text(phone, 'quebec');
    expect((await subscriberOf(phone))!.language).toBe('fr');
    expect(answer).toContain('abonné à QUEBEC');
  });

  it('JOIN never joins a closed campaign; its keyword still joins it on request', async () => {
    const phone = newPhone();
    await text(phone, 'JOIN');
    expect(await subscriptionsOf(phone)).not.toHaveProperty(String(closed));
    await text(phone, 'FLOOD');
    expect(await subscriptionsOf(phone)).toMatchObject({ [closed]: 'active' });
  });
});

describe('leave keywords', () => {
  const forms: [string, 'en' | 'fr' | null][] = [
    ['STOP', null], ['stop', null], ['Stop', null], ['Stop.', null], [' STOP\n', null],
    ['STOPALL', 'en'], ['stopall', 'en'],
    ['UNSUBSCRIBE', 'en'], ['unsubscribe', 'en'], ['Unsubscribe', 'en'],
    ['CANCEL', 'en'], ['cancel', 'en'], ['END', 'en'], ['end', 'en'], ['QUIT', 'en'], ['Quit', 'en'],
    ['REVOKE', 'en'], ['revoke', 'en'], ['OPTOUT', 'en'], ['optout', 'en'],
    ['ARRET', 'fr'], ['arret', 'fr'], ['Arret', 'fr'], ['ARRÊT', 'fr'], ['arrêt', 'fr'], ['Arrêt', 'fr'], ['ARRÉT', 'fr'],
    ['DESABONNER', 'fr'], ['desabonner', 'fr'], ['désabonner', 'fr'], ['Désabonner', 'fr'], ['DÉSABONNER', 'fr'],
  ];
  it.each(forms)('%j stops every SMS, answered in the keyword’s language', async (keyword, lang) => {
    const phone = newPhone();
    await text(phone, 'JOIN');
    const { answer, sid } = await text(phone, keyword);
    const subscriber = (await subscriberOf(phone))!;
    expect(subscriber.sms_opted_out_at).not.toBeNull();
    const last = (await consentOf(phone)).at(-1)!;
    expect(last).toMatchObject({ action: 'opt_out_all', campaign_id: null, channel: 'sms', source: 'sms_keyword', source_ref: sid, shown_text: answer });
    expect(answer).toContain(smsName);
    // STOP answers in the subscriber's language (English here, from JOIN).
    if ((lang ?? 'en') === 'fr') expect(answer).toContain('vous ne recevrez plus');
    else expect(answer).toContain('no more SMS');
  });

  it('STOP answers a French subscriber in French', async () => {
    const phone = newPhone();
    await text(phone, 'ABONNER');
    const { answer } = await text(phone, 'stop');
    expect(answer).toContain('vous ne recevrez plus');
  });

  it('a STOP from an unknown number is remembered, so nothing can add that number later', async () => {
    const phone = newPhone();
    await text(phone, 'STOP');
    const s = (await subscriberOf(phone))!;
    expect(s.sms_opted_out_at).not.toBeNull();
    expect(await subscriptionsOf(phone)).toEqual({});
  });

  it('STOP <KEYWORD> leaves that campaign only; STOP leaves everything; START resumes', async () => {
    const phone = newPhone();
    await text(phone, 'JOIN');
    const one = await text(phone, 'stop haiti');
    expect(await subscriptionsOf(phone)).toEqual({ [haiti]: 'unsubscribed', [quebec]: 'active' });
    expect((await subscriberOf(phone))!.sms_opted_out_at).toBeNull();
    expect(one.answer).toContain('HAITI');
    expect((await consentOf(phone)).at(-1)).toMatchObject({ action: 'unsubscribe', campaign_id: haiti });

    await text(phone, 'ARRÊT QUEBEC');
    expect(await subscriptionsOf(phone)).toEqual({ [haiti]: 'unsubscribed', [quebec]: 'unsubscribed' });

    await text(phone, 'JOIN QUEBEC');
    await text(phone, 'STOP');
    expect((await subscriberOf(phone))!.sms_opted_out_at).not.toBeNull();

    // START lifts the opt-out and resumes what the person followed; HAITI, left on its own, stays left.
    await text(phone, 'START');
    expect((await subscriberOf(phone))!.sms_opted_out_at).toBeNull();
    expect(await subscriptionsOf(phone)).toEqual({ [haiti]: 'unsubscribed', [quebec]: 'active' });
    expect((await consentOf(phone)).map((e) => e.action).slice(-1)).toEqual(['resubscribe']);
  });

  it('a stop word before a word that is no campaign keyword is a reply, flagged', async () => {
    const phone = newPhone();
    await text(phone, 'JOIN');
    await text(phone, 'STOP NOWHERE');
    expect((await subscriberOf(phone))!.sms_opted_out_at).toBeNull();
    const reply = await db.selectFrom('replies').selectAll().where('sender', '=', phone).executeTakeFirstOrThrow();
    expect(reply).toMatchObject({ body: 'STOP NOWHERE', possible_opt_out: true, state: 'new' });
  });
});

describe('help keywords', () => {
  it.each([['HELP', 'en'], ['help', 'en'], ['Help', 'en'], ['AIDE', 'fr'], ['aide', 'fr'], ['Aide', 'fr']] as const)('%j answers without changing anything', async (keyword, lang) => {
    const phone = newPhone();
    await text(phone, 'JOIN');
    const before = await counts();
    const { answer } = await text(phone, keyword);
    const after = await counts();
    expect({ ...after, inbound: 0 }).toEqual({ ...before, inbound: 0 });
    expect(answer).toContain(smsName);
    expect(answer).toContain('STOP');
    expect(answer).toContain(lang === 'fr' ? 'alertes de crise' : 'crisis updates');
  });

  it.each(['INFO', 'info', 'Info'])('%j answers in both languages in one message', async (keyword) => {
    const { answer } = await text(newPhone(), keyword);
    expect(answer).toContain('crisis updates');
    expect(answer).toContain('alertes de crise');
    expect(answer!.length).toBeLessThanOrEqual(160);
  });
});

describe('anything else is a reply for the inbox', () => {
  it('stores the message, answers nothing, changes no subscription', async () => {
    const phone = newPhone();
    await text(phone, 'JOIN');
    const { xml, sid } = await text(phone, 'Thank you for the news, we sent 20€');
    expect(twimlMessage(xml)).toBeNull();
    const subscriber = (await subscriberOf(phone))!;
    const reply = await db.selectFrom('replies').selectAll().where('provider_message_id', '=', sid).executeTakeFirstOrThrow();
    expect(reply).toMatchObject({ channel: 'sms', subscriber_id: subscriber.id, sender: phone, body: 'Thank you for the news, we sent 20€', possible_opt_out: false, update_id: null, state: 'new' });
  });

  it.each(['please stop texting me', 'Arrêtez svp', 'STOP!!! je ne veux plus de messages', 'no more messages please, unsubscribe me'])(
    'a longer message with a stop word (%j) is a reply flagged possible opt-out, not a keyword',
    async (body) => {
      const phone = newPhone();
      await text(phone, 'JOIN');
      const { xml, sid } = await text(phone, body);
      expect(twimlMessage(xml)).toBeNull();
      expect((await subscriberOf(phone))!.sms_opted_out_at).toBeNull();
      expect(await subscriptionsOf(phone)).toEqual({ [haiti]: 'active', [quebec]: 'active' });
      const reply = await db.selectFrom('replies').selectAll().where('provider_message_id', '=', sid).executeTakeFirstOrThrow();
      expect(reply.possible_opt_out).toBe(true);
    },
  );

  it('a message from an unknown number is kept without a subscriber', async () => {
    const phone = newPhone();
    const { sid } = await text(phone, 'Where can I bring blankets?');
    expect(await db.selectFrom('replies').select('subscriber_id').where('provider_message_id', '=', sid).executeTakeFirstOrThrow()).toEqual({ subscriber_id: null });
    expect(await subscriberOf(phone)).toBeUndefined();
  });
});

describe('Twilio Advanced Opt-Out (OptOutType)', () => {
  it('STOP: recorded as an opt-out, and no second answer (Twilio has answered)', async () => {
    const phone = newPhone();
    await text(phone, 'JOIN');
    const { res, xml } = await text(phone, 'ARRET', { OptOutType: 'STOP' });
    expect(res.status).toBe(200);
    expect(twimlMessage(xml)).toBeNull();
    expect((await subscriberOf(phone))!.sms_opted_out_at).not.toBeNull();
    expect((await consentOf(phone)).at(-1)).toMatchObject({ action: 'opt_out_all', shown_text: '(answered by Twilio Advanced Opt-Out: STOP)' });
  });

  it('STOP wins even over a body Tocsin would read otherwise (a custom Twilio keyword)', async () => {
    const phone = newPhone();
    await text(phone, 'JOIN');
    await text(phone, 'BYEBYE', { OptOutType: 'STOP' });
    expect((await subscriberOf(phone))!.sms_opted_out_at).not.toBeNull();
  });

  it('START: the opt-out is lifted, silently', async () => {
    const phone = newPhone();
    await text(phone, 'JOIN');
    await text(phone, 'STOP');
    const { xml } = await text(phone, 'START', { OptOutType: 'START' });
    expect(twimlMessage(xml)).toBeNull();
    expect((await subscriberOf(phone))!.sms_opted_out_at).toBeNull();
    expect(await subscriptionsOf(phone)).toEqual({ [haiti]: 'active', [quebec]: 'active' });
  });

  it('HELP: nothing changes and nothing more is said', async () => {
    const phone = newPhone();
    await text(phone, 'JOIN');
    const before = await counts();
    const { xml } = await text(phone, 'HELP', { OptOutType: 'HELP' });
    expect(twimlMessage(xml)).toBeNull();
    expect((await counts()).consent).toBe(before.consent);
  });
});

describe('signatures', () => {
  it('refuses a forged signature with 403 and stores nothing', async () => {
    const before = await counts();
    const phone = newPhone();
    const res = await postSms(app, smsParams(phone, 'JOIN'), { authToken: 'some-other-auth-token-000000000000' });
    expect(res.status).toBe(403);
    expect(await counts()).toEqual(before);
  });

  it('refuses a missing signature with 403 and stores nothing', async () => {
    const before = await counts();
    const res = await postSms(app, smsParams(newPhone(), 'STOP'), { signature: null });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('FORBIDDEN');
    expect(await counts()).toEqual(before);
  });

  it('refuses a signed request whose parameters were changed', async () => {
    const params = smsParams(newPhone(), 'JOIN');
    const signature = twilio.getExpectedTwilioSignature(twilioAuthToken, `${publicUrl}/webhooks/twilio/sms`, params);
    const before = await counts();
    const res = await postSms(app, { ...params, Body: 'STOP' }, { signature });
    expect(res.status).toBe(403);
    expect(await counts()).toEqual(before);
  });

  it('checks against PUBLIC_URL, not the Host the request arrived with (behind a proxy)', async () => {
    const phone = newPhone();
    const internal = 'http://10.0.0.5:3000/webhooks/twilio/sms';
    const ok = await postSms(app, smsParams(phone, 'JOIN'), { requestUrl: internal });
    expect(ok.status).toBe(200);
    expect(await subscriberOf(phone)).toBeDefined();
    const signedForHost = await postSms(app, smsParams(newPhone(), 'JOIN'), { requestUrl: internal, signedUrl: internal });
    expect(signedForHost.status).toBe(403);
  });

  it('refuses every webhook while TWILIO_AUTH_TOKEN is not set', async () => {
    const unconfigured = await createTestApp({}, { db });
    const before = await counts();
    const res = await postSms(unconfigured.app, smsParams(newPhone(), 'JOIN'));
    expect(res.status).toBe(403);
    expect(await counts()).toEqual(before);
  });
});

describe('bad requests', () => {
  it('a repeated MessageSid is processed once and answered the same', async () => {
    const phone = newPhone();
    const params = smsParams(phone, 'JOIN');
    const first = await postSms(app, params);
    const firstXml = await first.text();
    const before = await counts();
    const again = await postSms(app, params);
    expect(again.status).toBe(200);
    expect(await again.text()).toBe(firstXml);
    expect(await counts()).toEqual(before);

    const reply = smsParams(phone, 'Is the road to Jacmel open?');
    await Promise.all([postSms(app, reply), postSms(app, reply), postSms(app, reply)]);
    expect(await db.selectFrom('replies').selectAll().where('provider_message_id', '=', reply.MessageSid!).execute()).toHaveLength(1);
  });

  it('a number that is not a phone number (short code, alphanumeric) is logged and answered with nothing', async () => {
    const before = await counts();
    const { res, xml } = await text('FONDATION', 'JOIN');
    expect(res.status).toBe(200);
    expect(twimlMessage(xml)).toBeNull();
    expect((await counts()).subscribers).toBe(before.subscribers);
    expect(logLines.some((l) => l.includes('inbound sms from an invalid number') && l.includes('FONDATION'))).toBe(true);
  });

  it('a signed request without MessageSid or From is a 400 and stores nothing', async () => {
    const before = await counts();
    const res = await postSms(app, { Body: 'JOIN', From: newPhone() });
    expect(res.status).toBe(400);
    expect(await counts()).toEqual(before);
  });

  it('a body that is not a form is a 415', async () => {
    const res = await app.request(`${publicUrl}/webhooks/twilio/sms`, { method: 'POST', body: '{"Body":"JOIN"}', headers: { 'content-type': 'application/json', 'x-twilio-signature': 'x' } });
    expect(res.status).toBe(415);
  });
});

describe('handleInboundSms', () => {
  it('normalises a national number with DEFAULT_COUNTRY', async () => {
    await handleInboundSms(deps, { messageSid: 'SMnational000000000000000000000001', from: '06 98 76 54 99', body: 'JOIN' });
    expect(await subscriberOf('+33698765499')).toBeDefined();
  });
});
