import { html } from 'hono/html';
import type { RenderContext } from '../../src/updates/types';
import { correctionPrefix, figuresLine, leadOf, linkOf, needsList } from './parts';
import { words } from './words';

/** A feed item's title and content; the structured figures travel separately (feeds issue). */
export function feedItemTemplate(ctx: RenderContext): { title: string; text: string; html: string } {
  const w = words[ctx.lang];
  const colon = ctx.lang === 'fr' ? ' : ' : ': ';
  const lead = leadOf(ctx);
  const title = `${correctionPrefix(ctx)}${[...lead].length > 100 ? `${[...lead].slice(0, 98).join('').replace(/\s+\S*$/, '')}…` : lead}`;
  const figures = figuresLine(ctx);
  const needs = needsList(ctx);
  const text = [`${correctionPrefix(ctx)}${lead}`, figures ? `${figures}.` : null, needs ? `${w.needed}${colon}${needs}.` : null].filter(Boolean).join('\n\n');
  // hono/html escapes every interpolated value.
  const body = html`${ctx.corrects ? html`<p><strong>${w.correction}</strong>: <a href="${ctx.corrects.permalink}">${ctx.corrects.permalink}</a></p>` : ''}<p>${lead}</p>${figures ? html`<p><strong>${figures}</strong></p>` : ''}${needs ? html`<p>${w.needed}${colon}${needs}</p>` : ''}<p><a href="${linkOf(ctx)}">${w.readMore}</a></p>`;
  return { title, text, html: String(body) };
}
