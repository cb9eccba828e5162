import { Hono } from 'hono';
import { listCampaigns } from '../../db/campaigns';
import { listSubscriberImports } from '../../db/subscriber-import';
import { countSubscriptionsByCampaign, searchSubscribers, type ChannelStatusFilter, type SubscriberFilters } from '../../db/subscriber-search';
import { findSubscriberById, listConsentEntries, listSubscriptionsOf } from '../../db/subscribers';
import type { Deps } from '../../deps';
import { AppError } from '../../errors';
import { isLanguage } from '../../i18n';
import { exportSubscribersCsv } from '../../subscribers/csv-export';
import { importMaxBytes, importSubscribersCsv } from '../../subscribers/csv-import';
import { eraseSubscriber } from '../../subscribers/erase';
import { ImportPage, SubscriberPage, SubscribersPage } from '../../../templates/pages/staff/subscribers';
import type { AppContext, AppEnv } from '../context';
import { noticeFrom, translatedFieldErrors } from '../forms';
import { clientIp, requireStaff, uiOf } from '../middleware';

/**
 * The import takes files up to 20 MB, so app.ts gives /staff/subscribers/import this body limit instead of the
 * 1 MB default: the file plus room for the form around it. The file's own size is then checked with a clear message.
 */
export const subscriberImportBodyLimit = importMaxBytes + 1024 * 1024;

const pageSize = 50;
const statuses: ChannelStatusFilter[] = ['active', 'pending', 'unsubscribed', 'opted_out', 'invalid'];

function filtersOf(c: AppContext): SubscriberFilters {
  const f: SubscriberFilters = {};
  const q = c.req.query('q')?.trim();
  if (q) f.q = q.slice(0, 100);
  const campaign = Number(c.req.query('campaign'));
  if (Number.isSafeInteger(campaign) && campaign > 0) f.campaignId = campaign;
  const channel = c.req.query('channel');
  if (channel === 'sms' || channel === 'email') f.channel = channel;
  const status = c.req.query('status') as ChannelStatusFilter | undefined;
  if (status && statuses.includes(status)) f.status = status;
  const language = c.req.query('language');
  if (isLanguage(language)) f.language = language;
  return f;
}

function queryOf(f: SubscriberFilters, extra: Record<string, string> = {}): string {
  const p = new URLSearchParams();
  if (f.q) p.set('q', f.q);
  if (f.campaignId) p.set('campaign', String(f.campaignId));
  if (f.channel) p.set('channel', f.channel);
  if (f.status) p.set('status', f.status);
  if (f.language) p.set('language', f.language);
  for (const [k, v] of Object.entries(extra)) p.set(k, v);
  const s = p.toString();
  return s ? `?${s}` : '';
}

/**
 * Staff pages about subscribers (mounted at /staff/subscribers). Everyone on the staff may look; importing and
 * exporting (bulk personal data) needs approver or admin; erasing needs admin.
 */
