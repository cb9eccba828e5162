import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { CampaignWithKeywords } from '../../src/db/campaigns';
import type { Language } from '../../src/db/schema';
import { analyzeSms } from '../../src/text/sms';
import { measureBluesky, measureMastodon, measureX } from '../../src/text/microblog';
import { formatMoney, formatPercent, parseAmount } from '../../src/updates/money';
import { renderAll, renderContext, renderSms, type RenderSettings } from '../../src/updates/render';
import type { UpdateView } from '../../src/updates/types';
import { parseDateTime } from '../../src/updates/validate';

interface Fixture {
  campaign: string;
  lang: Language;
  lead: string;
  needs?: { item: string; quantity: number; unit: string; urgency: 'critical' | 'high' | 'normal' }[];
  fundraising?: { raised: number; goal: number; currency: string; donors: number; asOf: string };
  correctionOf?: string;
}
const fixtures = JSON.parse(readFileSync(new URL('../fixtures/updates.json', import.meta.url), 'utf8')) as Fixture[];

const settings: RenderSettings = { publicUrl: 'https://alerts.example.org', foundation: 'Fondation Lumière', timeZone: 'America/Port-au-Prince', smsMaxSegments: 3, mastodonLimit: 500 };

function campaignFor(f: Fixture): CampaignWithKeywords {
  return {
    id: 1, name: f.campaign === 'seisme-haiti' ? 'Séisme en Haïti' : 'Inondations au Québec', slug: f.campaign, hashtag: 'Crise', languages: ['fr', 'en'],
    goal: '100000', currency: f.fundraising?.currency ?? 'EUR', donate_url: 'https://don.example.org', active: true, created_by: null, created_at: new Date(), keywords: ['HAITI'],
  };
}

function viewOf(f: Fixture, id = 42): UpdateView {
  return {
    id, campaignId: 1, status: 'published', leads: { [f.lang]: f.lead }, smsGsm7: [],
    needs: (f.needs ?? []).map((n) => ({ ...n, unit: n.unit, met: false })),
    raised: f.fundraising ? String(f.fundraising.raised) : null, goal: f.fundraising ? String(f.fundraising.goal) : null,
    currency: f.fundraising?.currency ?? null, donors: f.fundraising?.donors ?? null, asOf: f.fundraising ? new Date(f.fundraising.asOf) : null,
    link: null, imageId: null, imageAlt: null, correctsId: f.correctionOf ? 41 : null, authorId: 1, publishedAt: new Date('2026-11-21T00:00:00Z'), updatedAt: new Date(), version: 1,
  };
}

describe('every template renders every fixture in every channel', () => {
  it.each(fixtures.map((f, i) => [i, f.lang, f] as const))('fixture %i (%s)', (_, lang, f) => {
    const view = viewOf(f);
    const ctx = renderContext(settings, view, campaignFor(f), lang, f.correctionOf ? { id: 41, publishedAt: new Date('2026-11-20T00:00:00Z') } : null);
    const r = renderAll(settings, ctx, { unsubscribeUrl: 'https://alerts.example.org/u/abc', imageUrl: null });
    const permalink = 'https://alerts.example.org/updates/42';
    // SMS: within budget, ends with the permalink and the opt-out line, whatever was cut.
    expect(r.sms.analysis.segments).toBeGreaterThan(0);
    expect(r.sms.analysis.segments).toBeLessThanOrEqual(3);
    expect(r.sms.text).toContain(`${permalink}\n${lang === 'fr' ? 'STOP pour vous désabonner' : 'Reply STOP to opt out'}`);
    expect(r.sms.text).not.toMatch(/[\u00a0\u202f]/);
    // Email: both parts, the lead escaped in HTML, the unsubscribe link present.
    expect(r.email.subject.length).toBeGreaterThan(5);
    expect(r.email.html).toMatch(/^<!doctype html><html lang="(en|fr)">/);
    expect(r.email.text).toContain('https://alerts.example.org/u/abc');
    expect(r.email.html).toContain('https://alerts.example.org/u/abc');
    // Microblogs: every part within the network's limit, the permalink somewhere in the thread.
    for (const post of r.posts) {
      post.parts.forEach((p) => {
        const len = post.network === 'x' ? measureX(p).length : post.network === 'bluesky' ? measureBluesky(p).graphemes : measureMastodon(p).length;
        expect(len).toBeLessThanOrEqual(post.limit);
      });
      expect(post.parts.join(' ')).toContain(permalink);
    }
    expect(r.feed.title.length).toBeGreaterThan(0);
    expect(r.feed.html).toContain('<p>');
    if (f.correctionOf) {
      const label = lang === 'fr' ? 'Rectificatif : ' : 'Correction: ';
      expect(r.sms.text).toContain(label);
      expect(r.email.subject.startsWith(label)).toBe(true);
      expect(r.posts[0]!.parts[0]!.startsWith(label)).toBe(true);
      expect(r.feed.title.startsWith(label)).toBe(true);
      expect(r.email.html).toContain('https://alerts.example.org/updates/41');
    }
  });
});

