/**
 * A local stand-in for a Bluesky PDS's XRPC API, enough for the real `@atproto/api`
 * AtpAgent: app-password login issuing signed session JWTs, refresh, handle
 * resolution, blob upload and createRecord, with XRPC's { error, message } bodies.
 * Its uris, cids and rkeys are well-formed, since the client validates answers
 * against the lexicons. For reading back: listNotifications (reasons filter, newest
 * first, cursor back in time), getPosts with like/repost/reply counts, and searchPosts
 * by hashtag (since, cursor), over the account's posts and other people's.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { closeServer, listenLocal, readBody, sendJson } from './http';

export interface BlueskyFakeFailure {
  status: number;
  /** The XRPC error name, e.g. InvalidRequest, RateLimitExceeded. */
  code?: string;
  message?: string;
  /** Seconds, sent the way the PDS does (RateLimit-Reset, epoch seconds). */
  retryAfter?: number;
  /** Let this many requests through before failing (e.g. fail the second part of a thread). */
  after?: number;
}

export interface BlueskyFakePostRecord {
  text: string;
  createdAt: string;
  facets?: { index: { byteStart: number; byteEnd: number }; features: { $type: string; uri?: string; tag?: string; did?: string }[] }[];
  reply?: { root: { uri: string; cid: string }; parent: { uri: string; cid: string } };
  embed?: { $type: string; images?: { alt: string; image: { ref: { $link: string }; mimeType: string; size: number } }[] };
  langs?: string[];
}

export interface BlueskyFakePost {
  uri: string;
  cid: string;
  record: BlueskyFakePostRecord;
}

export interface BlueskyFakeCounts {
  likes?: number;
  reposts?: number;
  replies?: number;
  quotes?: number;
}

export interface BlueskyFake {
  /** Give this to the client as BLUESKY_SERVICE. */
  url: string;
  handle: string;
  did: string;
  appPassword: string;
  /** Every post created, in order. */
  received: BlueskyFakePost[];
  blobs: { cid: string; mimeType: string; size: number }[];
  /** How many times the client logged in (createSession). */
  logins: number;
  /** Other accounts resolveHandle knows: handle → DID. */
  handles: Map<string, string>;
  latencyMs: number;
  /** While true, requests are read and never answered. */
  hang: boolean;
  /** The next `count` uploads or posts fail with this answer (nothing is created). */
  failNext(count: number, failure: BlueskyFakeFailure): void;
  /** Every access token issued so far now answers ExpiredToken; with `refresh`, refresh tokens too. */
  expireSessions(opts?: { refresh?: boolean }): void;
  /**
   * Someone answers a post (ours, or anyone's in one of our threads): a post with reply refs, and a `reply`
   * notification when the parent or the thread's root is ours.
   */
  addReply(input: { handle?: string; text: string; parentUri: string }): { uri: string; cid: string };
  /** Someone mentions the account outside any thread: a post with a mention facet and a `mention` notification. */
  addMention(input: { handle?: string; text: string }): { uri: string; cid: string };
  /** A post by someone else with hashtags in its text (tag facets), and no notification. */
  addPost(input: { handle?: string; text: string }): { uri: string; cid: string };
  /** A notification of another kind (like, follow...), which a reasons=reply&reasons=mention request must not list. */
  addNotification(reason: 'like' | 'repost' | 'follow', subjectUri?: string): void;
  setCounts(uri: string, counts: BlueskyFakeCounts): void;
  /** The next `count` reading requests fail with this answer. */
  failReadsNext(count: number, failure: BlueskyFakeFailure): void;
  /** Every reading request: its method and query. */
  readRequests: string[];
  close(): Promise<void>;
}

