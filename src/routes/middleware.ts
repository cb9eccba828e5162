import { getCookie, setCookie, deleteCookie } from 'hono/cookie';
import { createMiddleware } from 'hono/factory';
import type { Deps } from '../deps';
import { AppError } from '../errors';
import { isLanguage, negotiateLanguage, translator } from '../i18n';
import { resolveSession } from '../staff/sessions';
import { newToken, safeEqual } from '../staff/tokens';
import type { AppContext, AppEnv, Ui } from './context';
import type { Role } from '../db/schema';

export const sessionCookie = 'tocsin_session';
export const csrfCookie = 'tocsin_csrf';
export const langCookie = 'tocsin_lang';

export function cookieOptions(deps: Pick<Deps, 'config'>) {
  return { httpOnly: true, sameSite: 'Lax' as const, secure: deps.config.PUBLIC_URL.startsWith('https:'), path: '/' };
}

/** One JSON line per request. The query string is left out: links carry tokens. */
export function accessLog(deps: Pick<Deps, 'log'>) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const started = performance.now();
    await next();
    deps.log.info('request', {
      requestId: c.get('requestId'),
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms: Math.round((performance.now() - started) * 10) / 10,
    });
  });
}

/**
 * Who is asking, and in which language to answer. Order: `?lang=` (remembered in
 * a cookie), the staff member's own setting, the cookie, Accept-Language.
 */
export function sessionAndLanguage(deps: Deps) {
  return createMiddleware<AppEnv>(async (c, next) => {
    c.set('staff', null);
    c.set('sessionId', null);
    c.set('sessionExpired', false);
    const token = getCookie(c, sessionCookie);
    if (token) {
      const found = await resolveSession(deps, token);
      if (typeof found === 'object') {
        c.set('staff', found.staff);
        c.set('sessionId', found.sessionId);
      } else {
        c.set('sessionExpired', found === 'expired');
        deleteCookie(c, sessionCookie, cookieOptions(deps));
      }
    }
    const asked = c.req.query('lang');
    if (isLanguage(asked)) setCookie(c, langCookie, asked, { ...cookieOptions(deps), maxAge: 365 * 86400 });
    const staffLang = c.get('staff')?.language;
    const cookieLang = getCookie(c, langCookie);
    const lang = isLanguage(asked)
      ? asked
      : (staffLang ?? (isLanguage(cookieLang) ? cookieLang : negotiateLanguage(c.req.header('accept-language'), deps.config.DEFAULT_LANGUAGE)));
    c.set('lang', lang);
    c.set('t', translator(lang));
    await next();
  });
}

const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Double-submit CSRF protection for every state-changing form: the token in the
 * form must equal the one in our HttpOnly cookie, and a browser-sent Origin must be
 * ours. Machine-to-machine paths (API tokens, signed webhooks) are authenticated otherwise.
 */
export function csrfProtection(deps: Pick<Deps, 'config'>, exemptPrefixes: string[]) {
  const origin = new URL(deps.config.PUBLIC_URL).origin;
  return createMiddleware<AppEnv>(async (c, next) => {
    let token = getCookie(c, csrfCookie);
    const exempt = exemptPrefixes.some((p) => c.req.path.startsWith(p));
    if (!safeMethods.has(c.req.method) && !exempt) {
      const sentOrigin = c.req.header('origin');
      if (sentOrigin && sentOrigin !== 'null' && sentOrigin !== origin) throw new AppError('CSRF', 'Cross-origin form rejected.');
      const sent = c.req.header('x-csrf-token') ?? (isForm(c) ? String((await c.req.parseBody())['_csrf'] ?? '') : '');
      if (!token || !sent || !safeEqual(sent, token)) throw new AppError('CSRF', 'Missing or wrong CSRF token.');
    }
    if (!token) {
      token = newToken();
      setCookie(c, csrfCookie, token, cookieOptions(deps));
    }
    c.set('csrf', token);
    await next();
  });
}

function isForm(c: AppContext): boolean {
  const type = c.req.header('content-type') ?? '';
  return type.startsWith('application/x-www-form-urlencoded') || type.startsWith('multipart/form-data');
}

/** The fields of a submitted form as strings (the first value of each). */
export async function readForm(c: AppContext): Promise<Record<string, string>> {
  if (!isForm(c)) throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send this form as application/x-www-form-urlencoded or multipart/form-data.');
  const body = await c.req.parseBody();
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) {
    const first = Array.isArray(v) ? v[0] : v;
    if (typeof first === 'string') out[k] = first;
  }
  return out;
}

/** Staff pages: a session, and optionally one of some roles. GET without a session goes to the login page. */
export function requireStaff(...roles: Role[]) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const staff = c.get('staff');
    if (!staff) {
      if (c.req.method === 'GET') {
        const next = encodeURIComponent(c.req.path + (new URL(c.req.url).search || ''));
        return c.redirect(`/login?next=${next}${c.get('sessionExpired') ? '&expired=1' : ''}`, 303);
      }
      throw new AppError('UNAUTHENTICATED', 'Log in first.');
    }
    if (roles.length && !roles.includes(staff.role)) throw new AppError('FORBIDDEN', `This needs the role ${roles.join(' or ')}.`);
    await next();
  });
}

export function uiOf(c: AppContext, deps: Pick<Deps, 'config'> & Partial<Pick<Deps, 'channels'>>): Ui {
  return {
    lang: c.get('lang'),
    t: c.get('t'),
    csrf: c.get('csrf'),
    staff: c.get('staff'),
    path: c.req.path,
    foundation: deps.config.FOUNDATION_NAME,
    devOutbox: Object.values(deps.channels ?? {}).some((ch) => ch.kind === 'dev'),
  };
}

/** The client's address: the socket's, or with TRUST_PROXY the one the proxy appended to X-Forwarded-For. */
export function clientIp(c: AppContext, deps: Pick<Deps, 'config'>): string {
  if (deps.config.TRUST_PROXY) {
    const forwarded = c.req.header('x-forwarded-for')?.split(',').map((s) => s.trim()).filter(Boolean);
    if (forwarded?.length) return forwarded.at(-1)!;
  }
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress ?? 'unknown';
}

/** A positive integer id from the path; anything else is a 404, never a 500. */
export function idParam(c: AppContext, name = 'id'): number {
  const id = Number(c.req.param(name));
  if (!Number.isSafeInteger(id) || id <= 0) throw new AppError('NOT_FOUND', 'No such id.');
  return id;
}
