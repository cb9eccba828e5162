import { randomBytes } from 'node:crypto';
import { Feed, type Item } from 'feed';
import type { CampaignWithKeywords } from '../db/campaigns';
import type { Language } from '../db/schema';
import { translator } from '../i18n';
import { permalinkOf, renderContext, renderFeedItem, type RenderSettings } from '../updates/render';
import { languageFor, type PublicUpdate } from './public-data';
import { htmlEscape, xmlAttr, xmlElement, xmlSafe } from './xml';

/**
 * Tocsin's XML namespace for the structured figures of an update in RSS and Atom (documented in docs/feeds.md).
 * Never changes: a new, incompatible vocabulary would get a new URI (…/ns/2.0).
 */
export const tocsinNamespace = 'https://tocsin.org/ns/1.0';

/** How many of the latest published updates a feed carries. */
export const feedItemLimit = 50;

export type FeedFormat = 'rss' | 'atom' | 'json';

export interface FeedSettings extends RenderSettings {
  defaultLanguage: Language;
  /** A WebSub hub the feeds advertise (rel="hub"), or null. */
  hub: string | null;
}

/** Which updates a feed carries: all or one campaign's; each in its campaign's first language, or only `lang`. */
export interface FeedScope {
  campaign: CampaignWithKeywords | null;
  lang: Language | null;
}

export const feedContentTypes: Record<FeedFormat | 'cap' | 'capIndex', string> = {
  rss: 'application/rss+xml; charset=utf-8',
  atom: 'application/atom+xml; charset=utf-8',
  json: 'application/feed+json; charset=utf-8',
  cap: 'application/cap+xml; charset=utf-8',
  capIndex: 'application/atom+xml; charset=utf-8',
};

/** The public URLs of a scope: its page and its feeds (with ?lang= when language-specific). */
export function feedUrls(publicUrl: string, scope: { campaign: { slug: string } | null; lang: Language | null }) {
  const base = scope.campaign ? `${publicUrl}/campaigns/${scope.campaign.slug}` : publicUrl;
  const q = scope.lang ? `?lang=${scope.lang}` : '';
  return {
    html: `${scope.campaign ? base : `${publicUrl}/`}${q}`,
    rss: `${base}/feed.rss${q}`,
    atom: `${base}/feed.atom${q}`,
    json: `${base}/feed.json${q}`,
  };
}

/** The structured figures of an update: the `_tocsin` object of JSON Feed, the API, and our XML namespace. */
export interface Figures {
  campaign: { id: number; slug: string; name: string };
  language: Language;
  /** Decimal strings ("45200.5"): money never goes through a float. */
  raised: string | null;
  goal: string | null;
  currency: string | null;
  donors: number | null;
  /** ISO 8601. */
  as_of: string | null;
  needs: { item: string; quantity: number | null; unit: string | null; urgency: 'critical' | 'high' | 'normal'; met: boolean }[];
  corrects: { id: number; url: string } | null;
  corrected_by: { id: number; url: string }[];
}

export function figuresOf(publicUrl: string, p: PublicUpdate, lang: Language): Figures {
  const u = p.update;
  const hasFigures = u.raised !== null;
  return {
    campaign: { id: p.campaign.id, slug: p.campaign.slug, name: p.campaign.name },
    language: lang,
    raised: u.raised,
    goal: u.goal ?? (hasFigures ? p.campaign.goal : null),
    currency: u.currency ?? (hasFigures ? p.campaign.currency : null),
    donors: u.donors,
    as_of: u.asOf?.toISOString() ?? null,
    needs: u.needs.map((n) => ({ item: n.item, quantity: n.quantity, unit: n.unit, urgency: n.urgency, met: n.met })),
    corrects: p.corrects ? { id: p.corrects.id, url: permalinkOf(publicUrl, p.corrects.id) } : null,
    corrected_by: p.correctedBy.map((c) => ({ id: c.id, url: permalinkOf(publicUrl, c.id) })),
  };
}