describe('amounts', () => {
  it('are formatted for the language', () => {
    expect(formatMoney('45200', 'EUR', 'fr')).toBe('45\u202f200\u00a0€');
    expect(formatMoney('45200', 'EUR', 'en')).toBe('€45,200');
    expect(formatMoney('18750.5', 'CAD', 'en')).toBe('CA$18,750.50');
    expect(formatPercent('45200', '100000', 'fr')).toBe('45\u00a0%');
    expect(formatPercent('99960', '100000', 'en')).toBe('99%');
  });

  it('are read as people type them', () => {
    expect(parseAmount('45200')).toBe('45200');
    expect(parseAmount('45 200')).toBe('45200');
    expect(parseAmount('45\u202f200,50')).toBe('45200.5');
    expect(parseAmount('45,200.75')).toBe('45200.75');
    expect(parseAmount('45,200')).toBe('45200');
    expect(parseAmount('12,5')).toBe('12.5');
    expect(parseAmount('1.234.567')).toBe('1234567');
    expect(parseAmount('0')).toBe('0');
    for (const bad of ['-5', 'abc', '12.345', '1,2,3,4', '', '1e5', '١٢']) expect(parseAmount(bad)).toBeNull();
  });

  it('as-of times are read in the configured zone', () => {
    expect(parseDateTime('2026-11-20T18:00', 'America/Port-au-Prince')?.toISOString()).toBe('2026-11-20T23:00:00.000Z');
    expect(parseDateTime('2026-07-01T12:00', 'Europe/Paris')?.toISOString()).toBe('2026-07-01T10:00:00.000Z');
    expect(parseDateTime('2026-11-20T18:00:00Z', 'Europe/Paris')?.toISOString()).toBe('2026-11-20T18:00:00.000Z');
    expect(parseDateTime('2026-02-30T10:00', 'UTC')).toBeNull();
    expect(parseDateTime('tomorrow', 'UTC')).toBeNull();
  });
});

describe('SMS rendering', () => {
  const f = fixtures[0]!;
  const ctx = renderContext(settings, viewOf(f), campaignFor(f), 'fr', null);

  it('cuts an over-long SMS at a word and keeps the permalink, never silently', () => {
    const long = { ...ctx, update: { ...ctx.update, leads: { fr: 'Nous avons besoin de tentes '.repeat(40) } } };
    const sms = renderSms(long, 2);
    expect(sms.truncated).toBe(true);
    expect(analyzeSms(sms.text).segments).toBeLessThanOrEqual(2);
    expect(sms.text).toMatch(/ de\.\.\.\nhttps:\/\/alerts\.example\.org\/updates\/42\nSTOP pour vous désabonner$/);
  });

  it('offers a GSM-7 rewrite for UCS-2 text and applies it once accepted', () => {
    const sms = renderSms(ctx, 3);
    expect(sms.analysis.encoding).toBe('UCS-2');
    expect(sms.analysis.unicodeChars).toEqual(expect.arrayContaining(['’', 'â']));
    expect(sms.suggestion?.analysis.encoding).toBe('GSM-7');
    const accepted = renderSms({ ...ctx, update: { ...ctx.update, smsGsm7: ['fr'] } }, 3);
    expect(accepted.rewritten).toBe(true);
    expect(accepted.analysis.encoding).toBe('GSM-7');
    expect(accepted.text).toContain("l'eau");
    expect(accepted.suggestion).toBeNull();
  });

  it('sends CRLF from forms as single line breaks', () => {
    const crlf = { ...ctx, update: { ...ctx.update, leads: { fr: 'Ligne un\r\nLigne deux' }, needs: [], raised: null } };
    expect(renderSms(crlf, 3).text).not.toContain('\r');
  });
});

describe('escaping', () => {
  it('never lets user text become markup in the email or the feed item', () => {
    const f = fixtures[1]!;
    const hostile = { ...viewOf(f), leads: { en: '<script>alert("x")</script> & "quotes" 🙏' }, needs: [{ item: '<b>tents</b>', quantity: 5, unit: 'u', urgency: 'high' as const, met: false }] };
    const ctx = renderContext(settings, hostile, campaignFor(f), 'en', null);
    const r = renderAll(settings, ctx, { unsubscribeUrl: '#', imageUrl: null });
    for (const html of [r.email.html, r.feed.html]) {
      expect(html).not.toContain('<script>');
      expect(html).not.toContain('<b>tents</b>');
      expect(html).toContain('&lt;script&gt;');
      expect(html).toContain('&amp;');
      expect(html).toContain('🙏');
    }
    expect(r.email.text).toContain('<script>alert("x")</script>');
  });
});
