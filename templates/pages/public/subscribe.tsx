import type { Campaign } from '../../../src/db/schema';
import type { Ui } from '../../../src/routes/context';
import { Csrf, Errors, Layout } from '../../layout';

type Errs = { field: string; message: string }[] | undefined;

export function SubscribePage(props: {
  ui: Ui;
  campaigns: Pick<Campaign, 'id' | 'name'>[];
  errors?: Errs;
  values?: { email?: string; language?: string; campaigns?: string[] };
}) {
  const { ui } = props;
  const t = ui.t;
  const chosen = new Set(props.values?.campaigns ?? []);
  const language = props.values?.language ?? ui.lang;
  return (
    <Layout ui={ui} title={t('subscribe.title')}>
      <h1>{t('subscribe.title')}</h1>
      <p>{t('subscribe.intro', { foundation: ui.foundation })}</p>
      <Errors ui={ui} errors={props.errors?.filter((e) => e.field === 'form')} />
      {props.campaigns.length === 0 ? <p class="muted">{t('subscribe.noCampaigns')}</p> : (
        <form method="post" action="/subscribe" class="card">
          <Csrf ui={ui} />
          <fieldset>
            <legend>{t('subscribe.campaigns')}</legend>
            {props.campaigns.map((c) => (
              <label>
                <input type="checkbox" name="campaigns" value={String(c.id)} checked={chosen.has(String(c.id)) || props.campaigns.length === 1} /> {c.name}
              </label>
            ))}
            <Errors ui={ui} errors={props.errors} field="campaigns" />
          </fieldset>
          <label for="email">{t('common.email')}</label>
          <input id="email" name="email" type="email" autocomplete="email" required maxlength={254} value={props.values?.email ?? ''} />
          <Errors ui={ui} errors={props.errors} field="email" />
          <label for="language">{t('subscribe.language')}</label>
          <select id="language" name="language">
            <option value="en" selected={language === 'en'}>English</option>
            <option value="fr" selected={language === 'fr'}>Français</option>
          </select>
          <Errors ui={ui} errors={props.errors} field="language" />
          {/* Hidden from people (and screen readers); robots fill it in and are ignored. */}
          <div class="skip" aria-hidden="true">
            <label for="website">{t('subscribe.honeypot')}</label>
            <input id="website" name="website" tabindex={-1} autocomplete="off" />
          </div>
          <p class="hint">{t('subscribe.consent', { foundation: ui.foundation })}</p>
          <p><button type="submit">{t('subscribe.submit')}</button></p>
        </form>
      )}
      <p class="muted">{t('subscribe.sms')}</p>
    </Layout>
  );
}

/** A page that only says something: sent, confirmed, expired, unsubscribed… */
export function SubscriptionMessagePage(props: { ui: Ui; title: string; message: string; error?: boolean; againLink?: boolean }) {
  const { ui } = props;
  return (
    <Layout ui={ui} title={props.title}>
      <h1>{props.title}</h1>
      <p class={props.error ? 'error' : 'notice'} role={props.error ? 'alert' : 'status'}>{props.message}</p>
      {props.againLink ? <p><a href="/subscribe">{ui.t('subscribe.again')}</a></p> : null}
    </Layout>
  );
}

/** The confirmation link opens this page; only its button confirms (mail scanners open links too). */
export function ConfirmSubscriptionPage(props: { ui: Ui; token: string; email: string; campaigns: string[] }) {
  const { ui } = props;
  const t = ui.t;
  return (
    <Layout ui={ui} title={t('subscribe.confirmTitle')}>
      <h1>{t('subscribe.confirmTitle')}</h1>
      <form method="post" action="/subscribe/confirm" class="card">
        <Csrf ui={ui} />
        <input type="hidden" name="token" value={props.token} />
        <p>{t('subscribe.confirmIntro', { email: props.email, foundation: ui.foundation })}</p>
        <ul>{props.campaigns.map((c) => <li>{c}</li>)}</ul>
        <p><button type="submit">{t('subscribe.confirmSubmit')}</button></p>
      </form>
    </Layout>
  );
}

/**
 * What a List-Unsubscribe link opens in a browser: a GET unsubscribes no one. The buttons POST to the same URL,
 * which needs no cookie or CSRF token: the signed link is the authority, as RFC 8058 one-click wants.
 */
export function UnsubscribePage(props: { ui: Ui; action: string; email: string; campaign: string | null }) {
  const { ui } = props;
  const t = ui.t;
  return (
    <Layout ui={ui} title={t('unsubscribe.title')}>
      <h1>{t('unsubscribe.title')}</h1>
      <p>{t('unsubscribe.intro', { email: props.email })}</p>
      {props.campaign ? (
        <form method="post" action={props.action} class="card">
          <input type="hidden" name="scope" value="link" />
          <input type="hidden" name="from" value="page" />
          <button type="submit">{t('unsubscribe.campaign', { campaign: props.campaign })}</button>
        </form>
      ) : null}
      <form method="post" action={props.action} class="card">
        <input type="hidden" name="scope" value="all" />
        <input type="hidden" name="from" value="page" />
        <button type="submit" class={props.campaign ? 'secondary' : undefined}>{t('unsubscribe.all', { foundation: ui.foundation })}</button>
      </form>
    </Layout>
  );
}