/** Our namespace's elements for one item (the prefix `tocsin` is declared on the document's root). */
function figuresXml(f: Figures): string {
  const t = (name: string) => `tocsin:${name}`;
  return [
    xmlElement(t('campaign'), f.campaign.name, { slug: f.campaign.slug, id: f.campaign.id }),
    xmlElement(t('language'), f.language),
    xmlElement(t('raised'), f.raised),
    xmlElement(t('goal'), f.goal),
    xmlElement(t('currency'), f.currency),
    xmlElement(t('donors'), f.donors),
    xmlElement(t('as_of'), f.as_of),
    ...f.needs.map(
      (n) =>
        `<tocsin:need urgency="${n.urgency}" met="${n.met}">${xmlElement(t('item'), n.item)}${xmlElement(t('quantity'), n.quantity)}${xmlElement(t('unit'), n.unit)}</tocsin:need>`,
    ),
    f.corrects ? xmlElement(t('corrects'), f.corrects.id, { href: f.corrects.url }) : '',
    ...f.corrected_by.map((c) => xmlElement(t('corrected_by'), c.id, { href: c.url })),
  ].join('');
}

interface Entry {
  p: PublicUpdate;
  lang: Language;
  title: string;
  text: string;
  html: string;
  permalink: string;
  link: string;
  figures: Figures;
  imageUrl: string | null;
}

function entriesOf(s: FeedSettings, scope: FeedScope, updates: PublicUpdate[]): Entry[] {
  return updates.map((p) => {
    const lang = languageFor(p.update, p.campaign, scope.lang);
    const ctx = renderContext(s, p.update, p.campaign, lang, p.corrects);
    const r = renderFeedItem(ctx);
    return {
      p,
      lang,
      title: r.title,
      text: r.text,
      html: r.html,
      permalink: ctx.permalink,
      link: scope.lang ? `${ctx.permalink}?lang=${lang}` : ctx.permalink,
      figures: figuresOf(s.publicUrl, p, lang),
      imageUrl: p.image ? `${s.publicUrl}/images/${p.image.id}` : null,
    };
  });
}

function feedTitles(s: FeedSettings, scope: FeedScope) {
  const t = translator(scope.lang ?? s.defaultLanguage);
  return scope.campaign
    ? { title: `${s.foundation} · ${scope.campaign.name}`, description: t('feed.campaignDescription', { foundation: s.foundation, campaign: scope.campaign.name }) }
    : { title: s.foundation, description: t('feed.description', { foundation: s.foundation }) };
}

// xml-js (under `feed`) turns "&amp;" in text back into "&" before escaping; pre-escaping "&" keeps text as written.
const forXmlText = (v: string) => xmlSafe(v).replace(/&/g, '&amp;');
// xml-js escapes only the first "]]>" of a CDATA section; a zero-width space keeps the others from closing it.
const forCdata = (v: string) => xmlSafe(v).replace(/\]\]>/g, ']]\u200b>');

function newFeed(s: FeedSettings, scope: FeedScope, entries: Entry[], self: string, xml: boolean): Feed {
  const urls = feedUrls(s.publicUrl, scope);
  const { title, description } = feedTitles(s, scope);
  const latest = entries[0]?.p.update.publishedAt ?? null;
  return new Feed({
    id: urls.html,
    title: xml ? forXmlText(title) : title,
    description: xml ? forXmlText(description) : description,
    link: urls.html,
    feed: self,
    feedLinks: { rss: urls.rss, atom: urls.atom, json: urls.json },
    hub: s.hub ?? undefined,
    language: scope.lang ?? undefined,
    generator: 'Tocsin',
    // Atom requires an author for the feed (or every entry): the foundation.
    author: { name: xml ? forXmlText(s.foundation) : s.foundation, link: `${s.publicUrl}/` },
    // Deterministic, so an unchanged feed is byte-for-byte the same (and its ETag honest).
    updated: latest ?? new Date(0),
  });
}

/** Where the `feed` library leaves an element of ours: a marker no user text can contain, replaced afterwards. */
function markers(count: number) {
  const nonce = randomBytes(12).toString('hex');
  return Array.from({ length: count }, (_, i) => `tocsin-${nonce}-${i}`);
}

/**
 * A feed in RSS 2.0, Atom 1.0 or JSON Feed 1.1. Items and channel come from `feed`; our namespace's elements are
 * put where the library leaves a marker (it has no hook for them in Atom, nor for a root namespace declaration).
 */
