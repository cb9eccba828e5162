import { createHash, randomUUID } from 'node:crypto';
import { listCampaigns } from '../db/campaigns';
import { countRateLimitHit, deleteRateLimitCountersBefore } from '../db/rate-limits';
import type { Language } from '../db/schema';
import type { NewConsentEntry } from '../db/schema-subscribers';
import {
  activateSubscriptions,
  clearChannelOptOut,
  ensureSubscriberByEmail,
  findSubscriberById,
  insertConsentEntries,
  insertPendingSubscriptions,
  lockSubscriber,
  setChannelOptOut,
  unsubscribeSubscriptions,
  updateSubscriberLanguage,
} from '../db/subscribers';
import type { Deps } from '../deps';
import { isLanguage } from '../i18n';
import { checkEmail, invalid, type FieldError } from '../staff/validate';
import { confirmSubscriptionEmail } from '../../templates/email/confirm-subscription';
import { confirmLinkHours, confirmUrl, decodeLink, listUnsubscribeHeaders } from './links';

const hour = 3_600_000;
/** Confirmation emails to one address per hour, whoever asks: the form must not become a way to flood someone. */
const perAddressPerHour = 3;

export interface EmailSubscriptionRequest {
  email: string;
  language: string;
  campaignIds: string[];
  /** The honeypot field, invisible to people: only robots fill it in. */
  honeypot: string;
}

export type EmailSubscriptionResult =
  | { ok: true; email: string }
  | { ok: false; reason: 'rateLimited'; retryInMinutes: number }
  | { ok: false; reason: 'sendFailed' };

/**
 * The public form: records the request (pending subscriptions, a consent-log entry with the IP and the sentence
 * the person saw) and emails a signed link that expires. Nothing becomes active before that link is used; an
 * existing subscription, active or unsubscribed, is left as it is until then.
 */
export async function requestEmailSubscription(
  deps: Pick<Deps, 'db' | 'clock' | 'config' | 'log' | 'channels' | 'secret'>,
  input: EmailSubscriptionRequest,
  ctx: { ip: string; shownText: string },
): Promise<EmailSubscriptionResult> {
  const now = deps.clock.now();
  const perIp = await hitLimit(deps, 'subscribe-ip', ctx.ip, now);
  if (perIp > deps.config.SUBSCRIBE_LIMIT_PER_HOUR) return { ok: false, reason: 'rateLimited', retryInMinutes: minutesToNextHour(now) };

  const errors: FieldError[] = [];
  const email = checkEmail(input.email, errors);
  if (!isLanguage(input.language)) errors.push({ field: 'language', key: 'subscribe.languageRequired' });
  const active = await listCampaigns(deps.db, { activeOnly: true });
  const chosen = active.filter((c) => input.campaignIds.includes(String(c.id)));
  if (!chosen.length || chosen.length !== new Set(input.campaignIds).size) errors.push({ field: 'campaigns', key: 'subscribe.campaignsRequired' });
  if (errors.length) throw invalid(errors);
  const language = input.language as Language;

  // A robot gets the same answer as a person, and nothing happens.
  if (input.honeypot.trim()) {
    deps.log.info('subscribe form: honeypot filled, ignored', { ip: ctx.ip });
    return { ok: true, email };
  }
  if ((await hitLimit(deps, 'subscribe-email', email, now)) > perAddressPerHour) {
    return { ok: false, reason: 'rateLimited', retryInMinutes: minutesToNextHour(now) };
  }

  const campaignIds = chosen.map((c) => c.id);
  const subscriber = await deps.db.transaction().execute(async (trx) => {
    const { subscriber } = await ensureSubscriberByEmail(trx, email, language, now);
    await insertPendingSubscriptions(trx, subscriber.id, 'email', campaignIds, now);
    await insertConsentEntries(
      trx,
      campaignIds.map((id) => ({ at: now, subscriber_id: subscriber.id, campaign_id: id, channel: 'email' as const, action: 'subscribe' as const, source: 'web_form' as const, source_ref: ctx.ip, staff_id: null, shown_text: ctx.shownText, detail: 'awaiting confirmation' })),
    );
    return subscriber;
  });

  const url = confirmUrl(deps, { subscriberId: subscriber.id, email, campaignIds, language, expires: Math.floor(now.getTime() / 1000) + confirmLinkHours * 3600 });
  const message = confirmSubscriptionEmail(language, { foundation: deps.config.FOUNDATION_NAME, campaigns: chosen.map((c) => c.name), url, hours: confirmLinkHours });
  const id = randomUUID();
  const sent = await deps.channels.email.send(
    {
      to: email,
      ...message,
      messageId: `confirm-${id}@${new URL(deps.config.PUBLIC_URL).hostname}`,
      headers: listUnsubscribeHeaders(deps, { subscriberId: subscriber.id, campaignId: null }),
    },
    { idempotencyKey: `subscribe-confirm-${id}` },
  );
  if (!sent.ok) {
    deps.log.error('subscribe form: the confirmation email was not sent', { subscriberId: subscriber.id, error: sent.error, code: sent.code });
    return { ok: false, reason: 'sendFailed' };
  }
  return { ok: true, email };
}

