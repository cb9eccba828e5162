import { EmailHtml, emailSubject, emailText, type EmailExtras } from '../../templates/messages/email';
import { feedItemTemplate } from '../../templates/messages/feed';
import { microblogTemplate } from '../../templates/messages/microblog';
import { smsTemplate } from '../../templates/messages/sms';
import type { Campaign, Language } from '../db/schema';
import type { MicroblogNetwork } from '../channels/types';
import { measureBluesky, measureMastodon, measureX, threadForBluesky, threadForMastodon, threadForX } from '../text/microblog';
import { analyzeSms, suggestGsm7Rewrite, truncateSmsAtWord, type SmsAnalysis } from '../text/sms';
import type { RenderContext, UpdateView } from './types';

export interface RenderSettings {
  publicUrl: string;
  foundation: string;
  timeZone: string;
  smsMaxSegments: number;
  mastodonLimit: number;
}

export function permalinkOf(publicUrl: string, updateId: number): string {
  return `${publicUrl}/updates/${updateId}`;
}

export function renderContext(
  s: RenderSettings,
  update: UpdateView,
  campaign: Campaign,
  lang: Language,
  corrects: { id: number; publishedAt: Date | null } | null,
): RenderContext {
  return {
    update,
    campaign,
    lang,
    foundation: s.foundation,
    permalink: permalinkOf(s.publicUrl, update.id),
    corrects: corrects ? { ...corrects, permalink: permalinkOf(s.publicUrl, corrects.id) } : null,
    timeZone: s.timeZone,
  };
}

// Text typed into an HTML form arrives with CRLF, which costs SMS two septets a line.
const plainLines = (s: string) => s.replace(/\r\n?/g, '\n');
// Intl puts no-break spaces in "45 200 €" and "45 %": not GSM-7, so an SMS would pay UCS-2 for them.
const plainSpaces = (s: string) => s.replace(/[\u00a0\u202f]/g, ' ');

export interface SmsRendering {
  text: string;
  analysis: SmsAnalysis;
  /** The body was cut at a word to fit the segment budget; the permalink is kept. */
  truncated: boolean;
  /** The author accepted the GSM-7 rewrite for this language. */
  rewritten: boolean;
  /** What accepting the rewrite would give, when the text is UCS-2 and a rewrite helps. */
  suggestion: { text: string; analysis: SmsAnalysis; changes: { from: string; to: string; count: number }[]; remainingUnicode: string[] } | null;
}

export function renderSms(ctx: RenderContext, maxSegments: number): SmsRendering {
  const { body, tail } = smsTemplate(ctx);
  const rewritten = ctx.update.smsGsm7.includes(ctx.lang);
  const build = (rewrite: boolean) => {
    const prep = (s: string) => {
      const t = plainSpaces(plainLines(s));
      return rewrite ? suggestGsm7Rewrite(t).text : t;
    };
    return truncateSmsAtWord(prep(body), maxSegments, prep(tail), '\n');
  };
  const chosen = build(rewritten);
  const analysis = analyzeSms(chosen.text);
  let suggestion: SmsRendering['suggestion'] = null;
  if (!rewritten && analysis.encoding === 'UCS-2') {
    const alt = build(true);
    const r = suggestGsm7Rewrite(plainSpaces(plainLines(`${body}\n${tail}`)));
    const altAnalysis = analyzeSms(alt.text);
    if (r.changes.length) suggestion = { text: alt.text, analysis: altAnalysis, changes: r.changes, remainingUnicode: r.remainingUnicode };
  }
  return { text: chosen.text, analysis, truncated: chosen.truncated, rewritten, suggestion };
}

export interface EmailRendering {
  subject: string;
  html: string;
  text: string;
}

export function renderEmail(ctx: RenderContext, extras: EmailExtras): EmailRendering {
  return {
    subject: emailSubject(ctx),
    html: '<!doctype html>' + String(EmailHtml({ ctx, extras })),
    text: emailText(ctx, extras),
  };
}

export interface PostRendering {
  network: MicroblogNetwork;
  parts: string[];
  /** Length of each part as the network counts it, and the limit. */
  lengths: number[];
  limit: number;
}

export function renderPost(ctx: RenderContext, network: MicroblogNetwork, mastodonLimit: number): PostRendering {
  const text = plainLines(microblogTemplate(ctx));
  if (network === 'x') {
    const parts = threadForX(text);
    return { network, parts, lengths: parts.map((p) => measureX(p).length), limit: 280 };
  }
  if (network === 'bluesky') {
    const parts = threadForBluesky(text);
    return { network, parts, lengths: parts.map((p) => measureBluesky(p).graphemes), limit: 300 };
  }
  const parts = threadForMastodon(text, mastodonLimit);
  return { network, parts, lengths: parts.map((p) => measureMastodon(p, mastodonLimit).length), limit: mastodonLimit };
}

export function renderFeedItem(ctx: RenderContext) {
  return feedItemTemplate(ctx);
}

export interface Renderings {
  lang: Language;
  sms: SmsRendering;
  email: EmailRendering;
  posts: PostRendering[];
  feed: ReturnType<typeof feedItemTemplate>;
}

/** Every channel's rendering in one language: what the compose page previews and approvers approve. */
export function renderAll(s: RenderSettings, ctx: RenderContext, extras: EmailExtras): Renderings {
  return {
    lang: ctx.lang,
    sms: renderSms(ctx, s.smsMaxSegments),
    email: renderEmail(ctx, extras),
    posts: (['mastodon', 'bluesky', 'x'] as const).map((n) => renderPost(ctx, n, s.mastodonLimit)),
    feed: renderFeedItem(ctx),
  };
}

export function renderSettingsOf(config: { PUBLIC_URL: string; FOUNDATION_NAME: string; TIMEZONE: string; SMS_MAX_SEGMENTS: number; MASTODON_CHAR_LIMIT: number }): RenderSettings {
  return {
    publicUrl: config.PUBLIC_URL,
    foundation: config.FOUNDATION_NAME,
    timeZone: config.TIMEZONE,
    smsMaxSegments: config.SMS_MAX_SEGMENTS,
    mastodonLimit: config.MASTODON_CHAR_LIMIT,
  };
}
