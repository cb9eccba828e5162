import type { CampaignWithKeywords } from '../../../src/db/campaigns';
import type { Language, UpdateStatus } from '../../../src/db/schema';
import type { Ui } from '../../../src/routes/context';
import type { Renderings } from '../../../src/updates/render';
import type { UpdateView } from '../../../src/updates/types';
import type { UpdateInput } from '../../../src/updates/validate';
import { Csrf, Errors, Layout, Notice, PostButton } from '../../layout';

type Errs = { field: string; message: string }[] | undefined;

const langName: Record<Language, string> = { en: 'English', fr: 'Français' };
const statusKey = {
  draft: 'update.status.draft',
  pending_approval: 'update.status.pending_approval',
  published: 'update.status.published',
  rejected: 'update.status.rejected',
} as const;

function when(ui: Ui, d: Date | null | undefined) {
  return d ? new Intl.DateTimeFormat(ui.lang, { dateStyle: 'medium', timeStyle: 'short' }).format(d) : '';
}

export function StatusBadge(props: { ui: Ui; status: UpdateStatus }) {
  const colours: Record<UpdateStatus, string> = { draft: '#555', pending_approval: '#a15c00', published: '#1d6b2a', rejected: '#a00' };
  return (
    <span class="badge" style={`background:${colours[props.status]}`}>
      {props.ui.t(statusKey[props.status])}
    </span>
  );
}

export interface CostInfo {
  /** Active SMS subscribers of the campaign in that language; null before subscribers exist. */
  recipients: Partial<Record<Language, number>> | null;
  pricePerSegment: number;
  currency: string;
}

function money(ui: Ui, amount: number, currency: string) {
  return new Intl.NumberFormat(ui.lang === 'fr' ? 'fr-FR' : 'en-US', { style: 'currency', currency, maximumFractionDigits: 4 }).format(amount);
}

/**
 * What every channel will receive, per language. Inside the compose form its
 * buttons (accept the GSM-7 rewrite) submit that form, so nothing typed is lost.
 */
export function Previews(props: { ui: Ui; renderings: Renderings[]; cost: CostInfo; inForm: boolean; maxSegments: number; updateId: number | null }) {
  const { ui } = props;
  const t = ui.t;
  return (
    <section id="preview" aria-live="polite">
      <h2>{t('preview.title')}</h2>
      {props.renderings.map((r) => {
        const sms = r.sms;
        const recipients = props.cost.recipients?.[r.lang];
        return (
          <div class="lang-previews" data-lang={r.lang}>
            {props.renderings.length > 1 ? <h3>{t('preview.language', { language: langName[r.lang] })}</h3> : null}
            <div class="card preview" data-channel="sms">
              <h4>{t('preview.sms')}</h4>
              <pre class="msg">{sms.text}</pre>
              <p class="counter" data-encoding={sms.analysis.encoding} data-segments={sms.analysis.segments}>
                {t('preview.smsCounter', {
                  encoding: sms.analysis.encoding,
                  segments: sms.analysis.segments,
                  units: sms.analysis.units,
                  capacity: sms.analysis.segments * sms.analysis.perSegment,
                })}
              </p>
              {sms.analysis.encoding === 'UCS-2' ? (
                <p class="warning ucs2-warning" role="alert">{t('preview.ucs2Warning', { chars: sms.analysis.unicodeChars.join(' ') })}</p>
              ) : null}
              {sms.truncated ? <p class="warning">{t('preview.truncated', { max: props.maxSegments })}</p> : null}
              {sms.rewritten ? (
                <p class="notice">
                  {t('preview.rewriteActive')}{' '}
                  {props.inForm ? <button type="submit" class="secondary" name="action" value={`rewrite_off:${r.lang}`}>{t('preview.rewriteUndo')}</button> : null}
                </p>
              ) : null}
              {sms.suggestion ? (
                <div class="suggestion">
                  <p>{t('preview.rewriteOffer', { segments: sms.suggestion.analysis.segments, current: sms.analysis.segments })}</p>
                  <pre class="msg">{sms.suggestion.text}</pre>
                  {props.inForm ? (
                    <button type="submit" name="action" value={`rewrite_on:${r.lang}`} class="accept-rewrite">{t('preview.rewriteAccept')}</button>
                  ) : null}
                </div>
              ) : null}
              <p class="muted">
                {recipients !== undefined && recipients !== null
                  ? t('preview.cost', {
                      segments: sms.analysis.segments,
                      recipients: new Intl.NumberFormat(ui.lang === 'fr' ? 'fr-FR' : 'en-US').format(recipients),
                      price: money(ui, props.cost.pricePerSegment, props.cost.currency),
                      total: money(ui, sms.analysis.segments * recipients * props.cost.pricePerSegment, props.cost.currency),
                    })
                  : t('preview.costUnknown', { segments: sms.analysis.segments, price: money(ui, props.cost.pricePerSegment, props.cost.currency) })}
              </p>
            </div>
            <div class="card preview" data-channel="email">
              <h4>{t('preview.email')}</h4>
              <p><strong>{t('preview.subject')}:</strong> {r.email.subject}</p>
              <pre class="msg">{r.email.text}</pre>
              {props.updateId ? <p><a href={`/staff/updates/${props.updateId}/email.html?lang=${r.lang}`} target="_blank" rel="noopener">{t('preview.openHtml')}</a></p> : null}
            </div>
            {r.posts.map((p) => (
              <div class="card preview" data-channel={p.network}>
                <h4>{p.network === 'x' ? 'X' : p.network === 'bluesky' ? 'Bluesky' : 'Mastodon'}{p.parts.length > 1 ? ` · ${t('preview.parts', { count: p.parts.length })}` : ''}</h4>
                {p.parts.map((part, i) => (
                  <>
                    <pre class="msg">{part}</pre>
                    <p class={p.lengths[i]! > p.limit ? 'warning counter' : 'muted counter'}>
                      {t('preview.counter', { length: p.lengths[i]!, limit: p.limit })}
                      {p.lengths[i]! > p.limit ? ` · ${t('preview.overLimit')}` : ''}
                    </p>
                  </>
                ))}
              </div>
            ))}
          </div>
        );
      })}
    </section>
  );
}

