import type { WebhookAttempt, WebhookEndpoint, WebhookEventType } from '../../../src/db/schema-webhooks';
import { webhookEventTypes } from '../../../src/db/schema-webhooks';
import type { WebhookDeliveryRow, WebhookEndpointSummary } from '../../../src/db/webhooks';
import type { Ui } from '../../../src/routes/context';
import { Csrf, Errors, Layout, Notice, PostButton } from '../../layout';

type Errs = { field: string; message: string }[] | undefined;

export interface EndpointFormValues {
  url?: string;
  description?: string;
  events?: string[];
}

function when(ui: Ui, d: Date) {
  return new Intl.DateTimeFormat(ui.lang, { dateStyle: 'medium', timeStyle: 'medium' }).format(d);
}

function EndpointFields(props: { ui: Ui; errors?: Errs; values: EndpointFormValues; idPrefix: string }) {
  const { ui, values } = props;
  const t = ui.t;
  const chosen = values.events ?? [];
  return (
    <>
      <label for={`${props.idPrefix}url`}>{t('webhooks.url')}</label>
      <input id={`${props.idPrefix}url`} name="url" type="url" required maxlength={2000} inputmode="url" value={values.url ?? ''} />
      <p class="hint">{t('webhooks.urlHint')}</p>
      <Errors ui={ui} errors={props.errors} field="url" />
      <label for={`${props.idPrefix}description`}>{t('webhooks.description')}</label>
      <input id={`${props.idPrefix}description`} name="description" maxlength={200} value={values.description ?? ''} />
      <p class="hint">{t('webhooks.descriptionHint')}</p>
      <Errors ui={ui} errors={props.errors} field="description" />
      <fieldset>
        <legend>{t('webhooks.events')}</legend>
        {webhookEventTypes.map((type) => (
          <label style="font-weight:normal">
            <input type="checkbox" name="events" value={type} checked={chosen.includes(type)} /> {t(`webhooks.event.${type}`)}
          </label>
        ))}
        <Errors ui={ui} errors={props.errors} field="events" />
      </fieldset>
    </>
  );
}

function StateLine(props: { ui: Ui; enabled: boolean; pausedUntil: Date | null }) {
  const t = props.ui.t;
  if (!props.enabled) return <span class="badge">{t('webhooks.disabled')}</span>;
  if (props.pausedUntil && props.pausedUntil > new Date()) {
    return <span class="warning">{t('webhooks.paused', { until: when(props.ui, props.pausedUntil) })}</span>;
  }
  return <span>{t('webhooks.enabled')}</span>;
}

/** /staff/webhooks: the endpoints and a form to add one; right after adding, the secret, shown once. */
export function WebhooksPage(props: {
  ui: Ui;
  endpoints: WebhookEndpointSummary[];
  created?: { id: number; secret: string } | null;
  notice?: string | null;
  errors?: Errs;
  values?: EndpointFormValues;
}) {
  const { ui } = props;
  const t = ui.t;
  return (
    <Layout ui={ui} title={t('webhooks.title')}>
      <h1>{t('webhooks.title')}</h1>
      <p>{t('webhooks.intro')}</p>
      <Notice text={props.notice} />
      <Errors ui={ui} errors={props.errors} />
      {props.created ? (
        <div class="notice" role="status">
          <p>{t('webhooks.created')}</p>
          <code class="link new-secret">{props.created.secret}</code>
          <p><a href={`/staff/webhooks/${props.created.id}`}>{t('webhooks.open')}</a></p>
        </div>
      ) : null}
      {props.endpoints.length === 0 ? <p class="muted">{t('webhooks.none')}</p> : null}
      {props.endpoints.map((e) => (
        <div class="card webhook-endpoint" data-endpoint-id={String(e.id)}>
          <p><code class="link">{e.url}</code></p>
          {e.description ? <p>{e.description}</p> : null}
          <p>{e.events.map((type) => <><code>{type}</code>{' '}</>)}</p>
          <p>
            <StateLine ui={ui} enabled={e.enabled} pausedUntil={e.paused_until} />
            {' · '}{t('webhooks.counts', { pending: e.pending, failed: e.failed })}
            {' · '}{e.last_delivered_at ? t('webhooks.lastDelivered', { when: when(ui, e.last_delivered_at) }) : t('webhooks.neverDelivered')}
          </p>
          <p><a href={`/staff/webhooks/${e.id}`}>{t('webhooks.open')}</a></p>
        </div>
      ))}
      <h2>{t('webhooks.add')}</h2>
      <form method="post" action="/staff/webhooks" class="card">
        <Csrf ui={ui} />
        <EndpointFields ui={ui} errors={props.errors} values={props.values ?? { events: [] }} idPrefix="" />
        <p><button type="submit">{t('webhooks.create')}</button></p>
      </form>
    </Layout>
  );
}

