import Parser from 'rss-parser';
import { findCampaignById } from '../db/campaigns';
import { claimFeedItem, findFeedSource, listFeedSources, recordFeedFetch, releaseFeedItem, settleFeedItem } from '../db/feed-sources';
import type { FeedSource } from '../db/schema-feeds';
import { findStaffById } from '../db/staff';
import type { Deps } from '../deps';
import { AppError } from '../errors';
import { createDraft } from '../updates/lifecycle';
import { limits } from '../updates/validate';

// Whatever creating a draft needs (it may grow), and a log.
type D = Parameters<typeof createDraft>[0] & Pick<Deps, 'db' | 'clock' | 'config' | 'log'>;

export interface ImportOptions {
  /** Whole fetch, headers and body (default 10 s). */
  timeoutMs?: number;
  /** Largest feed read (default 2 MB). */
  maxBytes?: number;
  fetch?: typeof fetch;
}

export interface FeedImportResult {
  feedId: number;
  created: number;
  /** Items seen before (or twice in the same document). */
  duplicates: number;
  /** Items that could not become a draft (no title nor summary, no guid nor link). */
  skipped: number;
  notModified: boolean;
  error: string | null;
}

const defaults = { timeoutMs: 10_000, maxBytes: 2 * 1024 * 1024 };

class FeedFetchError extends Error {}

/** Reads at most `max` bytes of a body; more is an error, not a truncated feed. */
async function readCapped(res: Response, max: number): Promise<Uint8Array> {
  const declared = Number(res.headers.get('content-length'));
  if (declared > max) {
    await res.body?.cancel();
    throw new FeedFetchError(`the feed is larger than ${Math.round(max / 1024)} KB`);
  }
  if (!res.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      throw new FeedFetchError(`the feed is larger than ${Math.round(max / 1024)} KB`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** The charset of the Content-Type header, else of the XML declaration, else UTF-8. */
function decode(bytes: Uint8Array, contentType: string | null): string {
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, 200));
  const charset = contentType?.match(/charset="?([\w-]+)/i)?.[1] ?? head.match(/^<\?xml[^>]*encoding=["']([\w-]+)["']/)?.[1] ?? 'utf-8';
  try {
    return new TextDecoder(charset).decode(bytes);
  } catch {
    return new TextDecoder('utf-8').decode(bytes);
  }
}

function describeFetchError(err: unknown, timeoutMs: number): string {
  if (err instanceof FeedFetchError) return err.message;
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return `no answer within ${Math.round(timeoutMs / 1000)} s`;
  const cause = e.cause?.code ?? e.cause?.message;
  return `unreachable (${cause ?? e.message})`;
}

const collapse = (s: string) => s.replace(/\s+/g, ' ').trim();
// rss-parser's snippets have tags removed and entities decoded; Atom summaries are kept as given.
const stripHtml = (s: string) =>
  s
    .replace(/<[^>]*>/g, ' ')
    .replace(/&nbsp;/g, '\u00a0')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&apos;/g, "'")
    .replace(/&amp;/g, '&');

/** The title, then the summary without HTML; cut at a word to fit an update's lead. */
export function leadOfItem(title: string | undefined, summary: string | undefined): string {
  const t = collapse(title ?? '');
  const s = collapse(summary ?? '');
  const text = t && s && !s.startsWith(t) ? `${t}\n${s}` : t || s;
  const chars = [...text];
  if (chars.length <= limits.lead) return text;
  return `${chars.slice(0, limits.lead - 1).join('').replace(/\s+\S*$/, '')}…`;
}

function absoluteLink(link: string | undefined, base: string): string | null {
  if (!link?.trim()) return null;
  try {
    const url = new URL(link.trim(), base);
    return /^https?:$/.test(url.protocol) && url.href.length <= limits.link ? url.href : null;
  } catch {
    return null;
  }
}

/**
 * Fetches one feed (conditional GET, timeout, size cap) and turns each item not seen before into a draft update of
 * the feed's campaign (source 'rss', never published without approval). What went wrong is recorded on the feed,
 * and returned; it is never thrown, so one broken feed never stops the others.
 */
