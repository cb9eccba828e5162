import { Hono } from 'hono';
import { listCampaigns } from '../../db/campaigns';
import type { Language } from '../../db/schema';
import type { Deps } from '../../deps';
import { isLanguage, translator } from '../../i18n';
import {
  confirmEmailSubscription,
  inspectConfirmLink,
  inspectUnsubscribeLink,
  requestEmailSubscription,
  unsubscribeByLink,
} from '../../subscribers/email-subscription';
import { confirmLinkHours, unsubscribePath } from '../../subscribers/links';
import { ConfirmSubscriptionPage, SubscribePage, SubscriptionMessagePage, UnsubscribePage } from '../../../templates/pages/public/subscribe';
import type { AppContext, AppEnv } from '../context';
import { translatedFieldErrors } from '../forms';
import { clientIp, readForm, uiOf } from '../middleware';

/**
 * The public side of subscribing by email: the form, the double opt-in confirmation, and the unsubscribe links
 * every email carries.
 */
export function subscribeRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();

  // A link about a subscriber opens in their language unless the visitor chose one (?lang=).
  const uiFor = (c: AppContext, lang?: Language) => {
    const ui = uiOf(c, deps);
    if (!lang || isLanguage(c.req.query('lang'))) return ui;
    return { ...ui, lang, t: translator(lang) };
  };
  const activeCampaigns = async () => (await listCampaigns(deps.db, { activeOnly: true })).map((c) => ({ id: c.id, name: c.name }));

  app.get('/subscribe', async (c) => c.html(<SubscribePage ui={uiOf(c, deps)} campaigns={await activeCampaigns()} />));

  app.post('/subscribe', async (c) => {
    const form = await readForm(c);
    const all = await c.req.parseBody({ all: true });
    const picked = all.campaigns;
    const campaignIds = (Array.isArray(picked) ? picked : picked === undefined ? [] : [picked]).filter((v): v is string => typeof v === 'string');
    const ui = uiOf(c, deps);
    const values = { email: form.email ?? '', language: form.language ?? '', campaigns: campaignIds };
    try {
      const result = await requestEmailSubscription(
        deps,
        { email: values.email, language: values.language, campaignIds, honeypot: form.website ?? '' },
        { ip: clientIp(c, deps), shownText: ui.t('subscribe.consent', { foundation: ui.foundation }) },
      );
      if (result.ok) {
        return c.html(<SubscriptionMessagePage ui={ui} title={ui.t('subscribe.checkEmailTitle')} message={ui.t('subscribe.checkEmail', { email: result.email, hours: confirmLinkHours })} />);
      }
      if (result.reason === 'rateLimited') {
        c.header('Retry-After', String(result.retryInMinutes * 60));
        return c.html(<SubscriptionMessagePage ui={ui} title={ui.t('subscribe.title')} message={ui.t('subscribe.rateLimited', { minutes: result.retryInMinutes })} error />, 429);
      }
      return c.html(<SubscriptionMessagePage ui={ui} title={ui.t('subscribe.title')} message={ui.t('subscribe.sendFailed')} error />, 503);
    } catch (err) {
      const errors = translatedFieldErrors(err, ui.t);
      if (!errors) throw err;
      return c.html(<SubscribePage ui={ui} campaigns={await activeCampaigns()} errors={errors} values={values} />, 422);
    }
  });

  const linkProblem = (c: AppContext, reason: 'invalid' | 'expired') => {
    const ui = uiOf(c, deps);
    return c.html(
      <SubscriptionMessagePage ui={ui} title={ui.t('subscribe.confirmTitle')} message={ui.t(reason === 'expired' ? 'subscribe.linkExpired' : 'subscribe.linkInvalid')} error againLink />,
      reason === 'expired' ? 410 : 400,
    );
  };

  app.get('/subscribe/confirm', async (c) => {
    const token = c.req.query('token') ?? '';
    const found = await inspectConfirmLink(deps, token);
    if (!found.ok) return linkProblem(c, found.reason);
    return c.html(<ConfirmSubscriptionPage ui={uiFor(c, found.value.language)} token={token} email={found.value.email} campaigns={found.value.campaigns} />);
  });

  app.post('/subscribe/confirm', async (c) => {
    const form = await readForm(c);
    const token = form.token ?? '';
    const found = await inspectConfirmLink(deps, token);
    if (!found.ok) return linkProblem(c, found.reason);
    const ui = uiFor(c, found.value.language);
    const done = await confirmEmailSubscription(deps, token, { ip: clientIp(c, deps), shownText: ui.t('subscribe.confirmShown', { foundation: ui.foundation }) });
    if (!done.ok) return linkProblem(c, done.reason);
    return c.html(<SubscriptionMessagePage ui={ui} title={ui.t('subscribe.confirmTitle')} message={ui.t('subscribe.confirmed')} />);
  });

  const badUnsubscribeLink = (c: AppContext) => {
    const ui = uiOf(c, deps);
    return c.html(<SubscriptionMessagePage ui={ui} title={ui.t('unsubscribe.title')} message={ui.t('unsubscribe.invalid')} error />, 400);
  };

  app.get(unsubscribePath, async (c) => {
    const token = c.req.query('token') ?? '';
    const found = await inspectUnsubscribeLink(deps, token);
    if (!found.ok) return badUnsubscribeLink(c);
    return c.html(<UnsubscribePage ui={uiFor(c, found.value.language)} action={`${unsubscribePath}?token=${encodeURIComponent(token)}`} email={found.value.email} campaign={found.value.campaign} />);
  });

  // RFC 8058: a mail client POSTs "List-Unsubscribe=One-Click" with no cookie; our own page's buttons POST here too.
  app.post(unsubscribePath, async (c) => {
    const token = c.req.query('token') ?? '';
    const found = await inspectUnsubscribeLink(deps, token);
    if (!found.ok) return badUnsubscribeLink(c);
    const type = c.req.header('content-type') ?? '';
    const form = type.startsWith('application/x-www-form-urlencoded') || type.startsWith('multipart/form-data') ? await readForm(c) : {};
    const fromPage = form.from === 'page';
    const ui = uiFor(c, found.value.language);
    const shownText = fromPage
      ? form.scope === 'all' || !found.value.campaign
        ? ui.t('unsubscribe.all', { foundation: ui.foundation })
        : ui.t('unsubscribe.campaign', { campaign: found.value.campaign })
      : null;
    const done = await unsubscribeByLink(deps, token, {
      source: fromPage ? 'email_link' : 'one_click',
      ref: clientIp(c, deps),
      scope: form.scope === 'all' ? 'all' : 'link',
      shownText,
    });
    if (!done.ok) return badUnsubscribeLink(c);
    const message = done.value.scope === 'all' ? ui.t('unsubscribe.doneAll', { foundation: ui.foundation }) : ui.t('unsubscribe.doneCampaign');
    return c.html(<SubscriptionMessagePage ui={ui} title={ui.t('unsubscribe.title')} message={message} />);
  });

  return app;
}
