import { Hono } from 'hono';
import { findCampaignBySlug } from '../../db/campaigns';
import type { Deps } from '../../deps';
import { AppError } from '../../errors';
import { countPublishedUpdates, findPublishedUpdate, languageFor, latestSnapshots, listPublishedUpdates, openNeeds, summarizeActiveCampaigns } from '../../feeds/public-data';
import { renderContext, renderFeedItem, renderSettingsOf } from '../../updates/render';
import { CampaignPage, UpdatePage, type ShareTags } from '../../../templates/pages/public/updates';
import { PublicHomePage } from '../../../templates/pages/public/home';
import type { AppContext, AppEnv } from '../context';
import { uiOf } from '../middleware';
import { translator } from '../../i18n';
import { publicResponder } from './cache';
import { feedRoutes } from './feeds';
import { pageNumber, publicKeys, publicLanguage } from './keys';

const updatesPerPage = 20;
const latestPerCampaign = 3;
const html = 'text/html; charset=UTF-8';

/** "…" after the last whole word within `max` characters. */
function clip(s: string, max: number): string {
  const chars = [...s.replace(/\s+/g, ' ').trim()];
  if (chars.length <= max) return chars.join('');
  return `${chars.slice(0, max - 1).join('').replace(/\s+\S*$/, '')}…`;
}

/**
 * The public pages: no login, the same for every visitor in one language (no staff menu, no CSRF token), so
 * shared caches may keep them. Feeds and CAP are mounted here too and share the cache of rendered bodies.
 */
export function publicRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
  const { respond } = publicResponder(deps);
  const settings = renderSettingsOf(deps.config);
  const timeZone = deps.config.TIMEZONE;
  const publicUi = (c: AppContext) => {
    const lang = publicLanguage(c, deps);
    return { ...uiOf(c, deps), lang, t: translator(lang), staff: null, csrf: '' };
  };
  const page = (c: AppContext, key: string, render: () => Promise<string>) =>
    respond(c, { kind: 'page', key, contentType: html, render: async () => `<!DOCTYPE html>${await render()}` });

  app.get('/', (c) =>
    page(c, publicKeys.home(publicLanguage(c, deps)), async () =>
      String(<PublicHomePage ui={publicUi(c)} campaigns={await summarizeActiveCampaigns(deps.db, latestPerCampaign)} timeZone={timeZone} />),
    ),
  );

  app.get('/campaigns/:slug', (c) => {
    const slug = c.req.param('slug');
    const n = pageNumber(c.req.query('page'));
    if (!n) throw new AppError('NOT_FOUND', 'No such page.');
    return page(c, publicKeys.campaign(slug, n, publicLanguage(c, deps)), async () => {
      const campaign = await findCampaignBySlug(deps.db, slug);
      if (!campaign) throw new AppError('NOT_FOUND', 'No campaign with this name.');
      const total = await countPublishedUpdates(deps.db, campaign.id);
      const pages = Math.max(1, Math.ceil(total / updatesPerPage));
      if (n > pages) throw new AppError('NOT_FOUND', 'No such page.');
      const updates = await listPublishedUpdates(deps.db, { campaignId: campaign.id, limit: updatesPerPage, offset: (n - 1) * updatesPerPage });
      const latest = n === 1 ? updates[0] : (await listPublishedUpdates(deps.db, { campaignId: campaign.id, limit: 1 }))[0];
      const snapshot = (await latestSnapshots(deps.db, [campaign.id])).get(campaign.id) ?? null;
      return String(
        <CampaignPage
          ui={publicUi(c)}
          campaign={campaign}
          snapshot={snapshot ? { ...snapshot, goal: snapshot.goal ?? campaign.goal, currency: snapshot.currency || campaign.currency } : null}
          needs={latest ? openNeeds(latest.update.needs) : []}
          updates={updates}
          page={n}
          pages={pages}
          timeZone={timeZone}
        />,
      );
    });
  });

  // `/updates/5.cap` (CAP) is declared in ./feeds; the id here is digits only, so the two never overlap.
  app.get('/updates/:id{[0-9]+}', (c) => {
    const id = Number(c.req.param('id'));
    return page(c, publicKeys.update(id, publicLanguage(c, deps)), async () => {
      const p = Number.isSafeInteger(id) ? await findPublishedUpdate(deps.db, id) : undefined;
      if (!p) throw new AppError('NOT_FOUND', 'No published update with this id.');
      const ui = publicUi(c);
      const lang = languageFor(p.update, p.campaign, ui.lang);
      const item = renderFeedItem(renderContext(settings, p.update, p.campaign, lang, p.corrects));
      const share: ShareTags = {
        url: `${deps.config.PUBLIC_URL}/updates/${id}`,
        title: item.title,
        description: clip(item.text, 200),
        image: p.image ? { url: `${deps.config.PUBLIC_URL}/images/${p.image.id}`, alt: p.update.imageAlt ?? '', width: p.image.width, height: p.image.height } : null,
        locale: lang === 'fr' ? 'fr_FR' : 'en_US',
        publishedAt: p.update.publishedAt,
      };
      return String(<UpdatePage ui={ui} p={p} share={share} timeZone={timeZone} />);
    });
  });

  app.route('/', feedRoutes(deps));
  return app;
}
