import type { Deps } from '../../deps';
import { publicEtag, publicSettingsKey, readPublicVersion, type PublicVersion } from '../../feeds/public-version';
import type { Context } from 'hono';
import type { AppContext } from '../context';
import { csrfCookie } from '../middleware';

export interface PublicResource {
  /** Everything the body depends on besides the public version: path, parameters, language. */
  key: string;
  contentType: string;
  /** Pages depend on the reader's language (cookie, Accept-Language); feeds only on their URL. */
  kind: 'page' | 'feed';
  render: (v: PublicVersion) => Promise<string>;
}

/**
 * A small LRU of rendered bodies, keyed by ETag (so by version): never stale, and bounded in memory. Bodies are kept
 * encoded, so serving one again costs no UTF-8 encoding of a 80 KB feed.
 */
class BodyCache {
  private map = new Map<string, Uint8Array<ArrayBuffer>>();
  constructor(private readonly max: number) {}
  get(k: string): Uint8Array<ArrayBuffer> | undefined {
    const v = this.map.get(k);
    if (v !== undefined) {
      this.map.delete(k);
      this.map.set(k, v);
    }
    return v;
  }
  set(k: string, v: Uint8Array<ArrayBuffer>) {
    this.map.delete(k);
    this.map.set(k, v);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value!);
  }
}

export const publicCacheControl = 'public, max-age=60';

/**
 * How long a process trusts the public version it last read before reading it again. Within this window a
 * conditional request costs no database round trip at all; concurrent requests share one read. Another process's
 * publication is therefore seen within this time (the pages say max-age=60, so no reader can tell), and a body is
 * always rendered after a fresh read (see `respond`).
 */
export const publicVersionTtlMs = 100;

/** The public version, read at most once per TTL by this process, by one query however many requests wait for it. */
class VersionCache {
  private value: PublicVersion | null = null;
  private readAt = 0;
  private inflight: Promise<PublicVersion> | null = null;
  constructor(
    private readonly db: Deps['db'],
    private readonly ttlMs: number,
  ) {}

  recent(): Promise<PublicVersion> {
    return this.value && performance.now() - this.readAt < this.ttlMs ? Promise.resolve(this.value) : this.fresh();
  }

  /** A read that started no earlier than now, or one already under way (which started earlier still: as good). */
  fresh(): Promise<PublicVersion> {
    if (!this.inflight) {
      const started = performance.now();
      this.inflight = readPublicVersion(this.db)
        .then((v) => {
          // Versions only grow; an older answer arriving late never replaces a newer one.
          if (!this.value || v.version >= this.value.version) this.value = v;
          this.readAt = started;
          return v;
        })
        .finally(() => {
          this.inflight = null;
        });
    }
    return this.inflight;
  }
}

