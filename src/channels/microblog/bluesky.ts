import { AppBskyRichtextFacet, AtpAgent, AtUri, RichText, XRPCError, type AppBskyEmbedImages, type AppBskyFeedDefs, type AppBskyFeedPost, type AppBskyNotificationListNotifications } from '@atproto/api';
import type { Mention, MentionPage, MicroblogChannel, MicroblogReader, PostImage, PostMessage, PostMetrics, SendResult } from '../types';
import { chunk, maxPagesPerRead, MicroblogReadError } from './reading';

export interface BlueskyChannelOptions {
  /** The account's PDS or entryway, e.g. https://bsky.social (BLUESKY_SERVICE). */
  service: string;
  handle: string;
  /** An app password, never the account password. */
  appPassword: string;
  /** Per request, from sending to the whole answer. Default 10 s. */
  timeoutMs?: number;
}

interface StrongRef {
  uri: string;
  cid: string;
}

/** Posts (and threads) on a Bluesky account with `@atproto/api`, and reads back its replies, mentions and counts. */
export function createBlueskyChannel(options: BlueskyChannelOptions): MicroblogChannel<'bluesky'> & { readonly reader: MicroblogReader } {
  const agent = new AtpAgent({ service: options.service, fetch: fetchWithTimeout(options.timeoutMs ?? 10_000) });
  let loggingIn: Promise<unknown> | null = null;
  // Bluesky has no idempotency key: parts already posted by an earlier attempt of the same
  // send are remembered, so a retry finishes the thread instead of starting it again.
  const posted = new BoundedMap<string, StrongRef>(10_000);

  /** One login shared by concurrent sends; AtpAgent refreshes the session itself until the refresh token expires. */
  async function ensureSession() {
    if (agent.hasSession) return;
    loggingIn ??= agent.login({ identifier: options.handle, password: options.appPassword }).finally(() => {
      loggingIn = null;
    });
    await loggingIn;
  }

  /** A read with the shared session; when even the refresh token expired, logs in again once. */
  async function authed<T>(read: () => Promise<T>): Promise<T> {
    await ensureSession();
    try {
      return await read();
    } catch (err) {
      if (!isExpiredSession(err) || agent.hasSession) throw err;
      await ensureSession();
      return await read();
    }
  }

  async function post(message: PostMessage, idempotencyKey: string): Promise<SendResult> {
    let { root, parent } = replyTarget(message.inReplyTo);
    const parts: { id: string; uri: string; cid: string; url: string }[] = [];
    for (const [index, text] of message.parts.entries()) {
      const key = `${idempotencyKey}-${index}`;
      let ref = posted.get(key);
      if (!ref) {
        const embed = index === 0 && message.image ? await embedImage(agent, message.image) : undefined;
        const record: Omit<AppBskyFeedPost.Record, '$type'> = {
          ...(await richText(agent, text)),
          createdAt: new Date().toISOString(),
          ...(parent && root ? { reply: { root, parent } } : {}),
          ...(embed ? { embed } : {}),
        };
        const created = await agent.post(record);
        ref = { uri: created.uri, cid: created.cid };
        posted.set(key, ref);
      }
      parts.push({ id: ref.uri, uri: ref.uri, cid: ref.cid, url: postUrl(agent.session?.handle ?? options.handle, ref.uri) });
      parent = ref;
      root ??= ref;
    }
    const first = parts[0];
    if (!first) return { ok: false, retryable: false, error: 'Nothing to post: the message has no parts' };
    return { ok: true, providerId: first.uri, url: first.url, parts };
  }

  return {
    id: 'bluesky',
    kind: 'vendor',
    account: options.handle,
    reader: createBlueskyReader(agent, authed),
    async send(message: PostMessage, { idempotencyKey }): Promise<SendResult> {
      try {
        await ensureSession();
        return await post(message, idempotencyKey);
      } catch (err) {
        // The refresh token expired too, and the agent dropped the session: log in again, once.
        if (isExpiredSession(err) && !agent.hasSession) {
          try {
            await ensureSession();
            return await post(message, idempotencyKey);
          } catch (again) {
            return describeBlueskyError(again);
          }
        }
        return describeBlueskyError(err);
      }
    },
  };
}

/** Bluesky's largest pages: notifications and search 100; getPosts takes 25 uris. */
const perPage = 100;
const postsPerFetch = 25;

interface Entry {
  /** When the network indexed it: the order Bluesky lists in, and our cursor. */
  sortAt: string;
  /** Null for what is read past but not kept (the account's own posts, other kinds of notification). */
  mention: Mention | null;
}

