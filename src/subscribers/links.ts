import type { Language } from '../db/schema';
import type { Deps } from '../deps';
import { safeEqual, sign } from '../staff/tokens';

/**
 * Signed links sent to subscribers. The link carries what it is about, signed with deps.secret, so nothing is
 * stored per email sent and a link cannot be edited to touch someone else.
 */
export interface ConfirmLink {
  kind: 'confirm';
  subscriberId: number;
  email: string;
  campaignIds: number[];
  language: Language;
  /** Unix seconds. */
  expires: number;
}

/** One-click unsubscribe: never expires (a List-Unsubscribe header must keep working in an old email). */
export interface UnsubscribeLink {
  kind: 'unsubscribe';
  subscriberId: number;
  /** null: every campaign, i.e. no more email at all. */
  campaignId: number | null;
}

export type SubscriberLink = ConfirmLink | UnsubscribeLink;

export const confirmLinkHours = 72;
/** The token travels in the query string, which the access log leaves out. app.ts exempts /unsubscribe/ from CSRF. */
export const unsubscribePath = '/unsubscribe/link';

// Separates these signatures from any other use of the same key.
const purpose = 'tocsin.subscriber-link.v1:';

export function encodeLink(secret: string, link: SubscriberLink): string {
  const compact =
    link.kind === 'confirm'
      ? { k: 'c', s: link.subscriberId, e: link.email, c: link.campaignIds, l: link.language, x: link.expires }
      : { k: 'u', s: link.subscriberId, c: link.campaignId };
  const body = Buffer.from(JSON.stringify(compact)).toString('base64url');
  return `${body}.${sign(secret, purpose + body)}`;
}

export type DecodedLink = { ok: true; link: SubscriberLink } | { ok: false; reason: 'invalid' | 'expired' };

/** Checks the signature first: nothing from an unsigned or edited link is trusted, not even its expiry. */
export function decodeLink(secret: string, token: string, now: Date): DecodedLink {
  const [body, signature, extra] = token.split('.');
  if (!body || !signature || extra !== undefined || token.length > 2000) return { ok: false, reason: 'invalid' };
  if (!safeEqual(signature, sign(secret, purpose + body))) return { ok: false, reason: 'invalid' };
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return { ok: false, reason: 'invalid' };
  }
  const id = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) > 0;
  if (v.k === 'c' && id(v.s) && typeof v.e === 'string' && Array.isArray(v.c) && v.c.every(id) && (v.l === 'en' || v.l === 'fr') && typeof v.x === 'number') {
    if (v.x * 1000 <= now.getTime()) return { ok: false, reason: 'expired' };
    return { ok: true, link: { kind: 'confirm', subscriberId: v.s, email: v.e, campaignIds: v.c as number[], language: v.l, expires: v.x } };
  }
  if (v.k === 'u' && id(v.s) && (v.c === null || id(v.c))) return { ok: true, link: { kind: 'unsubscribe', subscriberId: v.s, campaignId: v.c } };
  return { ok: false, reason: 'invalid' };
}

export function confirmUrl(deps: Pick<Deps, 'config' | 'secret'>, link: Omit<ConfirmLink, 'kind'>): string {
  return `${deps.config.PUBLIC_URL}/subscribe/confirm?token=${encodeLink(deps.secret, { kind: 'confirm', ...link })}`;
}

export function unsubscribeUrl(deps: Pick<Deps, 'config' | 'secret'>, target: { subscriberId: number; campaignId: number | null }): string {
  return `${deps.config.PUBLIC_URL}${unsubscribePath}?token=${encodeLink(deps.secret, { kind: 'unsubscribe', ...target })}`;
}

/**
 * The headers every email Tocsin sends to a subscriber carries (RFC 2369 and RFC 8058): an https one-click
 * URL that a POST alone acts on, and a mailto for clients that only know that. `campaignId: null` unsubscribes
 * from every email.
 */
export function listUnsubscribeHeaders(
  deps: Pick<Deps, 'config' | 'secret'>,
  target: { subscriberId: number; campaignId: number | null },
): { 'List-Unsubscribe': string; 'List-Unsubscribe-Post': string } {
  const token = encodeLink(deps.secret, { kind: 'unsubscribe', ...target });
  const mailto = `mailto:${unsubscribeMailbox(deps.config)}?subject=${encodeURIComponent(`unsubscribe ${token}`)}`;
  return {
    'List-Unsubscribe': `<${deps.config.PUBLIC_URL}${unsubscribePath}?token=${token}>, <${mailto}>`,
    'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
  };
}

/** Where mailto unsubscribes go: UNSUBSCRIBE_EMAIL, or unsubscribe@ the public host. */
export function unsubscribeMailbox(config: Deps['config']): string {
  return config.UNSUBSCRIBE_EMAIL ?? `unsubscribe@${new URL(config.PUBLIC_URL).hostname}`;
}

/** The token in a mailto unsubscribe's subject ("unsubscribe <token>"), for the inbound email handler. */
export function tokenFromUnsubscribeSubject(subject: string): string | null {
  return /\bunsubscribe\s+([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)/i.exec(subject)?.[1] ?? null;
}