export function staffSubscriberRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
  app.use('*', requireStaff());
  app.use('/import', requireStaff('approver', 'admin'));
  app.use('/export.csv', requireStaff('approver', 'admin'));
  app.use('/:id/erase', requireStaff('admin'));

  app.get('/', async (c) => {
    const filters = filtersOf(c);
    const page = Math.max(1, Math.min(100_000, Math.floor(Number(c.req.query('page')) || 1)));
    const [{ rows, total }, campaigns, counts] = await Promise.all([
      searchSubscribers(deps.db, filters, { limit: pageSize, offset: (page - 1) * pageSize }),
      listCampaigns(deps.db),
      countSubscriptionsByCampaign(deps.db),
    ]);
    const subscriptions = await listSubscriptionsOf(deps.db, rows.map((r) => r.id));
    const role = c.get('staff')!.role;
    return c.html(
      <SubscribersPage
        ui={uiOf(c, deps)}
        filters={filters}
        campaigns={campaigns}
        rows={rows}
        subscriptions={subscriptions}
        total={total}
        page={page}
        pages={Math.max(1, Math.ceil(total / pageSize))}
        counts={counts}
        canImport={role === 'admin' || role === 'approver'}
        query={(p) => `/staff/subscribers${queryOf(filters, { page: String(p) })}`}
        exportHref={`/staff/subscribers/export.csv${queryOf(filters)}`}
      />,
    );
  });

  app.get('/export.csv', async (c) => {
    const csv = await exportSubscribersCsv(deps, c.get('staff')!, filtersOf(c), clientIp(c, deps));
    const day = deps.clock.now().toISOString().slice(0, 10);
    return c.body(csv, 200, {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="subscribers-${day}.csv"`,
      'cache-control': 'no-store',
    });
  });

  const renderImport = async (c: AppContext, extra: Partial<Parameters<typeof ImportPage>[0]> = {}, status: 200 | 413 | 422 = 200) =>
    c.html(<ImportPage ui={uiOf(c, deps)} maxMb={importMaxBytes / 1024 / 1024} imports={await listSubscriberImports(deps.db)} {...extra} />, status);

  app.get('/import', (c) => renderImport(c));

  app.post('/import', async (c) => {
    const type = c.req.header('content-type') ?? '';
    if (!type.startsWith('multipart/form-data')) throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send the file as multipart/form-data.');
    const body = await c.req.parseBody();
    const file = body.file;
    const source = typeof body.source === 'string' ? body.source : '';
    const ui = uiOf(c, deps);
    try {
      const report = await importSubscribersCsv(
        deps,
        c.get('staff')!,
        {
          fileName: file instanceof File ? file.name || 'import.csv' : 'import.csv',
          bytes: file instanceof File ? new Uint8Array(await file.arrayBuffer()) : new Uint8Array(),
          attested: body.attest === 'yes',
          defaultSource: source,
          attestation: ui.t('subscribers.import.attest'),
        },
        clientIp(c, deps),
      );
      return renderImport(c, { report });
    } catch (err) {
      const errors = translatedFieldErrors(err, ui.t);
      if (!errors) throw err;
      const tooLarge = file instanceof File && file.size > importMaxBytes;
      return renderImport(c, { errors, values: { source } }, tooLarge ? 413 : 422);
    }
  });

  const subscriberOr404 = async (c: AppContext) => {
    const id = Number(c.req.param('id'));
    const subscriber = Number.isSafeInteger(id) && id > 0 ? await findSubscriberById(deps.db, id) : undefined;
    if (!subscriber) throw new AppError('NOT_FOUND', 'No such subscriber.');
    return subscriber;
  };

  const renderSubscriber = async (c: AppContext, extra: Partial<Parameters<typeof SubscriberPage>[0]> = {}, status: 200 | 422 = 200) => {
    const subscriber = await subscriberOr404(c);
    const [subscriptions, consent] = await Promise.all([listSubscriptionsOf(deps.db, [subscriber.id]), listConsentEntries(deps.db, subscriber.id)]);
    return c.html(
      <SubscriberPage
        ui={uiOf(c, deps)}
        subscriber={subscriber}
        subscriptions={subscriptions}
        consent={consent}
        canErase={c.get('staff')!.role === 'admin'}
        notice={noticeFrom(c.req.query('notice'), c.get('t'), ['subscribers.erasedNotice'])}
        {...extra}
      />,
      status,
    );
  };

  app.get('/:id{[0-9]+}', (c) => renderSubscriber(c));

  app.post('/:id{[0-9]+}/erase', async (c) => {
    const subscriber = await subscriberOr404(c);
    const body = await c.req.parseBody();
    if (body.confirm !== 'yes') {
      return renderSubscriber(c, { errors: [{ field: 'confirm', message: c.get('t')('subscribers.eraseConfirmRequired') }] }, 422);
    }
    await eraseSubscriber(deps, c.get('staff')!, subscriber.id, clientIp(c, deps));
    return c.redirect(`/staff/subscribers/${subscriber.id}?notice=subscribers.erasedNotice`, 303);
  });

  return app;
}
