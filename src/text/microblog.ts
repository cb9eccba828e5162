/**
 * Post length rules of the three microblog networks, each counted the way the network's server counts it (a
 * post the preview accepts must not be refused at send time), and the splitting of a long update into a thread.
 */
import twitterText from 'twitter-text';
import { AppError } from '../errors';
import { countGraphemes, listGraphemeEnds } from './graphemes';
import { listWords } from './words';

export const X_LIMIT = 280;
export const BLUESKY_GRAPHEME_LIMIT = 300;
export const BLUESKY_BYTE_LIMIT = 3000;
export const MASTODON_DEFAULT_LIMIT = 500;
const MASTODON_URL_LENGTH = 23;

export interface MicroblogLength {
  length: number;
  limit: number;
  valid: boolean;
}

/**
 * X's own weighted length (twitter-text): every URL 23, CJK and emoji weigh 2. Validity is twitter-text's too,
 * so an empty text or one with invalid characters (U+FFFE…) is not valid.
 */
export function measureX(text: string): MicroblogLength & { limit: typeof X_LIMIT } {
  const parsed = twitterText.parseTweet(text);
  return { length: parsed.weightedLength, limit: X_LIMIT, valid: parsed.valid };
}

export interface BlueskyLength {
  graphemes: number;
  bytes: number;
  valid: boolean;
}

const utf8 = new TextEncoder();

/** The app.bsky.feed.post lexicon caps text at 300 graphemes and 3000 UTF-8 bytes; a post must satisfy both. */
export function measureBluesky(text: string): BlueskyLength {
  const graphemes = countGraphemes(text);
  const bytes = utf8.encode(text).length;
  return { graphemes, bytes, valid: graphemes <= BLUESKY_GRAPHEME_LIMIT && bytes <= BLUESKY_BYTE_LIMIT };
}

// Mastodon's Account::MENTION_RE: @user or @user@domain, not preceded by a word character, "=" or "/".
const MASTODON_MENTION =
  /(?<![=\/\p{L}\p{M}\p{N}_])@([a-z0-9_]+(?:[a-z0-9_.-]+[a-z0-9_]+)?)(?:@[\p{L}\p{M}\p{N}_]+(?:[.-]+[\p{L}\p{M}\p{N}_]+)*)?/giu;

/**
 * What Mastodon's StatusLengthValidator counts: every http(s) URL it would link becomes 23 characters, whatever
 * its length (a bare "example.org" is not linked and counts in full), and "@user@domain" counts as "@user".
 */
export function rewriteCountableMastodonText(text: string): string {
  const urls = twitterText
    .extractUrlsWithIndices(text, { extractUrlsWithoutProtocol: false })
    .map(({ indices: [start, end] }) => ({ start, end, replacement: 'x'.repeat(MASTODON_URL_LENGTH) }));
  const mentions = [...text.matchAll(MASTODON_MENTION)]
    .map((m) => ({ start: m.index, end: m.index + m[0].length, replacement: `@${m[1]}` }))
    .filter((m) => !urls.some((u) => m.start < u.end && u.start < m.end));
  let result = '';
  let last = 0;
  for (const entity of [...urls, ...mentions].sort((a, b) => a.start - b.start)) {
    result += text.slice(last, entity.start) + entity.replacement;
    last = entity.end;
  }
  return result + text.slice(last);
}

/**
 * Mastodon counts graphemes (the server's `mb_chars.grapheme_length`), not UTF-16 units or code points: an emoji
 * ZWJ family is 1. The limit is per server (500 by default), hence the parameter.
 */
export function measureMastodon(text: string, limit = MASTODON_DEFAULT_LIMIT): MicroblogLength {
  const length = countGraphemes(rewriteCountableMastodonText(text));
  return { length, limit, valid: length <= limit };
}

export interface SplitThreadOptions {
  /**
   * A part may end at a sentence end only if that fills at least this share of the limit; otherwise it ends at
   * the last word that fits. Stops a short first sentence from becoming a nearly empty post. Default 0.5.
   */
  minSentenceFill?: number;
}

