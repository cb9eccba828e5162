import http from 'node:http';
import https from 'node:https';
import {
  ApiPartialResponseError,
  ApiRequestError,
  ApiResponseError,
  TwitterApi,
  TwitterApiv2,
  type EUploadMimeType,
  type ITwitterApiClientPlugin,
  type SendTweetV2Params,
  type Tweetv2TimelineResult,
  type TweetV2,
  type TweetV2LookupResult,
} from 'twitter-api-v2';
import type { Mention, MentionPage, MicroblogChannel, MicroblogReader, PostImage, PostMessage, PostMetrics, SendResult } from '../types';
import { chunk, maxPagesPerRead, MicroblogReadError, newestId } from './reading';

export interface XChannelOptions {
  /** X's API origin (X_API_URL); staging and tests point it at a fake. Default https://api.x.com. */
  apiUrl?: string;
  /** OAuth 1.0a user context: the app's consumer key/secret and the account's access token/secret. */
  appKey: string;
  appSecret: string;
  accessToken: string;
  accessSecret: string;
  /** Per request (socket inactivity). Default 10 s. */
  timeoutMs?: number;
}

/**
 * Posts (and threads) on X through API v2 with `twitter-api-v2`, OAuth 1.0a-signed by the library, and reads back
 * mentions and counts where the account's API tier allows (the free tier does not: 403).
 */
export function createXChannel(options: XChannelOptions): MicroblogChannel<'x'> & { readonly reader: MicroblogReader } {
  const apiUrl = (options.apiUrl ?? 'https://api.x.com').replace(/\/+$/, '');
  const timeout = options.timeoutMs ?? 10_000;
  // The library always calls https.request; an http.Agent is what lets it speak plain HTTP to a local fake.
  const httpAgent = apiUrl.startsWith('http:') ? new http.Agent({ keepAlive: true }) : new https.Agent({ keepAlive: true });
  const root = new TwitterApi(
    { appKey: options.appKey, appSecret: options.appSecret, accessToken: options.accessToken, accessSecret: options.accessSecret },
    { httpAgent, plugins: [defaultTimeout(timeout)] },
  );
  const client = new XApiV2(root, `${apiUrl}/2/`);
  // X has no idempotency key: parts already posted by an earlier attempt of the same send are
  // remembered, so a retry finishes the thread instead of posting it again (which X refuses as a duplicate).
  const posted = new BoundedMap<string, string>(10_000);

  return {
    id: 'x',
    kind: 'vendor',
    account: new URL(apiUrl).host,
    reader: createXReader(client),
    async send(message: PostMessage, { idempotencyKey }): Promise<SendResult> {
      try {
        const parts: { id: string; url: string }[] = [];
        let inReplyTo = message.inReplyTo?.id;
        for (const [index, text] of message.parts.entries()) {
          const key = `${idempotencyKey}-${index}`;
          let id = posted.get(key);
          if (!id) {
            const mediaId = index === 0 && message.image ? await uploadImage(client, message.image) : undefined;
            const payload: SendTweetV2Params = {
              text,
              ...(inReplyTo ? { reply: { in_reply_to_tweet_id: inReplyTo } } : {}),
              ...(mediaId ? { media: { media_ids: [mediaId] } } : {}),
            };
            id = (await client.tweet(payload)).data.id;
            posted.set(key, id);
          }
          parts.push({ id, url: `https://x.com/i/web/status/${id}` });
          inReplyTo = id;
        }
        const first = parts[0];
        if (!first) return { ok: false, retryable: false, error: 'Nothing to post: the message has no parts' };
        return { ok: true, providerId: first.id, url: first.url, parts };
      } catch (err) {
        return describeXError(err);
      }
    },
  };
}

/** X's largest pages: 100 tweets; tweet lookup takes 100 ids. */
const perPage = 100;
const tweetFields = { expansions: 'author_id', 'tweet.fields': 'created_at,conversation_id,referenced_tweets,author_id', 'user.fields': 'username' };