export async function importFeed(deps: D, source: FeedSource, opts: ImportOptions = {}): Promise<FeedImportResult> {
  const timeoutMs = opts.timeoutMs ?? defaults.timeoutMs;
  const maxBytes = opts.maxBytes ?? defaults.maxBytes;
  const doFetch = opts.fetch ?? fetch;
  const result: FeedImportResult = { feedId: source.id, created: 0, duplicates: 0, skipped: 0, notModified: false, error: null };
  const now = deps.clock.now();

  let text: string;
  let etag: string | null;
  let lastModified: string | null;
  try {
    const headers: Record<string, string> = {
      'user-agent': `Tocsin feed import (+${deps.config.PUBLIC_URL})`,
      accept: 'application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5',
    };
    if (source.etag) headers['if-none-match'] = source.etag;
    if (source.last_modified) headers['if-modified-since'] = source.last_modified;
    const res = await doFetch(source.url, { headers, redirect: 'follow', signal: AbortSignal.timeout(timeoutMs) });
    if (res.status === 304) {
      await res.body?.cancel();
      result.notModified = true;
      await recordFeedFetch(deps.db, source.id, { at: now, error: null, imported: 0 });
      return result;
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new FeedFetchError(`the server answered HTTP ${res.status}`);
    }
    text = decode(await readCapped(res, maxBytes), res.headers.get('content-type'));
    etag = res.headers.get('etag');
    lastModified = res.headers.get('last-modified');
  } catch (err) {
    result.error = describeFetchError(err, timeoutMs);
    await recordFeedFetch(deps.db, source.id, { at: now, error: result.error, imported: 0 });
    deps.log.warn('feed import: fetch failed', { feedId: source.id, url: source.url, error: result.error });
    return result;
  }

  let items: Parser.Item[];
  try {
    items = (await new Parser().parseString(text)).items;
  } catch (err) {
    result.error = `not a readable RSS or Atom feed (${collapse((err as Error).message).slice(0, 200)})`;
    await recordFeedFetch(deps.db, source.id, { at: now, error: result.error, imported: 0 });
    deps.log.warn('feed import: parse failed', { feedId: source.id, url: source.url, error: result.error });
    return result;
  }

  const campaign = await findCampaignById(deps.db, source.campaign_id);
  const adder = source.added_by ? await findStaffById(deps.db, source.added_by) : undefined;
  // The admin who added the feed is the drafts' author while still enabled (so a second person approves them).
  const author = adder && !adder.disabled_at ? adder : null;
  const lang = campaign?.languages[0];
  if (!lang) {
    result.error = 'the feed’s campaign no longer exists';
    await recordFeedFetch(deps.db, source.id, { at: now, error: result.error, imported: 0 });
    return result;
  }

  // An item repeated in one document counts once, as its first occurrence (the one the blog shows).
  const unique = new Map<string, { item: Parser.Item; link: string | null }>();
  for (const item of items) {
    const link = absoluteLink(item.link, source.url);
    const key = ((item.guid ?? (item as { id?: string }).id)?.trim() || link)?.slice(0, 2000);
    if (!key) result.skipped += 1;
    else if (unique.has(key)) result.duplicates += 1;
    else unique.set(key, { item, link });
  }
  // Feeds list the newest first; drafts are created in the blog's order.
  for (const [key, { item, link }] of [...unique].reverse()) {
    if (!(await claimFeedItem(deps.db, source.id, key, now))) {
      result.duplicates += 1;
      continue;
    }
    const summary = item.contentSnippet ?? (item.summary ? stripHtml(item.summary) : undefined);
    const lead = leadOfItem(item.title, summary);
    try {
      if (!lead) throw new AppError('INVALID_INPUT', 'the item has neither title nor summary');
      const updateId = await createDraft(deps, author, { campaignId: source.campaign_id, leads: { [lang]: lead }, needs: [], link: link ?? '', source: 'rss' });
      await settleFeedItem(deps.db, source.id, key, { updateId, error: null });
      result.created += 1;
    } catch (err) {
      if (!(err instanceof AppError)) {
        // The database, not the item: let the next run try it again.
        await releaseFeedItem(deps.db, source.id, key).catch(() => undefined);
        throw err;
      }
      await settleFeedItem(deps.db, source.id, key, { updateId: null, error: err.message.slice(0, 500) });
      result.skipped += 1;
    }
  }
  await recordFeedFetch(deps.db, source.id, { at: now, error: null, etag, lastModified, imported: result.created });
  deps.log.info('feed import: done', { feedId: source.id, created: result.created, duplicates: result.duplicates, skipped: result.skipped });
  return result;
}

/** Imports every feed, one after the other; a feed that fails is recorded and the next one goes on. */
export async function importFeeds(deps: D, opts: ImportOptions = {}): Promise<FeedImportResult[]> {
  const results: FeedImportResult[] = [];
  for (const s of await listFeedSources(deps.db)) {
    try {
      results.push(await importFeed(deps, s, opts));
    } catch (err) {
      deps.log.error('feed import: unexpected error', { feedId: s.id, error: err as Error });
      results.push({ feedId: s.id, created: 0, duplicates: 0, skipped: 0, notModified: false, error: 'internal error (logged)' });
    }
  }
  return results;
}

export async function importFeedById(deps: D, id: number, opts: ImportOptions = {}): Promise<FeedImportResult> {
  const source = await findFeedSource(deps.db, id);
  if (!source) throw new AppError('NOT_FOUND', 'No such feed.');
  return importFeed(deps, source, opts);
}

/**
 * The scheduled task (the job runner calls it, e.g. graphile-worker cron every 15 minutes): imports every feed and
 * logs a summary. Never throws for a feed's sake, so the schedule never stalls on one bad feed.
 */
export async function runRssImport(deps: D, opts: ImportOptions = {}): Promise<{ feeds: number; created: number; failed: number }> {
  const results = await importFeeds(deps, opts);
  const summary = { feeds: results.length, created: results.reduce((n, r) => n + r.created, 0), failed: results.filter((r) => r.error).length };
  deps.log.info('feed import: run finished', summary);
  return summary;
}