/** RFC 9110 If-None-Match: a list of entity tags compared weakly, or `*`. */
function noneMatch(header: string, etag: string): boolean {
  const bare = etag.replace(/^W\//, '');
  return header.split(',').some((t) => {
    const tag = t.trim();
    return tag === '*' || tag.replace(/^W\//, '') === bare;
  });
}

/** The validators of one resource at the current version, and whether a conditional request matches them. */
function validators(c: Context, kind: PublicResource['kind'], etag: string, changedAt: Date) {
  const lastModified = new Date(Math.floor(changedAt.getTime() / 1000) * 1000);
  const headers: Record<string, string> = { etag, 'last-modified': lastModified.toUTCString(), 'cache-control': publicCacheControl };
  if (kind === 'page') headers.vary = 'Accept-Language, Cookie';
  const inm = c.req.header('if-none-match');
  const ims = c.req.header('if-modified-since');
  // If-Modified-Since counts only without If-None-Match (RFC 9110 §13.1.3); HTTP dates have whole seconds.
  const notModified = inm !== undefined ? noneMatch(inm, etag) : ims !== undefined && !Number.isNaN(Date.parse(ims)) && lastModified.getTime() <= Date.parse(ims);
  return { headers, notModified };
}

export type PublicResponder = ReturnType<typeof createPublicResponder>;

/**
 * Serves public pages and feeds with ETag, Last-Modified and a short public max-age, answering 304 to a matching
 * conditional request. The ETag comes from the public version (one primary-key read, shared by every request of
 * the next 100 ms), never from rendering; a body is rendered only when this process has not rendered it at that
 * version yet. The version is read before the data, so a body is never labelled newer than it is (at worst older,
 * which costs a client one more full response, never a stale 304 once the new version is read).
 */
function createPublicResponder(deps: Pick<Deps, 'db' | 'config'>, opts: { versionTtlMs?: number } = {}) {
  const settingsKey = publicSettingsKey(deps.config);
  const bodies = new BodyCache(256);
  const versions = new VersionCache(deps.db, opts.versionTtlMs ?? publicVersionTtlMs);
  // ETags of the current version, so a 304 costs no hashing either.
  let tags = { version: -1, byKey: new Map<string, string>() };
  const etagOf = (v: PublicVersion, r: Pick<PublicResource, 'kind' | 'key'>) => {
    const key = `${r.kind}|${r.key}`;
    if (tags.version !== v.version) tags = { version: v.version, byKey: new Map() };
    let tag = tags.byKey.get(key);
    if (tag === undefined) {
      tag = publicEtag(settingsKey, v, key);
      if (tags.byKey.size < 10_000) tags.byKey.set(key, tag);
    }
    return tag;
  };

  return {
    /** A 304 when the request's validators match the resource's current ones; null otherwise. */
    async notModified(c: Context, r: Pick<PublicResource, 'kind' | 'key'>): Promise<Response | null> {
      const v = await versions.recent();
      const { headers, notModified } = validators(c, r.kind, etagOf(v, r), v.changedAt);
      return notModified ? c.body(null, 304, headers) : null;
    },

    async respond(c: AppContext, r: PublicResource): Promise<Response> {
      let v = await versions.recent();
      let { headers, notModified } = validators(c, r.kind, etagOf(v, r), v.changedAt);
      let res: Response;
      if (notModified) {
        res = c.body(null, 304, headers);
      } else {
        let body = bodies.get(headers.etag!);
        if (body === undefined) {
          // Rendering reads the version again first: a body is labelled with a version no newer than its data.
          const fresh = await versions.fresh();
          if (fresh.version !== v.version) {
            v = fresh;
            ({ headers } = validators(c, r.kind, etagOf(v, r), v.changedAt));
          }
          body = bodies.get(headers.etag!) ?? new TextEncoder().encode(await r.render(v));
          bodies.set(headers.etag!, body);
        }
        res = c.body(body, 200, { ...headers, 'content-type': r.contentType });
      }
      return withoutPrivateCookies(res, r.kind);
    },
  };
}

// One per app (per Deps): the routes and the early conditional check share the version, tags and bodies.
const responders = new WeakMap<object, PublicResponder>();
export function publicResponder(deps: Pick<Deps, 'db' | 'config'>): PublicResponder {
  let r = responders.get(deps);
  if (!r) {
    r = createPublicResponder(deps);
    responders.set(deps, r);
  }
  return r;
}

/**
 * A response that shared caches may keep must not hand one visitor's CSRF token to the next. Feeds set no cookie at
 * all; pages keep only the language a `?lang=` link chose (the same for everyone who follows that link).
 */
function withoutPrivateCookies(res: Response, kind: PublicResource['kind']): Response {
  const cookies = res.headers.getSetCookie();
  if (!cookies.length) return res;
  res.headers.delete('set-cookie');
  if (kind === 'page') for (const cookie of cookies) if (!cookie.startsWith(`${csrfCookie}=`)) res.headers.append('set-cookie', cookie);
  return res;
}
