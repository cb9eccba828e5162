/**
 * SMS length rules: which encoding a text needs, how many segments it is billed as, how to make it cheaper, and
 * how to cut it to a budget. The counts must match what the carrier bills, so segments are counted by packing
 * characters the way the SMS centre does, not by dividing a length.
 */
import { AppError } from '../errors';
import { listGraphemeEnds, splitGraphemes } from './graphemes';
import { listWords } from './words';

export type SmsEncoding = 'GSM-7' | 'UCS-2';

/**
 * The GSM 03.38 (3GPP TS 23.038) default alphabet in code order 0x00–0x7F, kept positional so that a typo shows
 * up as a wrong code in the tests. 0x1B is the escape to the extension table, not a character: U+001B holds its
 * place and is excluded below.
 *
 * 0x09 is drawn as the capital Ç in TS 23.038, while Unicode's GSM0338.TXT maps it to the small ç. Both are
 * accepted as GSM-7 (French needs ç far more than Ç; some handsets show it capitalised, a smaller harm than
 * paying UCS-2's 70-character segments for every "reçu").
 */
export const GSM7_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅå' +
  '\u0394_\u03A6\u0393\u039B\u03A9\u03A0\u03A8\u03A3\u0398\u039E\u001BÆæßÉ' +
  ' !"#¤%&\'()*+,-./' +
  '0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNO' +
  'PQRSTUVWXYZÄÖÑÜ§' +
  '¿abcdefghijklmno' +
  'pqrstuvwxyzäöñüà';

/** Characters reached through the escape: each costs 2 septets (escape + code). */
export const GSM7_EXTENSION = '\f^{}\\[~]|€';

const basicSet = new Set([...GSM7_BASIC.replace('\u001B', ''), 'ç']);
const extensionSet = new Set(GSM7_EXTENSION);

// A concatenated part gives 6 octets to the header that tells the phone how to reassemble the message.
const SEGMENT_SIZES: Record<SmsEncoding, { single: number; part: number }> = {
  'GSM-7': { single: 160, part: 153 },
  'UCS-2': { single: 70, part: 67 },
};

export interface SmsAnalysis {
  encoding: SmsEncoding;
  /** Septets for GSM-7 (extension characters count 2), UTF-16 code units for UCS-2 (an emoji counts 2). */
  units: number;
  /** 0 for an empty text: nothing is sent, so nothing is billed. Callers reject empty messages before sending. */
  segments: number;
  /** The capacity of one segment at this length: 160/70 for a single message, 153/67 once it is split. */
  perSegment: number;
  /** Units that still fit in the last segment before another one is billed. */
  remainingInSegment: number;
  /** The distinct characters that forced UCS-2, in order of first appearance; empty for GSM-7. */
  unicodeChars: string[];
}

export function isGsm7Char(char: string): boolean {
  return basicSet.has(char) || extensionSet.has(char);
}

export function isGsm7Text(text: string): boolean {
  for (const char of text) if (!isGsm7Char(char)) return false;
  return true;
}

export function analyzeSms(text: string): SmsAnalysis {
  const unicodeChars = listUnicodeChars(text);
  const encoding: SmsEncoding = unicodeChars.length === 0 ? 'GSM-7' : 'UCS-2';
  // Iterating by code point keeps a surrogate pair together as one 2-unit item.
  const widths = Array.from(text, (char) => (encoding === 'GSM-7' ? (extensionSet.has(char) ? 2 : 1) : char.length));
  const units = widths.reduce((sum, w) => sum + w, 0);
  const { single, part } = SEGMENT_SIZES[encoding];
  if (units === 0) return { encoding, units, segments: 0, perSegment: single, remainingInSegment: single, unicodeChars };
  if (units <= single) {
    return { encoding, units, segments: 1, perSegment: single, remainingInSegment: single - units, unicodeChars };
  }
  const { segments, lastUsed } = packSegments(widths, part);
  return { encoding, units, segments, perSegment: part, remainingInSegment: part - lastUsed, unicodeChars };
}

