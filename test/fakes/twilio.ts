/**
 * A local stand-in for Twilio's Messages API, close enough for the real `twilio`
 * client: Basic auth with the Account SID and auth token, form-encoded requests,
 * Twilio's JSON error bodies ({ code, message, more_info, status }).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { closeServer, listenLocal, readBody, sendJson } from './http';

export interface TwilioFakeFailure {
  status: number;
  /** Twilio's error code, e.g. 21610; defaults to 20000 + status like Twilio's own 20429. */
  code?: number;
  message?: string;
  /** Seconds, sent as Retry-After. */
  retryAfter?: number;
  /** Let this many requests through before failing (e.g. fail the second part of a thread). */
  after?: number;
}

export interface TwilioFakeMessage {
  sid: string;
  accountSid: string;
  to: string;
  from: string | null;
  messagingServiceSid: string | null;
  body: string;
  mediaUrls: string[];
  statusCallback: string | null;
  numSegments: number;
}

export interface TwilioFake {
  /** Give this to the client as TWILIO_API_URL. */
  url: string;
  accountSid: string;
  authToken: string;
  /** Every message Twilio accepted, in order. */
  received: TwilioFakeMessage[];
  /** Added to every answer, for benchmarks. */
  latencyMs: number;
  /** While true, requests are read and never answered. */
  hang: boolean;
  /** The next `count` message requests fail with this answer (nothing is recorded). */
  failNext(count: number, failure: TwilioFakeFailure): void;
  close(): Promise<void>;
}

export async function startTwilioFake(opts: { accountSid?: string; authToken?: string; latencyMs?: number } = {}): Promise<TwilioFake> {
  const accountSid = opts.accountSid ?? `AC${randomBytes(16).toString('hex')}`;
  const authToken = opts.authToken ?? randomBytes(16).toString('hex');
  const expectedAuth = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`;
  // null lets a request through: how `after` is queued.
  const failures: (TwilioFakeFailure | null)[] = [];
  let counter = 0;

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => sendJson(res, 500, { code: 20500, message: String(err), status: 500 }));
  });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const raw = await readBody(req);
    if (fake.hang) return;
    if (fake.latencyMs > 0) await delay(fake.latencyMs);

    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    const match = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/.exec(path);
    if (!match || req.method !== 'POST') return error(res, 404, 20404, 'The requested resource was not found');
    if (req.headers.authorization !== expectedAuth || match[1] !== accountSid) return error(res, 401, 20003, 'Authenticate');

    const failure = failures.shift();
    if (failure) {
      const headers: Record<string, string> = failure.retryAfter !== undefined ? { 'retry-after': String(failure.retryAfter) } : {};
      return error(res, failure.status, failure.code ?? 20000 + failure.status, failure.message ?? 'Scripted failure', headers);
    }

    const form = new URLSearchParams(raw.toString('utf8'));
    const to = form.get('To') ?? '';
    const from = form.get('From');
    const messagingServiceSid = form.get('MessagingServiceSid');
    const body = form.get('Body') ?? '';
    const mediaUrls = form.getAll('MediaUrl');
    if (!/^\+[1-9]\d{6,14}$/.test(to)) return error(res, 400, 21211, `Invalid 'To' Phone Number: ${to}`);
    if (!from && !messagingServiceSid) return error(res, 400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required to send a message");
    if (!body && mediaUrls.length === 0) return error(res, 400, 21602, 'Message body is required.');

    const sid = `SM${(++counter).toString(16).padStart(32, '0')}`;
    const message: TwilioFakeMessage = {
      sid,
      accountSid,
      to,
      from,
      messagingServiceSid,
      body,
      mediaUrls,
      statusCallback: form.get('StatusCallback'),
      numSegments: countSegments(body),
    };
    fake.received.push(message);
    sendJson(res, 201, {
      sid,
      account_sid: accountSid,
      to,
      from,
      messaging_service_sid: messagingServiceSid,
      body,
      // A Messaging Service picks the sender later, hence "accepted" rather than "queued".
      status: messagingServiceSid ? 'accepted' : 'queued',
      num_segments: String(message.numSegments),
      num_media: String(mediaUrls.length),
      direction: 'outbound-api',
      api_version: '2010-04-01',
      price: null,
      error_code: null,
      error_message: null,
      date_created: new Date().toUTCString(),
      uri: `/2010-04-01/Accounts/${accountSid}/Messages/${sid}.json`,
    });
  }

  const fake: TwilioFake = {
    url: '',
    accountSid,
    authToken,
    received: [],
    latencyMs: opts.latencyMs ?? 0,
    hang: false,
    failNext(count, failure) {
      for (let i = 0; i < (failure.after ?? 0); i++) failures.push(null);
      for (let i = 0; i < count; i++) failures.push(failure);
    },
    close: () => closeServer(server),
  };
  fake.url = await listenLocal(server);
  return fake;
}

function error(res: ServerResponse, status: number, code: number, message: string, headers: Record<string, string> = {}) {
  sendJson(res, status, { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status }, headers);
}

/** Roughly Twilio's count: GSM-7 text packs 160 (153 when split), anything else 70 (67). */
function countSegments(body: string): number {
  const gsm = /^[\n\r\x20-\x7e£¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà]*$/.test(body);
  const [single, multi] = gsm ? [160, 153] : [70, 67];
  const length = [...body].length;
  return length <= single ? 1 : Math.ceil(length / multi);
}

