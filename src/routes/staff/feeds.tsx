import { Hono } from 'hono';
import { listCampaigns } from '../../db/campaigns';
import { listFeedSources } from '../../db/feed-sources';
import type { Deps } from '../../deps';
import { addFeedSource, removeFeedSource } from '../../feeds/feed-settings';
import { importFeedById, importFeeds } from '../../feeds/rss-import';
import type { MessageKey } from '../../i18n';
import { FeedSourcesPage } from '../../../templates/pages/staff/feeds';
import type { AppContext, AppEnv } from '../context';
import { noticeFrom, translatedFieldErrors } from '../forms';
import { clientIp, idParam, readForm, requireStaff, uiOf } from '../middleware';

const notices: MessageKey[] = ['feeds.added', 'feeds.removed'];

/** /staff/feeds: admins choose the feeds imported as drafts, see how each fetch went, fetch now. */
export function staffFeedRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
  app.use('*', requireStaff('admin'));

  const render = async (c: AppContext, extra: { notice?: string | null; errors?: { field: string; message: string }[]; values?: { url?: string; campaign?: string } } = {}, status: 200 | 422 = 200) =>
    c.html(
      <FeedSourcesPage ui={uiOf(c, deps)} feeds={await listFeedSources(deps.db)} campaigns={await listCampaigns(deps.db, { activeOnly: true })} {...extra} />,
      status,
    );

  app.get('/', (c) => {
    const fetched = c.req.query('fetched')?.match(/^(\d{1,6}),(\d{1,6})$/);
    const notice = fetched ? c.get('t')('feeds.fetched', { created: fetched[1]!, failed: fetched[2]! }) : noticeFrom(c.req.query('notice'), c.get('t'), notices);
    return render(c, { notice });
  });

  app.post('/', async (c) => {
    const form = await readForm(c);
    try {
      await addFeedSource(deps, c.get('staff')!, { url: form.url ?? '', campaignId: Number(form.campaign) || 0 }, clientIp(c, deps));
    } catch (err) {
      const errors = translatedFieldErrors(err, c.get('t'));
      if (!errors) throw err;
      return render(c, { errors, values: { url: form.url, campaign: form.campaign } }, 422);
    }
    return c.redirect('/staff/feeds?notice=feeds.added', 303);
  });

  app.post('/fetch', async (c) => {
    const results = await importFeeds(deps);
    const created = results.reduce((n, r) => n + r.created, 0);
    return c.redirect(`/staff/feeds?fetched=${created},${results.filter((r) => r.error).length}`, 303);
  });

  app.post('/:id{[0-9]+}/fetch', async (c) => {
    const r = await importFeedById(deps, idParam(c));
    return c.redirect(`/staff/feeds?fetched=${r.created},${r.error ? 1 : 0}`, 303);
  });

  app.post('/:id{[0-9]+}/remove', async (c) => {
    await removeFeedSource(deps, c.get('staff')!, idParam(c), clientIp(c, deps));
    return c.redirect('/staff/feeds?notice=feeds.removed', 303);
  });

  return app;
}
