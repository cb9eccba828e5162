import { describe, expect, it } from 'vitest';
import { looksLikeOptOut, parseInboundSms } from '../../src/subscribers/keywords';
import { normalizePhone } from '../../src/subscribers/phone';
import { renderKeywordAnswer } from '../../src/subscribers/sms-answers';
import { analyzeSms } from '../../src/text/sms';
import { keywordAnswers, type KeywordAnswer } from '../../templates/sms/keywords';

const answers = Object.keys(keywordAnswers.en) as KeywordAnswer[];
const isCampaign = (w: string) => w === 'HAITI' || w === 'QUEBEC2026';

describe('keyword answers', () => {
  // 40 and 60 characters: a realistic long name, and the longest FOUNDATION_NAME allows.
  const names = ['Fondation Internationale Secours Urgence', 'International Federation of Emergency Relief Foundations 60c'];
  it('the test names are as long as they claim', () => {
    expect(names.map((n) => n.length)).toEqual([40, 60]);
  });

  for (const name of names) {
    for (const lang of ['en', 'fr'] as const) {
      it.each(answers)(`%s (${lang}, ${name.length}-character name) is one GSM-7 segment naming the foundation`, (answer) => {
        const text = renderKeywordAnswer(answer, lang, { foundation: name, keyword: 'QUEBEC2026ABCDEFGHIJ' });
        const sms = analyzeSms(text);
        expect(sms.encoding).toBe('GSM-7');
        expect(sms.segments).toBe(1);
        expect(text).toContain(name);
        // Every answer says how to stop, or (after a stop) how to come back.
        expect(text).toMatch(answer === 'left' ? /START|ABONNER/ : /STOP/);
      });
    }
    it(`INFO (${name.length}-character name) is one bilingual GSM-7 segment`, () => {
      const text = renderKeywordAnswer('bilingualHelp', 'en', { foundation: name });
      expect(analyzeSms(text)).toMatchObject({ encoding: 'GSM-7', segments: 1 });
      expect(text).toContain(name);
      expect(text).toContain('STOP');
      expect(text).toContain('HELP / AIDE');
    });
  }

  it('writes a typographic or accented name in GSM-7, and shortens an impossible one rather than sending two', () => {
    const text = renderKeywordAnswer('joined', 'fr', { foundation: 'L’Œuvre des Îles — Secours 🌍' });
    expect(analyzeSms(text)).toMatchObject({ encoding: 'GSM-7', segments: 1 });
    expect(text).toContain("L'OEuvre des Iles - Secours");
    const huge = renderKeywordAnswer('joinedCampaign', 'fr', { foundation: 'F'.repeat(200), keyword: 'K'.repeat(20) });
    expect(analyzeSms(huge).segments).toBe(1);
    expect(huge).toContain('STOP KKKKKKKKKKKKKKKKKKKK');
  });
});

describe('parseInboundSms', () => {
  it('matches keywords exactly after trimming, ignoring case, accents and surrounding punctuation', () => {
    expect(parseInboundSms('  Arrêt. ', isCampaign)).toEqual({ kind: 'leave', lang: 'fr', campaignKeyword: null });
    expect(parseInboundSms('«OUI»', isCampaign)).toEqual({ kind: 'join', lang: 'fr', campaignKeyword: null });
    expect(parseInboundSms('stop   haiti', isCampaign)).toEqual({ kind: 'leave', lang: null, campaignKeyword: 'HAITI' });
    expect(parseInboundSms('info', isCampaign)).toEqual({ kind: 'help', lang: 'both' });
    expect(parseInboundSms('Quebec2026', isCampaign)).toEqual({ kind: 'join', lang: null, campaignKeyword: 'QUEBEC2026' });
  });

  it('takes nothing else for a keyword', () => {
    expect(parseInboundSms('stop it', isCampaign)).toEqual({ kind: 'message', possibleOptOut: true });
    expect(parseInboundSms('STOPALL HAITI', isCampaign)).toEqual({ kind: 'message', possibleOptOut: true });
    expect(parseInboundSms('stopped', isCampaign)).toEqual({ kind: 'message', possibleOptOut: false });
    expect(parseInboundSms('', isCampaign)).toEqual({ kind: 'message', possibleOptOut: false });
    expect(parseInboundSms('constructor', isCampaign)).toEqual({ kind: 'message', possibleOptOut: false });
  });

  it.each([
    ['please stop texting me', true],
    ['Arrêtez, svp', true],
    ['merci de me désinscrire', true],
    ['Plus de SMS merci', true],
    ['we need to stop the flooding', true],
    ['Merci pour les nouvelles', false],
    ['Is the stopover in Miami?', false],
  ])('flags %j as a possible opt-out: %s', (text, flagged) => {
    expect(looksLikeOptOut(text)).toBe(flagged);
  });
});

describe('normalizePhone', () => {
  it.each([
    ['06 12 34 56 78', 'FR', '+33612345678'],
    ['+33 6 98 76 54 32', 'FR', '+33698765432'],
    ['0033612345678', 'FR', '+33612345678'],
    ['+33 (0)6 12 34 56 78', 'FR', '+33612345678'],
    ['(514) 555-0199', 'CA', '+15145550199'],
    ['+1 514 555 0142', 'FR', '+15145550142'],
    ['3 4 5 6 7 8 9 0', 'HT', '+50934567890'],
  ])('%s in %s is %s', (input, country, e164) => {
    expect(normalizePhone(input, country)).toBe(e164);
  });

  it.each([['123'], ['(514) 555-0199'], ['pas un numéro'], [''], ['+33 6 12'], ['9'.repeat(50)]])('%j is not a valid number in FR', (input) => {
    expect(normalizePhone(input, 'FR')).toBeNull();
  });
});
