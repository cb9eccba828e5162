import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors';
import {
  GSM7_BASIC,
  GSM7_EXTENSION,
  analyzeSms,
  estimateSmsCost,
  isGsm7Text,
  suggestGsm7Rewrite,
  truncateSmsAtWord,
} from '../../src/text/sms';

const PERMALINK = 'https://x.org/u/12';

describe('the GSM 03.38 tables', () => {
  it('lays out the default alphabet at its codes, with the escape at 0x1B', () => {
    expect(GSM7_BASIC).toHaveLength(128);
    const at = (code: number) => GSM7_BASIC[code];
    expect([at(0x00), at(0x01), at(0x02), at(0x03), at(0x09), at(0x0a), at(0x0d)]).toEqual(['@', '£', '$', '¥', 'Ç', '\n', '\r']);
    expect([at(0x10), at(0x11), at(0x1b), at(0x1f)]).toEqual(['\u0394', '_', '\u001b', 'É']);
    expect([at(0x24), at(0x40), at(0x5b), at(0x5f), at(0x60), at(0x7b), at(0x7f)]).toEqual(['¤', '¡', 'Ä', '§', '¿', 'ä', 'à']);
    expect([at(0x41), at(0x5a), at(0x61), at(0x7a), at(0x30), at(0x39)]).toEqual(['A', 'Z', 'a', 'z', '0', '9']);
  });

  it('has exactly the ten extension characters', () => {
    expect([...GSM7_EXTENSION].sort()).toEqual(['\f', '^', '{', '}', '\\', '[', '~', ']', '|', '€'].sort());
  });

  it('does not treat the escape code itself as text', () => {
    expect(analyzeSms('a\u001bb').encoding).toBe('UCS-2');
  });

  it('covers printable ASCII except the backtick', () => {
    const ascii = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i));
    expect(ascii.filter((c) => !isGsm7Text(c))).toEqual(['`']);
  });
});

describe('analyzeSms: encoding', () => {
  it.each([...'éèàùìòçÇØøÅåÄÖÑÜäöñüßÉÆæ@£$¥¤§¡¿_ΔΦΓΛΩΠΨΣΘΞ'])('keeps %s in GSM-7, 1 septet', (char) => {
    expect(analyzeSms(`a${char}b`)).toMatchObject({ encoding: 'GSM-7', units: 3, unicodeChars: [] });
  });

  it.each([...'êâîôûëïœ’«»…–—“”'])('switches to UCS-2 for %s and names it', (char) => {
    expect(analyzeSms(`Merci ${char} tous`)).toMatchObject({ encoding: 'UCS-2', units: 12, unicodeChars: [char] });
  });

  it.each([...'^{}\\[~]|€\f'])('counts the extension character %j as 2 septets', (char) => {
    expect(analyzeSms(`a${char}`)).toMatchObject({ encoding: 'GSM-7', units: 3 });
  });

  it('lists each forcing character once, in order of first appearance', () => {
    expect(analyzeSms('fête à l’église « ici » fête l’eau').unicodeChars).toEqual(['ê', '’', '«', '»']);
  });

  it('counts an emoji as 2 UTF-16 units and reports it whole', () => {
    expect(analyzeSms('Merci 🙏')).toMatchObject({ encoding: 'UCS-2', units: 8, unicodeChars: ['🙏'] });
  });

  it('bills nothing for an empty text', () => {
    expect(analyzeSms('')).toEqual({
      encoding: 'GSM-7',
      units: 0,
      segments: 0,
      perSegment: 160,
      remainingInSegment: 160,
      unicodeChars: [],
    });
  });
});

