import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient';
import type Response from 'twilio/lib/http/response';
import { AppError } from '../../errors';
import type { Channel, SendResult, SmsMessage } from '../types';

export interface TwilioChannelOptions {
  accountSid: string;
  authToken: string;
  /** Preferred over `from` when set: Twilio then picks the sender from the service's pool. */
  messagingServiceSid?: string;
  from?: string;
  /** Twilio's API origin (TWILIO_API_URL); staging and tests point it at a fake. */
  apiUrl?: string;
  /** How long Twilio may stay silent on a request before we give up. Default 10 s. */
  timeoutMs?: number;
}

const twilioApiUrl = 'https://api.twilio.com';

/** SMS through Twilio's Messages API, with the real `twilio` client. */
export function createTwilioChannel(options: TwilioChannelOptions): Channel<'sms'> {
  const sender = options.messagingServiceSid ? { messagingServiceSid: options.messagingServiceSid } : options.from ? { from: options.from } : null;
  if (!sender) throw new Error('Twilio needs a Messaging Service SID or a From number');
  const httpClient = new TwilioHttpClient(options.apiUrl ?? twilioApiUrl, { timeout: options.timeoutMs ?? 10_000, keepAlive: true });
  const client = twilio(options.accountSid, options.authToken, { httpClient });

  return {
    id: 'sms',
    kind: 'vendor',
    account: options.messagingServiceSid ?? options.from!,
    // Twilio takes no idempotency key: a send whose answer was lost is reconciled by the status
    // callback, whose URL carries the delivery id.
    async send(message: SmsMessage): Promise<SendResult> {
      try {
        const sent = await client.messages.create({
          to: message.to,
          body: message.body,
          ...sender,
          ...(message.mediaUrls?.length ? { mediaUrl: message.mediaUrls } : {}),
          ...(message.statusCallback ? { statusCallback: message.statusCallback } : {}),
        });
        const segments = Number(sent.numSegments);
        return { ok: true, providerId: sent.sid, ...(Number.isInteger(segments) && segments > 0 ? { segments } : {}) };
      } catch (err) {
        return describeTwilioError(err);
      }
    },
  };
}

/**
 * The library's own request client (axios, Basic auth, form encoding), with two
 * additions: requests go to `apiUrl` instead of api.twilio.com, and a 429 keeps its
 * Retry-After, which the library's RestException drops along with the headers.
 */
class TwilioHttpClient extends twilio.RequestClient {
  private readonly base: URL | null;

  constructor(apiUrl: string, options: RequestClient.RequestClientOptions) {
    super(options);
    const base = new URL(apiUrl);
    this.base = base.origin === twilioApiUrl && base.pathname === '/' ? null : base;
  }

  override async request<TData>(opts: RequestClient.RequestOptions<TData>): Promise<Response<TData>> {
    const response = await super.request({ ...opts, uri: this.base ? rebase(opts.uri, this.base) : opts.uri });
    if (response.statusCode === 429) throw new TwilioRateLimited(response.body, header(response.headers, 'retry-after'));
    return response;
  }
}

function rebase(uri: string, base: URL): string {
  const target = new URL(uri);
  return `${base.origin}${base.pathname.replace(/\/+$/, '')}${target.pathname}${target.search}`;
}

class TwilioRateLimited extends Error {
  readonly code: string;
  readonly retryAfter: number | undefined;
  constructor(body: unknown, retryAfter: string | undefined) {
    const parsed = parseBody(body);
    super(parsed?.message ?? 'Too Many Requests');
    this.code = String(parsed?.code ?? 429);
    this.retryAfter = parseRetryAfter(retryAfter);
  }
}

function describeTwilioError(err: unknown): SendResult {
  if (err instanceof TwilioRateLimited) return { ok: false, retryable: true, code: err.code, error: err.message, ...(err.retryAfter !== undefined ? { retryAfter: err.retryAfter } : {}) };
  if (err instanceof twilio.RestException || (err instanceof Error && typeof (err as { status?: unknown }).status === 'number')) {
    const { status, code, message } = err as unknown as { status: number; code?: number; message: string };
    return { ok: false, retryable: status >= 500, code: String(code ?? status), error: message || `HTTP ${status}` };
  }
  // No HTTP answer at all: axios reports timeouts as ECONNABORTED, refused/reset sockets by their errno.
  const code = (err as { code?: unknown }).code;
  if (code === 'ECONNABORTED' || code === 'ETIMEDOUT') return { ok: false, retryable: true, code: 'TIMEOUT', error: 'Twilio did not answer in time' };
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return { ok: false, retryable: true, code, error: `Twilio unreachable: ${(err as Error).message || code}` };
  return { ok: false, retryable: false, error: err instanceof Error ? err.message : String(err) };
}

function parseBody(body: unknown): { code?: number; message?: string } | null {
  if (typeof body === 'string') {
    try {
      return JSON.parse(body) as { code?: number; message?: string };
    } catch {
      return null;
    }
  }
  return body && typeof body === 'object' ? (body as { code?: number; message?: string }) : null;
}

function header(headers: unknown, name: string): string | undefined {
  if (!headers || typeof headers !== 'object') return undefined;
  const value = (headers as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : undefined;
}

/** Retry-After is either delay-seconds or an HTTP date. */
function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

export type TwilioMessageStatus =
  | 'accepted'
  | 'scheduled'
  | 'canceled'
  | 'queued'
  | 'sending'
  | 'sent'
  | 'failed'
  | 'delivered'
  | 'undelivered'
  | 'receiving'
  | 'received'
  | 'read'
  | 'partially_delivered';

const messageStatuses = new Set<string>(['accepted', 'scheduled', 'canceled', 'queued', 'sending', 'sent', 'failed', 'delivered', 'undelivered', 'receiving', 'received', 'read', 'partially_delivered']);

export interface TwilioStatusCallback {
  messageSid: string;
  status: TwilioMessageStatus;
  /** Set on failed/undelivered, e.g. '30003' (unreachable handset). */
  errorCode?: string;
}

/**
 * Reads the form Twilio posts to a message's StatusCallback. The signature must be
 * checked before (X-Twilio-Signature); this only checks the fields make sense.
 */
export function parseTwilioStatusCallback(form: Record<string, string>): TwilioStatusCallback {
  // SmsSid/SmsStatus are the older names Twilio still sends alongside the new ones.
  const messageSid = form.MessageSid ?? form.SmsSid;
  const status = form.MessageStatus ?? form.SmsStatus;
  if (!messageSid || !/^(SM|MM)[0-9a-fA-F]{32}$/.test(messageSid)) throw new AppError('INVALID_INPUT', 'Status callback without a valid MessageSid');
  if (!status || !messageStatuses.has(status)) throw new AppError('INVALID_INPUT', `Status callback with an unknown MessageStatus: ${JSON.stringify(status ?? null)}`);
  const errorCode = form.ErrorCode?.trim();
  return { messageSid, status: status as TwilioMessageStatus, ...(errorCode ? { errorCode } : {}) };
}