function createXReader(client: TwitterApiv2): MicroblogReader {
  // The account's user id, asked once (GET /2/users/me is open to every tier).
  let me: Promise<{ id: string; username: string }> | null = null;
  const account = () => {
    me ??= client.me().then((r) => ({ id: r.data.id, username: r.data.username }));
    return me.catch((err: unknown) => {
      me = null;
      throw err;
    });
  };

  const mentionsOf = (result: Tweetv2TimelineResult): Mention[] => {
    const users = new Map((result.includes?.users ?? []).map((u) => [u.id, u.username]));
    return (result.data ?? []).map((tweet: TweetV2) => {
      const username = (tweet.author_id && users.get(tweet.author_id)) || tweet.author_id || 'unknown';
      return {
        id: tweet.id,
        author: `@${username}`,
        // X escapes &, < and > in v2 texts.
        text: tweet.text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&'),
        inReplyToId: tweet.referenced_tweets?.find((r) => r.type === 'replied_to')?.id ?? null,
        rootId: tweet.conversation_id && tweet.conversation_id !== tweet.id ? tweet.conversation_id : null,
        url: `https://x.com/${username}/status/${tweet.id}`,
        at: tweet.created_at ? new Date(tweet.created_at) : new Date(),
      };
    });
  };

  /**
   * X lists newest first; with since_id it lists only newer tweets, page by page back in time. Without a cursor,
   * the latest page only. The cursor is a tweet id, or `time:<ISO>` when nothing was found yet (start_time then).
   */
  async function walkBack(since: string | null, fetchPage: (token: string | undefined) => Promise<Tweetv2TimelineResult>, tokenOf: (r: Tweetv2TimelineResult) => string | undefined): Promise<MentionPage> {
    const items: Mention[] = [];
    const newest: string[] = since && !since.startsWith('time:') ? [since] : [];
    let token: string | undefined;
    let gap = false;
    for (let pages = 1; ; pages++) {
      const page = await fetchPage(token);
      items.push(...mentionsOf(page));
      if (page.meta?.newest_id) newest.push(page.meta.newest_id);
      token = tokenOf(page);
      if (since === null || !token) break;
      if (pages >= maxPagesPerRead) {
        gap = true;
        break;
      }
    }
    // Found nothing yet: from a little before now next time (X ids cannot say "now"; the margin covers clock skew).
    const from = `time:${new Date(Date.now() - 5 * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z')}`;
    return { items, cursor: newestId(newest) ?? since ?? from, more: false, ...(gap ? { gap } : {}) };
  }

  return {
    async fetchMentions(since): Promise<MentionPage> {
      try {
        const { id } = await account();
        return await walkBack(
          since,
          (token) =>
            client.get<Tweetv2TimelineResult>(
              'users/:id/mentions',
              { ...tweetFields, max_results: perPage, ...sinceParams(since), ...(token ? { pagination_token: token } : {}) },
              { params: { id } },
            ),
          (r) => r.meta?.next_token,
        );
      } catch (err) {
        throw readErrorOf(err, 'X mentions need a paid API tier');
      }
    },

    async fetchTagged(tag, since): Promise<MentionPage> {
      try {
        const { username } = await account();
        const query = `#${tag} -from:${username} -is:retweet`;
        return await walkBack(
          since,
          (token) =>
            client.get<Tweetv2TimelineResult>('tweets/search/recent', { ...tweetFields, query, max_results: perPage, ...recentSearchSince(since), ...(token ? { next_token: token } : {}) }),
          (r) => r.meta?.next_token,
        );
      } catch (err) {
        throw readErrorOf(err, 'X search needs a paid API tier');
      }
    },

    async fetchPostMetrics(ids): Promise<Record<string, PostMetrics>> {
      const out: Record<string, PostMetrics> = {};
      try {
        for (const batch of chunk([...new Set(ids)].filter((id) => /^\d+$/.test(id)), perPage)) {
          // Deleted tweets come back in `errors`, not `data`.
          const result = await client.get<TweetV2LookupResult>('tweets', { ids: batch.join(','), 'tweet.fields': 'public_metrics' });
          for (const t of result.data ?? []) {
            if (t.public_metrics) out[t.id] = { boosts: t.public_metrics.retweet_count, likes: t.public_metrics.like_count, replies: t.public_metrics.reply_count };
          }
        }
        return out;
      } catch (err) {
        throw readErrorOf(err, 'X post metrics need a paid API tier');
      }
    },
  };
}

function sinceParams(since: string | null): { since_id?: string; start_time?: string } {
  if (since === null) return {};
  return since.startsWith('time:') ? { start_time: since.slice('time:'.length) } : { since_id: since };
}

/**
 * Recent search reaches 7 days back and refuses (400) a since_id or start_time older than that: after a quiet week
 * the cursor is moved up to what search still covers.
 */