export function buildFeed(s: FeedSettings, scope: FeedScope, updates: PublicUpdate[], format: FeedFormat): string {
  const entries = entriesOf(s, scope, updates);
  const urls = feedUrls(s.publicUrl, scope);
  if (format === 'json') return buildJsonFeed(s, scope, entries, urls.json);
  const marks = markers(entries.length);
  const feed = newFeed(s, scope, entries, format === 'rss' ? urls.rss : urls.atom, true);
  entries.forEach((e, i) => {
    const item: Item = {
      id: e.permalink,
      guid: e.permalink,
      link: e.link,
      date: e.p.update.publishedAt!,
      published: e.p.update.publishedAt!,
      // RSS titles are plain text; an Atom title here is type="html", so its text is escaped once more.
      title: format === 'atom' ? forCdata(htmlEscape(e.title)) : forCdata(e.title),
    };
    if (format === 'rss') {
      item.description = forCdata(e.html);
      item.extensions = [{ name: 'tocsin:marker', objects: { _text: marks[i]! } }];
    } else {
      item.content = forCdata(e.html);
      item.copyright = marks[i]!;
    }
    feed.addItem(item);
  });
  let xml = format === 'rss' ? feed.rss2() : feed.atom1();
  // The root start tag comes before any item text, so its first occurrence is the root.
  xml = format === 'rss'
    ? xml.replace('<rss version="2.0"', `<rss version="2.0" xmlns:tocsin="${tocsinNamespace}"`)
    : xml.replace('<feed xmlns="http://www.w3.org/2005/Atom"', `<feed xmlns="http://www.w3.org/2005/Atom" xmlns:tocsin="${tocsinNamespace}"`);
  entries.forEach((e, i) => {
    const marker = format === 'rss' ? `<tocsin:marker>${marks[i]}</tocsin:marker>` : `<rights>${marks[i]}</rights>`;
    xml = xml.replace(marker, () => extraXml(e, format) + figuresXml(e.figures));
  });
  return xml;
}

/** The image as an enclosure, and the link to what a correction corrects. */
function extraXml(e: Entry, format: 'rss' | 'atom'): string {
  const img = e.p.image;
  if (!img || !e.imageUrl) return '';
  return format === 'rss'
    ? `<enclosure url="${xmlAttr(e.imageUrl)}" length="${img.size}" type="${xmlAttr(img.contentType)}"/>`
    : `<link rel="enclosure" href="${xmlAttr(e.imageUrl)}" length="${img.size}" type="${xmlAttr(img.contentType)}"/>`;
}

function buildJsonFeed(s: FeedSettings, scope: FeedScope, entries: Entry[], self: string): string {
  const feed = newFeed(s, scope, entries, self, false);
  for (const e of entries) {
    feed.addItem({
      id: e.permalink,
      link: e.link,
      title: e.title,
      content: e.html,
      date: e.p.update.publishedAt!,
      published: e.p.update.publishedAt!,
      extensions: [{ name: '_tocsin', objects: e.figures as unknown as Record<string, unknown> }],
    });
  }
  // `feed` writes JSON Feed 1.0; 1.1 adds language, authors and hubs, and the plain text beside the HTML.
  const out = JSON.parse(feed.json1()) as Record<string, unknown> & { items: Record<string, unknown>[] };
  out.version = 'https://jsonfeed.org/version/1.1';
  if (scope.lang) out.language = scope.lang;
  // `author` is deprecated in 1.1 in favour of `authors`.
  delete out.author;
  out.authors = [{ name: s.foundation, url: `${s.publicUrl}/` }];
  if (s.hub) out.hubs = [{ type: 'WebSub', url: s.hub }];
  out.items = out.items.map((item, i) => {
    const e = entries[i]!;
    const { _tocsin, ...rest } = item;
    return {
      ...rest,
      content_text: e.text,
      ...(e.p.update.link ? { external_url: e.p.update.link } : {}),
      ...(e.imageUrl ? { image: e.imageUrl } : {}),
      language: e.lang,
      _tocsin,
    };
  });
  return JSON.stringify(out);
}
