import type { CampaignWithKeywords } from '../../../src/db/campaigns';
import type { Ui } from '../../../src/routes/context';
import { Csrf, Errors, Layout, Notice } from '../../layout';

type Errs = { field: string; message: string }[] | undefined;

export function CampaignListPage(props: { ui: Ui; campaigns: CampaignWithKeywords[]; notice?: string | null }) {
  const { ui } = props;
  const t = ui.t;
  return (
    <Layout ui={ui} title={t('campaign.title')}>
      <h1>{t('campaign.title')}</h1>
      <Notice text={props.notice} />
      {ui.staff?.role === 'admin' ? <p><a class="button" href="/staff/campaigns/new">{t('campaign.new')}</a></p> : null}
      {props.campaigns.length === 0 ? <p class="muted">{t('campaign.none')}</p> : null}
      {props.campaigns.map((c) => (
        <div class="card">
          <h2 style="margin-top:0">{c.name} {c.active ? null : <span class="muted">({t('campaign.inactive')})</span>}</h2>
          <p class="muted">
            /{c.slug} · {c.languages.join(', ').toUpperCase()} · {c.keywords.join(' ')} {c.hashtag ? `· #${c.hashtag}` : ''}
          </p>
          <p>
            <a href={`/staff/updates/new?campaign=${c.id}`}>{t('update.new')}</a>
            {ui.staff?.role === 'admin' ? <> · <a href={`/staff/campaigns/${c.id}/edit`}>{t('campaign.edit')}</a></> : null}
          </p>
        </div>
      ))}
    </Layout>
  );
}

export interface CampaignFormValues {
  name?: string;
  slug?: string;
  keywords?: string;
  hashtag?: string;
  languages?: string[];
  goal?: string;
  currency?: string;
  donate_url?: string;
  active?: boolean;
}

export function CampaignFormPage(props: { ui: Ui; id: number | null; values: CampaignFormValues; errors?: Errs }) {
  const { ui, values } = props;
  const t = ui.t;
  const langs = values.languages ?? ['en'];
  return (
    <Layout ui={ui} title={props.id ? t('campaign.edit') : t('campaign.new')}>
      <h1>{props.id ? t('campaign.edit') : t('campaign.new')}</h1>
      <Errors ui={ui} errors={props.errors} />
      <form method="post" action={props.id ? `/staff/campaigns/${props.id}` : '/staff/campaigns'} class="card">
        <Csrf ui={ui} />
        <label for="name">{t('common.name')}</label>
        <input id="name" name="name" required maxlength={120} value={values.name ?? ''} />
        <Errors ui={ui} errors={props.errors} field="name" />
        <label for="slug">{t('campaign.slug')}</label>
        <input id="slug" name="slug" required pattern="[a-z0-9]+(-[a-z0-9]+)*" maxlength={60} value={values.slug ?? ''} />
        <p class="hint">{t('campaign.slugHint')}</p>
        <Errors ui={ui} errors={props.errors} field="slug" />
        <label for="keywords">{t('campaign.keywords')}</label>
        <input id="keywords" name="keywords" value={values.keywords ?? ''} autocapitalize="characters" />
        <p class="hint">{t('campaign.keywordsHint')}</p>
        <Errors ui={ui} errors={props.errors} field="keywords" />
        <label for="hashtag">{t('campaign.hashtag')}</label>
        <input id="hashtag" name="hashtag" value={values.hashtag ?? ''} />
        <Errors ui={ui} errors={props.errors} field="hashtag" />
        <fieldset>
          <legend>{t('campaign.languages')}</legend>
          {(['fr', 'en'] as const).map((l) => (
            <label style="font-weight:normal">
              <input type="checkbox" name="languages" value={l} checked={langs.includes(l)} /> {l === 'fr' ? 'Français' : 'English'}
            </label>
          ))}
          <p class="hint">{t('campaign.languagesHint')}</p>
          <Errors ui={ui} errors={props.errors} field="languages" />
        </fieldset>
        <label for="goal">{t('campaign.goal')}</label>
        <input id="goal" name="goal" inputmode="decimal" value={values.goal ?? ''} />
        <Errors ui={ui} errors={props.errors} field="goal" />
        <label for="currency">{t('campaign.currency')}</label>
        <input id="currency" name="currency" required maxlength={3} autocapitalize="characters" value={values.currency ?? 'EUR'} />
        <Errors ui={ui} errors={props.errors} field="currency" />
        <label for="donate_url">{t('campaign.donateUrl')}</label>
        <input id="donate_url" name="donate_url" type="url" value={values.donate_url ?? ''} />
        <Errors ui={ui} errors={props.errors} field="donate_url" />
        {props.id ? (
          <label style="font-weight:normal">
            <input type="checkbox" name="active" value="1" checked={values.active ?? true} /> {t('campaign.active')}
          </label>
        ) : null}
        <p><button type="submit">{props.id ? t('common.save') : t('campaign.create')}</button></p>
      </form>
    </Layout>
  );
}
