import twilio from 'twilio';
import type { App } from '../../src/app';
import type { Db } from '../../src/db/connection';
import type { Language } from '../../src/db/schema';
import { publicUrl, type Agent } from '../helpers/app';

export const twilioAuthToken = 'test-twilio-auth-token-0123456789abcdef';
export const smsWebhookUrl = `${publicUrl}/webhooks/twilio/sms`;

/** A campaign row and its SMS keywords, straight into the tables (the campaign pages are another issue's). */
export async function insertCampaign(
  db: Db,
  c: { slug: string; name?: string; keywords?: string[]; languages?: Language[]; active?: boolean },
): Promise<number> {
  const row = await db
    .insertInto('campaigns')
    .values({ name: c.name ?? c.slug, slug: c.slug, languages: c.languages ?? ['fr', 'en'], currency: 'EUR', active: c.active ?? true, hashtag: null, goal: null, donate_url: null, created_by: null })
    .returning('id')
    .executeTakeFirstOrThrow();
  if (c.keywords?.length) await db.insertInto('campaign_keywords').values(c.keywords.map((keyword) => ({ keyword, campaign_id: row.id }))).execute();
  return row.id;
}

let sid = 0;
export function newMessageSid(): string {
  sid += 1;
  return `SM${String(sid).padStart(8, '0')}${Math.random().toString(16).slice(2, 10).padEnd(8, '0')}${'0'.repeat(16)}`;
}

/**
 * POSTs what Twilio would, signed the way Twilio signs (the URL Twilio was configured with, i.e. PUBLIC_URL +
 * path). `signature: null` leaves the header out; `requestUrl` sends it to another host, as a proxy would.
 */
export async function postSms(
  app: App,
  params: Record<string, string>,
  opts: { signature?: string | null; signedUrl?: string; requestUrl?: string; authToken?: string } = {},
): Promise<Response> {
  const signature = opts.signature === undefined ? twilio.getExpectedTwilioSignature(opts.authToken ?? twilioAuthToken, opts.signedUrl ?? smsWebhookUrl, params) : opts.signature;
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (signature !== null) headers['x-twilio-signature'] = signature;
  return app.request(opts.requestUrl ?? smsWebhookUrl, { method: 'POST', body: new URLSearchParams(params), headers });
}

/** An inbound SMS with Twilio's usual fields. */
export function smsParams(from: string, body: string, extra: Record<string, string> = {}): Record<string, string> {
  const messageSid = newMessageSid();
  return { ToCountry: 'FR', SmsMessageSid: messageSid, NumMedia: '0', SmsSid: messageSid, SmsStatus: 'received', Body: body, To: '+33700000001', NumSegments: '1', MessageSid: messageSid, AccountSid: `AC${'0'.repeat(32)}`, From: from, ApiVersion: '2010-04-01', ...extra };
}

/** The text of the TwiML <Message>, or null when the answer has none. */
export function twimlMessage(xml: string): string | null {
  const m = /<Message>([\s\S]*?)<\/Message>/.exec(xml);
  if (!m) return null;
  return m[1]!.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
}

let phone = 0;
/** A valid French mobile number nobody else in this test file uses. */
export function newPhone(): string {
  phone += 1;
  return `+3361${String(phone).padStart(7, '0')}`;
}

/** Submits the staff import form as a browser does (multipart, with the CSRF token). */
export async function uploadCsv(agent: Agent, csv: string | Uint8Array, opts: { attest?: boolean; source?: string; name?: string } = {}) {
  if (!agent.cookies.has('tocsin_csrf')) await agent.get('/staff/subscribers/import');
  const form = new FormData();
  form.set('_csrf', agent.cookies.get('tocsin_csrf')!);
  form.set('file', new File([csv], opts.name ?? 'subscribers.csv', { type: 'text/csv' }));
  if (opts.attest !== false) form.set('attest', 'yes');
  form.set('source', opts.source ?? '');
  const res = await agent.request('/staff/subscribers/import', { method: 'POST', body: form });
  return { res, html: await res.text() };
}
