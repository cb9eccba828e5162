import type { Reply } from '../../../src/db/schema-subscribers';
import type { InboxFilters, InboxRow } from '../../../src/replies/inbox';
import type { Ui } from '../../../src/routes/context';
import { Csrf, Errors, Layout, Notice, PostButton } from '../../layout';

type Errs = { field: string; message: string }[] | undefined;
const channelName: Record<string, string> = { sms: 'SMS', email: 'Email', mastodon: 'Mastodon', bluesky: 'Bluesky', x: 'X' };

function when(ui: Ui, d: Date) {
  return new Intl.DateTimeFormat(ui.lang, { dateStyle: 'short', timeStyle: 'short' }).format(d);
}

function StateBadge(props: { ui: Ui; state: string }) {
  const colours: Record<string, string> = { new: '#a15c00', assigned: '#0b57d0', handled: '#1d6b2a' };
  return <span class="badge" style={`background:${colours[props.state] ?? '#555'}`}>{props.ui.t(`inbox.state.${props.state as 'new'}`)}</span>;
}

export function InboxPage(props: { ui: Ui; rows: InboxRow[]; filters: InboxFilters & { mine?: boolean }; campaigns: { id: number; name: string }[]; olderHref: string | null }) {
  const { ui, filters: f } = props;
  const t = ui.t;
  return (
    <Layout ui={ui} title={t('inbox.title')}>
      <h1>{t('inbox.title')}</h1>
      <details class="card" open={Boolean(f.channel || f.state || f.campaignId || f.updateId || f.possibleOptOut || f.mine)}>
        <summary><strong>{t('inbox.filter')}</strong></summary>
        <form method="get" action="/staff/inbox">
          <div class="row">
            <div>
              <label for="state">{t('inbox.state')}</label>
              <select id="state" name="state">
                <option value="">{t('inbox.all')}</option>
                {(['new', 'assigned', 'handled'] as const).map((s) => <option value={s} selected={f.state === s}>{t(`inbox.state.${s}`)}</option>)}
              </select>
            </div>
            <div>
              <label for="channel">{t('inbox.channel')}</label>
              <select id="channel" name="channel">
                <option value="">{t('inbox.all')}</option>
                {Object.entries(channelName).map(([k, v]) => <option value={k} selected={f.channel === k}>{v}</option>)}
              </select>
            </div>
          </div>
          <label for="campaign">{t('inbox.campaign')}</label>
          <select id="campaign" name="campaign">
            <option value="">{t('inbox.all')}</option>
            {props.campaigns.map((c) => <option value={String(c.id)} selected={f.campaignId === c.id}>{c.name}</option>)}
          </select>
          <label for="update">{t('inbox.update')}</label>
          <input id="update" name="update" inputmode="numeric" value={f.updateId ? String(f.updateId) : ''} />
          <label style="font-weight:normal"><input type="checkbox" name="optout" value="1" checked={Boolean(f.possibleOptOut)} /> {t('inbox.possibleOptOut')}</label>
          <label style="font-weight:normal"><input type="checkbox" name="mine" value="1" checked={Boolean(f.mine)} /> {t('inbox.mine')}</label>
          <p><button type="submit">{t('inbox.filter')}</button></p>
        </form>
      </details>
      {props.rows.length === 0 ? <p class="muted">{t('inbox.none')}</p> : null}
      {props.rows.map((r) => (
        <a class="card update-row reply-row" href={`/staff/inbox/${r.id}`} data-state={r.state}>
          <StateBadge ui={ui} state={r.state} /> <span class="badge">{channelName[r.channel]}</span>
          {r.possible_opt_out ? <> <span class="badge" style="background:#a00">{t('inbox.possibleOptOut')}</span></> : null}
          <span class="muted"> {when(ui, r.received_at)} · {t('inbox.from', { sender: r.sender })}</span>
          {r.update_id ? <span class="muted"> · {t('inbox.about', { id: r.update_id })}{r.campaign_name ? ` (${r.campaign_name})` : ''}</span> : null}
          {r.assignee_name ? <span class="muted"> · {t('inbox.assignedTo', { name: r.assignee_name })}</span> : null}
          <br />
          {r.body.slice(0, 280)}
          {r.answers ? <span class="muted"> · {t('inbox.answerCount', { count: r.answers })}</span> : null}
        </a>
      ))}
      {props.olderHref ? <p><a href={props.olderHref}>{t('inbox.older')}</a></p> : null}
    </Layout>
  );
}

