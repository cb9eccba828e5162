/**
 * A local stand-in for a Mastodon instance's REST API, enough for the real `masto`
 * client to post statuses and threads with an image: bearer token, JSON statuses,
 * multipart media, Mastodon's { error } bodies, and Idempotency-Key as the real server
 * honours it (the same key answers the status it already made). For reading back:
 * mention notifications (types[], min_id/since_id/max_id paging newest first, with
 * Link headers), the hashtag timeline, statuses one by one or several at once
 * (`id[]`, Mastodon 4.3+) with their reblog/favourite/reply counts, and
 * verify_credentials.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { closeServer, listenLocal, readBody, sendJson } from './http';

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

export interface MastodonFakeMentionInput {
  /** The author's acct: `ana@example.net` (remote) or `ana` (same instance). Default `donor@example.net`. */
  from?: string;
  /** Plain text; the fake serves it as Mastodon's HTML (a paragraph, escaped). */
  text: string;
  /** The status it answers (one of ours, or anyone's). */
  inReplyToId?: string | null;
  visibility?: 'public' | 'unlisted' | 'private' | 'direct';
  spoilerText?: string;
}

export interface MastodonFakeCounts {
  reblogs?: number;
  favourites?: number;
  replies?: number;
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
  /** Someone mentions the account (or answers one of its statuses): a status and a mention notification. */
  addMention(input: MastodonFakeMentionInput): { statusId: string; notificationId: string; url: string };
  /** A public status by someone else, without mentioning the account (hashtags in its text are its tags). */
  addStatus(input: Omit<MastodonFakeMentionInput, 'visibility'>): { statusId: string; url: string };
  /** A notification of another kind (favourite, follow...), which a `types[]=mention` request must not list. */
  addNotification(type: 'favourite' | 'reblog' | 'follow', statusId?: string): string;
  setCounts(statusId: string, counts: MastodonFakeCounts): void;
  /** The next `count` reading requests (GET) fail with this answer. */
  failReadsNext(count: number, failure: MastodonFakeFailure): void;
  /** Every GET, as path and query: what a reader asked. */
  readRequests: string[];
  /** false: an instance older than 4.3, where GET /api/v1/statuses?id[]= does not exist (404). */
  multiGet: boolean;
  close(): Promise<void>;
}

