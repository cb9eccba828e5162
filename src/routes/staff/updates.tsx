import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { countRecipients, estimateDrain, readUpdateProgress } from '../../fanout/progress';
import { DeliveryProgress, DrainEstimate } from '../../../templates/pages/staff/progress';
import { UpdateFigures } from '../../../templates/pages/staff/inbox';
import { readPostMetrics, readUpdateFigures } from '../../replies/inbox';
import { findCampaignById, findLatestSnapshot, listCampaigns, type CampaignWithKeywords } from '../../db/campaigns';
import type { Language, UpdateStatus } from '../../db/schema';
import { countUpdatesByStatus, findUpdateView, listUpdateEvents, listUpdatesForStaff } from '../../db/updates';
import type { Deps } from '../../deps';
import { AppError } from '../../errors';
import { isLanguage, type MessageKey } from '../../i18n';
import {
  approveUpdate,
  breakGlassPublish,
  createDraft,
  rejectUpdate,
  saveDraft,
  setSmsRewrite,
  submitForApproval,
  updateAsInput,
  withdrawSubmission,
  type DraftInput,
} from '../../updates/lifecycle';
import { renderAll, renderContext, renderEmail, renderSettingsOf, type Renderings } from '../../updates/render';
import { sendTestToStaff } from '../../updates/test-send';
import type { UpdateView } from '../../updates/types';
import { toDateTimeLocal, validateUpdate } from '../../updates/validate';
import { ComposePage, Previews, UpdateListPage, UpdatePage, type ComposeValues, type CostInfo } from '../../../templates/pages/staff/updates';
import type { AppContext, AppEnv } from '../context';
import { noticeFrom, translatedFieldErrors } from '../forms';
import { clientIp, idParam, readForm, requireStaff, uiOf } from '../middleware';

const statuses: UpdateStatus[] = ['draft', 'pending_approval', 'published', 'rejected'];
const notices: MessageKey[] = [
  'update.saved',
  'update.submitted',
  'update.approved',
  'update.rejected',
  'update.withdrawn',
  'update.published',
  'update.rewriteApplied',
  'update.rewriteUndone',
  'update.testNoPhone',
];

type Form = Record<string, string | File | (string | File)[]>;
const str = (form: Form, k: string) => (typeof form[k] === 'string' ? (form[k] as string) : '');

/** The compose form's fields as the domain's input (strings as typed). */
function composeInput(form: Form, campaign: CampaignWithKeywords): DraftInput {
  const needs: DraftInput['needs'] = [];
  for (let i = 0; i < 50 && (`need_item_${i}` in form || `need_quantity_${i}` in form); i++) {
    needs.push({
      item: str(form, `need_item_${i}`),
      quantity: str(form, `need_quantity_${i}`),
      unit: str(form, `need_unit_${i}`),
      urgency: str(form, `need_urgency_${i}`) || 'normal',
      met: str(form, `need_met_${i}`) === '1',
    });
  }
  return {
    campaignId: campaign.id,
    leads: Object.fromEntries(campaign.languages.map((l) => [l, str(form, `lead_${l}`)])),
    needs,
    raised: str(form, 'raised'),
    goal: str(form, 'goal'),
    currency: str(form, 'currency'),
    donors: str(form, 'donors'),
    asOf: str(form, 'asOf'),
    link: str(form, 'link'),
    imageAlt: str(form, 'imageAlt'),
    correctsId: Number(str(form, 'corrects')) || null,
    removeImage: str(form, 'remove_image') === '1',
  };
}

async function withImageBytes(form: Form, input: DraftInput): Promise<DraftInput> {
  return form.image instanceof File && form.image.size > 0 ? { ...input, image: new Uint8Array(await form.image.arrayBuffer()) } : input;
}

function valuesOf(input: DraftInput): ComposeValues {
  return { ...input, needs: input.needs.filter((n) => n.item || n.quantity || n.unit) };
}