function listUnicodeChars(text: string): string[] {
  const found = new Set<string>();
  for (const char of text) if (!isGsm7Char(char)) found.add(char);
  return [...found];
}

/**
 * Parts are filled one character at a time: an escape and its character, or the two halves of a surrogate pair,
 * never straddle two parts (the phone would show garbage), so a part can end one unit short.
 */
function packSegments(widths: number[], size: number): { segments: number; lastUsed: number } {
  let segments = 1;
  let used = 0;
  for (const width of widths) {
    if (used + width > size) {
      segments++;
      used = 0;
    }
    used += width;
  }
  return { segments, lastUsed: used };
}

export interface SmsRewriteChange {
  from: string;
  to: string;
  count: number;
}

export interface Gsm7Rewrite {
  text: string;
  changes: SmsRewriteChange[];
  /** Characters with no GSM-7 equivalent (emoji, other scripts) that keep the rewritten text in UCS-2. */
  remainingUnicode: string[];
}

/**
 * Typographic characters and their plain GSM-7 stand-ins. Accented letters that GSM-7 lacks are not listed:
 * they lose their accent generically (ê → e, Ï → I); letters GSM-7 has (é, è, à, ù, ü, ñ, Ç, É…) are kept.
 */
const GSM7_SUBSTITUTES = new Map<string, string>([
  ['\u2018', "'"], ['\u2019', "'"], ['\u201A', "'"], ['\u201B', "'"], ['\u2032', "'"], ['\u00B4', "'"],
  ['`', "'"], ['\u2039', "'"], ['\u203A', "'"],
  ['\u201C', '"'], ['\u201D', '"'], ['\u201E', '"'], ['\u201F', '"'], ['\u2033', '"'], ['«', '"'], ['»', '"'],
  ['\u2026', '...'],
  ['\u2010', '-'], ['\u2011', '-'], ['\u2012', '-'], ['\u2013', '-'], ['\u2014', '-'], ['\u2015', '-'],
  ['\u2212', '-'], ['\u2022', '-'],
  ['\u00A0', ' '], ['\u202F', ' '], ['\u2007', ' '], ['\u2009', ' '], ['\u200A', ' '], ['\u2002', ' '],
  ['\u2003', ' '], ['\u2004', ' '], ['\u2005', ' '], ['\u2006', ' '], ['\u2008', ' '], ['\u205F', ' '],
  ['\u3000', ' '], ['\t', ' '],
  ['\u2028', '\n'], ['\u2029', '\n'],
  // Invisible, so dropping them changes nothing the reader sees.
  ['\u200B', ''], ['\u2060', ''], ['\uFEFF', ''], ['\u00AD', ''],
  ['œ', 'oe'], ['Œ', 'OE'],
]);

const GUILLEMET_SPACE = '[ \\u00A0\\u202F\\u2009]';
// French puts a (no-break) space inside « »; with straight quotes it must go, or the quote reads "like this ".
const GUILLEMET_PAIR = new RegExp(`«(${GUILLEMET_SPACE}*)([^«»]*?)(${GUILLEMET_SPACE}*)»`, 'gu');

/**
 * A GSM-7 version of text for the author to accept or not: one UCS-2 character halves a segment's capacity, so
 * "l’eau" instead of "l'eau" can double the bill of a campaign.
 */
export function suggestGsm7Rewrite(text: string): Gsm7Rewrite {
  const changes = new Map<string, SmsRewriteChange>();
  const record = (from: string, to: string, count = 1) => {
    if (count === 0) return;
    const key = `${from}\u0000${to}`;
    const change = changes.get(key);
    if (change) change.count += count;
    else changes.set(key, { from, to, count });
  };

  const unquoted = text.replace(GUILLEMET_PAIR, (_whole, before: string, inner: string, after: string) => {
    record('«', '"');
    for (const space of before + after) record(space, '');
    record('»', '"');
    return `"${inner}"`;
  });

  let rewritten = '';
  for (const grapheme of splitGraphemes(unquoted)) {
    const substitute = substituteGrapheme(grapheme);
    if (substitute !== grapheme) record(grapheme, substitute);
    rewritten += substitute;
  }
  return { text: rewritten, changes: [...changes.values()], remainingUnicode: analyzeSms(rewritten).unicodeChars };
}