export async function startMastodonFake(opts: { token?: string; latencyMs?: number; charLimit?: number; firstId?: number } = {}): Promise<MastodonFake> {
  const token = opts.token ?? randomBytes(16).toString('hex');
  const charLimit = opts.charLimit ?? 500;
  // null lets a request through: how `after` is queued.
  const failures: (MastodonFakeFailure | null)[] = [];
  let drops = 0;
  // Another instance numbers its statuses otherwise: `firstId` makes two fakes' ids differ.
  let nextId = opts.firstId ?? 109_000_000_000_000;
  const statuses = new Map<string, Record<string, unknown>>();
  const byIdempotencyKey = new Map<string, Record<string, unknown>>();
  const media = new Map<string, { json: Record<string, unknown>; readyAt: number }>();
  const notifications: { id: string; type: string; created_at: string; account: Record<string, unknown>; statusId: string | null }[] = [];
  const readFailures: MastodonFakeFailure[] = [];
  const ownAccount = () => ({ id: '1', username: 'tocsin', acct: 'tocsin', display_name: 'Tocsin', url: `${fake.url}/@tocsin` });
  const accounts = new Map<string, Record<string, unknown>>();
  function accountFor(acct: string): Record<string, unknown> {
    let account = accounts.get(acct);
    if (!account) {
      const [username, domain] = acct.split('@');
      account = { id: String(nextId++), username, acct, display_name: username, url: domain ? `https://${domain}/@${username}` : `${fake.url}/@${username}` };
      accounts.set(acct, account);
    }
    return account;
  }

  /** A status as Mastodon serves it; its counts move as people answer, boost and favourite it. */
  function makeStatus(input: { text: string; account: Record<string, unknown>; inReplyToId: string | null; visibility: string; spoilerText?: string; attachments?: unknown[] }) {
    const id = String(nextId++);
    const username = String(input.account.username);
    const local = !String(input.account.acct).includes('@');
    const base = local ? `${fake.url}` : String(input.account.url).replace(/\/@[^/]+$/, '');
    const parent = input.inReplyToId ? statuses.get(input.inReplyToId) : undefined;
    if (parent) parent.replies_count = Number(parent.replies_count) + 1;
    const json: Record<string, unknown> = {
      id,
      created_at: new Date().toISOString(),
      in_reply_to_id: input.inReplyToId,
      in_reply_to_account_id: parent ? (parent.account as { id: string }).id : null,
      sensitive: Boolean(input.spoilerText),
      spoiler_text: input.spoilerText ?? '',
      visibility: input.visibility,
      uri: `${base}/users/${username}/statuses/${id}`,
      url: `${base}/@${username}/${id}`,
      content: `<p>${escapeHtml(input.text).replace(/\n/g, '<br />')}</p>`,
      media_attachments: input.attachments ?? [],
      account: input.account,
      reblog: null,
      reblogs_count: 0,
      favourites_count: 0,
      replies_count: 0,
      mentions: [],
      tags: [...input.text.matchAll(/#([\p{L}\p{N}_]+)/gu)].map((m) => ({ name: m[1]!.toLowerCase(), url: `${fake.url}/tags/${m[1]!.toLowerCase()}` })),
      emojis: [],
    };
    statuses.set(id, json);
    return json;
  }

  /** Mastodon's id paging: newest first; min_id gives the page just after it, since_id the newest page after it. */
  function page<T extends { id: string }>(res: ServerResponse, url: URL, items: T[], defaultLimit: number, maxLimit: number, render: (item: T) => unknown) {
    const q = url.searchParams;
    const limit = Math.min(Math.max(Number(q.get('limit') ?? defaultLimit) || defaultLimit, 1), maxLimit);
    const big = (id: string) => BigInt(id);
    const [maxId, sinceId, minId] = ['max_id', 'since_id', 'min_id'].map((k) => q.get(k));
    let pool = items.filter((i) => (!maxId || big(i.id) < big(maxId)) && (!sinceId || big(i.id) > big(sinceId)) && (!minId || big(i.id) > big(minId)));
    const desc = (a: T, b: T) => (big(a.id) < big(b.id) ? 1 : -1);
    pool = minId ? pool.sort(desc).reverse().slice(0, limit).sort(desc) : pool.sort(desc).slice(0, limit);
    const links: string[] = [];
    const linkTo = (key: string, id: string) => {
      const next = new URL(url.toString());
      for (const k of ['max_id', 'since_id', 'min_id']) next.searchParams.delete(k);
      next.searchParams.set(key, id);
      return `<${fake.url}${next.pathname}${next.search}>`;
    };
    if (pool.length) links.push(`${linkTo('max_id', pool.at(-1)!.id)}; rel="next"`, `${linkTo('min_id', pool[0]!.id)}; rel="prev"`);
    sendJson(res, 200, pool.map(render), links.length ? { link: links.join(', ') } : {});
  }

  function read(req: IncomingMessage, res: ServerResponse, url: URL) {
    fake.readRequests.push(`${url.pathname}${url.search}`);
    const failure = readFailures.shift();
    if (failure) {
      const headers: Record<string, string> =
        failure.retryAfter !== undefined ? { 'x-ratelimit-limit': '300', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': new Date(Date.now() + failure.retryAfter * 1000).toISOString() } : {};
      return sendJson(res, failure.status, { error: failure.message ?? 'Scripted failure' }, headers);
    }
    const path = url.pathname;
    if (path === '/api/v1/accounts/verify_credentials') return sendJson(res, 200, { ...ownAccount(), source: { privacy: 'public', note: '' } });
    if (path === '/api/v1/notifications') {
      const types = [...url.searchParams.getAll('types[]'), ...url.searchParams.getAll('types')];
      const excluded = [...url.searchParams.getAll('exclude_types[]'), ...url.searchParams.getAll('exclude_types')];
      const listed = notifications.filter((n) => (!types.length || types.includes(n.type)) && !excluded.includes(n.type));
      return page(res, url, listed, 40, 80, (n) => ({ id: n.id, type: n.type, created_at: n.created_at, group_key: `ungrouped-${n.id}`, account: n.account, status: n.statusId ? (statuses.get(n.statusId) ?? null) : null }));
    }
    const tag = /^\/api\/v1\/timelines\/tag\/([^/]+)$/.exec(path);
    if (tag) {
      const name = decodeURIComponent(tag[1]!).toLowerCase();
      const tagged = [...statuses.values()].filter((s) => s.visibility === 'public' && (s.tags as { name: string }[]).some((t) => t.name === name)) as (Record<string, unknown> & { id: string })[];
      return page(res, url, tagged, 20, 40, (s) => s);
    }
    if (path === '/api/v1/statuses') {
      if (!fake.multiGet) return sendJson(res, 404, { error: 'Record not found' });
      const ids = [...url.searchParams.getAll('id[]'), ...url.searchParams.getAll('id')];
      if (ids.length > 20) return sendJson(res, 422, { error: 'Too many ids' });
      return sendJson(res, 200, ids.flatMap((id) => statuses.get(id) ?? []));
    }
    const one = /^\/api\/v1\/statuses\/([^/]+)$/.exec(path);
    if (one) {
      const status = statuses.get(one[1]!);
      return status ? sendJson(res, 200, status) : sendJson(res, 404, { error: 'Record not found' });
    }
    sendJson(res, 404, { error: 'Record not found' });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => sendJson(res, 500, { error: String(err) }));
  });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const raw = await readBody(req);
    if (fake.hang) return;
    if (fake.latencyMs > 0) await delay(fake.latencyMs);
    if (req.headers.authorization !== `Bearer ${token}`) return sendJson(res, 401, { error: 'The access token is invalid' });

    const url = new URL(req.url ?? '/', 'http://fake');
    const path = url.pathname;
    const mediaMatch = /^\/api\/v1\/media\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && mediaMatch) return showMedia(res, mediaMatch[1]!);
    if (req.method === 'GET') return read(req, res, url);
    const creating = req.method === 'POST' && (path === '/api/v1/statuses' || path === '/api/v2/media');
    if (!creating) return sendJson(res, 404, { error: 'Record not found' });

    const failure = failures.shift();
    if (failure) {
      const headers: Record<string, string> =
        failure.retryAfter !== undefined
          ? { 'x-ratelimit-limit': '300', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': new Date(Date.now() + failure.retryAfter * 1000).toISOString() }
          : {};
      return sendJson(res, failure.status, { error: failure.message ?? 'Scripted failure' }, headers);
    }
    if (path === '/api/v2/media') return uploadMedia(req, res, raw);
    return createStatus(req, res, raw);
  }

  async function uploadMedia(req: IncomingMessage, res: ServerResponse, raw: Buffer) {
    const form = await new Response(raw, { headers: { 'content-type': req.headers['content-type'] ?? '' } }).formData();
    const file = form.get('file');
    if (!(file instanceof Blob)) return sendJson(res, 422, { error: "Validation failed: File can't be blank" });
    const id = String(nextId++);
    const description = typeof form.get('description') === 'string' ? (form.get('description') as string) : null;
    const json = { id, type: 'image', url: `${fake.url}/system/media/${id}.png`, preview_url: `${fake.url}/system/media/${id}-small.png`, description, blurhash: null, meta: {} };
    const readyAt = Date.now() + fake.mediaProcessingMs;
    media.set(id, { json, readyAt });
    fake.media.push({ id, description, contentType: file.type, size: file.size });
    if (fake.mediaProcessingMs > 0) return sendJson(res, 202, { ...json, url: null });
    sendJson(res, 200, json);
  }

  function showMedia(res: ServerResponse, id: string) {
    const item = media.get(id);
    if (!item) return sendJson(res, 404, { error: 'Record not found' });
    if (Date.now() < item.readyAt) return sendJson(res, 206, { ...item.json, url: null });
    sendJson(res, 200, item.json);
  }

  function createStatus(req: IncomingMessage, res: ServerResponse, raw: Buffer) {
    const key = typeof req.headers['idempotency-key'] === 'string' ? req.headers['idempotency-key'] : null;
    const seen = key ? byIdempotencyKey.get(key) : undefined;
    if (seen) return sendJson(res, 200, seen);

    const body = JSON.parse(raw.toString('utf8') || '{}') as { status?: string; in_reply_to_id?: string | null; visibility?: string; media_ids?: string[] };
    const text = body.status ?? '';
    const mediaIds = body.media_ids ?? [];
    if (!text.trim() && mediaIds.length === 0) return sendJson(res, 422, { error: "Validation failed: Text can't be blank" });
    if ([...text].length > charLimit) return sendJson(res, 422, { error: `Validation failed: Text character limit of ${charLimit} exceeded` });
    if (body.in_reply_to_id && !statuses.has(body.in_reply_to_id)) return sendJson(res, 404, { error: 'Record not found' });
    const attachments = [];
    for (const mediaId of mediaIds) {
      const item = media.get(mediaId);
      if (!item) return sendJson(res, 422, { error: 'Validation failed: Media attachments are invalid' });
      if (Date.now() < item.readyAt) return sendJson(res, 422, { error: 'Cannot attach files that have not finished processing. Try again in a moment!' });
      attachments.push(item.json);
    }

    const json = makeStatus({ text, account: ownAccount(), inReplyToId: body.in_reply_to_id ?? null, visibility: body.visibility ?? 'public', attachments });
    const id = json.id as string;
    const url = json.url as string;
    if (key) byIdempotencyKey.set(key, json);
    fake.received.push({ id, url, status: text, inReplyToId: body.in_reply_to_id ?? null, visibility: json.visibility as string, mediaIds, idempotencyKey: key });
    if (drops > 0) {
      drops--;
      return res.destroy();
    }
    sendJson(res, 200, json);
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
    addMention(input) {
      const status = makeStatus({ text: input.text, account: accountFor(input.from ?? 'donor@example.net'), inReplyToId: input.inReplyToId ?? null, visibility: input.visibility ?? 'public', spoilerText: input.spoilerText });
      const notificationId = String(nextId++);
      notifications.push({ id: notificationId, type: 'mention', created_at: new Date().toISOString(), account: status.account as Record<string, unknown>, statusId: status.id as string });
      return { statusId: status.id as string, notificationId, url: status.url as string };
    },
    addStatus(input) {
      const status = makeStatus({ text: input.text, account: accountFor(input.from ?? 'donor@example.net'), inReplyToId: input.inReplyToId ?? null, visibility: 'public', spoilerText: input.spoilerText });
      return { statusId: status.id as string, url: status.url as string };
    },
    addNotification(type, statusId) {
      const id = String(nextId++);
      notifications.push({ id, type, created_at: new Date().toISOString(), account: accountFor('someone@example.net'), statusId: statusId ?? null });
      return id;
    },
    setCounts(statusId, counts) {
      const status = statuses.get(statusId);
      if (!status) throw new Error(`no status ${statusId}`);
      if (counts.reblogs !== undefined) status.reblogs_count = counts.reblogs;
      if (counts.favourites !== undefined) status.favourites_count = counts.favourites;
      if (counts.replies !== undefined) status.replies_count = counts.replies;
    },
    failReadsNext(count, failure) {
      for (let i = 0; i < count; i++) readFailures.push(failure);
    },
    readRequests: [],
    multiGet: true,
    close: () => closeServer(server),
  };
  fake.url = await listenLocal(server);
  return fake;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

