import type { RenderContext } from '../../src/updates/types';
import { correctionPrefix, figuresLine, hashtagOf, leadOf, linkOf, needsList } from './parts';
import { words } from './words';

/** One text for Mastodon, Bluesky and X; src/updates/render.ts threads it per network's limit. */
export function microblogTemplate(ctx: RenderContext): string {
  const w = words[ctx.lang];
  const colon = ctx.lang === 'fr' ? ' : ' : ': ';
  const paragraphs = [`${correctionPrefix(ctx)}${leadOf(ctx)}`];
  const figures = figuresLine(ctx);
  if (figures) paragraphs.push(`${figures}.`);
  const needs = needsList(ctx);
  if (needs) paragraphs.push(`${w.needed}${colon}${needs}.`);
  const tag = hashtagOf(ctx);
  paragraphs.push(tag ? `${linkOf(ctx)} ${tag}` : linkOf(ctx));
  return paragraphs.join('\n\n');
}