describe('analyzeSms: segments', () => {
  it.each([
    [1, 1, 160, 159],
    [160, 1, 160, 0],
    [161, 2, 153, 145],
    [306, 2, 153, 0],
    [307, 3, 153, 152],
    [459, 3, 153, 0],
    [460, 4, 153, 152],
  ])('GSM-7: %i characters are %i segment(s) of %i', (n, segments, perSegment, remaining) => {
    expect(analyzeSms('a'.repeat(n))).toMatchObject({ units: n, segments, perSegment, remainingInSegment: remaining });
  });

  it.each([
    [70, 1, 70, 0],
    [71, 2, 67, 63],
    [134, 2, 67, 0],
    [135, 3, 67, 66],
  ])('UCS-2: %i characters are %i segment(s) of %i', (n, segments, perSegment, remaining) => {
    expect(analyzeSms('ê'.repeat(n))).toMatchObject({
      encoding: 'UCS-2',
      units: n,
      segments,
      perSegment,
      remainingInSegment: remaining,
    });
  });

  it('fits 80 euro signs (160 septets) in one segment, not 81', () => {
    expect(analyzeSms('€'.repeat(80))).toMatchObject({ units: 160, segments: 1 });
    expect(analyzeSms('€'.repeat(80) + 'a')).toMatchObject({ units: 161, segments: 2 });
  });

  it('moves an extension character whole to the next part instead of splitting its escape', () => {
    // 306 septets would be 2 parts by division; the € cannot start at septet 153, so it opens part 2.
    const text = 'a'.repeat(152) + '€' + 'a'.repeat(152);
    expect(analyzeSms(text)).toMatchObject({ units: 306, segments: 3, remainingInSegment: 152 });
    expect(analyzeSms('a'.repeat(152) + '€' + 'a'.repeat(7))).toMatchObject({ segments: 2, remainingInSegment: 144 });
    // With the € one septet earlier it ends part 1 exactly.
    expect(analyzeSms('a'.repeat(151) + '€' + 'a'.repeat(153))).toMatchObject({ units: 306, segments: 2 });
  });

  it('packs only 76 euro signs per part', () => {
    expect(analyzeSms('€'.repeat(153))).toMatchObject({ units: 306, segments: 3, remainingInSegment: 151 });
  });

  it('never splits an emoji surrogate pair across parts', () => {
    const straddling = 'ê'.repeat(66) + '😀' + 'ê'.repeat(66);
    expect(analyzeSms(straddling)).toMatchObject({ units: 134, segments: 3, remainingInSegment: 66 });
    const aligned = 'ê'.repeat(65) + '😀' + 'ê'.repeat(67);
    expect(analyzeSms(aligned)).toMatchObject({ units: 134, segments: 2, remainingInSegment: 0 });
  });

  it('fits 35 emoji in one message and not 36', () => {
    expect(analyzeSms('🙏'.repeat(35))).toMatchObject({ units: 70, segments: 1 });
    expect(analyzeSms('🙏'.repeat(36))).toMatchObject({ units: 72, segments: 2 });
  });
});

describe('the shared update fixtures', () => {
  type Fixture = { lead: string; expect: { smsEncoding: 'GSM-7' | 'UCS-2'; forcedBy?: string[] } };
  const fixtures = JSON.parse(
    readFileSync(new URL('../fixtures/updates.json', import.meta.url), 'utf8'),
  ) as Fixture[];

  it('has leads to check', () => {
    expect(fixtures.length).toBeGreaterThan(0);
  });

  it.each(fixtures.map((f) => [f.lead, f] as const))('encodes %j as expected', (_lead, fixture) => {
    const analysis = analyzeSms(fixture.lead);
    expect(analysis.encoding).toBe(fixture.expect.smsEncoding);
    if (fixture.expect.forcedBy) expect(analysis.unicodeChars).toEqual(fixture.expect.forcedBy);
    if (analysis.encoding === 'GSM-7') {
      const escaped = [...fixture.lead].filter((c) => GSM7_EXTENSION.includes(c)).length;
      expect(analysis.units).toBe([...fixture.lead].length + escaped);
    } else {
      expect(analysis.units).toBe(fixture.lead.length);
    }
  });
});

