import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors';
import { splitGraphemes } from '../../src/text/graphemes';
import {
  measureBluesky,
  measureMastodon,
  measureX,
  splitThread,
  threadForBluesky,
  threadForMastodon,
  threadForX,
} from '../../src/text/microblog';

const FAMILY = '👨‍👩‍👧‍👦'; // 4 emoji joined by 3 ZWJ: 1 grapheme, 11 UTF-16 units, 25 UTF-8 bytes
const longUrl = (length: number) => {
  const base = 'https://example.org/appeal/';
  return base + 'x'.repeat(length - base.length);
};
const LABEL = / (\d+)\/(\d+)$/;

/** The parts without their numbers, checking the numbers run 1/n … n/n. */
function stripNumbers(parts: string[]): string[] {
  return parts.map((part, i) => {
    const m = LABEL.exec(part);
    expect(m, `part ${i + 1} has no number: ${part}`).not.toBeNull();
    expect([Number(m![1]), Number(m![2])]).toEqual([i + 1, parts.length]);
    return part.slice(0, m!.index);
  });
}

const normalizeSpace = (s: string) => s.trim().split(/\s+/).join(' ');

describe('measureX', () => {
  it('counts plain text one per character', () => {
    expect(measureX('Water reached Jérémie.')).toEqual({ length: 22, limit: 280, valid: true });
  });

  it('counts a 100-character URL as 23', () => {
    const url = longUrl(100);
    expect(url).toHaveLength(100);
    expect(measureX(`Give: ${url}`)).toMatchObject({ length: 6 + 23, valid: true });
  });

  it('is valid up to 280 and not beyond, URLs included', () => {
    expect(measureX('a'.repeat(280))).toMatchObject({ length: 280, valid: true });
    expect(measureX('a'.repeat(281))).toMatchObject({ length: 281, valid: false });
    expect(measureX(`${'a'.repeat(256)} ${longUrl(120)}`)).toMatchObject({ length: 280, valid: true });
    expect(measureX(`${'a'.repeat(257)} ${longUrl(120)}`)).toMatchObject({ length: 281, valid: false });
  });

  it('weighs CJK characters and emoji 2', () => {
    expect(measureX('中'.repeat(140))).toMatchObject({ length: 280, valid: true });
    expect(measureX('中'.repeat(141))).toMatchObject({ length: 282, valid: false });
    expect(measureX(`Merci ${FAMILY}`).length).toBe(8);
  });

  it('follows twitter-text in refusing an empty post', () => {
    expect(measureX('')).toMatchObject({ length: 0, valid: false });
  });
});

describe('measureBluesky', () => {
  it('counts an emoji ZWJ sequence as 1 grapheme and its UTF-8 bytes', () => {
    expect(measureBluesky(FAMILY)).toEqual({ graphemes: 1, bytes: 25, valid: true });
  });

  it('counts a letter with combining accents as 1 grapheme', () => {
    expect(measureBluesky('e\u0301')).toEqual({ graphemes: 1, bytes: 3, valid: true });
    expect(measureBluesky('a\u0323\u0302')).toEqual({ graphemes: 1, bytes: 5, valid: true });
    // 600 UTF-16 units, but 300 graphemes: within the limit.
    expect(measureBluesky('e\u0301'.repeat(300))).toEqual({ graphemes: 300, bytes: 900, valid: true });
  });

  it('is valid up to 300 graphemes and not beyond', () => {
    expect(measureBluesky('a'.repeat(300))).toMatchObject({ graphemes: 300, valid: true });
    expect(measureBluesky('a'.repeat(301))).toMatchObject({ graphemes: 301, valid: false });
    expect(measureBluesky(FAMILY.repeat(301))).toMatchObject({ graphemes: 301, valid: false });
  });

  it('refuses a text under 300 graphemes that is over 3000 bytes', () => {
    expect(measureBluesky(FAMILY.repeat(120))).toEqual({ graphemes: 120, bytes: 3000, valid: true });
    expect(measureBluesky(FAMILY.repeat(121))).toEqual({ graphemes: 121, bytes: 3025, valid: false });
  });

  it('counts URLs in full (Bluesky has no URL shortening in its limit)', () => {
    expect(measureBluesky(longUrl(100)).graphemes).toBe(100);
  });
});