function substituteGrapheme(grapheme: string): string {
  if (isGsm7Text(grapheme)) return grapheme;
  // A decomposed "e + ◌́" is the GSM-7 é once composed.
  const composed = grapheme.normalize('NFC');
  if (isGsm7Text(composed)) return composed;
  const listed = GSM7_SUBSTITUTES.get(composed);
  if (listed !== undefined) return listed;
  // Only letters lose their marks: a keycap emoji 1️⃣ is "1" plus marks too, and emoji are left alone.
  if (/^\p{L}/u.test(composed)) {
    const bare = composed.normalize('NFD').replace(/\p{M}/gu, '');
    if (bare !== '' && isGsm7Text(bare)) return bare;
  }
  return grapheme;
}

export function estimateSmsCost(input: { segments: number; recipients: number; pricePerSegment: number }): number {
  const { segments, recipients, pricePerSegment } = input;
  for (const [name, value] of Object.entries(input)) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new AppError('INVALID_INPUT', `${name} must be a finite number ≥ 0 (got ${String(value)})`);
    }
  }
  for (const [name, value] of Object.entries({ segments, recipients })) {
    if (!Number.isInteger(value)) throw new AppError('INVALID_INPUT', `${name} must be a whole number (got ${value})`);
  }
  return segments * recipients * pricePerSegment;
}

export interface SmsTruncation {
  /** The message to send: body, a space, then the suffix. */
  text: string;
  /** The part of the message before the suffix; ends with an ellipsis when it was cut. */
  body: string;
  truncated: boolean;
}

const LINK = /:\/\/|^www\./i;

/**
 * Fits text and a suffix (typically the update's permalink) into maxSegments segments, cutting the text at a
 * word boundary. The suffix is never cut: it is how the reader gets the rest. A cut is always shown with an
 * ellipsis: "..." when the message is GSM-7 (… is not), "…" when it is UCS-2 anyway (1 unit instead of 3).
 */
export function truncateSmsAtWord(text: string, maxSegments: number, suffix: string, separator = ' '): SmsTruncation {
  if (!Number.isInteger(maxSegments) || maxSegments < 1) {
    throw new AppError('INVALID_INPUT', `maxSegments must be a whole number ≥ 1 (got ${maxSegments})`);
  }
  const join = (body: string) => (body === '' ? suffix : suffix === '' ? body : `${body}${separator}${suffix}`);
  const fits = (message: string) => analyzeSms(message).segments <= maxSegments;
  if (!fits(suffix)) {
    throw new AppError('INVALID_INPUT', `"${suffix}" alone needs more than ${maxSegments} SMS segment(s)`, {
      suffix,
      maxSegments,
    });
  }

  const whole = text.trim();
  if (fits(join(whole))) return { text: join(whole), body: whole, truncated: false };

  // Every character is at least one unit in either encoding, so longer prefixes cannot fit: skip measuring them.
  const maxUnits = maxSegments * SEGMENT_SIZES['GSM-7'].single;
  for (const cut of listCutsLongestFirst(whole).filter((c) => c <= maxUnits)) {
    const kept = whole.slice(0, cut).replace(/[\s,;:.\-\u2013\u2014]+$/u, '');
    if (kept === '') continue;
    const body = kept + (isGsm7Text(kept) && isGsm7Text(suffix) ? '...' : '…');
    if (fits(join(body))) return { text: join(body), body, truncated: true };
  }
  return { text: suffix, body: '', truncated: true };
}

/**
 * Word ends first; only when not even the first word fits, the grapheme ends inside it (a cut word beats an
 * empty message), except inside a link, where a cut would send the reader to a wrong page.
 */
function listCutsLongestFirst(text: string): number[] {
  const words = listWords(text);
  const cuts = words.slice(0, -1).map((w) => w.end);
  const first = words[0];
  if (first && !LINK.test(first.text)) {
    cuts.unshift(...listGraphemeEnds(first.text).slice(0, -1).map((end) => first.start + end));
  }
  return cuts.reverse();
}
