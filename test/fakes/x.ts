/**
 * A local stand-in for X's API v2, enough for the real `twitter-api-v2` client:
 * every request must carry a valid OAuth 1.0a HMAC-SHA1 signature made with the
 * consumer and token secrets (checked the way X does, nonce and timestamp
 * included), tweets and replies, v2 chunked media upload with alt text, and X's
 * problem bodies ({ title, detail, type, status }).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

export interface XFakeFailure {
  status: number;
  message?: string;
  /** Seconds, sent the way X does (x-rate-limit-reset, epoch seconds). */
  retryAfter?: number;
  /** Let this many requests through before failing (e.g. fail the second part of a thread). */
  after?: number;
}

export interface XFakeTweet {
  id: string;
  text: string;
  inReplyToTweetId: string | null;
  mediaIds: string[];
}

export interface XFakeMedia {
  id: string;
  mediaType: string;
  category: string | null;
  size: number;
  altText: string | null;
}

export interface XFakeCredentials {
  appKey: string;
  appSecret: string;
  accessToken: string;
  accessSecret: string;
}

export interface XFake extends XFakeCredentials {
  /** Give this to the client as X_API_URL. */
  url: string;
  /** Every tweet created, in order. */
  received: XFakeTweet[];
  media: XFakeMedia[];
  /** Requests turned away for a bad OAuth signature or credentials. */
  rejectedSignatures: number;
  latencyMs: number;
  /** While true, requests are read and never answered. */
  hang: boolean;
  /** The next `count` tweet or media requests fail with this answer (nothing is created). */
  failNext(count: number, failure: XFakeFailure): void;
  close(): Promise<void>;
}

export interface XFakeOptions extends Partial<XFakeCredentials> {
  latencyMs?: number;
  /** X refuses a tweet whose text the account already posted (403); benchmarks that repeat a text turn this off. */
  rejectDuplicates?: boolean;
}