function createBlueskyReader(agent: AtpAgent, authed: <T>(read: () => Promise<T>) => Promise<T>): MicroblogReader {
  const mentionOf = (uri: string, cid: string, author: { handle: string }, record: unknown, indexedAt: string): Mention => {
    const r = record as { text?: unknown; reply?: { parent?: { uri?: string }; root?: { uri?: string; cid?: string } } };
    const root = r.reply?.root?.uri && r.reply.root.cid ? { rootUri: r.reply.root.uri, rootCid: r.reply.root.cid } : {};
    return {
      id: uri,
      author: `@${author.handle}`,
      text: typeof r.text === 'string' ? r.text : '',
      inReplyToId: r.reply?.parent?.uri ?? null,
      rootId: r.reply?.root?.uri ?? null,
      url: postUrl(author.handle, uri),
      // indexedAt rather than the record's createdAt, which is whatever the writer's app claimed.
      at: new Date(indexedAt),
      // An answer continues the thread this one is in (or starts one under it).
      answerRef: { uri, cid, ...root },
    };
  };

  return {
    async fetchMentions(since): Promise<MentionPage> {
      try {
        return await authed(() =>
          walkBack(since, async (cursor) => {
            const { data } = await agent.app.bsky.notification.listNotifications({ reasons: ['reply', 'mention'], limit: perPage, ...(cursor ? { cursor } : {}) });
            const entries = data.notifications.map((n: AppBskyNotificationListNotifications.Notification) => ({
              sortAt: n.indexedAt,
              // A server that ignores `reasons` still lists likes and follows: read past them.
              mention: n.reason === 'reply' || n.reason === 'mention' ? mentionOf(n.uri, n.cid, n.author, n.record, n.indexedAt) : null,
            }));
            return { entries, cursor: data.cursor };
          }),
        );
      } catch (err) {
        throw readErrorOf(err, 'notifications');
      }
    },

    async fetchTagged(tag, since): Promise<MentionPage> {
      try {
        return await authed(() =>
          walkBack(since, async (cursor) => {
            const { data } = await agent.app.bsky.feed.searchPosts({ q: `#${tag}`, tag: [tag], sort: 'latest', limit: perPage, ...(since ? { since } : {}), ...(cursor ? { cursor } : {}) });
            const own = agent.session?.did;
            const entries = data.posts.map((p: AppBskyFeedDefs.PostView) => ({ sortAt: p.indexedAt, mention: p.author.did === own ? null : mentionOf(p.uri, p.cid, p.author, p.record, p.indexedAt) }));
            return { entries, cursor: data.cursor };
          }),
        );
      } catch (err) {
        throw readErrorOf(err, `#${tag}`);
      }
    },

    async fetchPostMetrics(ids): Promise<Record<string, PostMetrics>> {
      const out: Record<string, PostMetrics> = {};
      try {
        for (const uris of chunk([...new Set(ids)].filter((id) => id.startsWith('at://')), postsPerFetch)) {
          const { data } = await authed(() => agent.app.bsky.feed.getPosts({ uris }));
          for (const p of data.posts) out[p.uri] = { boosts: p.repostCount ?? 0, likes: p.likeCount ?? 0, replies: p.replyCount ?? 0 };
        }
        return out;
      } catch (err) {
        throw readErrorOf(err, 'posts');
      }
    },
  };
}

/**
 * Bluesky lists newest first and its cursor only goes back in time, so "since" walks back until it meets what the
 * last read had already seen (its newest indexedAt, kept as our cursor). Entries at exactly that time are read
 * again and stored once (the replies table is unique per post). Without a cursor, the latest page only.
 */
async function walkBack(since: string | null, fetchPage: (cursor: string | undefined) => Promise<{ entries: Entry[]; cursor?: string }>): Promise<MentionPage> {
  const sinceMs = since === null ? null : Date.parse(since);
  const items: Mention[] = [];
  let newest: { at: number; raw: string } | null = null;
  let cursor: string | undefined;
  let gap = false;
  for (let pages = 1; ; pages++) {
    const page = await fetchPage(cursor);
    let reachedSeen = false;
    for (const entry of page.entries) {
      const at = Date.parse(entry.sortAt);
      if (sinceMs !== null && at < sinceMs) {
        reachedSeen = true;
        break;
      }
      if (!newest || at > newest.at) newest = { at, raw: entry.sortAt };
      if (entry.mention) items.push(entry.mention);
    }
    if (sinceMs === null || reachedSeen || !page.cursor || page.entries.length === 0) break;
    if (pages >= maxPagesPerRead) {
      gap = true;
      break;
    }
    cursor = page.cursor;
  }
  // Found nothing yet: everything since the epoch next time, which is everything after this read.
  return { items, cursor: newest?.raw ?? since ?? new Date(0).toISOString(), more: false, ...(gap ? { gap } : {}) };
}

function readErrorOf(err: unknown, what: string): MicroblogReadError {
  if (err instanceof MicroblogReadError) return err;
  const described = describeBlueskyError(err);
  if (described.ok) return new MicroblogReadError(String(err), 'final');
  const status = err instanceof XRPCError ? err.status : undefined;
  if (status === 403) return new MicroblogReadError(`Bluesky refused to list ${what}: ${described.error}`, 'forbidden', status);
  if (status === 429) return new MicroblogReadError(`Bluesky rate limit: ${described.error}`, 'rate_limited', status, described.retryAfter);
  return new MicroblogReadError(`Bluesky ${what}: ${described.error}`, described.retryable ? 'temporary' : 'final', status);
}

