/**
 * A local stand-in for a Bluesky PDS's XRPC API, enough for the real `@atproto/api`
 * AtpAgent: app-password login issuing signed session JWTs, refresh, handle
 * resolution, blob upload and createRecord, with XRPC's { error, message } bodies.
 * Its uris, cids and rkeys are well-formed, since the client validates answers
 * against the lexicons.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

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
        return send(res, 200, session());
      }
      case 'com.atproto.server.refreshSession': {
        const claims = verify(req, 'com.atproto.refresh');
        if (typeof claims === 'string') return xrpcError(res, claims === 'ExpiredToken' ? 400 : 401, claims, claims === 'ExpiredToken' ? 'Token has expired' : 'Token could not be verified');
        revokedRefresh.add(claims.jti);
        return send(res, 200, session());
      }
      case 'com.atproto.server.getSession': {
        const claims = verify(req, 'com.atproto.appPass');
        if (typeof claims === 'string') return xrpcError(res, claims === 'ExpiredToken' ? 400 : 401, claims, 'Token could not be verified');
        return send(res, 200, { handle, did, active: true, emailConfirmed: true });
      }
      case 'com.atproto.identity.resolveHandle': {
        const wanted = url.searchParams.get('handle') ?? '';
        const found = wanted === handle ? did : fake.handles.get(wanted);
        return found ? send(res, 200, { did: found }) : xrpcError(res, 400, 'InvalidRequest', 'Unable to resolve handle');
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
      default:
        return xrpcError(res, 501, 'MethodNotImplemented', `Method Not Implemented: ${method}`);
    }
  }

  function uploadBlob(req: IncomingMessage, res: ServerResponse, raw: Buffer) {
    const mimeType = req.headers['content-type'] ?? 'application/octet-stream';
    const ref = cid(0x55, raw);
    blobs.add(ref);
    fake.blobs.push({ cid: ref, mimeType, size: raw.length });
    send(res, 200, { blob: { $type: 'blob', ref: { $link: ref }, mimeType, size: raw.length } });
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
    send(res, 200, { uri, cid: recordCid, commit: { cid: cid(0x71, Buffer.from(rkey)), rev: rkey }, validationStatus: 'valid' });
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
    close: () => closeServer(server),
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
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
  send(res, status, { error, message }, headers);
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
