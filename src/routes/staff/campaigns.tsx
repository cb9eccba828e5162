import { Hono } from 'hono';
import { createCampaign, updateCampaign, type CampaignInput } from '../../campaigns/campaigns';
import { findCampaignById, listCampaigns } from '../../db/campaigns';
import type { Deps } from '../../deps';
import { AppError } from '../../errors';
import { CampaignFormPage, CampaignListPage } from '../../../templates/pages/staff/campaigns';
import type { AppContext, AppEnv } from '../context';
import { noticeFrom, translatedFieldErrors } from '../forms';
import { clientIp, idParam, requireStaff, uiOf } from '../middleware';

async function readCampaignForm(c: AppContext): Promise<CampaignInput> {
  const body = await c.req.parseBody({ all: true });
  const one = (k: string) => (typeof body[k] === 'string' ? (body[k] as string) : '');
  const langs = body.languages === undefined ? [] : ([] as unknown[]).concat(body.languages).filter((v): v is string => typeof v === 'string');
  return {
    name: one('name'),
    slug: one('slug'),
    keywords: one('keywords'),
    hashtag: one('hashtag'),
    languages: langs,
    goal: one('goal'),
    currency: one('currency'),
    donate_url: one('donate_url'),
    active: one('active') === '1',
  };
}

export function campaignRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
  app.use('*', requireStaff());
  app.use('/new', requireStaff('admin'));
  app.use('/:id/edit', requireStaff('admin'));

  app.get('/', async (c) =>
    c.html(<CampaignListPage ui={uiOf(c, deps)} campaigns={await listCampaigns(deps.db)} notice={noticeFrom(c.req.query('notice'), c.get('t'), ['campaign.saved'])} />),
  );
  app.get('/new', (c) => c.html(<CampaignFormPage ui={uiOf(c, deps)} id={null} values={{ languages: [deps.config.DEFAULT_LANGUAGE] }} />));
  app.post('/', requireStaff('admin'), async (c) => {
    const input = await readCampaignForm(c);
    try {
      await createCampaign(deps, c.get('staff')!, input, clientIp(c, deps));
    } catch (err) {
      const errors = translatedFieldErrors(err, c.get('t'));
      if (!errors) throw err;
      return c.html(<CampaignFormPage ui={uiOf(c, deps)} id={null} values={input} errors={errors} />, 422);
    }
    return c.redirect('/staff/campaigns?notice=campaign.saved', 303);
  });
  app.get('/:id/edit', async (c) => {
    const campaign = await findCampaignById(deps.db, idParam(c));
    if (!campaign) throw new AppError('NOT_FOUND', 'No campaign with this id.');
    return c.html(
      <CampaignFormPage
        ui={uiOf(c, deps)}
        id={campaign.id}
        values={{ ...campaign, keywords: campaign.keywords.join(' '), hashtag: campaign.hashtag ?? '', goal: campaign.goal ?? '', donate_url: campaign.donate_url ?? '' }}
      />,
    );
  });
  app.post('/:id', requireStaff('admin'), async (c) => {
    const id = idParam(c);
    const input = await readCampaignForm(c);
    try {
      await updateCampaign(deps, c.get('staff')!, id, input, clientIp(c, deps));
    } catch (err) {
      const errors = translatedFieldErrors(err, c.get('t'));
      if (!errors) throw err;
      return c.html(<CampaignFormPage ui={uiOf(c, deps)} id={id} values={input} errors={errors} />, 422);
    }
    return c.redirect('/staff/campaigns?notice=campaign.saved', 303);
  });
  return app;
}
