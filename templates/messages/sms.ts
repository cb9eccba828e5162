import type { RenderContext } from '../../src/updates/types';
import { correctionPrefix, figuresLine, leadOf, needsList } from './parts';
import { words } from './words';

/**
 * The SMS body, split in two: what may be shortened (`body`) and what must always
 * arrive whole (`tail`: the link and how to stop). src/updates/render.ts joins
 * them and cuts `body` at a word when the message is over its segment budget.
 */
export function smsTemplate(ctx: RenderContext): { body: string; tail: string } {
  const w = words[ctx.lang];
  const colon = ctx.lang === 'fr' ? ' : ' : ': ';
  const lines = [`${ctx.foundation}${colon}${correctionPrefix(ctx)}${leadOf(ctx)}`];
  const figures = figuresLine(ctx, { asOf: false });
  if (figures) lines.push(`${figures}.`);
  const needs = needsList(ctx);
  if (needs) lines.push(`${w.needed}${colon}${needs}.`);
  return { body: lines.join('\n'), tail: `${ctx.permalink}\n${w.smsOptOut}` };
}
