import type { CampaignSummary } from '../../../src/feeds/public-data';
import type { Ui } from '../../../src/routes/context';
import { Layout } from '../../layout';
import { FeedDiscovery, FeedLinks, LanguageLinks, NeedsList, Progress, PublicStyle, UpdateBody } from './parts';

/** The public front page: each active campaign with its figures, current needs and latest updates. */
export function PublicHomePage(props: { ui: Ui; campaigns: CampaignSummary[]; timeZone: string }) {
  const { ui } = props;
  const t = ui.t;
  const title = t('public.title', { foundation: ui.foundation });
  return (
    <Layout ui={ui} title={title} head={<><PublicStyle /><FeedDiscovery base="" title={ui.foundation} /><meta name="description" content={t('public.intro')} /></>}>
      <h1>{title}</h1>
      <p>{t('public.intro')}</p>
      <LanguageLinks ui={ui} />
      {props.campaigns.length === 0 ? <p class="muted">{t('public.noCampaigns')}</p> : null}
      {props.campaigns.map((s) => (
        <section class="campaign" aria-labelledby={`campaign-${s.campaign.id}`}>
          <h2 id={`campaign-${s.campaign.id}`}><a href={`/campaigns/${s.campaign.slug}`}>{s.campaign.name}</a></h2>
          <Progress ui={ui} snapshot={s.snapshot} timeZone={props.timeZone} />
          {s.campaign.donate_url ? <p><a class="button" href={s.campaign.donate_url} rel="noopener">{t('public.donate')}</a></p> : null}
          {s.needs.length ? (
            <>
              <h3>{t('public.needs')}</h3>
              <NeedsList ui={ui} needs={s.needs} />
            </>
          ) : null}
          <h3>{t('public.latest')}</h3>
          {s.latest.length ? s.latest.map((p) => <UpdateBody ui={ui} p={p} timeZone={props.timeZone} />) : <p class="muted">{t('public.noUpdates')}</p>}
          <p><a href={`/campaigns/${s.campaign.slug}`}>{t('public.allUpdates')}</a></p>
        </section>
      ))}
      <p><a href="/subscribe">{t('public.subscribe')}</a></p>
      <FeedLinks ui={ui} base="" />
      <p class="meta"><a href="/login">{t('public.staffLogin')}</a></p>
    </Layout>
  );
}