describe('measureMastodon', () => {
  it('counts any http(s) URL as 23', () => {
    expect(measureMastodon(`Give: ${longUrl(100)}`)).toEqual({ length: 6 + 23, limit: 500, valid: true });
    expect(measureMastodon('http://a.io')).toMatchObject({ length: 23 });
  });

  it('counts a bare domain in full, as Mastodon does not link it', () => {
    expect(measureMastodon('example.org/appeal').length).toBe(18);
  });

  it('counts a remote mention as its @user part', () => {
    expect(measureMastodon('@alice@example.social merci').length).toBe('@alice merci'.length);
    expect(measureMastodon('cc @bob').length).toBe(7);
  });

  it('does not take an e-mail address or a URL path for a mention', () => {
    expect(measureMastodon('alice@example.org').length).toBe(17);
    expect(measureMastodon('https://mastodon.social/@alice@example.social').length).toBe(23);
  });

  it('counts graphemes, so a ZWJ family is 1', () => {
    expect(measureMastodon(`Merci ${FAMILY}`).length).toBe(7);
    expect(measureMastodon('e\u0301'.repeat(500))).toMatchObject({ length: 500, valid: true });
  });

  it('is valid up to the default 500', () => {
    expect(measureMastodon('a'.repeat(500))).toEqual({ length: 500, limit: 500, valid: true });
    expect(measureMastodon('a'.repeat(501))).toEqual({ length: 501, limit: 500, valid: false });
  });

  it('takes a server-specific limit', () => {
    expect(measureMastodon('a'.repeat(501), 1000)).toEqual({ length: 501, limit: 1000, valid: true });
    expect(measureMastodon(`${'a'.repeat(477)} ${longUrl(200)}`, 501)).toEqual({ length: 501, limit: 501, valid: true });
    expect(measureMastodon(`${'a'.repeat(478)} ${longUrl(200)}`, 501)).toMatchObject({ valid: false });
  });
});

const sentences = [
  'Séisme en Haïti : nos équipes distribuent de l’eau à Jérémie.',
  'Il manque encore 4 000 bâches et 12 000 litres d’eau.',
  'Les routes vers Les Cayes sont coupées depuis hier soir.',
  'Un convoi partira demain matin si la météo le permet.',
  'Merci à tous les donateurs qui ont répondu si vite !',
];
const longUpdate = Array.from({ length: 4 }, () => sentences.join(' ')).join(' ');