/** The compose form's values: what the author typed (strings), and what the form carries besides. */
export interface ComposeValues extends UpdateInput {
  campaignId?: number;
  correctsId?: number | null;
}

export function ComposePage(props: {
  ui: Ui;
  campaigns: CampaignWithKeywords[];
  campaign: CampaignWithKeywords | null;
  update: UpdateView | null;
  values: ComposeValues;
  errors?: Errs;
  notice?: string | null;
  previews: Renderings[] | null;
  cost: CostInfo;
  maxSegments: number;
}) {
  const { ui, values, campaign } = props;
  const t = ui.t;
  const u = props.update;
  const title = u ? t('update.editDraft') : values.correctsId ? t('update.newCorrection') : t('update.new');
  const needRows = [...values.needs, {}, {}].slice(0, Math.max(values.needs.length + 2, 3));
  return (
    <Layout ui={ui} title={title} head={<script src="/static/compose.js" defer></script>}>
      <h1>{title}</h1>
      <Notice text={props.notice} />
      <Errors ui={ui} errors={props.errors} />
      {!campaign ? (
        props.campaigns.length === 0 ? <p class="muted">{t('campaign.none')}</p> : (
          <form method="get" action="/staff/updates/new" class="card">
            <label for="campaign">{t('update.chooseCampaign')}</label>
            <select id="campaign" name="campaign">
              {props.campaigns.filter((c) => c.active).map((c) => <option value={String(c.id)}>{c.name}</option>)}
            </select>
            <p><button type="submit">{t('update.new')}</button></p>
          </form>
        )
      ) : (
        <form id="compose" method="post" action={u ? `/staff/updates/${u.id}` : '/staff/updates'} enctype="multipart/form-data" data-preview="/staff/updates/preview">
          <Csrf ui={ui} />
          <input type="hidden" name="campaign" value={String(campaign.id)} />
          {u ? <input type="hidden" name="version" value={String(u.version)} /> : null}
          {values.correctsId ? <input type="hidden" name="corrects" value={String(values.correctsId)} /> : null}
          <div class="card">
            <p class="muted">{t('update.campaign')}: <strong>{campaign.name}</strong></p>
            {values.correctsId ? <p class="warning">{t('update.correctionOf', { id: values.correctsId })}</p> : null}
            {campaign.languages.map((lang) => (
              <>
                <label for={`lead_${lang}`}>{t('update.lead', { language: langName[lang] })}</label>
                <textarea id={`lead_${lang}`} name={`lead_${lang}`} rows={5} lang={lang} maxlength={1000} data-lead={lang}>{values.leads[lang] ?? ''}</textarea>
                <Errors ui={ui} errors={props.errors} field={`lead_${lang}`} />
              </>
            ))}
            <p class="hint">{t('update.leadHint')}</p>
          </div>

          <details class="card" open={values.needs.length > 0}>
            <summary><strong>{t('update.needs')}</strong></summary>
            {needRows.map((n, i) => (
              <fieldset class="need">
                <label for={`need_item_${i}`}>{t('update.needItem')} {i + 1}</label>
                <input id={`need_item_${i}`} name={`need_item_${i}`} maxlength={60} value={n.item ?? ''} />
                <div class="row">
                  <div>
                    <label for={`need_quantity_${i}`}>{t('update.needQuantity')}</label>
                    <input id={`need_quantity_${i}`} name={`need_quantity_${i}`} inputmode="numeric" value={n.quantity ?? ''} />
                  </div>
                  <div>
                    <label for={`need_unit_${i}`}>{t('update.needUnit')}</label>
                    <input id={`need_unit_${i}`} name={`need_unit_${i}`} maxlength={20} value={n.unit ?? ''} />
                  </div>
                </div>
                <label for={`need_urgency_${i}`}>{t('update.urgency')}</label>
                <select id={`need_urgency_${i}`} name={`need_urgency_${i}`}>
                  {(['critical', 'high', 'normal'] as const).map((x) => (
                    <option value={x} selected={(n.urgency ?? 'normal') === x}>{t(`update.urgency.${x}`)}</option>
                  ))}
                </select>
                <label style="font-weight:normal"><input type="checkbox" name={`need_met_${i}`} value="1" checked={Boolean(n.met)} /> {t('update.needMet')}</label>
                <Errors ui={ui} errors={props.errors} field={`needs.${i}.item`} />
                <Errors ui={ui} errors={props.errors} field={`needs.${i}.quantity`} />
              </fieldset>
            ))}
          </details>

          <details class="card" open>
            <summary><strong>{t('update.fundraising')}</strong></summary>
            <div class="row">
              <div>
                <label for="raised">{t('update.raised')}</label>
                <input id="raised" name="raised" inputmode="decimal" value={values.raised ?? ''} />
              </div>
              <div>
                <label for="goal">{t('update.goal')}</label>
                <input id="goal" name="goal" inputmode="decimal" value={values.goal ?? ''} />
              </div>
            </div>
            <Errors ui={ui} errors={props.errors} field="raised" />
            <Errors ui={ui} errors={props.errors} field="goal" />
            <div class="row">
              <div>
                <label for="currency">{t('update.currency')}</label>
                <input id="currency" name="currency" maxlength={3} autocapitalize="characters" value={values.currency ?? campaign.currency} />
              </div>
              <div>
                <label for="donors">{t('update.donors')}</label>
                <input id="donors" name="donors" inputmode="numeric" value={values.donors ?? ''} />
              </div>
            </div>
            <Errors ui={ui} errors={props.errors} field="currency" />
            <Errors ui={ui} errors={props.errors} field="donors" />
            <label for="asOf">{t('update.asOf')}</label>
            <input id="asOf" name="asOf" type="datetime-local" value={values.asOf ?? ''} />
            <Errors ui={ui} errors={props.errors} field="asOf" />
          </details>

          <div class="card">
            <label for="link">{t('update.link')}</label>
            <input id="link" name="link" type="url" value={values.link ?? ''} />
            <p class="hint">{t('update.linkHint')}</p>
            <Errors ui={ui} errors={props.errors} field="link" />
            <label for="image">{t('update.image')}</label>
            {u?.imageId ? (
              <p>
                <img src={`/images/${u.imageId}`} alt={u.imageAlt ?? ''} style="max-width:100%;max-height:200px" />
                <br /><label style="font-weight:normal"><input type="checkbox" name="remove_image" value="1" /> {t('update.removeImage')}</label>
              </p>
            ) : null}
            <input id="image" name="image" type="file" accept="image/jpeg,image/png,image/gif,image/webp" />
            <p class="hint">{t('update.imageHint')}</p>
            <Errors ui={ui} errors={props.errors} field="image" />
            <label for="imageAlt">{t('update.imageAlt')}</label>
            <textarea id="imageAlt" name="imageAlt" rows={2} maxlength={1000}>{values.imageAlt ?? ''}</textarea>
            <p class="hint">{t('update.imageAltHint')}</p>
            <Errors ui={ui} errors={props.errors} field="imageAlt" />
          </div>

          <div class="actions">
            <button type="submit" name="action" value="save" class="secondary">{t('update.save')}</button>
            <button type="submit" name="action" value="test" class="secondary">{t('update.sendTest')}</button>
            <button type="submit" name="action" value="submit">{t('update.submit')}</button>
          </div>

          {props.previews ? <Previews ui={ui} renderings={props.previews} cost={props.cost} inForm maxSegments={props.maxSegments} updateId={u?.id ?? null} /> : <section id="preview" aria-live="polite"></section>}
        </form>
      )}
    </Layout>
  );
}