describe('suggestGsm7Rewrite', () => {
  it('turns French typography into GSM-7 and saves a segment', () => {
    const original =
      'Séisme\u00a0: nos équipes sont à Jérémie. «\u00a0L’eau manque\u00a0» dit la coordinatrice\u202f; ' +
      'la fête est annulée. Merci\u00a0!';
    const result = suggestGsm7Rewrite(original);
    expect(result.text).toBe(
      'Séisme : nos équipes sont à Jérémie. "L\'eau manque" dit la coordinatrice ; la fete est annulée. Merci !',
    );
    expect(result.remainingUnicode).toEqual([]);
    expect(analyzeSms(original)).toMatchObject({ encoding: 'UCS-2', segments: 2 });
    expect(analyzeSms(result.text)).toMatchObject({ encoding: 'GSM-7', segments: 1 });
    expect(result.changes).toEqual(
      expect.arrayContaining([
        { from: '«', to: '"', count: 1 },
        { from: '»', to: '"', count: 1 },
        { from: '\u00a0', to: '', count: 2 },
        { from: '\u00a0', to: ' ', count: 2 },
        { from: '\u202f', to: ' ', count: 1 },
        { from: '’', to: "'", count: 1 },
        { from: 'ê', to: 'e', count: 1 },
      ]),
    );
    expect(result.changes).toHaveLength(7);
  });

  it.each([
    ['ê', 'e'], ['ë', 'e'], ['â', 'a'], ['î', 'i'], ['ï', 'i'], ['ô', 'o'], ['û', 'u'], ['ÿ', 'y'],
    ['Ê', 'E'], ['È', 'E'], ['À', 'A'], ['Ô', 'O'], ['á', 'a'], ['ã', 'a'], ['ú', 'u'],
    ['œ', 'oe'], ['Œ', 'OE'],
    ['’', "'"], ['‘', "'"], ['“', '"'], ['”', '"'], ['„', '"'], ['…', '...'], ['–', '-'], ['—', '-'],
    ['\u00a0', ' '], ['\u202f', ' '], ['`', "'"],
  ])('replaces %j with %j', (from, to) => {
    const result = suggestGsm7Rewrite(`x${from}y`);
    expect(result.text).toBe(`x${to}y`);
    expect(result.changes).toEqual([{ from, to, count: 1 }]);
    expect(isGsm7Text(result.text)).toBe(true);
  });

  it('leaves the letters GSM-7 has', () => {
    const text = 'é è à ù ì ò Ç É Ø ø Å å Ä Ö Ñ Ü ä ö ñ ü ß Æ æ € {}';
    expect(suggestGsm7Rewrite(text)).toEqual({ text, changes: [], remainingUnicode: [] });
  });

  it('counts repeated changes once per kind', () => {
    expect(suggestGsm7Rewrite('l’eau d’ici, l’abri').changes).toEqual([{ from: '’', to: "'", count: 3 }]);
  });

  it('composes a decomposed accent into the GSM-7 letter', () => {
    const result = suggestGsm7Rewrite('Je\u0301re\u0301mie');
    expect(result.text).toBe('Jérémie');
    expect(result.changes).toEqual([{ from: 'e\u0301', to: 'é', count: 2 }]);
    expect(analyzeSms(result.text).encoding).toBe('GSM-7');
  });

  it('drops invisible characters', () => {
    expect(suggestGsm7Rewrite('don\u00adner\u200b').text).toBe('donner');
  });

  it('keeps an unpaired guillemet as a straight quote', () => {
    expect(suggestGsm7Rewrite('« ouvert').text).toBe('" ouvert');
  });

  it('keeps emoji, which have no GSM-7 form, and says the text stays UCS-2', () => {
    const result = suggestGsm7Rewrite('Merci 🙏 pour l’aide 👨‍👩‍👧 1️⃣');
    expect(result.text).toBe("Merci 🙏 pour l'aide 👨‍👩‍👧 1️⃣");
    expect(result.remainingUnicode).toEqual(['🙏', '👨', '\u200d', '👩', '👧', '\ufe0f', '\u20e3']);
    expect(analyzeSms(result.text).encoding).toBe('UCS-2');
  });

  it('leaves letters of other scripts alone and reports them', () => {
    expect(suggestGsm7Rewrite('Kyiv Київ')).toMatchObject({ text: 'Kyiv Київ', remainingUnicode: ['К', 'и', 'ї', 'в'] });
  });
});

describe('estimateSmsCost', () => {
  it('multiplies segments, recipients and price', () => {
    expect(estimateSmsCost({ segments: 2, recipients: 1000, pricePerSegment: 0.0079 })).toBeCloseTo(15.8, 10);
    expect(estimateSmsCost({ segments: 3, recipients: 12, pricePerSegment: 0.05 })).toBeCloseTo(1.8, 10);
  });

  it('costs nothing with no recipients or an empty message', () => {
    expect(estimateSmsCost({ segments: 2, recipients: 0, pricePerSegment: 0.05 })).toBe(0);
    expect(estimateSmsCost({ segments: 0, recipients: 10, pricePerSegment: 0.05 })).toBe(0);
  });

  it.each([
    { segments: -1, recipients: 10, pricePerSegment: 0.05 },
    { segments: 1, recipients: -10, pricePerSegment: 0.05 },
    { segments: 1, recipients: 10, pricePerSegment: -0.05 },
    { segments: Number.NaN, recipients: 10, pricePerSegment: 0.05 },
    { segments: 1, recipients: 10, pricePerSegment: Number.NaN },
    { segments: 1, recipients: Number.POSITIVE_INFINITY, pricePerSegment: 0.05 },
    { segments: 1.5, recipients: 10, pricePerSegment: 0.05 },
    { segments: 1, recipients: 2.5, pricePerSegment: 0.05 },
  ])('refuses %o', (input) => {
    expect(() => estimateSmsCost(input)).toThrow(AppError);
  });
});

