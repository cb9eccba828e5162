import type { Campaign } from '../../../src/db/schema';
import type { FeedSource } from '../../../src/db/schema-feeds';
import type { Ui } from '../../../src/routes/context';
import { Csrf, Errors, Layout, Notice, PostButton } from '../../layout';

type Errs = { field: string; message: string }[] | undefined;

function when(ui: Ui, d: Date) {
  return new Intl.DateTimeFormat(ui.lang, { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}

/** RSS import settings: the feeds, how their last fetch went, and a button to fetch now. */
export function FeedSourcesPage(props: {
  ui: Ui;
  feeds: (FeedSource & { campaign_name: string })[];
  campaigns: Pick<Campaign, 'id' | 'name'>[];
  notice?: string | null;
  errors?: Errs;
  values?: { url?: string; campaign?: string };
}) {
  const { ui } = props;
  const t = ui.t;
  return (
    <Layout ui={ui} title={t('feeds.title')}>
      <h1>{t('feeds.title')}</h1>
      <p>{t('feeds.intro')}</p>
      <Notice text={props.notice} />
      <Errors ui={ui} errors={props.errors} />
      {props.feeds.length === 0 ? <p class="muted">{t('feeds.none')}</p> : null}
      {props.feeds.map((f) => (
        <div class="card feed-source" data-feed-id={String(f.id)}>
          <p><code class="link">{f.url}</code></p>
          <p>{t('update.campaign')}: {f.campaign_name} · {t('feeds.imported', { count: f.items_imported })}</p>
          <p class="muted">
            {t('feeds.lastChecked')}: {f.last_checked_at ? when(ui, f.last_checked_at) : t('feeds.never')}
          </p>
          {f.last_error ? <p class="error feed-error" role="alert">{t('feeds.error', { error: f.last_error })}</p> : f.last_checked_at ? <p class="notice">{t('feeds.ok')}</p> : null}
          <div class="actions">
            <form method="post" action={`/staff/feeds/${f.id}/fetch`} class="inline">
              <Csrf ui={ui} />
              <button type="submit">{t('feeds.fetchNow')}</button>
            </form>
            <PostButton ui={ui} action={`/staff/feeds/${f.id}/remove`} label={t('feeds.remove')} inline />
          </div>
        </div>
      ))}
      {props.feeds.length > 1 ? (
        <PostButton ui={ui} action="/staff/feeds/fetch" label={t('feeds.fetchAll')} />
      ) : null}
      <h2>{t('feeds.add')}</h2>
      <form method="post" action="/staff/feeds" class="card">
        <Csrf ui={ui} />
        <label for="url">{t('feeds.url')}</label>
        <input id="url" name="url" type="url" required maxlength={2000} inputmode="url" value={props.values?.url ?? ''} />
        <Errors ui={ui} errors={props.errors} field="url" />
        <label for="campaign">{t('feeds.campaign')}</label>
        <select id="campaign" name="campaign" required>
          {props.campaigns.map((c) => <option value={String(c.id)} selected={props.values?.campaign === String(c.id)}>{c.name}</option>)}
        </select>
        <Errors ui={ui} errors={props.errors} field="campaign" />
        <p><button type="submit">{t('feeds.add')}</button></p>
      </form>
    </Layout>
  );
}
