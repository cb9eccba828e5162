import type { Context } from 'hono';
import { getCookie } from 'hono/cookie';
import { createMiddleware } from 'hono/factory';
import type { Language } from '../../db/schema';
import type { Deps } from '../../deps';
import type { FeedFormat } from '../../feeds/feeds';
import { isLanguage, negotiateLanguage } from '../../i18n';
import { langCookie } from '../middleware';
import { publicResponder, type PublicResource } from './cache';

/**
 * What each public page and feed depends on besides the public version: one key per resource. The routes and the
 * early conditional check below compute it with the same functions, so both give the same ETag.
 */
export const publicKeys = {
  home: (lang: Language) => `/|${lang}`,
  campaign: (slug: string, page: number, lang: Language) => `/campaigns/${slug}?page=${page}|${lang}`,
  update: (id: number, lang: Language) => `/updates/${id}|${lang}`,
  feed: (slug: string | null, format: FeedFormat, lang: Language | null) => `${slug ?? ''}/${format}?lang=${lang ?? ''}`,
  cap: (id: number) => `/updates/${id}.cap`,
  capIndex: () => '/feed.cap.atom',
};

/**
 * The language of a public page: `?lang=`, else the language cookie, else Accept-Language. Not a staff member's own
 * setting, so a page is the same for everyone sending the same cookie and header (what `Vary` says).
 */
export function publicLanguage(c: Context, deps: Pick<Deps, 'config'>): Language {
  const asked = c.req.query('lang');
  if (isLanguage(asked)) return asked;
  const cookie = getCookie(c, langCookie);
  return isLanguage(cookie) ? cookie : negotiateLanguage(c.req.header('accept-language'), deps.config.DEFAULT_LANGUAGE);
}

export function feedLanguage(c: Context): Language | null {
  const asked = c.req.query('lang');
  return isLanguage(asked) ? asked : null;
}

/** `?page=`: absent is 1; anything but a positive integer is no page at all. */
export function pageNumber(raw: string | undefined): number | null {
  const n = raw === undefined ? 1 : Number(raw);
  return Number.isSafeInteger(n) && n >= 1 ? n : null;
}

const feedFile = /^feed\.(rss|atom|json)$/;
const slugPattern = /^[a-z0-9]+(-[a-z0-9]+)*$/;

/** The public resource a GET names, or null for any other path (those go through the app as usual). */
export function publicResourceOf(c: Context, deps: Pick<Deps, 'config'>): Pick<PublicResource, 'kind' | 'key'> | null {
  const parts = c.req.path.split('/').slice(1);
  if (parts.length === 1) {
    if (parts[0] === '') return { kind: 'page', key: publicKeys.home(publicLanguage(c, deps)) };
    if (parts[0] === 'feed.cap.atom') return { kind: 'feed', key: publicKeys.capIndex() };
    const f = parts[0]!.match(feedFile);
    return f ? { kind: 'feed', key: publicKeys.feed(null, f[1] as FeedFormat, feedLanguage(c)) } : null;
  }
  if (parts[0] === 'updates' && parts.length === 2) {
    const m = parts[1]!.match(/^([0-9]{1,15})(\.cap)?$/);
    if (!m) return null;
    return m[2] ? { kind: 'feed', key: publicKeys.cap(Number(m[1])) } : { kind: 'page', key: publicKeys.update(Number(m[1]), publicLanguage(c, deps)) };
  }
  if (parts[0] === 'campaigns' && slugPattern.test(parts[1] ?? '')) {
    if (parts.length === 2) {
      const page = pageNumber(c.req.query('page'));
      return page ? { kind: 'page', key: publicKeys.campaign(parts[1]!, page, publicLanguage(c, deps)) } : null;
    }
    const f = parts.length === 3 ? parts[2]!.match(feedFile) : null;
    return f ? { kind: 'feed', key: publicKeys.feed(parts[1]!, f[1] as FeedFormat, feedLanguage(c)) } : null;
  }
  return null;
}

/**
 * Answers a matching conditional GET for a public page or feed before the session, CSRF and security-header
 * middleware run: a 304 carries no body for those to protect, and skipping them makes the check nearly free (see
 * BENCHMARKS.md). Anything else, including every non-matching request, goes on through the app unchanged.
 */
export function publicConditionalGet(deps: Pick<Deps, 'db' | 'config'>) {
  const responder = publicResponder(deps);
  return createMiddleware(async (c, next) => {
    if ((c.req.method !== 'GET' && c.req.method !== 'HEAD') || (!c.req.header('if-none-match') && !c.req.header('if-modified-since'))) return next();
    const resource = publicResourceOf(c, deps);
    const res = resource ? await responder.notModified(c, resource) : null;
    if (!res) return next();
    return res;
  });
}