describe('truncateSmsAtWord', () => {
  const words = (n: number) => Array.from({ length: n }, (_, i) => `word${i}`).join(' ');

  it('keeps a text that fits, followed by the suffix', () => {
    expect(truncateSmsAtWord('Water reached Jérémie.', 1, PERMALINK)).toEqual({
      text: `Water reached Jérémie. ${PERMALINK}`,
      body: 'Water reached Jérémie.',
      truncated: false,
    });
  });

  it.each([1, 2, 3])('cuts a GSM-7 text at the last word that fits in %i segment(s)', (maxSegments) => {
    const original = words(120);
    const result = truncateSmsAtWord(original, maxSegments, PERMALINK);
    expect(result.truncated).toBe(true);
    expect(result.text).toBe(`${result.body} ${PERMALINK}`);
    expect(result.body.endsWith('...')).toBe(true);
    expect(analyzeSms(result.text)).toMatchObject({ encoding: 'GSM-7' });
    expect(analyzeSms(result.text).segments).toBeLessThanOrEqual(maxSegments);

    const kept = result.body.slice(0, -3);
    expect(original.startsWith(kept)).toBe(true);
    expect(original[kept.length]).toBe(' ');
    // The longest such cut: one more word would not fit.
    const nextWordEnd = original.indexOf(' ', kept.length + 1);
    expect(analyzeSms(`${original.slice(0, nextWordEnd)}... ${PERMALINK}`).segments).toBeGreaterThan(maxSegments);
  });

  it('uses … and UCS-2 sizes when the kept text is UCS-2', () => {
    const original = 'Il manque des bâches à Jérémie et aux Cayes, et de l’eau potable pour les familles. '.repeat(4);
    const result = truncateSmsAtWord(original, 2, PERMALINK);
    expect(result.truncated).toBe(true);
    expect(result.body.endsWith('…')).toBe(true);
    expect(analyzeSms(result.text)).toMatchObject({ encoding: 'UCS-2' });
    expect(analyzeSms(result.text).segments).toBeLessThanOrEqual(2);
    expect(result.text.endsWith(`… ${PERMALINK}`)).toBe(true);
  });

  it('gets the GSM-7 capacity back when the cut removes the only UCS-2 character', () => {
    const original = `${words(30)} fête`;
    const result = truncateSmsAtWord(original, 1, PERMALINK);
    expect(analyzeSms(result.text)).toMatchObject({ encoding: 'GSM-7', segments: 1 });
    expect(result.body.endsWith('...')).toBe(true);
    expect(result.body.length).toBeGreaterThan(100);
  });

  it('drops punctuation left dangling before the ellipsis', () => {
    const original = `${'a'.repeat(130)}, ${'b'.repeat(40)}`;
    expect(truncateSmsAtWord(original, 1, PERMALINK).body).toBe(`${'a'.repeat(130)}...`);
  });

  it('respects the budget when extension characters sit at the boundary', () => {
    const original = '{€} '.repeat(100);
    for (const maxSegments of [1, 2, 3]) {
      const result = truncateSmsAtWord(original, maxSegments, PERMALINK);
      expect(result.truncated).toBe(true);
      expect(analyzeSms(result.text).segments).toBeLessThanOrEqual(maxSegments);
      expect(result.text.endsWith(`... ${PERMALINK}`)).toBe(true);
    }
  });

  it('cuts a single over-long word between characters rather than send nothing', () => {
    const result = truncateSmsAtWord('ê'.repeat(300), 1, PERMALINK);
    expect(result.truncated).toBe(true);
    expect(result.body).toBe(`${'ê'.repeat(70 - PERMALINK.length - 2)}…`);
    expect(analyzeSms(result.text)).toMatchObject({ segments: 1, remainingInSegment: 0 });
  });

  it('never cuts a link in the text; it drops the whole body instead', () => {
    const link = `https://example.org/${'x'.repeat(200)}`;
    expect(truncateSmsAtWord(link, 1, PERMALINK)).toEqual({ text: PERMALINK, body: '', truncated: true });
  });

  it('keeps the suffix whole even when the body is empty', () => {
    expect(truncateSmsAtWord('', 1, PERMALINK)).toEqual({ text: PERMALINK, body: '', truncated: false });
  });

  it('refuses a suffix that does not fit on its own', () => {
    expect(() => truncateSmsAtWord('hello', 1, 'a'.repeat(161))).toThrow(AppError);
    expect(() => truncateSmsAtWord('hello', 1, 'ê'.repeat(71))).toThrow(/more than 1 SMS segment/);
  });

  it('refuses a budget below one segment', () => {
    expect(() => truncateSmsAtWord('hello', 0, PERMALINK)).toThrow(AppError);
    expect(() => truncateSmsAtWord('hello', 1.5, PERMALINK)).toThrow(AppError);
  });
});
