import { formatCount, formatDateTime, formatMoney, formatPercent } from '../../src/updates/money';
import type { RenderContext } from '../../src/updates/types';
import { fill, words } from './words';

/** "€45,200 raised of €100,000 (45%), 812 donors, as of Nov 20, 2026, 6:00 PM" — or null without figures. */
export function figuresLine(ctx: RenderContext, opts: { asOf?: boolean } = {}): string | null {
  const u = ctx.update;
  const w = words[ctx.lang];
  if (u.raised === null) return null;
  const currency = u.currency ?? ctx.campaign.currency;
  const raised = formatMoney(u.raised, currency, ctx.lang);
  const goal = u.goal ?? ctx.campaign.goal;
  const percent = goal ? formatPercent(u.raised, goal, ctx.lang) : null;
  const parts = [goal && percent ? fill(w.raisedOf, { raised, goal: formatMoney(goal, currency, ctx.lang), percent }) : fill(w.raised, { raised })];
  if (u.donors !== null) parts.push(u.donors === 1 ? w.oneDonor : fill(w.donors, { count: formatCount(u.donors, ctx.lang) }));
  if (opts.asOf !== false && u.asOf) parts.push(fill(w.asOf, { date: formatDateTime(u.asOf, ctx.lang, ctx.timeZone) }));
  return parts.join(', ');
}

/** "tarpaulins 4,000 units (critical), drinking water 12,000 litres (urgent)": unmet needs, most urgent first. */
export function needsList(ctx: RenderContext): string | null {
  const order = { critical: 0, high: 1, normal: 2 } as const;
  const open = ctx.update.needs.filter((n) => !n.met).sort((a, b) => order[a.urgency] - order[b.urgency]);
  if (!open.length) return null;
  const w = words[ctx.lang];
  return open
    .map((n) => {
      const qty = n.quantity !== null ? ` ${formatCount(n.quantity, ctx.lang)}${n.unit ? ` ${n.unit}` : ''}` : '';
      const urgency = w.urgency[n.urgency];
      return `${n.item}${qty}${urgency ? ` (${urgency})` : ''}`;
    })
    .join(', ');
}

export function leadOf(ctx: RenderContext): string {
  return (ctx.update.leads[ctx.lang] ?? Object.values(ctx.update.leads)[0] ?? '').trim();
}

export function linkOf(ctx: RenderContext): string {
  return ctx.update.link ?? ctx.permalink;
}

export function hashtagOf(ctx: RenderContext): string | null {
  return ctx.campaign.hashtag ? `#${ctx.campaign.hashtag}` : null;
}

/** "Correction: " in the message's language, or nothing. */
export function correctionPrefix(ctx: RenderContext): string {
  return ctx.corrects ? `${words[ctx.lang].correction}${ctx.lang === 'fr' ? ' : ' : ': '}` : '';
}
