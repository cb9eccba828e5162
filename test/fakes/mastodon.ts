/**
 * A local stand-in for a Mastodon instance's REST API, enough for the real `masto`
 * client to post statuses and threads with an image: bearer token, JSON statuses,
 * multipart media, Mastodon's { error } bodies, and Idempotency-Key as the real server
 * honours it (the same key answers the status it already made).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

export interface MastodonFakeFailure {
  status: number;
  message?: string;
  /** Seconds until the limit resets, sent the way Mastodon does (X-RateLimit-Reset, an ISO time). */
  retryAfter?: number;
  /** Let this many requests through before failing (e.g. fail the second part of a thread). */
  after?: number;
}

export interface MastodonFakeStatus {
  id: string;
  url: string;
  status: string;
  inReplyToId: string | null;
  visibility: string;
  mediaIds: string[];
  idempotencyKey: string | null;
}

export interface MastodonFakeMedia {
  id: string;
  description: string | null;
  contentType: string;
  size: number;
}

export interface MastodonFake {
  /** Give this to the client as MASTODON_URL. */
  url: string;
  token: string;
  /** Every status created, in order (a repeated Idempotency-Key creates none). */
  received: MastodonFakeStatus[];
  media: MastodonFakeMedia[];
  latencyMs: number;
  /** While true, requests are read and never answered. */
  hang: boolean;
  /** Uploaded images stay "processing" (no url yet) this long, like large images on a real instance. */
  mediaProcessingMs: number;
  /** The next `count` statuses or uploads fail with this answer (nothing is created). */
  failNext(count: number, failure: MastodonFakeFailure): void;
  /** The next `count` statuses are created, then the connection is cut before the answer: a lost response. */
  dropResponseNext(count: number): void;
  close(): Promise<void>;
}

export async function startMastodonFake(opts: { token?: string; latencyMs?: number; charLimit?: number } = {}): Promise<MastodonFake> {
  const token = opts.token ?? randomBytes(16).toString('hex');
  const charLimit = opts.charLimit ?? 500;
  // null lets a request through: how `after` is queued.
  const failures: (MastodonFakeFailure | null)[] = [];
  let drops = 0;
  let nextId = 109_000_000_000_000;
  const statuses = new Map<string, Record<string, unknown>>();
  const byIdempotencyKey = new Map<string, Record<string, unknown>>();
  const media = new Map<string, { json: Record<string, unknown>; readyAt: number }>();

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => send(res, 500, { error: String(err) }));
  });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const raw = await readBody(req);
    if (fake.hang) return;
    if (fake.latencyMs > 0) await delay(fake.latencyMs);
    if (req.headers.authorization !== `Bearer ${token}`) return send(res, 401, { error: 'The access token is invalid' });

    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    const mediaMatch = /^\/api\/v1\/media\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && mediaMatch) return showMedia(res, mediaMatch[1]!);
    const creating = req.method === 'POST' && (path === '/api/v1/statuses' || path === '/api/v2/media');
    if (!creating) return send(res, 404, { error: 'Record not found' });

    const failure = failures.shift();
    if (failure) {
      const headers: Record<string, string> =
        failure.retryAfter !== undefined
          ? { 'x-ratelimit-limit': '300', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': new Date(Date.now() + failure.retryAfter * 1000).toISOString() }
          : {};
      return send(res, failure.status, { error: failure.message ?? 'Scripted failure' }, headers);
    }
    if (path === '/api/v2/media') return uploadMedia(req, res, raw);
    return createStatus(req, res, raw);
  }

  async function uploadMedia(req: IncomingMessage, res: ServerResponse, raw: Buffer) {
    const form = await new Response(raw, { headers: { 'content-type': req.headers['content-type'] ?? '' } }).formData();
    const file = form.get('file');
    if (!(file instanceof Blob)) return send(res, 422, { error: "Validation failed: File can't be blank" });
    const id = String(nextId++);
    const description = typeof form.get('description') === 'string' ? (form.get('description') as string) : null;
    const json = { id, type: 'image', url: `${fake.url}/system/media/${id}.png`, preview_url: `${fake.url}/system/media/${id}-small.png`, description, blurhash: null, meta: {} };
    const readyAt = Date.now() + fake.mediaProcessingMs;
    media.set(id, { json, readyAt });
    fake.media.push({ id, description, contentType: file.type, size: file.size });
    if (fake.mediaProcessingMs > 0) return send(res, 202, { ...json, url: null });
    send(res, 200, json);
  }

  function showMedia(res: ServerResponse, id: string) {
    const item = media.get(id);
    if (!item) return send(res, 404, { error: 'Record not found' });
    if (Date.now() < item.readyAt) return send(res, 206, { ...item.json, url: null });
    send(res, 200, item.json);
  }

  function createStatus(req: IncomingMessage, res: ServerResponse, raw: Buffer) {
    const key = typeof req.headers['idempotency-key'] === 'string' ? req.headers['idempotency-key'] : null;
    const seen = key ? byIdempotencyKey.get(key) : undefined;
    if (seen) return send(res, 200, seen);

    const body = JSON.parse(raw.toString('utf8') || '{}') as { status?: string; in_reply_to_id?: string | null; visibility?: string; media_ids?: string[] };
    const text = body.status ?? '';
    const mediaIds = body.media_ids ?? [];
    if (!text.trim() && mediaIds.length === 0) return send(res, 422, { error: "Validation failed: Text can't be blank" });
    if ([...text].length > charLimit) return send(res, 422, { error: `Validation failed: Text character limit of ${charLimit} exceeded` });
    if (body.in_reply_to_id && !statuses.has(body.in_reply_to_id)) return send(res, 404, { error: 'Record not found' });
    const attachments = [];
    for (const mediaId of mediaIds) {
      const item = media.get(mediaId);
      if (!item) return send(res, 422, { error: 'Validation failed: Media attachments are invalid' });
      if (Date.now() < item.readyAt) return send(res, 422, { error: 'Cannot attach files that have not finished processing. Try again in a moment!' });
      attachments.push(item.json);
    }

    const id = String(nextId++);
    const url = `${fake.url}/@tocsin/${id}`;
    const json = {
      id,
      created_at: new Date().toISOString(),
      in_reply_to_id: body.in_reply_to_id ?? null,
      visibility: body.visibility ?? 'public',
      uri: `${fake.url}/users/tocsin/statuses/${id}`,
      url,
      content: `<p>${escapeHtml(text)}</p>`,
      media_attachments: attachments,
      account: { id: '1', username: 'tocsin', acct: 'tocsin', url: `${fake.url}/@tocsin` },
    };
    statuses.set(id, json);
    if (key) byIdempotencyKey.set(key, json);
    fake.received.push({ id, url, status: text, inReplyToId: json.in_reply_to_id, visibility: json.visibility, mediaIds, idempotencyKey: key });
    if (drops > 0) {
      drops--;
      return res.destroy();
    }
    send(res, 200, json);
  }

  const fake: MastodonFake = {
    url: '',
    token,
    received: [],
    media: [],
    latencyMs: opts.latencyMs ?? 0,
    hang: false,
    mediaProcessingMs: 0,
    failNext(count, failure) {
      for (let i = 0; i < (failure.after ?? 0); i++) failures.push(null);
      for (let i = 0; i < count; i++) failures.push(failure);
    },
    dropResponseNext(count) {
      drops += count;
    },
    close: () => closeServer(server),
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers }).end(JSON.stringify(body));
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
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
