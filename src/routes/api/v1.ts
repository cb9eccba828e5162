import { createRoute, OpenAPIHono, z, type RouteConfig } from '@hono/zod-openapi';
import { findUpdateExtra, listUpdatesPage, toApiCampaign, toApiUpdate } from '../../api/updates';
import { findCampaignById, findCampaignBySlug, listCampaigns } from '../../db/campaigns';
import type { Staff } from '../../db/schema';
import { findUpdateView } from '../../db/updates';
import type { Deps } from '../../deps';
import { AppError } from '../../errors';
import { feedItemLimit, figuresOf } from '../../feeds/feeds';
import { languageFor, latestSnapshots, listPublishedUpdates } from '../../feeds/public-data';
import { translator } from '../../i18n';
import { authenticateApiToken } from '../../staff/api-tokens';
import { fieldErrorsOf } from '../../staff/validate';
import { approveUpdate, breakGlassPublish, createDraft, rejectUpdate, submitForApproval } from '../../updates/lifecycle';
import { renderContext, renderFeedItem, renderSettingsOf } from '../../updates/render';
import type { AppContext, AppEnv } from '../context';
import { clientIp } from '../middleware';
import { apiDocsRoutes } from './docs';
import {
  ApproveSchema,
  CampaignDetailSchema,
  CampaignSchema,
  DeliveryListQuery,
  DeliveryListSchema,
  ErrorSchema,
  FeedItemSchema,
  FeedQuery,
  IdParam,
  NewUpdateSchema,
  PublishSchema,
  RejectSchema,
  SubmitSchema,
  UpdateListQuery,
  UpdateListSchema,
  UpdateFiguresSchema,
  UpdateSchema,
} from './schemas';
import { readUpdateProgress } from '../../fanout/progress';
import { readPostMetrics, readUpdateFigures } from '../../replies/inbox';

export interface ApiEnv {
  Variables: AppEnv['Variables'] & { apiStaff: Staff };
}

const json = <T extends z.ZodType>(schema: T, description: string) => ({ content: { 'application/json': { schema } }, description });
const errors = {
  401: json(ErrorSchema, 'No token, or a revoked one, or its owner is disabled.'),
  403: json(ErrorSchema, 'The token owner’s role does not allow this.'),
  404: json(ErrorSchema, 'Not found.'),
  409: json(ErrorSchema, 'The update changed meanwhile, or is not in a state that allows this.'),
  422: json(ErrorSchema, 'Invalid input; `details` lists each field’s problem.'),
};
const security = [{ bearerAuth: [] }];
const body = <T extends z.ZodType>(schema: T) => ({ body: { content: { 'application/json': { schema } }, required: true } });