export async function startBlueskyFake(opts: { handle?: string; appPassword?: string; latencyMs?: number } = {}): Promise<BlueskyFake> {
  const handle = opts.handle ?? 'tocsin.test';
  const appPassword = opts.appPassword ?? 'abcd-efgh-ijkl-mnop';
  const did = `did:plc:${base32(randomBytes(15))}`;
  const secret = randomBytes(32);
  // null lets a request through: how `after` is queued.
  const failures: (BlueskyFakeFailure | null)[] = [];
  const blobs = new Set<string>();
  // Tokens carry the generation they were issued in; expiring sessions moves the generation on.
  let accessGeneration = 0;
  let refreshGeneration = 0;
  const revokedRefresh = new Set<string>();
  const readFailures: BlueskyFakeFailure[] = [];

  // Every post the reading side knows, ours and other people's, in indexing order.
  interface Indexed {
    seq: number;
    uri: string;
    cid: string;
    author: { did: string; handle: string };
    record: Record<string, unknown>;
    indexedAt: string;
    counts: Required<BlueskyFakeCounts>;
  }
  const posts = new Map<string, Indexed>();
  const notifications: { seq: number; uri: string; cid: string; author: { did: string; handle: string }; reason: string; reasonSubject?: string; record: Record<string, unknown>; indexedAt: string }[] = [];
  let seq = 0;
  let lastIndexedMs = 0;
  /** Strictly increasing, as a single indexer would give them. */
  function nextIndexedAt(): string {
    lastIndexedMs = Math.max(lastIndexedMs + 1, Date.now());
    return new Date(lastIndexedMs).toISOString();
  }
  const profileOf = (who: string) => ({ did: who === handle ? did : `did:plc:${base32(createHash('sha256').update(who).digest().subarray(0, 15))}`, handle: who });

  function index(author: { did: string; handle: string }, record: Record<string, unknown>, uri: string, recordCid: string): Indexed {
    const reply = record.reply as { parent?: { uri: string } } | undefined;
    const parent = reply?.parent ? posts.get(reply.parent.uri) : undefined;
    if (parent) parent.counts.replies++;
    const item = { seq: ++seq, uri, cid: recordCid, author, record: { $type: 'app.bsky.feed.post', ...record }, indexedAt: nextIndexedAt(), counts: { likes: 0, reposts: 0, replies: 0, quotes: 0 } };
    posts.set(uri, item);
    return item;
  }

  function othersPost(who: string, record: Record<string, unknown>): Indexed {
    const author = profileOf(who);
    const rkey = nextTid();
    const raw = Buffer.from(JSON.stringify(record));
    return index(author, record, `at://${author.did}/app.bsky.feed.post/${rkey}`, cid(0x71, raw));
  }

  function notify(item: Indexed, reason: string, reasonSubject?: string) {
    notifications.push({ seq: item.seq, uri: item.uri, cid: item.cid, author: item.author, reason, ...(reasonSubject ? { reasonSubject } : {}), record: item.record, indexedAt: item.indexedAt });
  }

  /** Tag facets for the hashtags in a text, as a real client would add them. */
  function tagFacets(text: string) {
    const facets = [];
    for (const m of text.matchAll(/#([\p{L}\p{N}_]+)/gu)) {
      const byteStart = Buffer.byteLength(text.slice(0, m.index));
      facets.push({ index: { byteStart, byteEnd: byteStart + Buffer.byteLength(m[0]) }, features: [{ $type: 'app.bsky.richtext.facet#tag', tag: m[1]! }] });
    }
    return facets;
  }

  /** Newest first, by indexing order; the cursor is where the last page stopped. */
  function pageOf<T extends { seq: number }>(items: T[], url: URL, defaultLimit: number): { page: T[]; cursor?: string } | null {
    const limit = Number(url.searchParams.get('limit') ?? defaultLimit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) return null;
    const before = url.searchParams.get('cursor');
    const sorted = items.filter((i) => !before || i.seq < Number(before)).sort((a, b) => b.seq - a.seq);
    const page = sorted.slice(0, limit);
    return { page, ...(sorted.length > limit ? { cursor: String(page.at(-1)!.seq) } : {}) };
  }

  const postView = (p: Indexed) => ({
    uri: p.uri,
    cid: p.cid,
    author: p.author,
    record: p.record,
    replyCount: p.counts.replies,
    repostCount: p.counts.reposts,
    likeCount: p.counts.likes,
    quoteCount: p.counts.quotes,
    indexedAt: p.indexedAt,
  });

  function read(res: ServerResponse, method: string, url: URL) {
    fake.readRequests.push(`${method}${url.search}`);
    const failure = readFailures.shift();
    if (failure) {
      const headers: Record<string, string> =
        failure.retryAfter !== undefined ? { 'ratelimit-limit': '3000', 'ratelimit-remaining': '0', 'ratelimit-reset': String(Math.floor(Date.now() / 1000) + failure.retryAfter), 'ratelimit-policy': '3000;w=300' } : {};
      return xrpcError(res, failure.status, failure.code ?? defaultErrorName(failure.status), failure.message ?? 'Scripted failure', headers);
    }
    if (method === 'app.bsky.notification.listNotifications') {
      const reasons = url.searchParams.getAll('reasons');
      const paged = pageOf(notifications.filter((n) => !reasons.length || reasons.includes(n.reason)), url, 50);
      if (!paged) return xrpcError(res, 400, 'InvalidRequest', 'limit must be between 1 and 100');
      return sendJson(res, 200, { notifications: paged.page.map(({ seq: _, ...n }) => ({ ...n, isRead: false })), ...(paged.cursor ? { cursor: paged.cursor } : {}) });
    }
    if (method === 'app.bsky.feed.getPosts') {
      const uris = url.searchParams.getAll('uris');
      if (uris.length > 25) return xrpcError(res, 400, 'InvalidRequest', 'uris must not have more than 25 elements');
      return sendJson(res, 200, { posts: uris.flatMap((u) => (posts.has(u) ? [postView(posts.get(u)!)] : [])) });
    }
    // searchPosts: by tag (or #tag in q), since inclusive, newest first.
    const tags = [...url.searchParams.getAll('tag'), ...[...(url.searchParams.get('q') ?? '').matchAll(/#([\p{L}\p{N}_]+)/gu)].map((m) => m[1]!)].map((t) => t.toLowerCase());
    const since = url.searchParams.get('since');
    const matching = [...posts.values()].filter((p) => {
      const facets = (p.record.facets ?? []) as { features: { $type: string; tag?: string }[] }[];
      const postTags = facets.flatMap((f) => f.features.flatMap((feature) => (feature.$type === 'app.bsky.richtext.facet#tag' && feature.tag ? [feature.tag.toLowerCase()] : [])));
      return tags.length > 0 && tags.every((t) => postTags.includes(t)) && (!since || Date.parse(p.indexedAt) >= Date.parse(since));
    });
    const paged = pageOf(matching, url, 25);
    if (!paged) return xrpcError(res, 400, 'InvalidRequest', 'limit must be between 1 and 100');
    sendJson(res, 200, { posts: paged.page.map(postView), ...(paged.cursor ? { cursor: paged.cursor } : {}) });
  }

  const server = createServer((req, res) => {
    route(req, res).catch((err: unknown) => xrpcError(res, 500, 'InternalServerError', String(err)));
  });

  async function route(req: IncomingMessage, res: ServerResponse) {
    const raw = await readBody(req);
    if (fake.hang) return;
    if (fake.latencyMs > 0) await delay(fake.latencyMs);
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = url.pathname.replace(/^\/xrpc\//, '');

    switch (method) {
      case 'com.atproto.server.createSession': {
        const body = JSON.parse(raw.toString('utf8') || '{}') as { identifier?: string; password?: string };
        if ((body.identifier !== handle && body.identifier !== did) || body.password !== appPassword) {
          return xrpcError(res, 401, 'AuthenticationRequired', 'Invalid identifier or password');
        }
        fake.logins++;
        return sendJson(res, 200, session());
      }
      case 'com.atproto.server.refreshSession': {
        const claims = verify(req, 'com.atproto.refresh');
        if (typeof claims === 'string') return xrpcError(res, claims === 'ExpiredToken' ? 400 : 401, claims, claims === 'ExpiredToken' ? 'Token has expired' : 'Token could not be verified');
        revokedRefresh.add(claims.jti);
        return sendJson(res, 200, session());
      }
      case 'com.atproto.server.getSession': {
        const claims = verify(req, 'com.atproto.appPass');
        if (typeof claims === 'string') return xrpcError(res, claims === 'ExpiredToken' ? 400 : 401, claims, 'Token could not be verified');
        return sendJson(res, 200, { handle, did, active: true, emailConfirmed: true });
      }
      case 'com.atproto.identity.resolveHandle': {
        const wanted = url.searchParams.get('handle') ?? '';
        const found = wanted === handle ? did : fake.handles.get(wanted);
        return found ? sendJson(res, 200, { did: found }) : xrpcError(res, 400, 'InvalidRequest', 'Unable to resolve handle');
      }
      case 'com.atproto.repo.uploadBlob':
      case 'com.atproto.repo.createRecord': {
        const claims = verify(req, 'com.atproto.appPass');
        if (typeof claims === 'string') return xrpcError(res, claims === 'ExpiredToken' ? 400 : 401, claims, claims === 'ExpiredToken' ? 'Token has expired' : 'Authentication Required');
        const failure = failures.shift();
        if (failure) {
          const headers: Record<string, string> =
            failure.retryAfter !== undefined
              ? { 'ratelimit-limit': '5000', 'ratelimit-remaining': '0', 'ratelimit-reset': String(Math.floor(Date.now() / 1000) + failure.retryAfter), 'ratelimit-policy': '5000;w=3600' }
              : {};
          return xrpcError(res, failure.status, failure.code ?? defaultErrorName(failure.status), failure.message ?? 'Scripted failure', headers);
        }
        return method === 'com.atproto.repo.uploadBlob' ? uploadBlob(req, res, raw) : createRecord(res, raw);
      }
      case 'app.bsky.notification.listNotifications':
      case 'app.bsky.feed.getPosts':
      case 'app.bsky.feed.searchPosts': {
        const claims = verify(req, 'com.atproto.appPass');
        if (typeof claims === 'string') return xrpcError(res, claims === 'ExpiredToken' ? 400 : 401, claims, claims === 'ExpiredToken' ? 'Token has expired' : 'Authentication Required');
        return read(res, method, url);
      }
      default:
        return xrpcError(res, 501, 'MethodNotImplemented', `Method Not Implemented: ${method}`);
    }
  }

  function uploadBlob(req: IncomingMessage, res: ServerResponse, raw: Buffer) {
    const mimeType = req.headers['content-type'] ?? 'application/octet-stream';
    const ref = cid(0x55, raw);
    blobs.add(ref);
    fake.blobs.push({ cid: ref, mimeType, size: raw.length });
    sendJson(res, 200, { blob: { $type: 'blob', ref: { $link: ref }, mimeType, size: raw.length } });
  }

  function createRecord(res: ServerResponse, raw: Buffer) {
    const body = JSON.parse(raw.toString('utf8')) as { repo?: string; collection?: string; record?: BlueskyFakePostRecord & { $type?: string } };
    if (body.repo !== did && body.repo !== handle) return xrpcError(res, 400, 'InvalidRequest', 'Can only write to your own repo');
    if (body.collection !== 'app.bsky.feed.post' || body.record?.$type !== 'app.bsky.feed.post') return xrpcError(res, 400, 'InvalidRequest', 'Unsupported collection');
    const record = body.record;
    if (typeof record.text !== 'string' || !record.createdAt) return xrpcError(res, 400, 'InvalidRequest', 'Invalid app.bsky.feed.post record: Record must have the properties "text" and "createdAt"');
    if ([...new Intl.Segmenter().segment(record.text)].length > 300) return xrpcError(res, 400, 'InvalidRequest', 'Invalid app.bsky.feed.post record: Record/text must not be longer than 300 graphemes');
    for (const image of record.embed?.images ?? []) {
      if (!blobs.has(image.image.ref.$link)) return xrpcError(res, 400, 'InvalidRequest', `Could not find blob: ${image.image.ref.$link}`);
    }
    const rkey = nextTid();
    const uri = `at://${did}/app.bsky.feed.post/${rkey}`;
    const recordCid = cid(0x71, raw);
    fake.received.push({ uri, cid: recordCid, record });
    index({ did, handle }, record as unknown as Record<string, unknown>, uri, recordCid);
    sendJson(res, 200, { uri, cid: recordCid, commit: { cid: cid(0x71, Buffer.from(rkey)), rev: rkey }, validationStatus: 'valid' });
  }

  function session() {
    const now = Math.floor(Date.now() / 1000);
    return {
      did,
      handle,
      accessJwt: sign({ scope: 'com.atproto.appPass', sub: did, iat: now, exp: now + 7200, gen: accessGeneration, jti: randomBytes(8).toString('hex') }),
      refreshJwt: sign({ scope: 'com.atproto.refresh', sub: did, iat: now, exp: now + 90 * 86400, gen: refreshGeneration, jti: randomBytes(8).toString('hex') }),
      active: true,
      emailConfirmed: true,
    };
  }

  function sign(claims: Record<string, unknown>): string {
    const head = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
    const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return `${head}.${body}.${createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url')}`;
  }

  /** The bearer token's claims, or the XRPC error name to answer with. */
  function verify(req: IncomingMessage, scope: string): { jti: string } | 'AuthenticationRequired' | 'InvalidToken' | 'ExpiredToken' {
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!token) return 'AuthenticationRequired';
    const [head, body, signature] = token.split('.');
    const expected = createHmac('sha256', secret).update(`${head}.${body}`).digest();
    const given = Buffer.from(signature ?? '', 'base64url');
    if (!head || !body || given.length !== expected.length || !timingSafeEqual(given, expected)) return 'InvalidToken';
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as { scope: string; exp: number; gen: number; jti: string };
    if (claims.scope !== scope) return 'InvalidToken';
    const generation = scope === 'com.atproto.refresh' ? refreshGeneration : accessGeneration;
    if (claims.exp < Date.now() / 1000 || claims.gen < generation || revokedRefresh.has(claims.jti)) return 'ExpiredToken';
    return claims;
  }

  let lastTid = 0;
  /** A TID (timestamp identifier), the rkey Bluesky gives posts: microseconds and a clock id, base32-sortable. */
  function nextTid(): string {
    lastTid = Math.max(lastTid + 1, Date.now() * 1000);
    let value = (BigInt(lastTid) << 10n) | 7n;
    let out = '';
    for (let i = 0; i < 13; i++) {
      out = tidAlphabet[Number(value & 31n)] + out;
      value >>= 5n;
    }
    return out;
  }

  const fake: BlueskyFake = {
    url: '',
    handle,
    did,
    appPassword,
    received: [],
    blobs: [],
    logins: 0,
    handles: new Map(),
    latencyMs: opts.latencyMs ?? 0,
    hang: false,
    failNext(count, failure) {
      for (let i = 0; i < (failure.after ?? 0); i++) failures.push(null);
      for (let i = 0; i < count; i++) failures.push(failure);
    },
    expireSessions({ refresh = false } = {}) {
      accessGeneration++;
      if (refresh) refreshGeneration++;
    },
    addReply(input) {
      const parent = posts.get(input.parentUri);
      if (!parent) throw new Error(`no post ${input.parentUri}`);
      const parentReply = parent.record.reply as { root: { uri: string; cid: string } } | undefined;
      const root = parentReply?.root ?? { uri: parent.uri, cid: parent.cid };
      const facets = tagFacets(input.text);
      const item = othersPost(input.handle ?? 'donor.example.net', {
        text: input.text,
        createdAt: new Date().toISOString(),
        reply: { root, parent: { uri: parent.uri, cid: parent.cid } },
        ...(facets.length ? { facets } : {}),
      });
      if (parent.author.did === did || root.uri.startsWith(`at://${did}/`)) notify(item, 'reply', parent.uri);
      return { uri: item.uri, cid: item.cid };
    },
    addMention(input) {
      const text = input.text.includes(`@${handle}`) ? input.text : `@${handle} ${input.text}`;
      const start = Buffer.byteLength(text.slice(0, text.indexOf(`@${handle}`)));
      const mention = { index: { byteStart: start, byteEnd: start + Buffer.byteLength(`@${handle}`) }, features: [{ $type: 'app.bsky.richtext.facet#mention', did }] };
      const item = othersPost(input.handle ?? 'donor.example.net', { text, createdAt: new Date().toISOString(), facets: [mention, ...tagFacets(text)] });
      notify(item, 'mention');
      return { uri: item.uri, cid: item.cid };
    },
    addPost(input) {
      const facets = tagFacets(input.text);
      const item = othersPost(input.handle ?? 'donor.example.net', { text: input.text, createdAt: new Date().toISOString(), ...(facets.length ? { facets } : {}) });
      return { uri: item.uri, cid: item.cid };
    },
    addNotification(reason, subjectUri) {
      const author = profileOf('someone.example.net');
      const rkey = nextTid();
      const record = reason === 'follow' ? { $type: 'app.bsky.graph.follow', subject: did, createdAt: new Date().toISOString() } : { $type: `app.bsky.feed.${reason}`, subject: { uri: subjectUri, cid: posts.get(subjectUri ?? '')?.cid }, createdAt: new Date().toISOString() };
      const collection = String(record.$type);
      notifications.push({ seq: ++seq, uri: `at://${author.did}/${collection}/${rkey}`, cid: cid(0x71, Buffer.from(rkey)), author, reason, ...(subjectUri ? { reasonSubject: subjectUri } : {}), record, indexedAt: nextIndexedAt() });
    },
    setCounts(uri, counts) {
      const post = posts.get(uri);
      if (!post) throw new Error(`no post ${uri}`);
      Object.assign(post.counts, Object.fromEntries(Object.entries(counts).filter(([, v]) => v !== undefined)));
    },
    failReadsNext(count, failure) {
      for (let i = 0; i < count; i++) readFailures.push(failure);
    },
    readRequests: [],
    close: () => closeServer(server),
  };
  fake.url = await listenLocal(server);
  return fake;
}

const tidAlphabet = '234567abcdefghijklmnopqrstuvwxyz';

function defaultErrorName(status: number): string {
  return status === 429 ? 'RateLimitExceeded' : status >= 500 ? 'InternalServerError' : 'InvalidRequest';
}

/** A CIDv1 (sha2-256) in base32, the form the client's lexicon validation accepts. 0x55 raw, 0x71 dag-cbor. */
function cid(codec: 0x55 | 0x71, content: Buffer): string {
  const digest = createHash('sha256').update(content).digest();
  return `b${base32(Buffer.concat([Buffer.from([0x01, codec, 0x12, 0x20]), digest]))}`;
}

function base32(bytes: Uint8Array): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = ((value << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}

function xrpcError(res: ServerResponse, status: number, error: string, message: string, headers: Record<string, string> = {}) {
  sendJson(res, status, { error, message }, headers);
}