export interface UpdateListRow {
  id: number;
  status: UpdateStatus;
  campaign_name: string;
  author_name: string | null;
  lead: string | null;
  created_at: Date;
  published_at: Date | null;
  corrects_id: number | null;
}

export function UpdateListPage(props: { ui: Ui; status: UpdateStatus; rows: UpdateListRow[]; counts: Record<UpdateStatus, number>; olderHref: string | null }) {
  const { ui } = props;
  const t = ui.t;
  const tabs: UpdateStatus[] = ['draft', 'pending_approval', 'published', 'rejected'];
  return (
    <Layout ui={ui} title={t('update.list')}>
      <h1>{t('update.list')}</h1>
      <p><a class="button" href="/staff/updates/new">{t('update.new')}</a></p>
      <nav class="tabs">
        {tabs.map((s) => (
          <a href={`/staff/updates?status=${s}`} aria-current={s === props.status ? 'page' : undefined}>
            {t(`update.tab.${s}`)} <span class={s === 'pending_approval' && props.counts[s] > 0 ? 'badge pending-count' : 'count'}>{props.counts[s]}</span>
          </a>
        ))}
      </nav>
      {props.rows.length === 0 ? <p class="muted">{t('update.none')}</p> : null}
      {props.rows.map((r) => (
        <a class="card update-row" href={`/staff/updates/${r.id}`}>
          <StatusBadge ui={ui} status={r.status} /> <span class="muted">#{r.id} · {r.campaign_name} · {r.author_name ?? ''} · {when(ui, r.published_at ?? r.created_at)}</span>
          {r.corrects_id ? <span class="muted"> · {t('update.correctionOf', { id: r.corrects_id })}</span> : null}
          <br />
          {(r.lead ?? '').slice(0, 160)}
        </a>
      ))}
      {props.olderHref ? <p><a href={props.olderHref}>{t('audit.older')}</a></p> : null}
    </Layout>
  );
}