function replyTarget(inReplyTo: PostMessage['inReplyTo']): { root?: StrongRef; parent?: StrongRef } {
  if (!inReplyTo) return {};
  const uri = inReplyTo.uri ?? inReplyTo.id;
  if (!uri.startsWith('at://') || !inReplyTo.cid) throw new InvalidReplyTarget();
  const parent = { uri, cid: inReplyTo.cid };
  const root = inReplyTo.rootUri && inReplyTo.rootCid ? { uri: inReplyTo.rootUri, cid: inReplyTo.rootCid } : parent;
  return { root, parent };
}

class InvalidReplyTarget extends Error {
  constructor() {
    super('A Bluesky answer needs the at:// uri and cid of the post it answers');
  }
}

/**
 * Links, hashtags and mentions become facets, or Bluesky shows them as plain text.
 * Mentions are resolved through our own PDS (never a third party); one that does not
 * resolve stays plain text, since a facet without a DID is rejected.
 */
async function richText(agent: AtpAgent, text: string): Promise<Pick<AppBskyFeedPost.Record, 'text' | 'facets'>> {
  const rt = new RichText({ text });
  await rt.detectFacets(agent);
  const facets = rt.facets?.filter((facet) => facet.features.every((f) => !AppBskyRichtextFacet.isMention(f) || f.did));
  return { text: rt.text, ...(facets?.length ? { facets } : {}) };
}

async function embedImage(agent: AtpAgent, image: PostImage): Promise<AppBskyEmbedImages.Main & { $type: 'app.bsky.embed.images' }> {
  const uploaded = await agent.uploadBlob(image.data, { encoding: image.contentType });
  return { $type: 'app.bsky.embed.images', images: [{ image: uploaded.data.blob, alt: image.alt }] };
}

function postUrl(handle: string, uri: string): string {
  return `https://bsky.app/profile/${handle}/post/${new AtUri(uri).rkey}`;
}

function fetchWithTimeout(timeoutMs: number): typeof fetch {
  return (input, init) => {
    const own = init?.signal ?? (input instanceof Request ? input.signal : undefined);
    const timeout = AbortSignal.timeout(timeoutMs);
    return fetch(input, { ...init, signal: own ? AbortSignal.any([own, timeout]) : timeout });
  };
}

function isExpiredSession(err: unknown): boolean {
  return err instanceof XRPCError && (err.status === 401 || err.error === 'ExpiredToken' || err.error === 'InvalidToken');
}

function describeBlueskyError(err: unknown): SendResult {
  if (err instanceof InvalidReplyTarget) return { ok: false, retryable: false, error: err.message };
  if (!(err instanceof XRPCError)) return { ok: false, retryable: false, error: err instanceof Error ? err.message : String(err) };
  // Status 1 (Unknown): no HTTP answer at all; the cause says why.
  if (err.status === 1) {
    const cause = err.cause as { name?: unknown; code?: unknown; cause?: { code?: unknown; message?: unknown } } | undefined;
    if (cause?.name === 'TimeoutError') return { ok: false, retryable: true, code: 'TIMEOUT', error: 'Bluesky did not answer in time' };
    const code = typeof cause?.cause?.code === 'string' ? cause.cause.code : undefined;
    return { ok: false, retryable: true, ...(code ? { code } : {}), error: `Bluesky unreachable: ${typeof cause?.cause?.message === 'string' ? cause.cause.message : err.message}` };
  }
  const retryable = err.status === 429 || err.status >= 500 || err.status === 2;
  const retryAfter = err.status === 429 ? retryAfterFrom(err.headers) : undefined;
  return { ok: false, retryable, code: err.error ?? String(err.status), error: err.message, ...(retryAfter !== undefined ? { retryAfter } : {}) };
}

/** The PDS sends RateLimit-Reset (epoch seconds); a proxy in front may send Retry-After. */
function retryAfterFrom(headers: Record<string, string | undefined> | undefined, now = Date.now()): number | undefined {
  const retryAfter = headers?.['retry-after']?.trim();
  if (retryAfter && /^\d+$/.test(retryAfter)) return Number(retryAfter);
  const reset = headers?.['ratelimit-reset']?.trim();
  if (reset && /^\d+$/.test(reset)) return Math.max(0, Number(reset) - Math.floor(now / 1000));
  return undefined;
}

/** A Map that forgets its oldest entries past `limit`, so a long-running worker does not grow without end. */
class BoundedMap<K, V> extends Map<K, V> {
  constructor(private readonly limit: number) {
    super();
  }
  override set(key: K, value: V): this {
    super.set(key, value);
    if (this.size > this.limit) this.delete(this.keys().next().value as K);
    return this;
  }
}
