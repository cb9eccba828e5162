/**
 * User-perceived characters. Bluesky and Mastodon count these, and a cut inside one (an emoji ZWJ sequence, a
 * letter with a combining accent) shows the reader a broken glyph, so every splitter cuts only between them.
 */
const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

export function splitGraphemes(text: string): string[] {
  return Array.from(segmenter.segment(text), (s) => s.segment);
}

export function countGraphemes(text: string): number {
  let count = 0;
  for (const _ of segmenter.segment(text)) count++;
  return count;
}

/** Offsets (UTF-16 indices) where a grapheme ends, in increasing order; the last one is text.length. */
export function listGraphemeEnds(text: string): number[] {
  return Array.from(segmenter.segment(text), (s) => s.index + s.segment.length);
}
