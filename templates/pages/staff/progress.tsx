import type { Ui } from '../../../src/routes/context';
import type { UpdateProgress } from '../../../src/fanout/progress';
import type { DevOutboxEntry } from '../../../src/db/schema-fanout';
import { Layout } from '../../layout';

const statusOrder = ['queued', 'sending', 'sent', 'delivered', 'failed', 'undelivered', 'bounced', 'skipped', 'unknown'] as const;

export function duration(ui: Ui, seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.round((seconds % 3600) / 60);
  if (h >= 1) return `${h} h ${String(m).padStart(2, '0')}`;
  if (m >= 1) return `${m} min`;
  return `${Math.max(1, Math.round(seconds))} s`;
}

function number(ui: Ui, n: number, digits = 0) {
  return new Intl.NumberFormat(ui.lang === 'fr' ? 'fr-FR' : 'en-US', { maximumFractionDigits: digits }).format(n);
}

/** Counts per channel and status, a bar, the rate and the time left; kept live by progress.js (SSE). */
export function DeliveryProgress(props: { ui: Ui; updateId: number; progress: UpdateProgress; live: boolean }) {
  const { ui, progress } = props;
  const t = ui.t;
  return (
    <section id="progress" class="card" data-live={props.live ? `/staff/updates/${props.updateId}/progress` : undefined} aria-live="polite">
      <h2 style="margin-top:0">{t('progress.title')}</h2>
      {progress.channels.map((c) => (
        <div class="progress-channel" data-channel={c.channel} data-done={c.done} data-total={c.total}>
          <h3>{t(`progress.channel.${c.channel}`)}</h3>
          {c.total === 0 ? <p class="muted">{t('progress.none')}</p> : (
            <>
              <progress max={c.total} value={c.done} style="width:100%;height:1.2rem">{`${c.done}/${c.total}`}</progress>
              <p>
                {t('progress.counts', { done: number(ui, c.done), total: number(ui, c.total) })}
                {c.ratePerSecond > 0 ? ` · ${t('progress.rate', { rate: number(ui, c.ratePerSecond, 1) })}` : ''}
                {c.etaSeconds ? ` · ${t('progress.eta', { time: duration(ui, c.etaSeconds) })}` : ''}
              </p>
              <p class="muted">
                {statusOrder.filter((s) => c.byStatus[s]).map((s) => `${number(ui, c.byStatus[s]!)} ${t(`progress.status.${s}`)}`).join(' · ')}
              </p>
            </>
          )}
        </div>
      ))}
      {progress.posts.length ? (
        <>
          <h3>{t('progress.posts')}</h3>
          <ul>
            {progress.posts.map((p) => (
              <li>
                {p.network === 'x' ? 'X' : p.network === 'bluesky' ? 'Bluesky' : 'Mastodon'}: {t(`progress.post.${p.status as 'queued'}`)}
                {p.url ? <> · <a href={p.url} rel="noopener">{t('progress.view')}</a></> : null}
                {p.error && p.status !== 'sent' ? <span class="muted"> · {p.error}</span> : null}
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {progress.finished ? <p class="notice">{t('progress.finished')}</p> : null}
    </section>
  );
}

export function DrainEstimate(props: { ui: Ui; lines: { channel: 'sms' | 'email'; count: number; rate: number; seconds: number; overTwilioWindow: boolean }[] }) {
  const { ui } = props;
  const t = ui.t;
  if (!props.lines.some((l) => l.count > 0)) return null;
  return (
    <div class="card estimate">
      <h2 style="margin-top:0">{t('estimate.title')}</h2>
      <ul>
        {props.lines.filter((l) => l.count > 0).map((l) => (
          <li>{t('estimate.line', { count: number(ui, l.count), channel: t(`progress.channel.${l.channel}`), rate: number(ui, l.rate, 2), time: duration(ui, l.seconds) })}</li>
        ))}
      </ul>
      {props.lines.some((l) => l.overTwilioWindow) ? <p class="warning twilio-window" role="alert">{t('estimate.twilioWindow')}</p> : null}
    </div>
  );
}

export function DevOutboxPage(props: { ui: Ui; entries: DevOutboxEntry[] }) {
  const { ui } = props;
  const t = ui.t;
  return (
    <Layout ui={ui} title={t('outbox.title')}>
      <h1>{t('outbox.title')}</h1>
      <p class="muted">{t('outbox.intro')}</p>
      {props.entries.length === 0 ? <p class="muted">{t('common.none')}</p> : null}
      {props.entries.map((e) => (
        <div class="card" id={String(e.id)} data-channel={e.channel}>
          <p class="muted">
            #{e.id} · {e.channel} · {new Intl.DateTimeFormat(ui.lang, { dateStyle: 'short', timeStyle: 'medium' }).format(e.at)}
            {e.recipient ? ` · ${t('outbox.to')} ${e.recipient}` : ''}
          </p>
          {e.subject ? <p><strong>{e.subject}</strong></p> : null}
          <pre class="msg">{e.body}</pre>
        </div>
      ))}
    </Layout>
  );
}
