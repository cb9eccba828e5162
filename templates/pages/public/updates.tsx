import type { CampaignWithKeywords } from '../../../src/db/campaigns';
import type { Need } from '../../../src/db/schema';
import type { PublicUpdate, Snapshot } from '../../../src/feeds/public-data';
import type { Ui } from '../../../src/routes/context';
import { Layout } from '../../layout';
import { FeedDiscovery, FeedLinks, LanguageLinks, NeedsList, Progress, PublicStyle, UpdateBody } from './parts';

export interface ShareTags {
  url: string;
  title: string;
  description: string;
  image: { url: string; alt: string; width: number | null; height: number | null } | null;
  locale: string;
  publishedAt: Date | null;
}

/** OpenGraph and Twitter Card tags, so a shared link previews with the update's text and image. */
function ShareMeta(props: { tags: ShareTags; siteName: string }) {
  const s = props.tags;
  return (
    <>
      <link rel="canonical" href={s.url} />
      <meta name="description" content={s.description} />
      <meta property="og:type" content="article" />
      <meta property="og:site_name" content={props.siteName} />
      <meta property="og:url" content={s.url} />
      <meta property="og:title" content={s.title} />
      <meta property="og:description" content={s.description} />
      <meta property="og:locale" content={s.locale} />
      {s.publishedAt ? <meta property="article:published_time" content={s.publishedAt.toISOString()} /> : null}
      {s.image ? (
        <>
          <meta property="og:image" content={s.image.url} />
          <meta property="og:image:alt" content={s.image.alt} />
          {s.image.width ? <meta property="og:image:width" content={String(s.image.width)} /> : null}
          {s.image.height ? <meta property="og:image:height" content={String(s.image.height)} /> : null}
        </>
      ) : null}
      <meta name="twitter:card" content={s.image ? 'summary_large_image' : 'summary'} />
      <meta name="twitter:title" content={s.title} />
      <meta name="twitter:description" content={s.description} />
      {s.image ? (
        <>
          <meta name="twitter:image" content={s.image.url} />
          <meta name="twitter:image:alt" content={s.image.alt} />
        </>
      ) : null}
    </>
  );
}

/** An update's permalink page. */
export function UpdatePage(props: { ui: Ui; p: PublicUpdate; share: ShareTags; timeZone: string }) {
  const { ui, p } = props;
  const t = ui.t;
  return (
    <Layout ui={ui} title={props.share.title} head={<><PublicStyle /><ShareMeta tags={props.share} siteName={ui.foundation} /></>}>
      <p class="meta"><a href={`/campaigns/${p.campaign.slug}`}>{t('public.campaign', { campaign: p.campaign.name })}</a></p>
      <h1>{p.campaign.name}</h1>
      <LanguageLinks ui={ui} />
      <UpdateBody ui={ui} p={p} timeZone={props.timeZone} full />
      {p.campaign.donate_url && p.campaign.active ? <p><a class="button" href={p.campaign.donate_url} rel="noopener">{t('public.donate')}</a></p> : null}
      <p><a href={`/campaigns/${p.campaign.slug}`}>{t('public.allUpdates')}</a></p>
    </Layout>
  );
}

/** A campaign's figures, needs and updates, a page at a time. */
export function CampaignPage(props: {
  ui: Ui;
  campaign: CampaignWithKeywords;
  snapshot: Snapshot | null;
  needs: Need[];
  updates: PublicUpdate[];
  page: number;
  pages: number;
  timeZone: string;
}) {
  const { ui, campaign } = props;
  const t = ui.t;
  const base = `/campaigns/${campaign.slug}`;
  return (
    <Layout ui={ui} title={campaign.name} head={<><PublicStyle /><FeedDiscovery base={base} title={campaign.name} /></>}>
      <h1>{campaign.name}</h1>
      <LanguageLinks ui={ui} query={props.page > 1 ? `page=${props.page}` : undefined} />
      {campaign.active ? null : <p class="warning">{t('public.closed')}</p>}
      <Progress ui={ui} snapshot={props.snapshot} timeZone={props.timeZone} />
      {campaign.donate_url && campaign.active ? <p><a class="button" href={campaign.donate_url} rel="noopener">{t('public.donate')}</a></p> : null}
      {props.needs.length && props.page === 1 ? (
        <>
          <h2>{t('public.needs')}</h2>
          <NeedsList ui={ui} needs={props.needs} />
        </>
      ) : null}
      <h2>{t('public.latest')}</h2>
      {props.updates.length ? props.updates.map((p) => <UpdateBody ui={ui} p={p} timeZone={props.timeZone} />) : <p class="muted">{t('public.noUpdates')}</p>}
      {props.pages > 1 ? (
        <nav class="pages" aria-label={t('public.page', { page: props.page, pages: props.pages })}>
          {props.page > 1 ? <a href={props.page === 2 ? base : `${base}?page=${props.page - 1}`} rel="prev">{t('public.newer')}</a> : <span></span>}
          <span class="meta">{t('public.page', { page: props.page, pages: props.pages })}</span>
          {props.page < props.pages ? <a href={`${base}?page=${props.page + 1}`} rel="next">{t('public.older')}</a> : <span></span>}
        </nav>
      ) : null}
      <p><a href="/subscribe">{t('public.subscribe')}</a></p>
      <FeedLinks ui={ui} base={base} />
    </Layout>
  );
}
