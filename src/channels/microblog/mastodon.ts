import { setTimeout as delay } from 'node:timers/promises';
import { createRestAPIClient, MastoHttpError, MastoTimeoutError, type mastodon } from 'masto';
import type { Mention, MentionPage, MicroblogChannel, MicroblogReader, PostImage, PostMessage, PostMetrics, SendResult } from '../types';
import { chunk, htmlToText, MicroblogReadError, newestId } from './reading';

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

/** Posts (and threads) on a Mastodon account with the `masto` client, and reads back its mentions and counts. */
export function createMastodonChannel(options: MastodonChannelOptions): MicroblogChannel<'mastodon'> & { readonly reader: MicroblogReader } {
  const client = createRestAPIClient({ url: options.url, accessToken: options.token, timeout: options.timeoutMs ?? 10_000 });
  const mediaTimeoutMs = options.mediaTimeoutMs ?? 30_000;
  const host = new URL(options.url).host;

  return {
    id: 'mastodon',
    kind: 'vendor',
    account: host,
    reader: createMastodonReader(client, host),
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

/** Mastodon's largest pages: notifications 80, timelines 40; statuses fetched 20 at a time. */
const notificationsPerPage = 80;
const tagStatusesPerPage = 40;
const statusesPerFetch = 20;

function createMastodonReader(client: mastodon.rest.Client, host: string): MicroblogReader {
  let ownAccountId: Promise<string> | null = null;
  // GET /api/v1/statuses?id[]= came with Mastodon 4.3; an older instance answers 404 and gets one request per status.
  let multiGet = true;

  const mentionOf = (status: mastodon.v1.Status): Mention => {
    const text = htmlToText(status.content);
    return {
      id: status.id,
      // A local account's acct has no domain: the instance's is added, so every sender reads the same way.
      author: `@${status.account.acct.includes('@') ? status.account.acct : `${status.account.acct}@${host}`}`,
      text: status.spoilerText ? `${status.spoilerText}\n\n${text}` : text,
      inReplyToId: status.inReplyToId ?? null,
      rootId: null,
      url: status.url ?? status.uri,
      at: new Date(status.createdAt),
    };
  };

  /**
   * Reads forward from `since` with min_id (the page just after it, which Mastodon lists newest first), so a backlog
   * is stored page by page, oldest page first. Without a cursor, the latest page only.
   */
  async function pageAfter<T extends { id: string }>(since: string | null, limit: number, list: (params: { limit: number; minId?: string }) => PromiseLike<T[]>) {
    const page = await list({ limit, ...(since ? { minId: since } : {}) });
    // Found nothing yet: from the beginning next time (min_id=0), which is everything after this read.
    return { page, cursor: newestId(page.map((p) => p.id)) ?? since ?? '0', more: since !== null && page.length >= limit };
  }

  return {
    async fetchMentions(since): Promise<MentionPage> {
      try {
        // include_filtered (Mastodon 4.3+; older instances ignore it): a private mention from someone the account does
        // not follow is set aside by the default notification policy, and a donor writing privately must still be read.
        const list = (params: { limit: number; minId?: string }) => client.v1.notifications.list({ ...params, types: ['mention'], includeFiltered: true } as mastodon.rest.v1.ListNotificationsParams);
        const { page, cursor, more } = await pageAfter(since, notificationsPerPage, list);
        // A mention whose status was deleted since comes without one; the cursor still moves past it.
        const items = page.flatMap((n) => (n.type === 'mention' && n.status ? [mentionOf(n.status)] : []));
        return { items, cursor, more };
      } catch (err) {
        throw readErrorOf(err, 'mentions', 'read:notifications');
      }
    },

    async fetchTagged(tag, since): Promise<MentionPage> {
      try {
        ownAccountId ??= client.v1.accounts.verifyCredentials().then((a) => a.id);
        const own = await ownAccountId.catch((err: unknown) => {
          ownAccountId = null;
          throw err;
        });
        const { page, cursor, more } = await pageAfter(since, tagStatusesPerPage, (params) => client.v1.timelines.tag.$select(tag).list(params));
        return { items: page.filter((s) => s.account.id !== own && !s.reblog).map(mentionOf), cursor, more };
      } catch (err) {
        throw readErrorOf(err, `#${tag}`, 'read:statuses and read:accounts');
      }
    },

    async fetchPostMetrics(ids): Promise<Record<string, PostMetrics>> {
      const out: Record<string, PostMetrics> = {};
      try {
        for (const batch of chunk([...new Set(ids)], statusesPerFetch)) {
          let statuses: (mastodon.v1.Status | null)[] | null = null;
          if (multiGet) {
            try {
              statuses = await client.v1.statuses.fetch({ id: batch });
            } catch (err) {
              if (!(err instanceof MastoHttpError && err.statusCode === 404)) throw err;
              multiGet = false;
            }
          }
          statuses ??= await Promise.all(
            batch.map((id) =>
              client.v1.statuses
                .$select(id)
                .fetch()
                // Deleted, or no longer visible: left out.
                .catch((err: unknown) => (err instanceof MastoHttpError && err.statusCode === 404 ? null : Promise.reject(err))),
            ),
          );
          for (const s of statuses) if (s) out[s.id] = { boosts: s.reblogsCount, likes: s.favouritesCount, replies: s.repliesCount };
        }
        return out;
      } catch (err) {
        throw readErrorOf(err, 'statuses', 'read:statuses');
      }
    },
  };
}

function readErrorOf(err: unknown, what: string, scope: string): MicroblogReadError {
  if (err instanceof MicroblogReadError) return err;
  const described = describeMastodonError(err);
  if (described.ok) return new MicroblogReadError(String(err), 'final');
  const status = err instanceof MastoHttpError ? err.statusCode : undefined;
  if (status === 403) return new MicroblogReadError(`Mastodon refused to list ${what} (the token needs ${scope}): ${described.error}`, 'forbidden', status);
  if (status === 429) return new MicroblogReadError(`Mastodon rate limit: ${described.error}`, 'rate_limited', status, described.retryAfter);
  return new MicroblogReadError(`Mastodon ${what}: ${described.error}`, described.retryable ? 'temporary' : 'final', status);
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
