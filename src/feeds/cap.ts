import { randomBytes } from 'node:crypto';
import { Feed } from 'feed';
import type { Language, Urgency } from '../db/schema';
import { translator } from '../i18n';
import { permalinkOf, renderContext, renderFeedItem } from '../updates/render';
import type { FeedSettings } from './feeds';
import { openNeeds, type PublicUpdate } from './public-data';
import { xmlAttr, xmlElement, xmlSafe } from './xml';

/**
 * CAP 1.2 (OASIS Common Alerting Protocol), as emergency aggregators read it. Decisions, documented in docs/feeds.md:
 * - category `Other`: an update reports an aid organisation's needs and fundraising, not a hazard nor an instruction
 *   to the public; `Rescue` would route it with rescue operations people are asked to act on.
 * - urgency/severity/certainty come from the most urgent open need (none open: as `normal`):
 *   critical → Immediate/Severe/Observed, high → Expected/Moderate/Observed, normal → Future/Minor/Likely.
 * - a correction is msgType `Update` with `references` naming the alert it corrects.
 */
export const capNamespace = 'urn:oasis:names:tc:emergency:cap:1.2';

const capLevels: Record<Urgency, { urgency: string; severity: string; certainty: string }> = {
  critical: { urgency: 'Immediate', severity: 'Severe', certainty: 'Observed' },
  high: { urgency: 'Expected', severity: 'Moderate', certainty: 'Observed' },
  normal: { urgency: 'Future', severity: 'Minor', certainty: 'Likely' },
};

export function capLevelsOf(p: PublicUpdate) {
  return capLevels[openNeeds(p.update.needs)[0]?.urgency ?? 'normal'];
}

/** `2026-11-20T13:00:00-05:00`: whole seconds and an explicit offset, UTC written `-00:00` as CAP requires. */
export function capDateTime(d: Date, timeZone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
      .formatToParts(d)
      .map((p) => [p.type, p.value]),
  );
  const wall = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  const offset = Math.round((wall - Math.floor(d.getTime() / 1000) * 1000) / 60_000);
  const abs = Math.abs(offset);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}${offset > 0 ? '+' : '-'}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** Who sends: an address at the public host (CAP asks for something globally unique, e.g. a domain). */
export function capSender(publicUrl: string): string {
  return `tocsin@${new URL(publicUrl).hostname}`;
}

/** Never reused: the public host and the update's id (no spaces, commas, < or &, as CAP requires). */
export function capIdentifier(publicUrl: string, updateId: number): string {
  return `urn:tocsin:${new URL(publicUrl).hostname}:update:${updateId}`;
}

export function capUrlOf(publicUrl: string, updateId: number): string {
  return `${permalinkOf(publicUrl, updateId)}.cap`;
}

/** One published update as a CAP 1.2 alert, with one `info` per language it is written in. */
export function buildCapAlert(s: FeedSettings, p: PublicUpdate): string {
  const u = p.update;
  const sender = capSender(s.publicUrl);
  const levels = capLevelsOf(p);
  const langs = p.campaign.languages.filter((l) => u.leads[l]);
  const e = xmlElement;
  const infos = langs.map((lang: Language) => {
    const ctx = renderContext(s, u, p.campaign, lang, p.corrects);
    const r = renderFeedItem(ctx);
    const currency = u.currency ?? p.campaign.currency;
    const goal = u.goal ?? p.campaign.goal;
    const parameters: [string, string | number | null][] = u.raised !== null
      ? [['raised', u.raised], ['goal', goal], ['currency', currency], ['donors', u.donors], ['as_of', u.asOf ? capDateTime(u.asOf, s.timeZone) : null]]
      : [];
    return [
      '<info>',
      e('language', lang),
      e('category', 'Other'),
      e('event', p.campaign.name),
      e('urgency', levels.urgency),
      e('severity', levels.severity),
      e('certainty', levels.certainty),
      e('senderName', s.foundation),
      e('headline', r.title),
      e('description', r.text),
      e('web', `${ctx.permalink}?lang=${lang}`),
      ...parameters.filter(([, v]) => v !== null).map(([k, v]) => `<parameter>${e('valueName', k)}${e('value', v)}</parameter>`),
      p.image
        ? `<resource>${e('resourceDesc', u.imageAlt ?? translator(lang)('public.image'))}${e('mimeType', p.image.contentType)}${e('size', p.image.size)}${e('uri', `${s.publicUrl}/images/${p.image.id}`)}</resource>`
        : '',
      '</info>',
    ].join('');
  });
  const references = p.corrects?.publishedAt
    ? `${sender},${capIdentifier(s.publicUrl, p.corrects.id)},${capDateTime(p.corrects.publishedAt, s.timeZone)}`
    : null;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>\n',
    `<alert xmlns="${capNamespace}">`,
    e('identifier', capIdentifier(s.publicUrl, u.id)),
    e('sender', sender),
    e('sent', capDateTime(u.publishedAt!, s.timeZone)),
    e('status', 'Actual'),
    e('msgType', references ? 'Update' : 'Alert'),
    e('scope', 'Public'),
    e('references', references),
    ...infos,
    '</alert>\n',
  ].join('');
}

/** An Atom index of the latest CAP alerts, the form CAP aggregators poll. */
export function buildCapIndex(s: FeedSettings, updates: PublicUpdate[]): string {
  const self = `${s.publicUrl}/feed.cap.atom`;
  const t = translator(s.defaultLanguage);
  const feed = new Feed({
    id: self,
    title: xmlSafe(`${s.foundation} · CAP`).replace(/&/g, '&amp;'),
    description: xmlSafe(t('feed.capDescription', { foundation: s.foundation })).replace(/&/g, '&amp;'),
    link: `${s.publicUrl}/`,
    feed: self,
    hub: s.hub ?? undefined,
    generator: 'Tocsin',
    author: { name: xmlSafe(s.foundation).replace(/&/g, '&amp;'), link: `${s.publicUrl}/` },
    updated: updates[0]?.update.publishedAt ?? new Date(0),
  });
  const nonce = randomBytes(12).toString('hex');
  updates.forEach((p, i) => {
    const lang = p.campaign.languages.find((l) => p.update.leads[l]) ?? p.campaign.languages[0]!;
    const r = renderFeedItem(renderContext(s, p.update, p.campaign, lang, p.corrects));
    feed.addItem({
      id: capUrlOf(s.publicUrl, p.update.id),
      link: permalinkOf(s.publicUrl, p.update.id),
      title: xmlSafe(r.title).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\]\]>/g, ']]\u200b>'),
      date: p.update.publishedAt!,
      published: p.update.publishedAt!,
      copyright: `tocsin-${nonce}-${i}`,
    });
  });
  let xml = feed.atom1();
  updates.forEach((p, i) => {
    xml = xml.replace(`<rights>tocsin-${nonce}-${i}</rights>`, () => `<link rel="alternate" type="application/cap+xml" href="${xmlAttr(capUrlOf(s.publicUrl, p.update.id))}"/>`);
  });
  return xml;
}