export type LinkCheck<T> = { ok: true; value: T } | { ok: false; reason: 'invalid' | 'expired' };

/** What a confirmation link would confirm, for the page that asks the person to press the button. */
export async function inspectConfirmLink(deps: Pick<Deps, 'db' | 'clock' | 'secret'>, token: string): Promise<LinkCheck<{ email: string; campaigns: string[]; language: Language }>> {
  const decoded = decodeLink(deps.secret, token, deps.clock.now());
  if (!decoded.ok) return decoded;
  if (decoded.link.kind !== 'confirm') return { ok: false, reason: 'invalid' };
  const link = decoded.link;
  const subscriber = await findSubscriberById(deps.db, link.subscriberId);
  if (!subscriber || subscriber.erased_at || subscriber.email?.toLowerCase() !== link.email) return { ok: false, reason: 'invalid' };
  const campaigns = (await listCampaigns(deps.db)).filter((c) => link.campaignIds.includes(c.id)).map((c) => c.name);
  return { ok: true, value: { email: link.email, campaigns, language: link.language } };
}

/**
 * The person pressed "confirm" on the page the link opened: the subscriptions become active, and an earlier
 * "unsubscribe from everything" is lifted, since this is the subscriber's own request. Idempotent.
 */
export async function confirmEmailSubscription(
  deps: Pick<Deps, 'db' | 'clock' | 'secret'>,
  token: string,
  ctx: { ip: string; shownText: string },
): Promise<LinkCheck<{ campaigns: string[] }>> {
  const now = deps.clock.now();
  const decoded = decodeLink(deps.secret, token, now);
  if (!decoded.ok) return decoded;
  if (decoded.link.kind !== 'confirm') return { ok: false, reason: 'invalid' };
  const link = decoded.link;
  return deps.db.transaction().execute(async (trx) => {
    const subscriber = await lockSubscriber(trx, link.subscriberId);
    if (!subscriber || subscriber.erased_at || subscriber.email?.toLowerCase() !== link.email) return { ok: false as const, reason: 'invalid' as const };
    const existing = (await listCampaigns(trx)).filter((c) => link.campaignIds.includes(c.id));
    const entries: NewConsentEntry[] = [];
    const entry = (action: NewConsentEntry['action'], campaignId: number | null) =>
      entries.push({ at: now, subscriber_id: subscriber.id, campaign_id: campaignId, channel: 'email', action, source: 'email_link', source_ref: ctx.ip, staff_id: null, shown_text: ctx.shownText, detail: null });
    if (await clearChannelOptOut(trx, subscriber.id, 'email')) entry('resubscribe', null);
    if (subscriber.language !== link.language) await updateSubscriberLanguage(trx, subscriber.id, link.language);
    for (const id of await activateSubscriptions(trx, subscriber.id, 'email', existing.map((c) => c.id), now)) entry('confirm', id);
    await insertConsentEntries(trx, entries);
    return { ok: true as const, value: { campaigns: existing.map((c) => c.name) } };
  });
}