const SENTENCE_END = /[.!?…]["'»”’)\]]*$/u;

/**
 * Splits text that is over the limit into posts numbered " 1/3", " 2/3"…, each within the limit by `measure`
 * including its number. Parts end at a sentence end when that fills the part well enough, else at a word end;
 * a single word longer than a post is cut between graphemes, but a link never: a link that does not fit in a
 * post on its own is refused. Text within the limit is returned whole, without a number.
 */
export function splitThread(
  text: string,
  measure: (s: string) => number,
  limit: number,
  opts: SplitThreadOptions = {},
): string[] {
  if (measure(text) <= limit) return [text];
  const body = text.trim();
  if (measure(body) <= limit) return [body];
  const minFill = (opts.minSentenceFill ?? 0.5) * limit;
  // The numbers' width depends on the count of parts, known only after splitting: reserve room for the widest
  // number of d digits, and retry with d+1 when there are 10^d parts or more.
  for (let digits = 1; digits <= 4; digits++) {
    const widest = '9'.repeat(digits);
    const reserve = ` ${widest}/${widest}`;
    if (measure(reserve.trimStart()) > limit) break;
    const parts = packThreadParts(body, (piece) => measure(piece + reserve) <= limit, (piece) => measure(piece) >= minFill);
    if (parts.length >= 10 ** digits) continue;
    const numbered = parts.map((part, i) => `${part} ${i + 1}/${parts.length}`);
    // A measure that weighs digits unevenly could still overflow; never hand back a part over the limit.
    if (numbered.every((part) => measure(part) <= limit)) return numbered;
  }
  throw new AppError('INVALID_INPUT', `the text cannot be split into posts of ${limit}`, { limit });
}

function packThreadParts(
  body: string,
  fits: (piece: string) => boolean,
  fillsEnough: (piece: string) => boolean,
): string[] {
  // Bare domains included: cutting "example.org/appeal" is as bad as cutting an https link.
  const links = twitterText.extractUrlsWithIndices(body).map(({ indices: [start, end] }) => ({ start, end }));
  const parts: string[] = [];
  let start = 0;
  while (start < body.length) {
    const end = findPartEnd(body, start, fits, fillsEnough, links);
    parts.push(body.slice(start, end).trimEnd());
    start = listWords(body, end)[0]?.start ?? body.length;
  }
  return parts;
}

function findPartEnd(
  body: string,
  start: number,
  fits: (piece: string) => boolean,
  fillsEnough: (piece: string) => boolean,
  links: { start: number; end: number }[],
): number {
  let lastWordEnd = -1;
  let lastSentenceEnd = -1;
  const words = listWords(body, start);
  for (const [i, word] of words.entries()) {
    const piece = body.slice(start, word.end);
    // Stopping at the first word that does not fit assumes a longer piece never measures shorter.
    if (!fits(piece)) break;
    if (i === words.length - 1) return word.end;
    lastWordEnd = word.end;
    const next = words[i + 1]!;
    const paragraph = body.slice(word.end, next.start).includes('\n');
    if (paragraph || SENTENCE_END.test(word.text)) lastSentenceEnd = word.end;
  }
  if (lastSentenceEnd !== -1 && fillsEnough(body.slice(start, lastSentenceEnd))) return lastSentenceEnd;
  if (lastWordEnd !== -1) return lastWordEnd;

  // Not even the first word fits: cut it between graphemes, outside links.
  const word = words[0]!;
  const insideLink = (at: number) => links.some((l) => l.start < at && at < l.end);
  let end = -1;
  for (const graphemeEnd of listGraphemeEnds(word.text)) {
    const at = word.start + graphemeEnd;
    if (insideLink(at)) continue;
    if (!fits(body.slice(start, at))) break;
    end = at;
  }
  if (end < 0) {
    throw new AppError('INVALID_INPUT', 'a link is too long to fit in one post', { word: word.text });
  }
  return end;
}

export function threadForX(text: string): string[] {
  return splitThread(text, (s) => measureX(s).length, X_LIMIT);
}

/**
 * Both Bluesky caps as one measure: bytes ≤ 3000 exactly when ⌈bytes / 10⌉ ≤ 300, so the larger of graphemes
 * and ⌈bytes / 10⌉ is within 300 exactly when the post is valid.
 */
export function threadForBluesky(text: string): string[] {
  const ratio = BLUESKY_BYTE_LIMIT / BLUESKY_GRAPHEME_LIMIT;
  return splitThread(
    text,
    (s) => {
      const { graphemes, bytes } = measureBluesky(s);
      return Math.max(graphemes, Math.ceil(bytes / ratio));
    },
    BLUESKY_GRAPHEME_LIMIT,
  );
}

export function threadForMastodon(text: string, limit = MASTODON_DEFAULT_LIMIT): string[] {
  return splitThread(text, (s) => measureMastodon(s, limit).length, limit);
}
