import http from 'node:http';
import https from 'node:https';
import { ApiPartialResponseError, ApiRequestError, ApiResponseError, TwitterApi, TwitterApiv2, type EUploadMimeType, type ITwitterApiClientPlugin, type SendTweetV2Params } from 'twitter-api-v2';
import type { Channel, PostImage, PostMessage, SendResult } from '../types';

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

/** Posts (and threads) on X through API v2 with `twitter-api-v2`, OAuth 1.0a-signed by the library. */
export function createXChannel(options: XChannelOptions): Channel<'x'> {
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
