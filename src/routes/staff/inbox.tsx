import { Hono } from 'hono';
import { listCampaigns } from '../../db/campaigns';
import type { ReplyChannel, ReplyState } from '../../db/schema-subscribers';
import type { Deps } from '../../deps';
import { answerReply, assignReply, findReply, listInbox, markReplyHandled, type InboxFilters } from '../../replies/inbox';
import { InboxPage, ReplyPage } from '../../../templates/pages/staff/inbox';
import type { AppContext, AppEnv } from '../context';
import { noticeFrom, translatedFieldErrors } from '../forms';
import { idParam, readForm, requireStaff, uiOf } from '../middleware';

const channels: ReplyChannel[] = ['sms', 'email', 'mastodon', 'bluesky', 'x'];
const states: ReplyState[] = ['new', 'assigned', 'handled'];

export function inboxRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
  app.use('*', requireStaff());

  app.get('/', async (c) => {
    const q = (k: string) => c.req.query(k) ?? '';
    const mine = q('mine') === '1';
    const filters: InboxFilters & { mine?: boolean } = {
      ...(channels.includes(q('channel') as ReplyChannel) ? { channel: q('channel') as ReplyChannel } : {}),
      ...(states.includes(q('state') as ReplyState) ? { state: q('state') as ReplyState } : {}),
      ...(Number(q('campaign')) > 0 ? { campaignId: Number(q('campaign')) } : {}),
      ...(Number(q('update')) > 0 ? { updateId: Number(q('update')) } : {}),
      ...(q('optout') === '1' ? { possibleOptOut: true } : {}),
      ...(mine ? { assignedTo: c.get('staff')!.id, mine } : {}),
    };
    const limit = 50;
    const rows = await listInbox(deps, filters, { beforeId: Number(q('before')) || undefined, limit });
    const params = new URLSearchParams(Object.entries({ channel: q('channel'), state: q('state'), campaign: q('campaign'), update: q('update'), optout: q('optout'), mine: q('mine') }).filter(([, v]) => v));
    if (rows.length === limit) params.set('before', String(rows.at(-1)!.id));
    const campaigns = (await listCampaigns(deps.db)).map((x) => ({ id: x.id, name: x.name }));
    return c.html(<InboxPage ui={uiOf(c, deps)} rows={rows} filters={filters} campaigns={campaigns} olderHref={rows.length === limit ? `/staff/inbox?${params}` : null} />);
  });

  const show = async (c: AppContext, extra: { errors?: { field: string; message: string }[]; notice?: string | null; draft?: string } = {}, status: 200 | 422 = 200) => {
    const { reply, answers } = await findReply(deps, idParam(c));
    return c.html(<ReplyPage ui={uiOf(c, deps)} reply={reply} answers={answers} {...extra} />, status);
  };

  app.get('/:id', (c) => show(c, { notice: noticeFrom(c.req.query('notice'), c.get('t'), ['inbox.answerSent']) }));

  app.post('/:id/assign', async (c) => {
    await readForm(c);
    await assignReply(deps, c.get('staff')!, idParam(c));
    return c.redirect(`/staff/inbox/${idParam(c)}`, 303);
  });
  app.post('/:id/handle', async (c) => {
    await readForm(c);
    await markReplyHandled(deps, c.get('staff')!, idParam(c), true);
    return c.redirect('/staff/inbox', 303);
  });
  app.post('/:id/reopen', async (c) => {
    await readForm(c);
    await markReplyHandled(deps, c.get('staff')!, idParam(c), false);
    return c.redirect(`/staff/inbox/${idParam(c)}`, 303);
  });
  app.post('/:id/answer', async (c) => {
    const form = await readForm(c);
    try {
      const result = await answerReply(deps, c.get('staff')!, idParam(c), form.body ?? '');
      if (!result.ok) return show(c, { errors: [{ field: 'form', message: c.get('t')('inbox.answerFailed', { error: result.error ?? '' }) }], draft: form.body }, 422);
    } catch (err) {
      const errors = translatedFieldErrors(err, c.get('t'));
      if (!errors) throw err;
      return show(c, { errors, draft: form.body }, 422);
    }
    return c.redirect(`/staff/inbox/${idParam(c)}?notice=inbox.answerSent`, 303);
  });
  return app;
}