/** What an unsubscribe link is about, for its confirmation page (a GET never unsubscribes: link scanners follow links). */
export async function inspectUnsubscribeLink(deps: Pick<Deps, 'db' | 'clock' | 'secret'>, token: string): Promise<LinkCheck<{ email: string; campaign: string | null; language: Language }>> {
  const decoded = decodeLink(deps.secret, token, deps.clock.now());
  if (!decoded.ok) return decoded;
  if (decoded.link.kind !== 'unsubscribe') return { ok: false, reason: 'invalid' };
  const link = decoded.link;
  const subscriber = await findSubscriberById(deps.db, link.subscriberId);
  if (!subscriber || subscriber.erased_at || !subscriber.email) return { ok: false, reason: 'invalid' };
  const campaign = link.campaignId === null ? null : ((await listCampaigns(deps.db)).find((c) => c.id === link.campaignId)?.name ?? null);
  return { ok: true, value: { email: subscriber.email, campaign, language: subscriber.language } };
}

/**
 * Unsubscribes by a signed link: RFC 8058 one-click (a mail client's POST, no cookies, no login), our own page's
 * button, or the mailto handled by the inbound email code. `scope: 'all'` widens a campaign's link to every email.
 */
export async function unsubscribeByLink(
  deps: Pick<Deps, 'db' | 'clock' | 'secret'>,
  token: string,
  ctx: { source: 'one_click' | 'email_link'; ref: string | null; scope?: 'all' | 'link'; shownText: string | null },
): Promise<LinkCheck<{ scope: 'all' | 'campaign'; changed: boolean }>> {
  const now = deps.clock.now();
  const decoded = decodeLink(deps.secret, token, now);
  if (!decoded.ok) return decoded;
  if (decoded.link.kind !== 'unsubscribe') return { ok: false, reason: 'invalid' };
  const link = decoded.link;
  return deps.db.transaction().execute(async (trx) => {
    const subscriber = await lockSubscriber(trx, link.subscriberId);
    if (!subscriber || subscriber.erased_at) return { ok: false as const, reason: 'invalid' as const };
    const base = { at: now, subscriber_id: subscriber.id, channel: 'email' as const, source: ctx.source, source_ref: ctx.ref, staff_id: null, shown_text: ctx.shownText, detail: null };
    if (link.campaignId === null || ctx.scope === 'all') {
      const changed = await setChannelOptOut(trx, subscriber.id, 'email', now);
      if (changed) await insertConsentEntries(trx, [{ ...base, campaign_id: null, action: 'opt_out_all' }]);
      return { ok: true as const, value: { scope: 'all' as const, changed } };
    }
    const changed = await unsubscribeSubscriptions(trx, subscriber.id, 'email', [link.campaignId], now);
    await insertConsentEntries(trx, changed.map((id) => ({ ...base, campaign_id: id, action: 'unsubscribe' as const })));
    return { ok: true as const, value: { scope: 'campaign' as const, changed: changed.length > 0 } };
  });
}

async function hitLimit(deps: Pick<Deps, 'db'>, bucket: string, key: string, now: Date): Promise<number> {
  const windowStart = new Date(Math.floor(now.getTime() / hour) * hour);
  // Counted under a hash: the counters need no one's address in clear, and erasure need not look here.
  const hashed = createHash('sha256').update(key).digest('base64url');
  const count = await countRateLimitHit(deps.db, bucket, hashed, windowStart);
  // The first hit of a window is a good moment to forget windows nobody will look at again.
  if (count === 1) await deleteRateLimitCountersBefore(deps.db, new Date(windowStart.getTime() - 24 * hour));
  return count;
}

function minutesToNextHour(now: Date): number {
  return Math.max(1, Math.ceil((hour - (now.getTime() % hour)) / 60_000));
}
