import { Hono } from 'hono';
import { findWebhookEndpoint, listWebhookAttempts, listWebhookDeliveries, listWebhookEndpoints } from '../../db/webhooks';
import type { Deps } from '../../deps';
import { AppError } from '../../errors';
import type { MessageKey } from '../../i18n';
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  retryWebhookDelivery,
  sendTestEvent,
  setWebhookEndpointEnabled,
  updateWebhookEndpoint,
  type EndpointInput,
} from '../../webhooks/endpoints';
import { WebhookEndpointPage, WebhooksPage, type EndpointFormValues } from '../../../templates/pages/staff/webhooks';
import type { AppContext, AppEnv } from '../context';
import { noticeFrom, translatedFieldErrors } from '../forms';
import { clientIp, idParam, requireStaff, uiOf } from '../middleware';

const listNotices: MessageKey[] = ['webhooks.deleted'];
const endpointNotices: MessageKey[] = ['webhooks.saved', 'webhooks.enabledNotice', 'webhooks.disabledNotice', 'webhooks.pingQueued', 'webhooks.retryQueued'];
const deliveriesPerPage = 50;

type Errs = { field: string; message: string }[];

/** The endpoint form, with every checked event (readForm keeps only the first value of a field). */
async function readEndpointForm(c: AppContext): Promise<EndpointInput> {
  const type = c.req.header('content-type') ?? '';
  if (!type.startsWith('application/x-www-form-urlencoded') && !type.startsWith('multipart/form-data')) {
    throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send this form as application/x-www-form-urlencoded or multipart/form-data.');
  }
  const body = await c.req.parseBody({ all: true });
  const one = (k: string) => {
    const v = body[k];
    const first = Array.isArray(v) ? v[0] : v;
    return typeof first === 'string' ? first : '';
  };
  const events = body.events === undefined ? [] : ([] as unknown[]).concat(body.events).filter((v): v is string => typeof v === 'string');
  return { url: one('url'), description: one('description'), events };
}

/** /staff/webhooks: admins register integrators' endpoints, watch deliveries, test and retry. */
export function staffWebhookRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
  app.use('*', requireStaff('admin'));

  const renderList = async (
    c: AppContext,
    extra: { created?: { id: number; secret: string }; notice?: string | null; errors?: Errs; values?: EndpointFormValues } = {},
    status: 200 | 422 = 200,
  ) => {
    // The page may show a new secret: no cache may keep it.
    c.header('cache-control', 'no-store');
    return c.html(<WebhooksPage ui={uiOf(c, deps)} endpoints={await listWebhookEndpoints(deps.db)} {...extra} />, status);
  };

  const renderEndpoint = async (c: AppContext, id: number, extra: { notice?: string | null; errors?: Errs; values?: EndpointFormValues } = {}, status: 200 | 422 = 200) => {
    const endpoint = await findWebhookEndpoint(deps.db, id);
    if (!endpoint) throw new AppError('NOT_FOUND', 'No such webhook endpoint.');
    const before = Number(c.req.query('before')) || undefined;
    const deliveries = await listWebhookDeliveries(deps.db, id, { limit: deliveriesPerPage, beforeId: before });
    const attempts = await listWebhookAttempts(deps.db, deliveries.map((d) => d.id));
    const olderHref = deliveries.length === deliveriesPerPage ? `/staff/webhooks/${id}?before=${deliveries.at(-1)!.id}` : null;
    return c.html(<WebhookEndpointPage ui={uiOf(c, deps)} endpoint={endpoint} deliveries={deliveries} attempts={attempts} olderHref={olderHref} {...extra} />, status);
  };

  app.get('/', (c) => renderList(c, { notice: noticeFrom(c.req.query('notice'), c.get('t'), listNotices) }));

  // Answered with the page itself, not a redirect: the secret must never travel in a URL.
  app.post('/', async (c) => {
    const input = await readEndpointForm(c);
    try {
      const created = await createWebhookEndpoint(deps, c.get('staff')!, input, clientIp(c, deps));
      return renderList(c, { created });
    } catch (err) {
      const errors = translatedFieldErrors(err, c.get('t'));
      if (!errors) throw err;
      return renderList(c, { errors, values: input }, 422);
    }
  });

  app.get('/:id{[0-9]+}', (c) => renderEndpoint(c, idParam(c), { notice: noticeFrom(c.req.query('notice'), c.get('t'), endpointNotices) }));

  app.post('/:id{[0-9]+}', async (c) => {
    const id = idParam(c);
    const input = await readEndpointForm(c);
    try {
      await updateWebhookEndpoint(deps, c.get('staff')!, id, input, clientIp(c, deps));
    } catch (err) {
      const errors = translatedFieldErrors(err, c.get('t'));
      if (!errors) throw err;
      return renderEndpoint(c, id, { errors, values: input }, 422);
    }
    return c.redirect(`/staff/webhooks/${id}?notice=webhooks.saved`, 303);
  });

  app.post('/:id{[0-9]+}/enable', async (c) => {
    const id = idParam(c);
    await setWebhookEndpointEnabled(deps, c.get('staff')!, id, true, clientIp(c, deps));
    return c.redirect(`/staff/webhooks/${id}?notice=webhooks.enabledNotice`, 303);
  });

  app.post('/:id{[0-9]+}/disable', async (c) => {
    const id = idParam(c);
    await setWebhookEndpointEnabled(deps, c.get('staff')!, id, false, clientIp(c, deps));
    return c.redirect(`/staff/webhooks/${id}?notice=webhooks.disabledNotice`, 303);
  });

  app.post('/:id{[0-9]+}/delete', async (c) => {
    await deleteWebhookEndpoint(deps, c.get('staff')!, idParam(c), clientIp(c, deps));
    return c.redirect('/staff/webhooks?notice=webhooks.deleted', 303);
  });

  app.post('/:id{[0-9]+}/ping', async (c) => {
    const id = idParam(c);
    await sendTestEvent(deps, c.get('staff')!, id, clientIp(c, deps));
    return c.redirect(`/staff/webhooks/${id}?notice=webhooks.pingQueued`, 303);
  });

  app.post('/:id{[0-9]+}/deliveries/:deliveryId{[0-9]+}/retry', async (c) => {
    const id = idParam(c);
    await retryWebhookDelivery(deps, c.get('staff')!, id, idParam(c, 'deliveryId'), clientIp(c, deps));
    return c.redirect(`/staff/webhooks/${id}?notice=webhooks.retryQueued`, 303);
  });

  return app;
}