export interface HistoryRow {
  id: number;
  at: Date;
  action: string;
  comment: string | null;
  staff_name: string | null;
}

const eventKeys: Record<string, Parameters<Ui['t']>[0]> = {
  created: 'update.event.created',
  imported: 'update.event.imported',
  submitted: 'update.event.submitted',
  withdrawn: 'update.event.withdrawn',
  approved: 'update.event.approved',
  rejected: 'update.event.rejected',
  break_glass: 'update.event.break_glass',
};

export function UpdatePage(props: {
  ui: Ui;
  update: UpdateView;
  campaign: CampaignWithKeywords;
  renderings: Renderings[];
  history: HistoryRow[];
  correctedBy: number[];
  breakGlass: { name: string; reason: string } | null;
  decisionComment: string | null;
  cost: CostInfo;
  maxSegments: number;
  notice?: string | null;
  errors?: Errs;
  /** Extra sections (delivery figures) from the fan-out. */
  extra?: unknown;
}) {
  const { ui, update: u } = props;
  const t = ui.t;
  const me = ui.staff!;
  const mine = u.authorId === me.id;
  const canEdit = me.role === 'admin' || mine;
  const canDecide = (me.role === 'approver' || me.role === 'admin') && !mine;
  const version = String(u.version);
  return (
    <Layout ui={ui} title={`#${u.id}`}>
      <h1>
        #{u.id} <StatusBadge ui={ui} status={u.status} />
      </h1>
      <Notice text={props.notice} />
      <Errors ui={ui} errors={props.errors} />
      <p class="muted">{props.campaign.name}</p>
      {u.correctsId ? <p class="warning"><a href={`/staff/updates/${u.correctsId}`}>{t('update.correctionOf', { id: u.correctsId })}</a></p> : null}
      {props.correctedBy.map((id) => <p class="warning"><a href={`/staff/updates/${id}`}>{t('update.correctedBy', { id })}</a></p>)}
      {props.breakGlass ? <p class="warning break-glass">{t('update.breakGlassShown', props.breakGlass)}</p> : null}
      {u.status === 'rejected' && props.decisionComment ? <p class="error">{props.decisionComment}</p> : null}

      <div class="actions">
        {u.status === 'draft' && canEdit ? <a class="button secondary" href={`/staff/updates/${u.id}/edit`}>{t('update.editDraft')}</a> : null}
        {u.status === 'draft' && canEdit ? (
          <form method="post" action={`/staff/updates/${u.id}/submit`} class="inline">
            <Csrf ui={ui} />
            <input type="hidden" name="version" value={version} />
            <button type="submit">{t('update.submit')}</button>
          </form>
        ) : null}
        {u.status === 'pending_approval' && canEdit ? (
          <PostButton ui={ui} action={`/staff/updates/${u.id}/withdraw`} label={t('update.withdraw')} inline />
        ) : null}
        {u.status === 'published' ? <a class="button secondary" href={`/staff/updates/new?corrects=${u.id}`}>{t('update.newCorrection')}</a> : null}
      </div>

      {u.status === 'pending_approval' && mine && me.role !== 'author' ? <p class="muted">{t('update.ownUpdate')}</p> : null}
      {u.status === 'pending_approval' && canDecide ? (
        <div class="card decide">
          <form method="post" action={`/staff/updates/${u.id}/approve`}>
            <Csrf ui={ui} />
            <input type="hidden" name="version" value={version} />
            <label for="approve-comment">{t('update.comment')}</label>
            <input id="approve-comment" name="comment" maxlength={500} />
            <p><button type="submit" class="approve">{t('update.approve')}</button></p>
          </form>
          <form method="post" action={`/staff/updates/${u.id}/reject`}>
            <Csrf ui={ui} />
            <input type="hidden" name="version" value={version} />
            <label for="reject-comment">{t('update.rejectReason')}</label>
            <input id="reject-comment" name="comment" maxlength={500} />
            <Errors ui={ui} errors={props.errors} field="comment" />
            <p><button type="submit" class="secondary">{t('update.reject')}</button></p>
          </form>
        </div>
      ) : null}
      {(u.status === 'draft' || u.status === 'pending_approval') && me.role === 'admin' ? (
        <details class="card">
          <summary>{t('update.breakGlass')}</summary>
          <form method="post" action={`/staff/updates/${u.id}/publish`}>
            <Csrf ui={ui} />
            <input type="hidden" name="version" value={version} />
            <p class="hint">{t('update.breakGlassHint')}</p>
            <label for="reason">{t('update.breakGlassReason')}</label>
            <textarea id="reason" name="reason" rows={2} required minlength={10} maxlength={500}></textarea>
            <Errors ui={ui} errors={props.errors} field="reason" />
            <p><button type="submit">{t('update.breakGlass')}</button></p>
          </form>
        </details>
      ) : null}

      {props.extra as never}

      <Previews ui={ui} renderings={props.renderings} cost={props.cost} inForm={false} maxSegments={props.maxSegments} updateId={u.id} />

      <h2>{t('update.history')}</h2>
      <ul class="history">
        {props.history.map((h) => (
          <li>
            {when(ui, h.at)} — {eventKeys[h.action] ? t(eventKeys[h.action]!, { name: h.staff_name ?? '?' }) : h.action}
            {h.comment ? <>: <q>{h.comment}</q></> : null}
          </li>
        ))}
      </ul>
    </Layout>
  );
}
