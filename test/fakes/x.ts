/**
 * A local stand-in for X's API v2, enough for the real `twitter-api-v2` client:
 * every request must carry a valid OAuth 1.0a HMAC-SHA1 signature made with the
 * consumer and token secrets (checked the way X does, nonce and timestamp
 * included), tweets and replies, v2 chunked media upload with alt text, and X's
 * problem bodies ({ title, detail, type, status }). For reading back: users/me, the
 * mentions timeline (since_id, pagination_token, newest first, author expansion),
 * recent search by hashtag, and tweet lookup with public_metrics; on the `free` tier
 * all three answer 403 client-not-enrolled, as X does.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { closeServer, listenLocal, readBody, sendJson } from './http';

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

export interface XFakeMetrics {
  retweets?: number;
  likes?: number;
  replies?: number;
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
  /** The account: who users/me says it is, and whom mentions name. */
  me: { id: string; username: string };
  /** `free`: mentions, search and tweet lookup answer 403, as on X's free API tier. Default `basic`. */
  tier: 'free' | 'basic';
  /** Someone else tweets (a mention when the text names @me, a reply with `inReplyToTweetId`). */
  addTweet(input: { username?: string; text: string; inReplyToTweetId?: string }): string;
  setMetrics(tweetId: string, metrics: XFakeMetrics): void;
  /** The next `count` reading requests (GET) fail with this answer. */
  failReadsNext(count: number, failure: XFakeFailure): void;
  /** Every GET, as path and query. */
  readRequests: string[];
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
  // Snowflakes, as X's are: milliseconds since X's epoch in the high bits, so an id tells when it was made.
  let nextId = (BigInt(Date.now()) - 1_288_834_974_657n) << 22n;
  const readFailures: XFakeFailure[] = [];
  interface StoredTweet {
    id: string;
    text: string;
    author_id: string;
    created_at: string;
    conversation_id: string;
    referenced_tweets?: { type: 'replied_to'; id: string }[];
    metrics: { retweet_count: number; reply_count: number; like_count: number; quote_count: number; bookmark_count: number; impression_count: number };
  }
  const tweets = new Map<string, StoredTweet>();
  const users = new Map<string, { id: string; username: string; name: string }>();

  function storeTweet(id: string, text: string, authorId: string, inReplyTo: string | null) {
    const parent = inReplyTo ? tweets.get(inReplyTo) : undefined;
    if (parent) parent.metrics.reply_count++;
    tweets.set(id, {
      id,
      text,
      author_id: authorId,
      created_at: new Date().toISOString(),
      conversation_id: parent?.conversation_id ?? id,
      ...(inReplyTo ? { referenced_tweets: [{ type: 'replied_to' as const, id: inReplyTo }] } : {}),
      metrics: { retweet_count: 0, reply_count: 0, like_count: 0, quote_count: 0, bookmark_count: 0, impression_count: 0 },
    });
  }

  /** X's v2 text escapes &, < and >. */
  const escaped = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

  function tweetJson(t: StoredTweet, fields: string[]) {
    return {
      id: t.id,
      text: escaped(t.text),
      edit_history_tweet_ids: [t.id],
      ...(fields.includes('author_id') ? { author_id: t.author_id } : {}),
      ...(fields.includes('created_at') ? { created_at: t.created_at } : {}),
      ...(fields.includes('conversation_id') ? { conversation_id: t.conversation_id } : {}),
      ...(fields.includes('referenced_tweets') && t.referenced_tweets ? { referenced_tweets: t.referenced_tweets } : {}),
      ...(fields.includes('public_metrics') ? { public_metrics: t.metrics } : {}),
    };
  }

  /** A timeline answer: newest first, since_id/until_id, max_results, and a next_token to page back. */
  function timeline(res: ServerResponse, url: URL, items: StoredTweet[], tokenParam: 'pagination_token' | 'next_token', minResults: number, lastWeekOnly = false) {
    const q = url.searchParams;
    const max = Number(q.get('max_results') ?? 10);
    if (!Number.isInteger(max) || max < minResults || max > 100) return problem(res, 400, 'Invalid Request', `The \`max_results\` query parameter value [${q.get('max_results')}] is not between ${minResults} and 100`);
    const since = q.get('since_id');
    const until = q.get('until_id');
    const startTime = q.get('start_time');
    if (startTime && !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/.test(startTime)) return problem(res, 400, 'Invalid Request', `Invalid 'start_time':'${startTime}'.`);
    // Recent search covers the last 7 days and says so when asked for more.
    const weekAgo = Date.now() - 7 * 86_400_000;
    if (lastWeekOnly && since && Number((BigInt(since) >> 22n) + 1_288_834_974_657n) < weekAgo) return problem(res, 400, 'Invalid Request', `Invalid 'since_id':'${since}'. 'since_id' must be a tweet id created after ${new Date(weekAgo).toISOString()}.`);
    if (lastWeekOnly && startTime && Date.parse(startTime) < weekAgo) return problem(res, 400, 'Invalid Request', `Invalid 'start_time':'${startTime}'. 'start_time' must be on or after ${new Date(weekAgo).toISOString()}.`);
    const token = q.get(tokenParam);
    const below = token ? BigInt(Buffer.from(token, 'base64url').toString('utf8')) : null;
    const sorted = items
      .filter((t) => (!since || BigInt(t.id) > BigInt(since)) && (!until || BigInt(t.id) < BigInt(until)) && (below === null || BigInt(t.id) < below) && (!startTime || Date.parse(t.created_at) >= Date.parse(startTime)))
      .sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? 1 : -1));
    const page = sorted.slice(0, max);
    if (!page.length) return sendJson(res, 200, { meta: { result_count: 0 } });
    const fields = (q.get('tweet.fields') ?? '').split(',');
    const expansions = (q.get('expansions') ?? '').split(',');
    const authors = [...new Set(page.map((t) => t.author_id))].map((id) => users.get(id) ?? { id, username: `user${id}`, name: `user${id}` });
    const nextToken = sorted.length > max ? Buffer.from(page.at(-1)!.id).toString('base64url') : undefined;
    sendJson(res, 200, {
      data: page.map((t) => tweetJson(t, expansions.includes('author_id') ? [...fields, 'author_id'] : fields)),
      ...(expansions.includes('author_id') ? { includes: { users: authors } } : {}),
      meta: { result_count: page.length, newest_id: page[0]!.id, oldest_id: page.at(-1)!.id, ...(nextToken ? { next_token: nextToken } : {}) },
    });
  }

  function read(res: ServerResponse, url: URL) {
    fake.readRequests.push(`${url.pathname}${url.search}`);
    const failure = readFailures.shift();
    if (failure) {
      const headers: Record<string, string> =
        failure.retryAfter !== undefined ? { 'x-rate-limit-limit': '10', 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': String(Math.floor(Date.now() / 1000) + failure.retryAfter) } : {};
      return problem(res, failure.status, statusTitle(failure.status), failure.message ?? 'Scripted failure', headers);
    }
    const path = url.pathname;
    if (path === '/2/users/me') return sendJson(res, 200, { data: { id: fake.me.id, name: 'Tocsin', username: fake.me.username } });
    const paid = path === '/2/tweets' || path === '/2/tweets/search/recent' || /^\/2\/users\/[^/]+\/mentions$/.test(path);
    if (paid && fake.tier === 'free') {
      // What X answers an app whose tier does not include the endpoint.
      return sendJson(res, 403, {
        client_id: '12345678',
        detail: 'When authenticating requests to the Twitter API v2 endpoints, you must use keys and tokens from a Twitter developer App that is attached to a Project. You can create a project via the developer portal.',
        registration_url: 'https://developer.twitter.com/en/docs/projects/overview',
        title: 'Client Forbidden',
        required_enrollment: 'Appropriate Level of API Access',
        reason: 'client-not-enrolled',
        type: 'https://api.twitter.com/2/problems/client-forbidden',
      });
    }
    const mentions = /^\/2\/users\/([^/]+)\/mentions$/.exec(path);
    if (mentions) {
      const user = users.get(mentions[1]!);
      if (!user) return problem(res, 404, 'Not Found Error', `Could not find user with id: [${mentions[1]}].`);
      const named = new RegExp(`(^|[^\\w])@${user.username}\\b`, 'i');
      return timeline(res, url, [...tweets.values()].filter((t) => t.author_id !== user.id && named.test(t.text)), 'pagination_token', 5);
    }
    if (path === '/2/tweets/search/recent') {
      const query = url.searchParams.get('query') ?? '';
      const tags = [...query.matchAll(/(^|\s)#(\w+)/g)].map((m) => m[2]!.toLowerCase());
      const notFrom = [...query.matchAll(/-from:(\w+)/g)].map((m) => m[1]!.toLowerCase());
      const found = [...tweets.values()].filter((t) => {
        const tweetTags = [...t.text.matchAll(/#(\w+)/g)].map((m) => m[1]!.toLowerCase());
        return tags.length > 0 && tags.every((tag) => tweetTags.includes(tag)) && !notFrom.includes((users.get(t.author_id)?.username ?? '').toLowerCase());
      });
      return timeline(res, url, found, 'next_token', 10, true);
    }
    if (path === '/2/tweets') {
      const ids = (url.searchParams.get('ids') ?? '').split(',').filter(Boolean);
      if (!ids.length || ids.length > 100) return problem(res, 400, 'Invalid Request', 'The `ids` query parameter value is not between 1 and 100');
      const fields = (url.searchParams.get('tweet.fields') ?? '').split(',');
      const found = ids.flatMap((id) => (tweets.has(id) ? [tweetJson(tweets.get(id)!, fields)] : []));
      const errors = ids
        .filter((id) => !tweets.has(id))
        .map((id) => ({ value: id, detail: `Could not find tweet with ids: [${id}].`, title: 'Not Found Error', resource_type: 'tweet', parameter: 'ids', resource_id: id, type: 'https://api.twitter.com/2/problems/resource-not-found' }));
      return sendJson(res, 200, { ...(found.length ? { data: found } : {}), ...(errors.length ? { errors } : {}) });
    }
    problem(res, 404, 'Not Found Error', 'Not found');
  }

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
    if (req.method === 'GET') return read(res, url);
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
    storeTweet(id, text, fake.me.id, body.reply?.in_reply_to_tweet_id ?? null);
    sendJson(res, 201, { data: { id, text, edit_history_tweet_ids: [id] } });
  }

  function initializeUpload(res: ServerResponse, body: { media_type?: string; total_bytes?: number; media_category?: string }) {
    if (!body.media_type || !body.total_bytes) return problem(res, 400, 'Invalid Request', 'media_type and total_bytes are required');
    const id = String(nextId++);
    const media: XFakeMedia = { id, mediaType: body.media_type, category: body.media_category ?? null, size: 0, altText: null };
    uploads.set(id, { media, expected: body.total_bytes, finalized: false });
    sendJson(res, 200, { data: { id, media_key: `3_${id}`, expires_after_secs: 86400 } });
  }

  function appendUpload(req: IncomingMessage, res: ServerResponse, id: string, raw: Buffer) {
    const upload = uploads.get(id);
    if (!upload) return problem(res, 400, 'Invalid Request', 'Unknown media id');
    const chunk = multipartField(req.headers['content-type'] ?? '', raw, 'media');
    if (!chunk) return problem(res, 400, 'Invalid Request', 'media is required');
    upload.media.size += chunk.length;
    sendJson(res, 200, { data: { expires_at: Math.floor(Date.now() / 1000) + 86400 } });
  }

  function finalizeUpload(res: ServerResponse, id: string) {
    const upload = uploads.get(id);
    if (!upload) return problem(res, 400, 'Invalid Request', 'Unknown media id');
    if (upload.media.size !== upload.expected) return problem(res, 400, 'Invalid Request', `Expected ${upload.expected} bytes, got ${upload.media.size}`);
    upload.finalized = true;
    fake.media.push(upload.media);
    sendJson(res, 200, { data: { id, media_key: `3_${id}`, size: upload.media.size, expires_after_secs: 86400 } });
  }

  function createMetadata(res: ServerResponse, body: { id?: string; metadata?: { alt_text?: { text?: string } } }) {
    const upload = body.id ? uploads.get(body.id) : undefined;
    if (!upload) return problem(res, 400, 'Invalid Request', 'Unknown media id');
    upload.media.altText = body.metadata?.alt_text?.text ?? null;
    sendJson(res, 200, { data: { id: body.id, associated_metadata: { alt_text: { text: upload.media.altText } } } });
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
    me: { id: '1500000000000000001', username: 'tocsin_org' },
    tier: 'basic',
    addTweet(input) {
      const username = input.username ?? 'donor';
      let user = [...users.values()].find((u) => u.username === username);
      if (!user) {
        user = { id: String(nextId++), username, name: username };
        users.set(user.id, user);
      }
      const id = String(nextId++);
      storeTweet(id, input.text, user.id, input.inReplyToTweetId ?? null);
      return id;
    },
    setMetrics(tweetId, metrics) {
      const tweet = tweets.get(tweetId);
      if (!tweet) throw new Error(`no tweet ${tweetId}`);
      if (metrics.retweets !== undefined) tweet.metrics.retweet_count = metrics.retweets;
      if (metrics.likes !== undefined) tweet.metrics.like_count = metrics.likes;
      if (metrics.replies !== undefined) tweet.metrics.reply_count = metrics.replies;
    },
    failReadsNext(count, failure) {
      for (let i = 0; i < count; i++) readFailures.push(failure);
    },
    readRequests: [],
    close: () => closeServer(server),
  };
  users.set(fake.me.id, { ...fake.me, name: 'Tocsin' });
  fake.url = await listenLocal(server);
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
  sendJson(res, status, { title, detail, type: 'about:blank', status }, headers);
}

function json<T>(raw: Buffer): T {
  return (raw.length ? JSON.parse(raw.toString('utf8')) : {}) as T;
}

