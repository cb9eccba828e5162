import type { RenderContext } from '../../src/updates/types';
import { formatDateTime } from '../../src/updates/money';
import { correctionPrefix, figuresLine, leadOf, linkOf, needsList } from './parts';
import { fill, words } from './words';

export interface EmailExtras {
  /** The recipient's own unsubscribe link (a signed URL); '#' in previews. */
  unsubscribeUrl: string;
  /** Absolute URL of the update's image, when it has one. */
  imageUrl: string | null;
}

/** A subject people can scan in a crowded inbox: "Haiti earthquake: our teams are distributing water…". */
export function emailSubject(ctx: RenderContext): string {
  const lead = leadOf(ctx).replace(/\s+/g, ' ');
  const firstSentence = lead.match(/^.{20,}?[.!?](\s|$)/u)?.[0]?.trim() ?? lead;
  const short = [...firstSentence].length > 90 ? `${[...firstSentence].slice(0, 88).join('').replace(/\s+\S*$/, '')}…` : firstSentence;
  // Leads often open with the campaign's name already; saying it twice wastes the subject line.
  const named = short.toLowerCase().startsWith(ctx.campaign.name.toLowerCase()) ? short : `${ctx.campaign.name}${ctx.lang === 'fr' ? ' : ' : ': '}${short}`;
  return `${correctionPrefix(ctx)}${named}`;
}

export function emailText(ctx: RenderContext, extras: EmailExtras): string {
  const w = words[ctx.lang];
  const colon = ctx.lang === 'fr' ? ' : ' : ': ';
  const out = [ctx.campaign.name, ''];
  if (ctx.corrects) out.push(fill(w.correctsUpdateOf, { date: ctx.corrects.publishedAt ? formatDateTime(ctx.corrects.publishedAt, ctx.lang, ctx.timeZone) : '' }), ctx.corrects.permalink, '');
  out.push(`${correctionPrefix(ctx)}${leadOf(ctx)}`, '');
  const figures = figuresLine(ctx);
  if (figures) out.push(`${figures}.`, '');
  const needs = needsList(ctx);
  if (needs) out.push(`${w.needed}${colon}${needs}.`, '');
  out.push(`${w.readMore}${colon}${linkOf(ctx)}`);
  if (ctx.campaign.donate_url) out.push(`${w.donate}${colon}${ctx.campaign.donate_url}`);
  out.push('', '-- ', fill(w.emailFooter, { campaign: ctx.campaign.name, foundation: ctx.foundation }), `${w.unsubscribe}${colon}${extras.unsubscribeUrl}`);
  return out.join('\n');
}

const button = 'display:inline-block;background:#7a1010;color:#ffffff;padding:10px 18px;border-radius:6px;text-decoration:none;font-weight:bold;margin:4px 8px 4px 0';

export function EmailHtml(props: { ctx: RenderContext; extras: EmailExtras }) {
  const { ctx, extras } = props;
  const w = words[ctx.lang];
  const figures = figuresLine(ctx);
  const order = { critical: 0, high: 1, normal: 2 } as const;
  const needs = ctx.update.needs.filter((n) => !n.met).sort((a, b) => order[a.urgency] - order[b.urgency]);
  return (
    <html lang={ctx.lang}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{emailSubject(ctx)}</title>
      </head>
      <body style="margin:0;padding:0;background:#f6f6f4;font-family:Arial,Helvetica,sans-serif;color:#1a1a1a">
        <div style="max-width:600px;margin:0 auto;padding:16px;background:#ffffff">
          <p style="margin:0 0 12px;color:#7a1010;font-weight:bold">{ctx.campaign.name}</p>
          {ctx.corrects ? (
            <p style="background:#fff4d6;border:1px solid #e0c060;padding:8px;border-radius:4px">
              <strong>{w.correction}</strong>{' — '}
              <a href={ctx.corrects.permalink}>{fill(w.correctsUpdateOf, { date: ctx.corrects.publishedAt ? formatDateTime(ctx.corrects.publishedAt, ctx.lang, ctx.timeZone) : '' })}</a>
            </p>
          ) : null}
          <p style="font-size:18px;line-height:1.5;white-space:pre-line">{leadOf(ctx)}</p>
          {extras.imageUrl ? <img src={extras.imageUrl} alt={ctx.update.imageAlt ?? w.imageAlt} style="max-width:100%;height:auto;border-radius:4px" /> : null}
          {figures ? <p style="font-size:16px"><strong>{figures}</strong></p> : null}
          {needs.length ? (
            <>
              <p style="margin-bottom:4px"><strong>{w.needed}</strong></p>
              <ul style="margin-top:0">
                {needs.map((n) => (
                  <li>{needsList({ ...ctx, update: { ...ctx.update, needs: [n] } })}</li>
                ))}
              </ul>
            </>
          ) : null}
          <p>
            <a href={linkOf(ctx)} style={button}>{w.readMore}</a>
            {ctx.campaign.donate_url ? <a href={ctx.campaign.donate_url} style={button}>{w.donate}</a> : null}
          </p>
          <hr style="border:0;border-top:1px solid #ddd;margin:24px 0 12px" />
          <p style="font-size:12px;color:#666">
            {fill(w.emailFooter, { campaign: ctx.campaign.name, foundation: ctx.foundation })}{' '}
            <a href={extras.unsubscribeUrl} style="color:#666">{w.unsubscribe}</a>
          </p>
        </div>
      </body>
    </html>
  );
}