describe('splitThread', () => {
  const byLength = (s: string) => s.length;

  it('returns text within the limit as one part without a number', () => {
    expect(splitThread('Short update.', byLength, 280)).toEqual(['Short update.']);
    expect(threadForX('a'.repeat(280))).toEqual(['a'.repeat(280)]);
  });

  it('numbers the parts, keeps each within the limit and loses no word', () => {
    const parts = splitThread(longUpdate, byLength, 140);
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) expect(part.length).toBeLessThanOrEqual(140);
    expect(normalizeSpace(stripNumbers(parts).join(' '))).toBe(normalizeSpace(longUpdate));
  });

  it('ends parts at sentence ends when they fill the part well', () => {
    const parts = stripNumbers(splitThread(longUpdate, byLength, 140));
    for (const part of parts.slice(0, -1)) expect(part).toMatch(/[.!]$/);
  });

  it('falls back to word ends inside a sentence longer than the limit', () => {
    const sentence = Array.from({ length: 60 }, (_, i) => `mot${i}`).join(' ');
    const parts = stripNumbers(splitThread(sentence, byLength, 50));
    const words = new Set(sentence.split(' '));
    for (const part of parts) for (const word of part.split(' ')) expect(words.has(word)).toBe(true);
    expect(parts.join(' ')).toBe(sentence);
  });

  it('does not end a part at a sentence end that leaves it mostly empty', () => {
    const text = `Short. ${'long '.repeat(60).trim()}.`;
    const parts = stripNumbers(splitThread(text, byLength, 100));
    expect(parts[0]!.startsWith('Short. long')).toBe(true);
    const eager = stripNumbers(splitThread(text, byLength, 100, { minSentenceFill: 0 }));
    expect(eager[0]).toBe('Short.');
  });

  it('treats a line break as a place to end a part', () => {
    const text = `${'a '.repeat(30).trim()}\n${'b '.repeat(40).trim()}`;
    const parts = stripNumbers(splitThread(text, byLength, 80));
    expect(parts[0]).toBe('a '.repeat(30).trim());
  });

  it('widens the numbers when there are 10 parts or more', () => {
    const text = Array.from({ length: 80 }, (_, i) => `w${i}`).join(' ');
    const parts = splitThread(text, byLength, 30);
    expect(parts.length).toBeGreaterThanOrEqual(10);
    for (const part of parts) expect(part.length).toBeLessThanOrEqual(30);
    expect(parts.at(-1)).toMatch(new RegExp(` ${parts.length}/${parts.length}$`));
    expect(stripNumbers(parts).join(' ')).toBe(text);
  });

  it('never cuts inside a grapheme, even in a word longer than a part', () => {
    const parts = stripNumbers(splitThread(FAMILY.repeat(10), byLength, 40));
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) {
      expect(splitGraphemes(part).every((g) => g === FAMILY)).toBe(true);
    }
    expect(parts.join('')).toBe(FAMILY.repeat(10));
  });

  it('never cuts inside a URL', () => {
    const url = longUrl(60);
    const text = Array.from({ length: 6 }, (_, i) => `Étape ${i} du convoi, détails ${url}`).join(' ');
    const parts = stripNumbers(splitThread(text, byLength, 100));
    for (const part of parts) {
      const found = part.match(/https?:\/\/\S*/g) ?? [];
      for (const u of found) expect(u).toBe(url);
    }
    expect(parts.join(' ').split(url).length - 1).toBe(6);
  });

  it('refuses a URL longer than a post rather than cut it', () => {
    expect(() => splitThread(`Voir ${longUrl(200)}`, byLength, 100)).toThrow(AppError);
  });
});

describe('threadForX, threadForBluesky, threadForMastodon', () => {
  const withUrls = Array.from({ length: 6 }, (_, i) => `${sentences[i % sentences.length]} ${longUrl(90 + i)}`).join(' ');

  it('splits for X by weighted length, URLs at 23', () => {
    const parts = threadForX(withUrls);
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) expect(measureX(part)).toMatchObject({ valid: true });
    expect(normalizeSpace(stripNumbers(parts).join(' '))).toBe(normalizeSpace(withUrls));
    // A URL counts 23 on X, so the parts are fewer than by raw length.
    expect(parts.length).toBeLessThan(splitThread(withUrls, (s) => s.length, 280).length);
  });

  it('splits for Bluesky within 300 graphemes, URLs whole', () => {
    const parts = threadForBluesky(withUrls);
    for (const part of parts) expect(measureBluesky(part).valid).toBe(true);
    const urls = stripNumbers(parts).flatMap((p) => p.match(/https:\/\/\S+/g) ?? []);
    expect(urls).toEqual(Array.from({ length: 6 }, (_, i) => longUrl(90 + i)));
  });

  it('splits for Bluesky by bytes when graphemes are few but heavy', () => {
    const text = Array.from({ length: 140 }, () => FAMILY).join(' ');
    expect(measureBluesky(text)).toMatchObject({ graphemes: 279, valid: false });
    const parts = threadForBluesky(text);
    expect(parts.length).toBe(2);
    for (const part of parts) expect(measureBluesky(part)).toMatchObject({ valid: true });
    expect(stripNumbers(parts).join(' ')).toBe(text);
  });

  it('splits for Mastodon with URLs at 23 and a server limit', () => {
    const parts = threadForMastodon(withUrls, 200);
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) expect(measureMastodon(part, 200).valid).toBe(true);
    expect(normalizeSpace(stripNumbers(parts).join(' '))).toBe(normalizeSpace(withUrls));
    // 902 characters, but 485 as Mastodon counts them: one post at the default 500.
    expect(withUrls.length).toBeGreaterThan(500);
    expect(threadForMastodon(withUrls)).toEqual([withUrls]);
  });
});