const routes = {
  listCampaigns: createRoute({
    method: 'get', path: '/v1/campaigns', tags: ['campaigns'], summary: 'List campaigns', security,
    responses: { 200: json(z.object({ items: z.array(CampaignSchema) }), 'Every campaign, active first.'), 401: errors[401] },
  }),
  getCampaign: createRoute({
    method: 'get', path: '/v1/campaigns/{id}', tags: ['campaigns'], summary: 'Get a campaign and its latest published figures', security,
    request: { params: IdParam },
    responses: { 200: json(CampaignDetailSchema, 'The campaign.'), 401: errors[401], 404: errors[404] },
  }),
  listUpdates: createRoute({
    method: 'get', path: '/v1/updates', tags: ['updates'], summary: 'List updates, newest first (cursor pagination)', security,
    request: { query: UpdateListQuery },
    responses: { 200: json(UpdateListSchema, 'A page of updates.'), 401: errors[401], 422: errors[422] },
  }),
  createUpdate: createRoute({
    method: 'post', path: '/v1/updates', tags: ['updates'], summary: 'Create a draft update', security,
    request: body(NewUpdateSchema),
    responses: { 201: json(UpdateSchema, 'The draft.'), 401: errors[401], 422: errors[422] },
  }),
  getUpdate: createRoute({
    method: 'get', path: '/v1/updates/{id}', tags: ['updates'], summary: 'Get an update', security,
    request: { params: IdParam },
    responses: { 200: json(UpdateSchema, 'The update.'), 401: errors[401], 404: errors[404] },
  }),
  submitUpdate: createRoute({
    method: 'post', path: '/v1/updates/{id}/submit', tags: ['updates'], summary: 'Submit a draft for approval (its author or an admin)', security,
    request: { params: IdParam, ...body(SubmitSchema) },
    responses: { 200: json(UpdateSchema, 'Pending approval.'), 401: errors[401], 403: errors[403], 404: errors[404], 409: errors[409], 422: errors[422] },
  }),
  approveUpdate: createRoute({
    method: 'post', path: '/v1/updates/{id}/approve', tags: ['updates'], summary: 'Approve and publish (an approver or admin other than the author)', security,
    request: { params: IdParam, ...body(ApproveSchema) },
    responses: { 200: json(UpdateSchema, 'Published.'), 401: errors[401], 403: errors[403], 404: errors[404], 409: errors[409], 422: errors[422] },
  }),
  rejectUpdate: createRoute({
    method: 'post', path: '/v1/updates/{id}/reject', tags: ['updates'], summary: 'Reject with a reason (an approver or admin other than the author)', security,
    request: { params: IdParam, ...body(RejectSchema) },
    responses: { 200: json(UpdateSchema, 'Rejected.'), 401: errors[401], 403: errors[403], 404: errors[404], 409: errors[409], 422: errors[422] },
  }),
  publishUpdate: createRoute({
    method: 'post', path: '/v1/updates/{id}/publish', tags: ['updates'], summary: 'Break-glass: publish without a second person (admins, with a reason)', security,
    request: { params: IdParam, ...body(PublishSchema) },
    responses: { 200: json(UpdateSchema, 'Published.'), 401: errors[401], 403: errors[403], 404: errors[404], 409: errors[409], 422: errors[422] },
  }),
  updateFigures: createRoute({
    method: 'get', path: '/v1/updates/{id}/figures', tags: ['delivery'], summary: 'Delivery progress and figures of a published update: counts per channel and status, rate, ETA, replies, posts and their reactions', security,
    request: { params: IdParam },
    responses: { 200: json(UpdateFiguresSchema, 'The figures now.'), 401: errors[401], 404: errors[404] },
  }),
  listDeliveries: createRoute({
    method: 'get', path: '/v1/updates/{id}/deliveries', tags: ['delivery'], summary: 'The deliveries of an update, filtered by status or channel (cursor pagination)', security,
    request: { params: IdParam, query: DeliveryListQuery },
    responses: { 200: json(DeliveryListSchema, 'Oldest first.'), 401: errors[401], 404: errors[404], 422: errors[422] },
  }),
  feed: createRoute({
    method: 'get', path: '/v1/feed', tags: ['feed'], summary: 'The public feed’s data: latest published updates with their structured figures', security,
    request: { query: FeedQuery },
    responses: { 200: json(z.object({ items: z.array(FeedItemSchema) }), 'Newest first.'), 401: errors[401], 404: errors[404], 422: errors[422] },
  }),
} satisfies Record<string, RouteConfig>;

/** The routes the API serves, as the OpenAPI document lists them (tests compare the two). */
export const apiRouteConfigs = Object.values(routes);

const cursorOf = (id: number) => Buffer.from(`u${id}`).toString('base64url');
function idFromCursor(cursor: string): number {
  const m = Buffer.from(cursor, 'base64url').toString().match(/^u([1-9]\d{0,14})$/);
  if (!m) throw new AppError('INVALID_INPUT', 'cursor: not a cursor this API returned.', { errors: [] });
  return Number(m[1]);
}

/**
 * The JSON API under /api/v1: bearer tokens created on /staff/api-tokens act as their creator, with the creator's
 * role at request time. It calls the same domain functions as the staff pages (lifecycle.ts), never its own copy.
 */