export function updateRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
  const settings = renderSettingsOf(deps.config);
  app.use('*', requireStaff());

  /** SMS cost per language from the subscribers publication would reach now. */
  const cost = async (campaignId: number): Promise<CostInfo> => {
    const rows = campaignId ? await countRecipients(deps.db, campaignId) : [];
    const recipients: Partial<Record<Language, number>> = { en: 0, fr: 0 };
    for (const r of rows.filter((r) => r.channel === 'sms')) recipients[r.language as Language] = (recipients[r.language as Language] ?? 0) + r.n;
    return { recipients, pricePerSegment: deps.config.SMS_PRICE_PER_SEGMENT, currency: deps.config.SMS_PRICE_CURRENCY };
  };

  /** Before approval: how long the broadcast would take at the configured rates. */
  const estimate = async (campaignId: number) => {
    const rows = await countRecipients(deps.db, campaignId);
    return (['sms', 'email'] as const).map((channel) => {
      const count = rows.filter((r) => r.channel === channel).reduce((a, r) => a + r.n, 0);
      const rate = channel === 'sms' ? deps.config.SMS_MAX_PER_SECOND : deps.config.EMAIL_MAX_PER_SECOND;
      const { seconds, overTwilioWindow } = estimateDrain(count, rate);
      return { channel, count, rate, seconds, overTwilioWindow: channel === 'sms' && overTwilioWindow };
    });
  };

  const correctsInfo = async (id: number | null) => {
    if (!id) return null;
    const original = await findUpdateView(deps.db, id);
    return original ? { id: original.id, publishedAt: original.publishedAt } : null;
  };

  const renderings = async (update: UpdateView, campaign: CampaignWithKeywords): Promise<Renderings[]> => {
    const corrects = await correctsInfo(update.correctsId);
    const imageUrl = update.imageId ? `${deps.config.PUBLIC_URL}/images/${update.imageId}` : null;
    return campaign.languages
      .filter((l) => update.leads[l])
      .map((lang) => renderAll(settings, renderContext(settings, update, campaign, lang, corrects), { unsubscribeUrl: '#', imageUrl }));
  };

  const loadUpdate = async (c: AppContext) => {
    const update = await findUpdateView(deps.db, idParam(c));
    if (!update) throw new AppError('NOT_FOUND', 'No update with this id.');
    const campaign = (await findCampaignById(deps.db, update.campaignId))!;
    return { update, campaign };
  };

  const renderCompose = async (
    c: AppContext,
    campaign: CampaignWithKeywords | null,
    update: UpdateView | null,
    values: ComposeValues,
    extra: { errors?: { field: string; message: string }[]; notice?: string | null } = {},
    status: 200 | 409 | 422 = 200,
  ) =>
    c.html(
      <ComposePage
        ui={uiOf(c, deps)}
        campaigns={await listCampaigns(deps.db, { activeOnly: true })}
        campaign={campaign}
        update={update}
        values={values}
        previews={update && campaign ? await renderings(update, campaign) : null}
        cost={await cost(campaign?.id ?? 0)}
        maxSegments={deps.config.SMS_MAX_SEGMENTS}
        {...extra}
      />,
      status,
    );

  app.get('/', async (c) => {
    const status = (statuses as string[]).includes(c.req.query('status') ?? '') ? (c.req.query('status') as UpdateStatus) : 'pending_approval';
    const limit = 50;
    const rows = await listUpdatesForStaff(deps.db, { status, limit, beforeId: Number(c.req.query('before')) || undefined });
    const olderHref = rows.length === limit ? `/staff/updates?status=${status}&before=${rows.at(-1)!.id}` : null;
    return c.html(<UpdateListPage ui={uiOf(c, deps)} status={status} rows={rows} counts={await countUpdatesByStatus(deps.db)} olderHref={olderHref} />);
  });

  app.get('/new', async (c) => {
    const correctsId = Number(c.req.query('corrects')) || null;
    let campaignId = Number(c.req.query('campaign')) || null;
    let values: ComposeValues = { leads: {}, needs: [] };
    if (correctsId) {
      const original = await findUpdateView(deps.db, correctsId);
      if (!original || original.status !== 'published') throw new AppError('NOT_FOUND', 'Only a published update can be corrected.');
      campaignId = original.campaignId;
      // A correction starts from what it corrects: the author changes only what was wrong.
      values = { ...updateAsInput(original), asOf: original.asOf ? toDateTimeLocal(original.asOf, deps.config.TIMEZONE) : '', correctsId };
    }
    const active = await listCampaigns(deps.db, { activeOnly: true });
    if (!campaignId && active.length === 1) campaignId = active[0]!.id;
    const campaign = campaignId ? ((await findCampaignById(deps.db, campaignId)) ?? null) : null;
    if (campaign && !correctsId) {
      // Figures start from the campaign's last published snapshot.
      const last = await findLatestSnapshot(deps.db, campaign.id);
      values = {
        ...values,
        raised: last?.raised ?? '',
        goal: last?.goal ?? campaign.goal ?? '',
        currency: last?.currency ?? campaign.currency,
        donors: last?.donors === null || last?.donors === undefined ? '' : String(last.donors),
        asOf: toDateTimeLocal(deps.clock.now(), deps.config.TIMEZONE),
      };
    }
    return renderCompose(c, campaign, null, values);
  });

  /** Creates (no id) or saves (id) the draft, then does what the pressed button asked. */
  const saveThenAct = async (c: AppContext, id: number | null) => {
    const form = (await c.req.parseBody({ all: true })) as Form;
    const existing = (id ? await findUpdateView(deps.db, id) : null) ?? null;
    if (id && !existing) throw new AppError('NOT_FOUND', 'No update with this id.');
    const campaign = await findCampaignById(deps.db, existing?.campaignId ?? (Number(str(form, 'campaign')) || 0));
    if (!campaign) throw new AppError('INVALID_INPUT', 'Choose a campaign.');
    const staff = c.get('staff')!;
    const input = composeInput(form, campaign);
    const action = str(form, 'action') || 'save';
    let updateId = id;
    try {
      const full = await withImageBytes(form, input);
      if (id) await saveDraft(deps, staff, id, str(form, 'version') || undefined, full);
      else updateId = await createDraft(deps, staff, full);
    } catch (err) {
      const errors = translatedFieldErrors(err, c.get('t'));
      if (!errors) throw err;
      return renderCompose(c, campaign, existing, valuesOf(input), { errors }, 422);
    }
    const page = `/staff/updates/${updateId}`;
    const rewrite = action.match(/^rewrite_(on|off):(\w\w)$/);
    if (rewrite && isLanguage(rewrite[2])) {
      await setSmsRewrite(deps, staff, updateId!, rewrite[2], rewrite[1] === 'on');
      return c.redirect(`${page}/edit?notice=${rewrite[1] === 'on' ? 'update.rewriteApplied' : 'update.rewriteUndone'}#preview`, 303);
    }
    if (action === 'submit') {
      try {
        await submitForApproval(deps, staff, updateId!);
      } catch (err) {
        const errors = translatedFieldErrors(err, c.get('t'));
        if (!errors) throw err;
        const saved = (await findUpdateView(deps.db, updateId!))!;
        return renderCompose(c, campaign, saved, valuesOf(input), { errors }, 422);
      }
      return c.redirect(`${page}?notice=update.submitted`, 303);
    }
    if (action === 'test') {
      const saved = (await findUpdateView(deps.db, updateId!))!;
      const result = await sendTestToStaff(deps, staff, saved, campaign);
      const t = c.get('t');
      const lines = [
        result.sent.length ? t('update.testSent', { channels: result.sent.join(', ') }) : null,
        ...result.failed.map((f) => t('update.testFailed', { channel: f.channel, error: f.error })),
        result.noPhone ? t('update.testNoPhone') : null,
      ].filter(Boolean);
      return renderCompose(c, campaign, saved, valuesOf(input), { notice: lines.join(' ') });
    }
    return c.redirect(`${page}/edit?notice=update.saved`, 303);
  };

  app.post('/', (c) => saveThenAct(c, null));

  /** The live preview: the compose form's current content, rendered for every channel (HTML fragment). */
  app.post('/preview', async (c) => {
    const form = (await c.req.parseBody({ all: true })) as Form;
    const existingId = Number(str(form, 'id')) || null;
    const existing = existingId ? await findUpdateView(deps.db, existingId) : null;
    const campaign = await findCampaignById(deps.db, existing?.campaignId ?? (Number(str(form, 'campaign')) || 0));
    if (!campaign) throw new AppError('INVALID_INPUT', 'Choose a campaign.');
    const input = composeInput(form, campaign);
    let view: UpdateView;
    const base = existing ?? {
      id: 0, campaignId: campaign.id, status: 'draft' as const, smsGsm7: [], imageId: null, authorId: null, publishedAt: null, updatedAt: new Date(), version: 0, correctsId: input.correctsId ?? null,
    };
    try {
      const v = validateUpdate(input, campaign, { complete: false, hasImage: false, timeZone: deps.config.TIMEZONE });
      view = { ...base, ...v, leads: v.leads, needs: v.needs } as UpdateView;
    } catch {
      // Half-typed figures must not stop the preview of the text.
      const leads = Object.fromEntries(Object.entries(input.leads).filter(([, l]) => l?.trim())) as Partial<Record<Language, string>>;
      view = { ...base, leads, needs: [], raised: null, goal: null, currency: null, donors: null, asOf: null, link: null, imageAlt: null } as UpdateView;
    }
    if (!Object.keys(view.leads).length) return c.html('');
    return c.html(
      <Previews ui={uiOf(c, deps)} renderings={await renderings(view, campaign)} cost={await cost(campaign.id)} inForm maxSegments={deps.config.SMS_MAX_SEGMENTS} updateId={existing?.id ?? null} />,
    );
  });

  app.get('/:id', async (c) => {
    const { update, campaign } = await loadUpdate(c);
    const row = await deps.db.selectFrom('updates').select(['break_glass_reason', 'decided_by', 'decision_comment']).where('id', '=', update.id).executeTakeFirstOrThrow();
    const decider = row.decided_by ? await deps.db.selectFrom('staff').select('name').where('id', '=', row.decided_by).executeTakeFirst() : undefined;
    const correctedBy = await deps.db.selectFrom('updates').select('id').where('corrects_id', '=', update.id).orderBy('id').execute();
    return c.html(
      <UpdatePage
        ui={uiOf(c, deps)}
        update={update}
        campaign={campaign}
        renderings={await renderings(update, campaign)}
        history={await listUpdateEvents(deps.db, update.id)}
        correctedBy={correctedBy.map((r) => r.id)}
        breakGlass={row.break_glass_reason ? { name: decider?.name ?? '?', reason: row.break_glass_reason } : null}
        decisionComment={row.decision_comment}
        cost={await cost(campaign.id)}
        maxSegments={deps.config.SMS_MAX_SEGMENTS}
        notice={noticeFrom(c.req.query('notice'), c.get('t'), notices)}
        extra={
          update.status === 'published' ? (
            <>
              <DeliveryProgress ui={uiOf(c, deps)} updateId={update.id} progress={await readUpdateProgress(deps.db, update.id)} live />
              <UpdateFigures ui={uiOf(c, deps)} figures={await readUpdateFigures(deps, update.id)} posts={await readPostMetrics(deps.db, update.id)} />
              <script src="/static/progress.js" defer></script>
            </>
          ) : update.status !== 'rejected' ? (
            <DrainEstimate ui={uiOf(c, deps)} lines={await estimate(campaign.id)} />
          ) : null
        }
      />,
    );
  });

  /** Live figures of a broadcast (Server-Sent Events): a fresh section every second (longer on a huge one) until it is finished. */
  app.get('/:id/progress', async (c) => {
    const { update } = await loadUpdate(c);
    const ui = uiOf(c, deps);
    return streamSSE(c, async (stream) => {
      let aborted = false;
      stream.onAbort(() => {
        aborted = true;
      });
      while (!aborted) {
        const started = performance.now();
        const progress = await readUpdateProgress(deps.db, update.id);
        await stream.writeSSE({ event: 'progress', data: String(<DeliveryProgress ui={ui} updateId={update.id} progress={progress} live={false} />) });
        if (progress.finished) {
          await stream.writeSSE({ event: 'done', data: '' });
          break;
        }
        // Counting a million-row broadcast takes a while: each viewer waits at least four times as long as its
        // count took, so watching never costs PostgreSQL more than a fifth of a connection.
        await stream.sleep(Math.max(1000, 4 * (performance.now() - started)));
      }
    });
  });

  app.get('/:id/edit', async (c) => {
    const { update, campaign } = await loadUpdate(c);
    if (update.status !== 'draft') return c.redirect(`/staff/updates/${update.id}`, 303);
    const values: ComposeValues = { ...updateAsInput(update), asOf: update.asOf ? toDateTimeLocal(update.asOf, deps.config.TIMEZONE) : '', correctsId: update.correctsId };
    return renderCompose(c, campaign, update, values, { notice: noticeFrom(c.req.query('notice'), c.get('t'), notices) });
  });

  app.post('/:id', (c) => saveThenAct(c, idParam(c)));

  app.get('/:id/email.html', async (c) => {
    const { update, campaign } = await loadUpdate(c);
    const lang = isLanguage(c.req.query('lang')) && campaign.languages.includes(c.req.query('lang') as Language) ? (c.req.query('lang') as Language) : campaign.languages[0]!;
    const corrects = await correctsInfo(update.correctsId);
    const imageUrl = update.imageId ? `${deps.config.PUBLIC_URL}/images/${update.imageId}` : null;
    return c.html(renderEmail(renderContext(settings, update, campaign, lang, corrects), { unsubscribeUrl: '#', imageUrl }).html);
  });

  /** Runs a decision; input errors re-render the update page with messages, everything else goes to onError. */
  const decide = (path: string, act: (c: AppContext, id: number, form: Record<string, string>) => Promise<void>, notice: MessageKey) =>
    app.post(path, async (c) => {
      const id = idParam(c);
      const form = await readForm(c);
      try {
        await act(c, id, form);
      } catch (err) {
        const errors = translatedFieldErrors(err, c.get('t'));
        if (!errors) throw err;
        const { update, campaign } = await loadUpdate(c);
        return c.html(
          <UpdatePage ui={uiOf(c, deps)} update={update} campaign={campaign} renderings={await renderings(update, campaign)} history={await listUpdateEvents(deps.db, id)}
            correctedBy={[]} breakGlass={null} decisionComment={null} cost={await cost(campaign.id)} maxSegments={deps.config.SMS_MAX_SEGMENTS} errors={errors} />,
          422,
        );
      }
      return c.redirect(`/staff/updates/${id}?notice=${notice}`, 303);
    });
  const version = (form: Record<string, string>) => form.version || undefined;
  decide('/:id/submit', (c, id, f) => submitForApproval(deps, c.get('staff')!, id, version(f)), 'update.submitted');
  decide('/:id/withdraw', (c, id) => withdrawSubmission(deps, c.get('staff')!, id), 'update.withdrawn');
  decide('/:id/approve', (c, id, f) => approveUpdate(deps, c.get('staff')!, id, version(f), f.comment ?? '', clientIp(c, deps)), 'update.approved');
  decide('/:id/reject', (c, id, f) => rejectUpdate(deps, c.get('staff')!, id, version(f), f.comment ?? '', clientIp(c, deps)), 'update.rejected');
  decide('/:id/publish', (c, id, f) => breakGlassPublish(deps, c.get('staff')!, id, version(f), f.reason ?? '', clientIp(c, deps)), 'update.published');

  return app;
}
