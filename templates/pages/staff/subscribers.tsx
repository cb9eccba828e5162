import type { Campaign } from '../../../src/db/schema';
import type { ConsentEntry, Subscriber, SubscriberImport } from '../../../src/db/schema-subscribers';
import type { CampaignChannelCount, SubscriberFilters } from '../../../src/db/subscriber-search';
import type { SubscriptionWithCampaign } from '../../../src/db/subscribers';
import type { MessageKey } from '../../../src/i18n';
import type { Ui } from '../../../src/routes/context';
import type { ImportReport } from '../../../src/subscribers/csv-import';
import { Csrf, Errors, Layout, Notice } from '../../layout';

type Errs = { field: string; message: string }[] | undefined;

function when(ui: Ui, d: Date) {
  return new Intl.DateTimeFormat(ui.lang, { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}

const statusKeys = {
  active: 'subscribers.status.active',
  pending: 'subscribers.status.pending',
  unsubscribed: 'subscribers.status.unsubscribed',
  opted_out: 'subscribers.status.opted_out',
  invalid: 'subscribers.status.invalid',
} as const;
const channelKeys = { sms: 'subscribers.channel.sms', email: 'subscribers.channel.email' } as const;

/** One line per channel: the campaigns and their state, or the channel's global opt-out. */
function ChannelSummary(props: { ui: Ui; subscriber: Subscriber; subscriptions: SubscriptionWithCampaign[] }) {
  const { ui, subscriber: s } = props;
  const t = ui.t;
  return (
    <>
      {(['sms', 'email'] as const).map((ch) => {
        const subs = props.subscriptions.filter((x) => x.channel === ch);
        const optedOut = ch === 'sms' ? s.sms_opted_out_at : s.email_opted_out_at;
        if (!subs.length && !optedOut) return null;
        return (
          <div>
            <strong>{t(channelKeys[ch])}</strong>{' '}
            {optedOut ? <span class="field-error">{t('subscribers.status.opted_out')}</span> : null}
            {ch === 'sms' && s.phone_invalid_at ? <span class="field-error"> {t('subscribers.status.invalid')}</span> : null}
            {subs.length ? <span class="muted"> {subs.map((x) => `${x.campaign_name} (${t(statusKeys[x.status])})`).join(', ')}</span> : null}
          </div>
        );
      })}
    </>
  );
}

export function SubscribersPage(props: {
  ui: Ui;
  filters: SubscriberFilters;
  campaigns: Pick<Campaign, 'id' | 'name'>[];
  rows: Subscriber[];
  subscriptions: SubscriptionWithCampaign[];
  total: number;
  page: number;
  pages: number;
  counts: CampaignChannelCount[];
  canImport: boolean;
  query: (page: number) => string;
  exportHref: string;
}) {
  const { ui, filters: f } = props;
  const t = ui.t;
  return (
    <Layout ui={ui} title={t('subscribers.title')}>
      <h1>{t('subscribers.title')}</h1>
      {props.canImport ? (
        <p>
          <a href="/staff/subscribers/import">{t('subscribers.import')}</a> · <a href={props.exportHref}>{t('subscribers.export')}</a>
        </p>
      ) : null}

      <h2>{t('subscribers.counts')}</h2>
      {props.counts.length === 0 ? <p class="muted">{t('common.none')}</p> : (
        <div class="scroll">
          <table>
            <thead>
              <tr><th>{t('subscribers.campaign')}</th><th>{t('subscribers.channel')}</th><th>{t('subscribers.countActive')}</th><th>{t('subscribers.countPending')}</th><th>{t('subscribers.countStopped')}</th></tr>
            </thead>
            <tbody>
              {props.counts.map((c) => (
                <tr data-campaign={String(c.campaign_id)} data-channel={c.channel}>
                  <td>{c.campaign_name}</td><td>{t(channelKeys[c.channel])}</td><td>{c.active}</td><td>{c.pending}</td><td>{c.stopped}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <form method="get" action="/staff/subscribers" class="card">
        <label for="q">{t('subscribers.search')}</label>
        <input id="q" name="q" type="search" value={f.q ?? ''} />
        <label for="campaign">{t('subscribers.campaign')}</label>
        <select id="campaign" name="campaign">
          <option value="">{t('subscribers.any')}</option>
          {props.campaigns.map((c) => <option value={String(c.id)} selected={f.campaignId === c.id}>{c.name}</option>)}
        </select>
        <label for="channel">{t('subscribers.channel')}</label>
        <select id="channel" name="channel">
          <option value="">{t('subscribers.any')}</option>
          {(['sms', 'email'] as const).map((ch) => <option value={ch} selected={f.channel === ch}>{t(channelKeys[ch])}</option>)}
        </select>
        <label for="status">{t('common.status')}</label>
        <select id="status" name="status">
          <option value="">{t('subscribers.any')}</option>
          {(Object.keys(statusKeys) as (keyof typeof statusKeys)[]).map((s) => <option value={s} selected={f.status === s}>{t(statusKeys[s])}</option>)}
        </select>
        <label for="language">{t('common.language')}</label>
        <select id="language" name="language">
          <option value="">{t('subscribers.any')}</option>
          <option value="en" selected={f.language === 'en'}>English</option>
          <option value="fr" selected={f.language === 'fr'}>Français</option>
        </select>
        <p><button type="submit">{t('subscribers.filter')}</button></p>
      </form>

      <p>{t('subscribers.total', { count: props.total })}</p>
      {props.rows.length === 0 ? <p class="muted">{t('subscribers.none')}</p> : (
        <div class="scroll">
          <table>
            <thead>
              <tr><th>{t('subscribers.phone')} / {t('common.email')}</th><th>{t('common.status')}</th><th>{t('common.language')}</th><th>{t('subscribers.since')}</th></tr>
            </thead>
            <tbody>
              {props.rows.map((s) => (
                <tr>
                  <td>
                    <a href={`/staff/subscribers/${s.id}`}>{s.phone ?? s.email ?? `#${s.id}`}</a>
                    {s.phone && s.email ? <><br /><span class="muted">{s.email}</span></> : null}
                  </td>
                  <td><ChannelSummary ui={ui} subscriber={s} subscriptions={props.subscriptions.filter((x) => x.subscriber_id === s.id)} /></td>
                  <td>{s.language}</td>
                  <td>{when(ui, s.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {props.pages > 1 ? (
        <p>
          {props.page > 1 ? <a href={props.query(props.page - 1)} rel="prev">{t('subscribers.previous')}</a> : null}{' '}
          {t('subscribers.page', { page: props.page, pages: props.pages })}{' '}
          {props.page < props.pages ? <a href={props.query(props.page + 1)} rel="next">{t('subscribers.next')}</a> : null}
        </p>
      ) : null}
    </Layout>
  );
}

export function SubscriberPage(props: {
  ui: Ui;
  subscriber: Subscriber;
  subscriptions: SubscriptionWithCampaign[];
  consent: (ConsentEntry & { campaign_name: string | null; staff_email: string | null })[];
  canErase: boolean;
  notice?: string | null;
  errors?: Errs;
}) {
  const { ui, subscriber: s } = props;
  const t = ui.t;
  return (
    <Layout ui={ui} title={t('subscribers.detailTitle', { id: s.id })}>
      <p><a href="/staff/subscribers">{t('common.back')}</a></p>
      <h1>{t('subscribers.detailTitle', { id: s.id })}</h1>
      <Notice text={props.notice} />
      <Errors ui={ui} errors={props.errors} />
      {s.erased_at ? <p class="notice">{t('subscribers.erasedOn', { when: when(ui, s.erased_at) })}</p> : (
        <dl>
          <dt>{t('subscribers.phone')}</dt><dd>{s.phone ?? '—'}</dd>
          <dt>{t('common.email')}</dt><dd>{s.email ?? '—'}</dd>
          <dt>{t('common.language')}</dt><dd>{s.language}</dd>
          <dt>{t('subscribers.since')}</dt><dd>{when(ui, s.created_at)}</dd>
        </dl>
      )}
      {s.sms_opted_out_at ? <p class="field-error">{t('subscribers.optedOutSince', { channel: 'SMS', when: when(ui, s.sms_opted_out_at) })}</p> : null}
      {s.email_opted_out_at ? <p class="field-error">{t('subscribers.optedOutSince', { channel: t('subscribers.channel.email'), when: when(ui, s.email_opted_out_at) })}</p> : null}
      {s.phone_invalid_at ? <p class="field-error">{t('subscribers.invalidSince', { when: when(ui, s.phone_invalid_at) })}</p> : null}

      <h2>{t('subscribers.subscriptions')}</h2>
      {props.subscriptions.length === 0 ? <p class="muted">{t('common.none')}</p> : (
        <div class="scroll">
          <table>
            <thead><tr><th>{t('subscribers.campaign')}</th><th>{t('subscribers.channel')}</th><th>{t('common.status')}</th><th>{t('common.when')}</th></tr></thead>
            <tbody>
              {props.subscriptions.map((x) => (
                <tr><td>{x.campaign_name}</td><td>{t(channelKeys[x.channel])}</td><td>{t(statusKeys[x.status])}</td><td>{when(ui, x.updated_at)}</td></tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <h2>{t('subscribers.consentLog')}</h2>
      {props.consent.length === 0 ? <p class="muted">{t('common.none')}</p> : (
        <div class="scroll">
          <table>
            <thead>
              <tr><th>{t('common.when')}</th><th>{t('subscribers.log.action')}</th><th>{t('subscribers.log.source')}</th><th>{t('subscribers.log.shown')}</th></tr>
            </thead>
            <tbody>
              {props.consent.map((e) => (
                <tr data-action={e.action}>
                  <td>{when(ui, e.at)}</td>
                  <td>
                    {t(`consent.action.${e.action}` as MessageKey)} · {t(channelKeys[e.channel])}
                    <br /><span class="muted">{e.campaign_name ?? t('subscribers.allCampaigns')}</span>
                  </td>
                  <td>
                    {t(`consent.source.${e.source}` as MessageKey)}
                    {e.detail ? <><br /><code>{e.detail}</code></> : null}
                    {e.source_ref ? <><br /><span class="muted">{e.source_ref}</span></> : null}
                    {e.staff_email ? <><br /><span class="muted">{t('subscribers.log.by')}: {e.staff_email}</span></> : null}
                  </td>
                  <td>{e.shown_text ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      {props.canErase && !s.erased_at ? (
        <>
          <h2>{t('subscribers.erase')}</h2>
          <form method="post" action={`/staff/subscribers/${s.id}/erase`} class="card">
            <Csrf ui={ui} />
            <p>{t('subscribers.eraseWarning')}</p>
            <label><input type="checkbox" name="confirm" value="yes" required /> {t('subscribers.eraseConfirm')}</label>
            <Errors ui={ui} errors={props.errors} field="confirm" />
            <p><button type="submit">{t('subscribers.eraseSubmit')}</button></p>
          </form>
        </>
      ) : null}
    </Layout>
  );
}

export function ImportPage(props: {
  ui: Ui;
  maxMb: number;
  imports: (SubscriberImport & { staff_email: string | null })[];
  report?: ImportReport | null;
  errors?: Errs;
  values?: { source?: string };
}) {
  const { ui, report } = props;
  const t = ui.t;
  return (
    <Layout ui={ui} title={t('subscribers.import.title')}>
      <p><a href="/staff/subscribers">{t('common.back')}</a></p>
      <h1>{t('subscribers.import.title')}</h1>
      {report ? (
        <section class="card" aria-labelledby="report">
          <h2 id="report">{t('subscribers.import.report')}</h2>
          <p class="notice" role="status">
            {t('subscribers.import.summary', { total: report.rowsTotal, valid: report.rowsValid, rejected: report.rowsRejected, duplicate: report.rowsDuplicate })}{' '}
            {t('subscribers.import.created', { subscribers: report.subscribersCreated, subscriptions: report.subscriptionsCreated })}
          </p>
          {report.keptUnsubscribed ? <p>{t('subscribers.import.kept', { count: report.keptUnsubscribed })}</p> : null}
          {report.rejected.length ? (
            <>
              <h3>{t('subscribers.import.rejectedRows')}</h3>
              <div class="scroll">
                <table>
                  <thead><tr><th>{t('subscribers.import.row')}</th><th>{t('subscribers.import.why')}</th></tr></thead>
                  <tbody>
                    {report.rejected.map((r) => (
                      <tr data-line={String(r.line)}><td>{r.line}</td><td>{r.reasons.map((x) => t(x.key, x.vars)).join(' ')}</td></tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </>
          ) : null}
          {report.duplicates.length ? (
            <ul class="muted">{report.duplicates.map((d) => <li>{t('subscribers.import.duplicateOf', { line: d.line, of: d.of })}</li>)}</ul>
          ) : null}
        </section>
      ) : null}
      <Errors ui={ui} errors={props.errors} />
      <form method="post" action="/staff/subscribers/import" enctype="multipart/form-data" class="card">
        <Csrf ui={ui} />
        <label for="file">{t('subscribers.import.file')}</label>
        <input id="file" name="file" type="file" accept=".csv,text/csv" required />
        <p class="hint">{t('subscribers.import.fileHint', { max: props.maxMb })}</p>
        <label for="source">{t('subscribers.import.defaultSource')}</label>
        <input id="source" name="source" maxlength={200} value={props.values?.source ?? ''} />
        <label><input type="checkbox" name="attest" value="yes" required /> {t('subscribers.import.attest')}</label>
        <p><button type="submit">{t('subscribers.import.submit')}</button></p>
      </form>

      <h2>{t('subscribers.import.history')}</h2>
      {props.imports.length === 0 ? <p class="muted">{t('common.none')}</p> : (
        <div class="scroll">
          <table>
            <thead><tr><th>{t('common.when')}</th><th>{t('subscribers.import.file.name')}</th><th>{t('subscribers.log.by')}</th><th>{t('subscribers.import.report')}</th></tr></thead>
            <tbody>
              {props.imports.map((i) => (
                <tr>
                  <td>{when(ui, i.at)}</td>
                  <td>{i.file_name}</td>
                  <td>{i.staff_email ?? ''}</td>
                  <td>
                    {t('subscribers.import.summary', { total: i.rows_total, valid: i.rows_valid, rejected: i.rows_rejected, duplicate: i.rows_duplicate })}{' '}
                    {t('subscribers.import.created', { subscribers: i.subscribers_created, subscriptions: i.subscriptions_created })}
                    {i.rejected.length ? (
                      <>
                        <br />
                        {/* The stored report keeps no rejected values (they may be personal data). */}
                        <span class="muted">{i.rejected.slice(0, 20).map((r) => `${r.line}: ${r.reasons.map((x) => t(x.key as MessageKey, { value: '…', ...x.vars })).join(' ')}`).join(' · ')}{i.rejected.length > 20 ? ' …' : ''}</span>
                      </>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Layout>
  );
}
