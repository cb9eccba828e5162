import { raw } from 'hono/html';
import type { Language, Need } from '../../../src/db/schema';
import { languageFor, type PublicUpdate, type Snapshot } from '../../../src/feeds/public-data';
import type { Ui } from '../../../src/routes/context';
import { formatCount, formatDateTime, formatMoney, formatPercent } from '../../../src/updates/money';

// Only what public pages add to the layout's styles (kept small: every page stays well under 60 KB).
const css = `
.progress{height:1rem;background:#e4e4e0;border-radius:999px;overflow:hidden;margin:.5rem 0}
.progress>span{display:block;height:100%;background:#1d6b2a}
.figures{font-size:1.1rem;margin:.25rem 0}
.needs{padding-left:1.2rem;margin:.25rem 0}.needs .critical{font-weight:700;color:#a00}
.lead{white-space:pre-line;margin:.25rem 0}
.update img{max-width:100%;height:auto;border-radius:6px}.update>:first-child{margin-top:0}.update>:last-child{margin-bottom:0}
.correction{border-left:4px solid #a15c00;padding-left:.75rem}
.meta{color:#555;font-size:.9rem}
nav.pages{display:flex;justify-content:space-between;gap:1rem;margin:1rem 0}
`;

export function PublicStyle() {
  return <style>{raw(css)}</style>;
}

export function when(ui: Ui, d: Date | null | undefined, timeZone: string): string {
  return d ? formatDateTime(d, ui.lang, timeZone) : '';
}

export function LanguageLinks(props: { ui: Ui; query?: string }) {
  const extra = props.query ? `&${props.query}` : '';
  return (
    <p class="langs" aria-label={props.ui.t('public.languages')}>
      <a href={`?lang=en${extra}`} hreflang="en" lang="en" aria-current={props.ui.lang === 'en' ? 'true' : undefined}>English</a>
      <a href={`?lang=fr${extra}`} hreflang="fr" lang="fr" aria-current={props.ui.lang === 'fr' ? 'true' : undefined}>Français</a>
    </p>
  );
}

/** Raised / goal as a bar, then the figures in words with their "as of" time. */
export function Progress(props: { ui: Ui; snapshot: Snapshot | null; timeZone: string }) {
  const { ui, snapshot: s } = props;
  const t = ui.t;
  if (!s) return <p class="muted">{t('public.noFigures')}</p>;
  const raised = formatMoney(s.raised, s.currency, ui.lang);
  const goal = s.goal && Number(s.goal) > 0 ? s.goal : null;
  const ratio = goal ? Math.min(1, Number(s.raised) / Number(goal)) : null;
  const percent = goal ? formatPercent(s.raised, goal, ui.lang) : null;
  const parts = [
    s.donors === null ? null : s.donors === 1 ? t('public.oneDonor') : t('public.donors', { count: formatCount(s.donors, ui.lang) }),
    s.asOf ? t('public.asOf', { date: when(ui, s.asOf, props.timeZone) }) : null,
  ].filter(Boolean);
  return (
    <div class="fundraising">
      <p class="figures">
        <strong>{goal ? t('public.raisedOf', { raised, goal: formatMoney(goal, s.currency, ui.lang) }) : t('public.raised', { raised })}</strong>
        {percent ? ` (${t('public.percent', { percent })})` : ''}
      </p>
      {ratio !== null ? (
        <div class="progress" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow={String(Math.floor(ratio * 100))} aria-label={percent ?? ''}>
          <span style={`width:${(Math.floor(ratio * 1000) / 10).toFixed(1)}%`}></span>
        </div>
      ) : null}
      {parts.length ? <p class="meta">{parts.join(' · ')}</p> : null}
    </div>
  );
}

export function NeedsList(props: { ui: Ui; needs: Need[] }) {
  const { ui } = props;
  if (!props.needs.length) return null;
  return (
    <ul class="needs">
      {props.needs.map((n) => (
        <li class={n.urgency}>
          {n.item}
          {n.quantity !== null ? `${ui.lang === 'fr' ? ' : ' : ': '}${formatCount(n.quantity, ui.lang)}${n.unit ? ` ${n.unit}` : ''}` : ''}
          {n.urgency !== 'normal' ? ` (${ui.t(n.urgency === 'critical' ? 'public.urgency.critical' : 'public.urgency.high')})` : ''}
        </li>
      ))}
    </ul>
  );
}

/** One published update: its lead in the reader's language when it has one, figures, needs, links. */
export function UpdateBody(props: { ui: Ui; p: PublicUpdate; timeZone: string; full?: boolean }) {
  const { ui, p } = props;
  const t = ui.t;
  const u = p.update;
  const lang: Language = languageFor(u, p.campaign, ui.lang);
  const needs = u.needs.filter((n) => !n.met);
  const snapshot: Snapshot | null = u.raised !== null
    ? { raised: u.raised, goal: u.goal ?? p.campaign.goal, currency: u.currency ?? p.campaign.currency, donors: u.donors, asOf: u.asOf, updateId: u.id }
    : null;
  return (
    <article class={`card update${p.corrects ? ' correction' : ''}`} lang={lang} id={`update-${u.id}`}>
      {p.corrects ? (
        <p>
          <strong>{t('public.correction')}</strong> · {t('public.corrects', { date: when(ui, p.corrects.publishedAt, props.timeZone) })}{' '}
          <a href={`/updates/${p.corrects.id}`}>{t('public.readOriginal')}</a>
        </p>
      ) : null}
      {p.correctedBy.map((c) => (
        <p class="warning">
          {t('public.correctedBy', { date: when(ui, c.publishedAt, props.timeZone) })} <a href={`/updates/${c.id}`}>{t('public.readCorrection')}</a>
        </p>
      ))}
      <p class="lead">{u.leads[lang] ?? ''}</p>
      {props.full ? <Progress ui={ui} snapshot={snapshot} timeZone={props.timeZone} /> : null}
      {props.full && needs.length ? (
        <>
          <h2>{t('public.needs')}</h2>
          <NeedsList ui={ui} needs={needs} />
        </>
      ) : null}
      {props.full && p.image ? (
        <p>
          <img src={`/images/${p.image.id}`} alt={u.imageAlt ?? ''} width={p.image.width ?? undefined} height={p.image.height ?? undefined} loading="lazy" />
        </p>
      ) : null}
      {props.full && u.link ? <p><a href={u.link} rel="noopener">{t('public.moreInfo')}</a></p> : null}
      <p class="meta">
        <a href={`/updates/${u.id}`}>{t('public.published', { date: when(ui, u.publishedAt, props.timeZone) })}</a>
      </p>
    </article>
  );
}

export function FeedLinks(props: { ui: Ui; base: string }) {
  const b = props.base;
  return (
    <p class="meta">
      {props.ui.t('public.feeds')} <a href={`${b}/feed.rss`}>RSS</a> · <a href={`${b}/feed.atom`}>Atom</a> · <a href={`${b}/feed.json`}>JSON Feed</a>
      {b === '' ? <> · <a href="/feed.cap.atom">CAP</a></> : null}
    </p>
  );
}

/** Feed discovery for readers and browsers. */
export function FeedDiscovery(props: { base: string; title: string }) {
  return (
    <>
      <link rel="alternate" type="application/rss+xml" title={`${props.title} (RSS)`} href={`${props.base}/feed.rss`} />
      <link rel="alternate" type="application/atom+xml" title={`${props.title} (Atom)`} href={`${props.base}/feed.atom`} />
      <link rel="alternate" type="application/feed+json" title={`${props.title} (JSON Feed)`} href={`${props.base}/feed.json`} />
    </>
  );
}
