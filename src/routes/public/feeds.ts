import { Hono } from 'hono';
import { findCampaignBySlug } from '../../db/campaigns';
import type { Deps } from '../../deps';
import { AppError } from '../../errors';
import { buildCapAlert, buildCapIndex } from '../../feeds/cap';
import { buildFeed, feedContentTypes, feedItemLimit, type FeedFormat, type FeedSettings } from '../../feeds/feeds';
import { findPublishedUpdate, listPublishedUpdates } from '../../feeds/public-data';
import { renderSettingsOf } from '../../updates/render';
import type { AppContext, AppEnv } from '../context';
import { publicResponder } from './cache';
import { feedLanguage, publicKeys } from './keys';

export function feedSettingsOf(config: Deps['config']): FeedSettings {
  return { ...renderSettingsOf(config), defaultLanguage: config.DEFAULT_LANGUAGE, hub: config.WEBSUB_HUB ?? null };
}

const formats: Record<string, FeedFormat> = { 'feed.rss': 'rss', 'feed.atom': 'atom', 'feed.json': 'json' };

/** RSS 2.0, Atom, JSON Feed 1.1 (all, or one campaign's; `?lang=en|fr` for one language), CAP 1.2 and its index. */
export function feedRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
  const { respond } = publicResponder(deps);
  const settings = feedSettingsOf(deps.config);

  const serveFeed = (c: AppContext, format: FeedFormat, slug: string | null) => {
    const lang = feedLanguage(c);
    return respond(c, {
      kind: 'feed',
      key: publicKeys.feed(slug, format, lang),
      contentType: feedContentTypes[format],
      render: async () => {
        const campaign = slug ? await findCampaignBySlug(deps.db, slug) : null;
        if (slug && !campaign) throw new AppError('NOT_FOUND', 'No campaign with this name.');
        const updates = await listPublishedUpdates(deps.db, { campaignId: campaign?.id, lang, limit: feedItemLimit });
        return buildFeed(settings, { campaign: campaign ?? null, lang }, updates, format);
      },
    });
  };

  for (const [file, format] of Object.entries(formats)) {
    app.get(`/${file}`, (c) => serveFeed(c, format, null));
    app.get(`/campaigns/:slug/${file}`, (c) => serveFeed(c, format, c.req.param('slug')));
  }

  app.get('/feed.cap.atom', (c) =>
    respond(c, {
      kind: 'feed',
      key: publicKeys.capIndex(),
      contentType: feedContentTypes.capIndex,
      render: async () => buildCapIndex(settings, await listPublishedUpdates(deps.db, { limit: feedItemLimit })),
    }),
  );

  app.get('/updates/:file{[0-9]+\\.cap}', (c) => {
    const id = Number(c.req.param('file').slice(0, -'.cap'.length));
    return respond(c, {
      kind: 'feed',
      key: publicKeys.cap(id),
      contentType: feedContentTypes.cap,
      render: async () => {
        const p = Number.isSafeInteger(id) ? await findPublishedUpdate(deps.db, id) : undefined;
        if (!p) throw new AppError('NOT_FOUND', 'No published update with this id.');
        return buildCapAlert(settings, p);
      },
    });
  });

  return app;
}
