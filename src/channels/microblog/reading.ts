/**
 * What the three microblog readers share: one error type the poller can act on,
 * how far one read may walk back, and small text and id helpers.
 */

/**
 * - `forbidden`: the account or API tier may not read this (X's free tier and mentions; a Mastodon token without
 *   the read scope). Asking again every minute changes nothing, so the poller waits hours before it does.
 * - `rate_limited`: wait `retryAfter` seconds.
 * - `temporary`: 5xx, timeouts, refused connections: the next run tries again.
 * - `final`: any other refusal (401, 400...): recorded for staff, tried again next run.
 */
export type MicroblogReadErrorKind = 'forbidden' | 'rate_limited' | 'temporary' | 'final';

export class MicroblogReadError extends Error {
  override name = 'MicroblogReadError';
  constructor(
    message: string,
    readonly kind: MicroblogReadErrorKind,
    readonly status?: number,
    /** Seconds, for `rate_limited`. */
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

/**
 * Bluesky and X only list newest first, so reading "everything since the cursor" walks back page by page. Past
 * this many pages in one read (1,000 mentions), the oldest are left out and the page says so (`gap`).
 */
export const maxPagesPerRead = 10;

/** Mastodon and X ids are decimal strings of growing length; Akkoma's flake ids are fixed-length and sortable. */
export function isNewerId(a: string, than: string | null): boolean {
  if (than === null) return true;
  return a.length !== than.length ? a.length > than.length : a > than;
}

export function newestId(ids: string[]): string | null {
  let newest: string | null = null;
  for (const id of ids) if (isNewerId(id, newest)) newest = id;
  return newest;
}

export function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

const namedEntities: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
    if (name[0] === '#') {
      const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return namedEntities[name.toLowerCase()] ?? whole;
  });
}

/** Mastodon's status HTML (paragraphs, line breaks, links, mention spans) as the plain text a person typed. */
export function htmlToText(html: string): string {
  const text = html
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<\/p>\s*<p[^>]*>/gi, '\n\n')
    // Mastodon hides the middle of long links in "invisible" spans and shows "…" with an "ellipsis" class: the
    // text keeps the whole link.
    .replace(/<[^>]*>/g, '');
  return decodeEntities(text).trim();
}