export async function startXFake(opts: XFakeOptions = {}): Promise<XFake> {
  const credentials: XFakeCredentials = {
    appKey: opts.appKey ?? 'fake-consumer-key',
    appSecret: opts.appSecret ?? 'fake-consumer-secret',
    accessToken: opts.accessToken ?? '1234567890-fake-access-token',
    accessSecret: opts.accessSecret ?? 'fake-access-secret',
  };
  // null lets a request through: how `after` is queued.
  const failures: (XFakeFailure | null)[] = [];
  const seenNonces = new Set<string>();
  const texts = new Set<string>();
  const uploads = new Map<string, { media: XFakeMedia; expected: number; finalized: boolean }>();
  let nextId = 1_860_000_000_000_000_000n;

  const server = createServer((req, res) => {
    route(req, res).catch((err: unknown) => problem(res, 500, 'Internal Server Error', String(err)));
  });

  async function route(req: IncomingMessage, res: ServerResponse) {
    const raw = await readBody(req);
    if (fake.hang) return;
    if (fake.latencyMs > 0) await delay(fake.latencyMs);
    const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
    if (!verifySignature(req, url, raw)) {
      fake.rejectedSignatures++;
      return problem(res, 401, 'Unauthorized', 'Unauthorized');
    }
    if (req.method !== 'POST') return problem(res, 404, 'Not Found Error', 'Not found');
    const failure = failures.shift();
    if (failure) {
      const headers: Record<string, string> =
        failure.retryAfter !== undefined ? { 'x-rate-limit-limit': '100', 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': String(Math.floor(Date.now() / 1000) + failure.retryAfter) } : {};
      return problem(res, failure.status, statusTitle(failure.status), failure.message ?? 'Scripted failure', headers);
    }

    const path = url.pathname;
    if (path === '/2/tweets') return createTweet(res, json(raw));
    if (path === '/2/media/upload/initialize') return initializeUpload(res, json(raw));
    if (path === '/2/media/metadata') return createMetadata(res, json(raw));
    const step = /^\/2\/media\/upload\/([^/]+)\/(append|finalize)$/.exec(path);
    if (step) return step[2] === 'append' ? appendUpload(req, res, step[1]!, raw) : finalizeUpload(res, step[1]!);
    problem(res, 404, 'Not Found Error', 'Not found');
  }

  /** RFC 5849 §3.4: the signature covers the method, the URL and every oauth_, query and form parameter. */
  function verifySignature(req: IncomingMessage, url: URL, raw: Buffer): boolean {
    const header = req.headers.authorization ?? '';
    if (!header.startsWith('OAuth ')) return false;
    const oauth = new Map<string, string>();
    for (const [, key, value] of header.slice(6).matchAll(/([\w-]+)="([^"]*)"/g)) oauth.set(key!, decodeURIComponent(value!));
    if (oauth.get('oauth_consumer_key') !== credentials.appKey || oauth.get('oauth_token') !== credentials.accessToken) return false;
    if (oauth.get('oauth_signature_method') !== 'HMAC-SHA1') return false;
    const timestamp = Number(oauth.get('oauth_timestamp'));
    const nonce = oauth.get('oauth_nonce') ?? '';
    if (!Number.isFinite(timestamp) || Math.abs(Date.now() / 1000 - timestamp) > 300 || !nonce || seenNonces.has(nonce)) return false;

    const params: [string, string][] = [...oauth].filter(([key]) => key !== 'oauth_signature' && key !== 'realm');
    params.push(...url.searchParams);
    if ((req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) params.push(...new URLSearchParams(raw.toString('utf8')));
    const normalized = params
      .map(([k, v]) => [percentEncode(k), percentEncode(v)] as const)
      .sort(([ak, av], [bk, bv]) => (ak === bk ? (av < bv ? -1 : av > bv ? 1 : 0) : ak < bk ? -1 : 1))
      .map(([k, v]) => `${k}=${v}`)
      .join('&');
    const base = [req.method ?? 'GET', percentEncode(`${url.protocol}//${url.host}${url.pathname}`), percentEncode(normalized)].join('&');
    const key = `${percentEncode(credentials.appSecret)}&${percentEncode(credentials.accessSecret)}`;
    const expected = createHmac('sha1', key).update(base).digest();
    const given = Buffer.from(oauth.get('oauth_signature') ?? '', 'base64');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return false;
    seenNonces.add(nonce);
    return true;
  }

  function createTweet(res: ServerResponse, body: { text?: string; reply?: { in_reply_to_tweet_id?: string }; media?: { media_ids?: string[] } }) {
    const text = body.text ?? '';
    const mediaIds = body.media?.media_ids ?? [];
    if (!text && mediaIds.length === 0) return problem(res, 400, 'Invalid Request', 'One or more parameters to your request was invalid.');
    for (const id of mediaIds) {
      if (!uploads.get(id)?.finalized) return problem(res, 400, 'Invalid Request', `Your media IDs are invalid: ${id}`);
    }
    if (opts.rejectDuplicates !== false && texts.has(text)) return problem(res, 403, 'Forbidden', 'You are not allowed to create a Tweet with duplicate content.');
    if (opts.rejectDuplicates !== false) texts.add(text);
    const id = String(nextId++);
    fake.received.push({ id, text, inReplyToTweetId: body.reply?.in_reply_to_tweet_id ?? null, mediaIds });
    send(res, 201, { data: { id, text, edit_history_tweet_ids: [id] } });
  }

  function initializeUpload(res: ServerResponse, body: { media_type?: string; total_bytes?: number; media_category?: string }) {
    if (!body.media_type || !body.total_bytes) return problem(res, 400, 'Invalid Request', 'media_type and total_bytes are required');
    const id = String(nextId++);
    const media: XFakeMedia = { id, mediaType: body.media_type, category: body.media_category ?? null, size: 0, altText: null };
    uploads.set(id, { media, expected: body.total_bytes, finalized: false });
    send(res, 200, { data: { id, media_key: `3_${id}`, expires_after_secs: 86400 } });
  }

  function appendUpload(req: IncomingMessage, res: ServerResponse, id: string, raw: Buffer) {
    const upload = uploads.get(id);
    if (!upload) return problem(res, 400, 'Invalid Request', 'Unknown media id');
    const chunk = multipartField(req.headers['content-type'] ?? '', raw, 'media');
    if (!chunk) return problem(res, 400, 'Invalid Request', 'media is required');
    upload.media.size += chunk.length;
    send(res, 200, { data: { expires_at: Math.floor(Date.now() / 1000) + 86400 } });
  }

  function finalizeUpload(res: ServerResponse, id: string) {
    const upload = uploads.get(id);
    if (!upload) return problem(res, 400, 'Invalid Request', 'Unknown media id');
    if (upload.media.size !== upload.expected) return problem(res, 400, 'Invalid Request', `Expected ${upload.expected} bytes, got ${upload.media.size}`);
    upload.finalized = true;
    fake.media.push(upload.media);
    send(res, 200, { data: { id, media_key: `3_${id}`, size: upload.media.size, expires_after_secs: 86400 } });
  }

  function createMetadata(res: ServerResponse, body: { id?: string; metadata?: { alt_text?: { text?: string } } }) {
    const upload = body.id ? uploads.get(body.id) : undefined;
    if (!upload) return problem(res, 400, 'Invalid Request', 'Unknown media id');
    upload.media.altText = body.metadata?.alt_text?.text ?? null;
    send(res, 200, { data: { id: body.id, associated_metadata: { alt_text: { text: upload.media.altText } } } });
  }

  const fake: XFake = {
    ...credentials,
    url: '',
    received: [],
    media: [],
    rejectedSignatures: 0,
    latencyMs: opts.latencyMs ?? 0,
    hang: false,
    failNext(count, failure) {
      for (let i = 0; i < (failure.after ?? 0); i++) failures.push(null);
      for (let i = 0; i < count; i++) failures.push(failure);
    },
    close: () => closeServer(server),
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}

/** RFC 3986 encoding, as OAuth 1.0a wants it (encodeURIComponent leaves !*'() alone). */
function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!*'()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** One field of a multipart body, as bytes: the client sends media chunks without a filename. */
function multipartField(contentType: string, raw: Buffer, name: string): Buffer | null {
  const boundary = /boundary=("?)([^";]+)\1/.exec(contentType)?.[2];
  if (!boundary) return null;
  const delimiter = Buffer.from(`--${boundary}`);
  for (let start = raw.indexOf(delimiter); start !== -1; ) {
    const end = raw.indexOf(delimiter, start + delimiter.length);
    if (end === -1) break;
    const part = raw.subarray(start + delimiter.length + 2, end - 2);
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd !== -1 && part.subarray(0, headerEnd).toString('utf8').includes(`name="${name}"`)) return part.subarray(headerEnd + 4);
    start = end;
  }
  return null;
}

function statusTitle(status: number): string {
  return status === 429 ? 'Too Many Requests' : status >= 500 ? 'Service Unavailable' : status === 403 ? 'Forbidden' : 'Invalid Request';
}

function problem(res: ServerResponse, status: number, title: string, detail: string, headers: Record<string, string> = {}) {
  send(res, status, { title, detail, type: 'about:blank', status }, headers);
}

function json<T>(raw: Buffer): T {
  return (raw.length ? JSON.parse(raw.toString('utf8')) : {}) as T;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers }).end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    // Hanging and kept-alive connections would otherwise keep close() waiting.
    server.closeAllConnections();
  });
}