function recentSearchSince(since: string | null, now = Date.now()): { since_id?: string; start_time?: string } {
  if (since === null) return {};
  const oldest = now - 7 * 86_400_000 + 10 * 60_000;
  const at = since.startsWith('time:') ? Date.parse(since.slice('time:'.length)) : tweetTime(since);
  if (at !== null && at < oldest) return { start_time: new Date(oldest).toISOString().replace(/\.\d{3}Z$/, 'Z') };
  return sinceParams(since);
}

/** When a tweet was made, from its id (a snowflake: milliseconds since X's epoch, shifted 22 bits). */
function tweetTime(id: string): number | null {
  return /^\d+$/.test(id) ? Number((BigInt(id) >> 22n) + 1_288_834_974_657n) : null;
}

function readErrorOf(err: unknown, forbidden: string): MicroblogReadError {
  if (err instanceof MicroblogReadError) return err;
  const described = describeXError(err);
  if (described.ok) return new MicroblogReadError(String(err), 'final');
  const status = err instanceof ApiResponseError ? err.code : undefined;
  if (status === 403) return new MicroblogReadError(`${forbidden} (403: ${described.error})`, 'forbidden', status);
  if (status === 429) return new MicroblogReadError(`X rate limit: ${described.error}`, 'rate_limited', status, described.retryAfter);
  return new MicroblogReadError(`X: ${described.error}`, described.retryable ? 'temporary' : 'final', status);
}

/** The library's v2 client with another base URL: its own cloneWithPrefix() cannot construct an ES class. */
class XApiV2 extends TwitterApiv2 {
  constructor(root: TwitterApi, prefix: string) {
    super(root);
    this.setPrefix(prefix);
  }
}

/** The library only applies a timeout when a call asks for one; its high-level methods never do. */
function defaultTimeout(ms: number): ITwitterApiClientPlugin {
  return {
    onBeforeRequestConfig({ params }) {
      params.timeout ??= ms;
    },
  };
}

/** v2 chunked upload (initialize/append/finalize), then the alt text as media metadata. */
async function uploadImage(client: TwitterApiv2, image: PostImage): Promise<string> {
  const mediaId = await client.uploadMedia(Buffer.from(image.data), { media_type: image.contentType as EUploadMimeType });
  if (image.alt) await client.createMediaMetadata(mediaId, { alt_text: { text: image.alt } });
  return mediaId;
}

interface XErrorBody {
  title?: string;
  detail?: string;
  errors?: { message?: string; code?: number }[];
}

function describeXError(err: unknown): SendResult {
  if (err instanceof ApiResponseError) {
    const status = err.code;
    const body = (err.data ?? {}) as XErrorBody;
    const error = body.detail ?? body.errors?.[0]?.message ?? body.title ?? err.message;
    const retryAfter = status === 429 ? retryAfterFrom(err) : undefined;
    return { ok: false, retryable: status >= 500 || status === 429, code: String(status), error, ...(retryAfter !== undefined ? { retryAfter } : {}) };
  }
  if (err instanceof ApiRequestError) {
    // The library keeps the socket error as `_options.error`, while its `requestError` getter reads another key.
    const cause = ((err as unknown as { _options?: { error?: Error } })._options?.error ?? err.requestError ?? err) as Error & { code?: string };
    if (cause.message === 'Request timeout.') return { ok: false, retryable: true, code: 'TIMEOUT', error: 'X did not answer in time' };
    return { ok: false, retryable: true, ...(cause.code ? { code: cause.code } : {}), error: `X unreachable: ${cause.message}` };
  }
  if (err instanceof ApiPartialResponseError) return { ok: false, retryable: true, error: `X cut its answer short: ${err.responseError.message}` };
  return { ok: false, retryable: false, error: err instanceof Error ? err.message : String(err) };
}

/** X sends x-rate-limit-reset (epoch seconds) rather than Retry-After. */
function retryAfterFrom(err: ApiResponseError, now = Date.now()): number | undefined {
  const retryAfter = err.headers['retry-after'];
  if (typeof retryAfter === 'string' && /^\d+$/.test(retryAfter.trim())) return Number(retryAfter.trim());
  const reset = err.rateLimit?.reset;
  return typeof reset === 'number' && reset > 0 ? Math.max(0, reset - Math.floor(now / 1000)) : undefined;
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
