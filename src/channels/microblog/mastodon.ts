import { setTimeout as delay } from 'node:timers/promises';
import { createRestAPIClient, MastoHttpError, MastoTimeoutError, type mastodon } from 'masto';
import type { Channel, PostImage, PostMessage, SendResult } from '../types';

export interface MastodonChannelOptions {
  /** The instance, e.g. https://mastodon.social (MASTODON_URL). */
  url: string;
  /** An access token with write:statuses and write:media. */
  token: string;
  /** Per request, from sending to the whole answer. Default 10 s. */
  timeoutMs?: number;
  /** How long an image may stay "processing" before we give up. Default 30 s. */
  mediaTimeoutMs?: number;
}

/** Posts (and threads) on a Mastodon account with the `masto` client. */
export function createMastodonChannel(options: MastodonChannelOptions): Channel<'mastodon'> {
  const client = createRestAPIClient({ url: options.url, accessToken: options.token, timeout: options.timeoutMs ?? 10_000 });
  const mediaTimeoutMs = options.mediaTimeoutMs ?? 30_000;

  return {
    id: 'mastodon',
    kind: 'vendor',
    account: new URL(options.url).host,
    async send(message: PostMessage, { idempotencyKey }): Promise<SendResult> {
      try {
        const mediaIds = message.image ? [await uploadImage(client, message.image, mediaTimeoutMs)] : [];
        const parts: { id: string; url: string }[] = [];
        let inReplyToId = message.inReplyTo?.id ?? null;
        for (const [index, text] of message.parts.entries()) {
          // Mastodon answers a repeated Idempotency-Key (for an hour) with the status it already made,
          // so a retry after a lost answer or a crash re-posts nothing, part by part.
          const status = await client.v1.statuses.create(
            { status: text, inReplyToId, visibility: 'public', ...(index === 0 && mediaIds.length ? { mediaIds } : {}) },
            { requestInit: { headers: { 'Idempotency-Key': `${idempotencyKey}-${index}` } } },
          );
          parts.push({ id: status.id, url: status.url ?? status.uri });
          inReplyToId = status.id;
        }
        const first = parts[0];
        if (!first) return { ok: false, retryable: false, error: 'Nothing to post: the message has no parts' };
        return { ok: true, providerId: first.id, url: first.url, parts };
      } catch (err) {
        return describeMastodonError(err);
      }
    },
  };
}

async function uploadImage(client: mastodon.rest.Client, image: PostImage, timeoutMs: number): Promise<string> {
  // Polling is ours rather than masto's: masto always waits a full second first, though most images come back processed.
  let media = await client.v2.media.create({
    file: new Blob([Buffer.from(image.data)], { type: image.contentType }),
    description: image.alt,
    skipPolling: true,
  });
  const deadline = Date.now() + timeoutMs;
  // A large image is processed after the upload answers (202, no url yet), and a status cannot attach it before.
  for (let wait = 100; !media.url; wait = Math.min(wait * 2, 2_000)) {
    if (Date.now() + wait > deadline) throw new MastoTimeoutError('The image was still processing');
    await delay(wait);
    media = await client.v1.media.$select(media.id).fetch();
  }
  return media.id;
}

function describeMastodonError(err: unknown): SendResult {
  if (err instanceof MastoHttpError) {
    const status = err.statusCode;
    const retryable = status >= 500 || status === 429;
    const retryAfter = status === 429 ? retryAfterFrom(err.cause) : undefined;
    return { ok: false, retryable, code: String(status), error: err.message || `HTTP ${status}`, ...(retryAfter !== undefined ? { retryAfter } : {}) };
  }
  if (err instanceof MastoTimeoutError) return { ok: false, retryable: true, code: 'TIMEOUT', error: `Mastodon did not answer in time: ${err.message}` };
  // fetch rejects with a TypeError whose cause carries the socket error (ECONNREFUSED, ECONNRESET...).
  if (err instanceof TypeError) {
    const cause = err.cause as { code?: unknown; message?: unknown } | undefined;
    const code = typeof cause?.code === 'string' ? cause.code : undefined;
    return { ok: false, retryable: true, ...(code ? { code } : {}), error: `Mastodon unreachable: ${typeof cause?.message === 'string' ? cause.message : err.message}` };
  }
  return { ok: false, retryable: false, error: err instanceof Error ? err.message : String(err) };
}

/** Mastodon says when the limit resets (X-RateLimit-Reset, an ISO time); a proxy in front may say Retry-After. */
function retryAfterFrom(response: unknown, now = Date.now()): number | undefined {
  if (!(response instanceof Response)) return undefined;
  const retryAfter = response.headers.get('retry-after')?.trim();
  if (retryAfter && /^\d+$/.test(retryAfter)) return Number(retryAfter);
  const at = Date.parse(retryAfter || response.headers.get('x-ratelimit-reset') || '');
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}