const statusKeys = { pending: 'webhooks.status.pending', delivered: 'webhooks.status.delivered', failed: 'webhooks.status.failed' } as const;

/** /staff/webhooks/:id: the endpoint, its recent deliveries with every attempt, and what can be done about them. */
export function WebhookEndpointPage(props: {
  ui: Ui;
  endpoint: WebhookEndpoint;
  deliveries: WebhookDeliveryRow[];
  attempts: WebhookAttempt[];
  olderHref: string | null;
  notice?: string | null;
  errors?: Errs;
  values?: EndpointFormValues;
}) {
  const { ui, endpoint: e } = props;
  const t = ui.t;
  const values: EndpointFormValues = props.values ?? { url: e.url, description: e.description, events: e.events as WebhookEventType[] };
  return (
    <Layout ui={ui} title={t('webhooks.title')}>
      <p><a href="/staff/webhooks">{t('webhooks.back')}</a></p>
      <h1><code class="link">{e.url}</code></h1>
      <Notice text={props.notice} />
      <Errors ui={ui} errors={props.errors} />
      {e.description ? <p>{e.description}</p> : null}
      <p><StateLine ui={ui} enabled={e.enabled} pausedUntil={e.paused_until} /></p>
      <div class="actions">
        {e.enabled ? (
          <form method="post" action={`/staff/webhooks/${e.id}/ping`} class="inline">
            <Csrf ui={ui} />
            <button type="submit">{t('webhooks.sendTest')}</button>
          </form>
        ) : null}
        <PostButton ui={ui} action={`/staff/webhooks/${e.id}/${e.enabled ? 'disable' : 'enable'}`} label={e.enabled ? t('webhooks.disable') : t('webhooks.enable')} inline />
      </div>

      <h2>{t('webhooks.deliveries')}</h2>
      {props.deliveries.length === 0 ? <p class="muted">{t('webhooks.noDeliveries')}</p> : null}
      {props.deliveries.map((d) => {
        const attempts = props.attempts.filter((a) => a.delivery_id === d.id);
        return (
          <div class="card webhook-delivery" data-delivery-id={String(d.id)} data-status={d.status}>
            <p>
              <code>{d.event_type}</code> <span class="muted">{when(ui, d.occurred_at)}</span>
              <br /><span class="muted"><code>{d.event_id}</code></span>
            </p>
            <p>
              <strong>{t(statusKeys[d.status])}</strong>
              {' · '}{t('webhooks.attempts')}: {d.attempts}
              {d.last_status_code !== null ? <> · HTTP {d.last_status_code}</> : null}
            </p>
            {d.status === 'pending' && d.next_attempt_at ? <p class="muted">{t('webhooks.nextAttempt', { when: when(ui, d.next_attempt_at) })}</p> : null}
            {d.status !== 'delivered' && d.last_error ? <p class="field-error">{t('webhooks.lastError', { error: d.last_error })}</p> : null}
            {d.status === 'failed' && e.enabled ? (
              <PostButton ui={ui} action={`/staff/webhooks/${e.id}/deliveries/${d.id}/retry`} label={t('webhooks.retryNow')} />
            ) : null}
            {attempts.length ? (
              <details>
                <summary>{t('webhooks.attempts')} ({attempts.length})</summary>
                <div class="scroll">
                  <table>
                    <thead>
                      <tr>
                        <th>{t('webhooks.attempt.at')}</th><th>{t('webhooks.attempt.code')}</th><th>{t('webhooks.attempt.duration')}</th>
                        <th>{t('webhooks.attempt.error')}</th><th>{t('webhooks.attempt.response')}</th>
                      </tr>
                    </thead>
                    <tbody>
                      {attempts.map((a) => (
                        <tr class="webhook-attempt">
                          <td>{when(ui, a.at)}</td>
                          <td>{a.status_code ?? t('webhooks.noAnswer')}</td>
                          <td>{t('webhooks.durationMs', { ms: a.duration_ms })}</td>
                          <td>{a.error ?? ''}</td>
                          <td>{a.response_body ? <code>{a.response_body}</code> : ''}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              </details>
            ) : null}
          </div>
        );
      })}
      {props.olderHref ? <p><a href={props.olderHref}>{t('webhooks.olderDeliveries')}</a></p> : null}

      <h2>{t('webhooks.settings')}</h2>
      <form method="post" action={`/staff/webhooks/${e.id}`} class="card">
        <Csrf ui={ui} />
        <EndpointFields ui={ui} errors={props.errors} values={values} idPrefix="edit-" />
        <p><button type="submit">{t('webhooks.save')}</button></p>
      </form>

      <form method="post" action={`/staff/webhooks/${e.id}/delete`} class="card">
        <Csrf ui={ui} />
        <p class="hint">{t('webhooks.deleteHint')}</p>
        <button type="submit" class="secondary">{t('webhooks.delete')}</button>
      </form>
    </Layout>
  );
}