export function apiRoutes(deps: Deps) {
  const api = new OpenAPIHono<ApiEnv>({
    // zod's verdict on the request, in the app's error shape: 422 with each field's problem (a bad id is a 404).
    defaultHook: (result, c) => {
      if (result.success) return;
      if (result.target === 'param') throw new AppError('NOT_FOUND', 'No such id.');
      const details = result.error.issues.map((i) => ({ field: i.path.join('.') || result.target, message: i.message }));
      return c.json(
        { error: { code: 'INVALID_INPUT', message: details.map((d) => `${d.field}: ${d.message}`).join('; '), requestId: c.get('requestId'), details } },
        422,
      );
    },
  }).basePath('/api');
  const settings = renderSettingsOf(deps.config);
  const en = translator('en');

  api.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    description: 'A token from /staff/api-tokens (tocsin_…). It acts as its creator, with their current role.',
  });

  api.use('/v1/*', async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const m = header.match(/^Bearer\s+(\S+)$/i);
    const staff = m ? await authenticateApiToken(deps, m[1]!) : null;
    if (!staff) {
      c.header('WWW-Authenticate', 'Bearer realm="tocsin"');
      throw new AppError('UNAUTHENTICATED', m ? 'This token is unknown, revoked, or its owner is disabled.' : 'Send an API token: Authorization: Bearer tocsin_…');
    }
    c.set('apiStaff', staff);
    await next();
  });

  // Domain input errors carry message keys: answered here in English with each field, everything else by app.ts.
  api.onError((err, c) => {
    const fields = fieldErrorsOf(err);
    if (!fields || !(err instanceof AppError)) throw err;
    const details = fields.map((f) => ({ field: f.field, message: en(f.key, f.vars) }));
    return c.json(
      { error: { code: 'INVALID_INPUT', message: details.map((d) => d.message).join(' ') || err.message, requestId: c.get('requestId'), details } },
      422,
    );
  });

  const updateJson = async (id: number) => {
    const u = await findUpdateView(deps.db, id);
    const extra = await findUpdateExtra(deps.db, id);
    if (!u || !extra) throw new AppError('NOT_FOUND', 'No update with this id.');
    return toApiUpdate(deps.config.PUBLIC_URL, u, { source: extra.source, createdAt: extra.created_at });
  };
  const versionOf = (v: number | undefined) => (v === undefined ? undefined : String(v));
  const str = (v: string | number | undefined) => (v === undefined ? '' : String(v));

  api.openapi(routes.listCampaigns, async (c) => c.json({ items: (await listCampaigns(deps.db)).map(toApiCampaign) }, 200));

  api.openapi(routes.getCampaign, async (c) => {
    const campaign = await findCampaignById(deps.db, Number(c.req.valid('param').id));
    if (!campaign) throw new AppError('NOT_FOUND', 'No campaign with this id.');
    const s = (await latestSnapshots(deps.db, [campaign.id])).get(campaign.id);
    const snapshot = s
      ? { raised: s.raised, goal: s.goal ?? campaign.goal, currency: s.currency || campaign.currency, donors: s.donors, as_of: s.asOf?.toISOString() ?? null, update_id: s.updateId }
      : null;
    return c.json({ ...toApiCampaign(campaign), snapshot }, 200);
  });

  api.openapi(routes.listUpdates, async (c) => {
    const q = c.req.valid('query');
    const limit = Math.min(100, Math.max(1, Number(q.limit ?? 20)));
    const page = await listUpdatesPage(deps.db, deps.config.PUBLIC_URL, {
      status: q.status,
      campaignId: q.campaign_id ? Number(q.campaign_id) : undefined,
      beforeId: q.cursor ? idFromCursor(q.cursor) : undefined,
      limit,
    });
    return c.json({ items: page.items, next_cursor: page.nextBeforeId ? cursorOf(page.nextBeforeId) : null }, 200);
  });

  api.openapi(routes.createUpdate, async (c) => {
    const b = c.req.valid('json');
    const id = await createDraft(deps, c.get('apiStaff'), {
      campaignId: b.campaign_id,
      leads: b.leads,
      needs: (b.needs ?? []).map((n) => ({ item: n.item, quantity: str(n.quantity), unit: n.unit ?? '', urgency: n.urgency ?? 'normal', met: n.met ?? false })),
      raised: str(b.raised),
      goal: str(b.goal),
      currency: b.currency ?? '',
      donors: str(b.donors),
      asOf: b.as_of ?? '',
      link: b.link ?? '',
      correctsId: b.corrects_id ?? null,
      source: 'api',
    });
    c.header('Location', `/api/v1/updates/${id}`);
    return c.json(await updateJson(id), 201);
  });

  api.openapi(routes.getUpdate, async (c) => c.json(await updateJson(Number(c.req.valid('param').id)), 200));

  api.openapi(routes.submitUpdate, async (c) => {
    const id = Number(c.req.valid('param').id);
    await submitForApproval(deps, c.get('apiStaff'), id, versionOf(c.req.valid('json').version));
    return c.json(await updateJson(id), 200);
  });

  api.openapi(routes.approveUpdate, async (c) => {
    const id = Number(c.req.valid('param').id);
    const b = c.req.valid('json');
    await approveUpdate(deps, c.get('apiStaff'), id, versionOf(b.version), b.comment ?? '', clientIp(c as unknown as AppContext, deps));
    return c.json(await updateJson(id), 200);
  });

  api.openapi(routes.rejectUpdate, async (c) => {
    const id = Number(c.req.valid('param').id);
    const b = c.req.valid('json');
    await rejectUpdate(deps, c.get('apiStaff'), id, versionOf(b.version), b.comment, clientIp(c as unknown as AppContext, deps));
    return c.json(await updateJson(id), 200);
  });

  api.openapi(routes.publishUpdate, async (c) => {
    const id = Number(c.req.valid('param').id);
    const b = c.req.valid('json');
    await breakGlassPublish(deps, c.get('apiStaff'), id, versionOf(b.version), b.reason, clientIp(c as unknown as AppContext, deps));
    return c.json(await updateJson(id), 200);
  });

  api.openapi(routes.updateFigures, async (c) => {
    const id = Number(c.req.valid('param').id);
    if (!(await findUpdateView(deps.db, id))) throw new AppError('NOT_FOUND', 'No update with this id.');
    const [progress, figures, metrics] = await Promise.all([readUpdateProgress(deps.db, id), readUpdateFigures(deps, id), readPostMetrics(deps.db, id)]);
    return c.json(
      {
        finished: progress.finished,
        channels: progress.channels.map((p) => {
          const f = figures.channels.find((x) => x.channel === p.channel)!;
          return { channel: p.channel, total: p.total, done: p.done, by_status: p.byStatus as Record<string, number>, rate_per_second: p.ratePerSecond, eta_seconds: p.etaSeconds, replies: f.replies, reply_rate: f.replyRate };
        }),
        posts: progress.posts.map((p) => {
          const m = metrics.find((x) => x.network === p.network)?.metrics;
          return { network: p.network, status: p.status, url: p.url, boosts: m?.boosts ?? null, likes: m?.likes ?? null, replies: m?.replies ?? null };
        }),
      },
      200,
    );
  });

  api.openapi(routes.listDeliveries, async (c) => {
    const id = Number(c.req.valid('param').id);
    const q = c.req.valid('query');
    if (!(await findUpdateView(deps.db, id))) throw new AppError('NOT_FOUND', 'No update with this id.');
    const limit = Math.min(500, Math.max(1, Number(q.limit ?? 100)));
    let query = deps.db
      .selectFrom('deliveries')
      .select(['id', 'subscriber_id', 'channel', 'language', 'status', 'attempts', 'provider_id', 'error_code', 'last_error', 'sent_at', 'updated_at'])
      .where('update_id', '=', id)
      .orderBy('id')
      .limit(limit + 1);
    if (q.status) query = query.where('status', '=', q.status);
    if (q.channel) query = query.where('channel', '=', q.channel);
    if (q.cursor) query = query.where('id', '>', idFromCursor(q.cursor));
    const rows = await query.execute();
    const items = rows.slice(0, limit).map((d) => ({ ...d, sent_at: d.sent_at?.toISOString() ?? null, updated_at: d.updated_at.toISOString() }));
    return c.json({ items, next_cursor: rows.length > limit ? cursorOf(items.at(-1)!.id) : null }, 200);
  });

  api.openapi(routes.feed, async (c) => {
    const q = c.req.valid('query');
    const campaign = q.campaign ? await findCampaignBySlug(deps.db, q.campaign) : null;
    if (q.campaign && !campaign) throw new AppError('NOT_FOUND', 'No campaign with this slug.');
    const limit = Math.min(feedItemLimit, Math.max(1, Number(q.limit ?? feedItemLimit)));
    const updates = await listPublishedUpdates(deps.db, { campaignId: campaign?.id, lang: q.lang ?? null, limit });
    const items = updates.map((p) => {
      const lang = languageFor(p.update, p.campaign, q.lang);
      const ctx = renderContext(settings, p.update, p.campaign, lang, p.corrects);
      const r = renderFeedItem(ctx);
      return { id: p.update.id, url: ctx.permalink, title: r.title, text: r.text, html: r.html, language: lang, published_at: p.update.publishedAt!.toISOString(), figures: figuresOf(deps.config.PUBLIC_URL, p, lang) };
    });
    return c.json({ items }, 200);
  });

  api.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: `${deps.config.FOUNDATION_NAME} · Tocsin API`,
      version: '1.0.0',
      description: 'Automate crisis updates: create drafts, submit, approve, publish, read campaigns and the public feed data. Errors: `{ "error": { "code", "message", "requestId", "details"? } }`.',
    },
    servers: [{ url: deps.config.PUBLIC_URL }],
  });

  api.route('/', apiDocsRoutes());
  return api;
}