export function ReplyPage(props: {
  ui: Ui;
  reply: Reply;
  answers: { id: number; body: string; status: string; created_at: Date; last_error: string | null; staff_name: string | null }[];
  notice?: string | null;
  errors?: Errs;
  draft?: string;
}) {
  const { ui, reply: r } = props;
  const t = ui.t;
  return (
    <Layout ui={ui} title={t('inbox.title')}>
      <h1><StateBadge ui={ui} state={r.state} /> {channelName[r.channel]}</h1>
      <Notice text={props.notice} />
      <Errors ui={ui} errors={props.errors} />
      <p class="muted">{when(ui, r.received_at)} · {t('inbox.from', { sender: r.sender })}{r.update_id ? <> · <a href={`/staff/updates/${r.update_id}`}>{t('inbox.about', { id: r.update_id })}</a></> : null}</p>
      {r.possible_opt_out ? <p class="warning" role="alert">{t('inbox.possibleOptOutHint')}</p> : null}
      <pre class="msg">{r.body}</pre>
      <div class="actions">
        {r.state !== 'handled' ? (
          <PostButton ui={ui} action={`/staff/inbox/${r.id}/assign`} label={t('inbox.assignToMe')} inline />
        ) : null}
        <PostButton ui={ui} action={`/staff/inbox/${r.id}/${r.state === 'handled' ? 'reopen' : 'handle'}`} label={r.state === 'handled' ? t('inbox.reopen') : t('inbox.markHandled')} inline />
      </div>
      {props.answers.length ? (
        <>
          <h2>{t('inbox.answers')}</h2>
          {props.answers.map((a) => (
            <div class="card">
              <p class="muted">{when(ui, a.created_at)} · {a.staff_name ?? ''} · {t(`inbox.status.${a.status as 'sent'}`)}{a.last_error ? ` · ${a.last_error}` : ''}</p>
              <pre class="msg">{a.body}</pre>
            </div>
          ))}
        </>
      ) : null}
      <h2>{t('inbox.answerVia', { channel: channelName[r.channel] ?? r.channel })}</h2>
      <form method="post" action={`/staff/inbox/${r.id}/answer`} class="card">
        <Csrf ui={ui} />
        <label for="body">{t('inbox.answer')}</label>
        <textarea id="body" name="body" rows={4} maxlength={2000} required>{props.draft ?? ''}</textarea>
        <Errors ui={ui} errors={props.errors} field="body" />
        <p><button type="submit">{t('inbox.send')}</button></p>
      </form>
    </Layout>
  );
}

export function UpdateFigures(props: { ui: Ui; figures: { channels: { channel: string; sent: number; delivered: number; failed: number; replies: number; replyRate: number | null }[] }; posts: { network: string; metrics: { boosts: number; likes: number; replies: number } | null }[] }) {
  const { ui } = props;
  const t = ui.t;
  const pct = (n: number | null) => (n === null ? '—' : new Intl.NumberFormat(ui.lang === 'fr' ? 'fr-FR' : 'en-US', { style: 'percent', maximumFractionDigits: 1 }).format(n));
  const rows = props.figures.channels.filter((c) => c.sent || c.replies || c.failed);
  if (!rows.length && !props.posts.some((p) => p.metrics)) return null;
  return (
    <section class="card figures">
      <h2 style="margin-top:0">{t('figures.title')}</h2>
      <div class="scroll">
        <table>
          <thead><tr><th></th><th>{t('figures.sent')}</th><th>{t('figures.delivered')}</th><th>{t('figures.failed')}</th><th>{t('figures.replies')}</th><th>{t('figures.replyRate')}</th></tr></thead>
          <tbody>
            {rows.map((c) => (
              <tr data-channel={c.channel}><th>{channelName[c.channel]}</th><td>{c.sent}</td><td>{c.delivered}</td><td>{c.failed}</td><td>{c.replies}</td><td>{pct(c.replyRate)}</td></tr>
            ))}
          </tbody>
        </table>
      </div>
      {props.posts.filter((p) => p.metrics).map((p) => <p>{channelName[p.network]}: {t('figures.reactions', p.metrics!)}</p>)}
    </section>
  );
}
