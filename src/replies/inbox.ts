import { sql } from 'kysely';
import type { MicroblogNetwork, SendResult } from '../channels/types';
import type { Staff } from '../db/schema';
import type { ReplyChannel, ReplyState } from '../db/schema-subscribers';
import type { Deps } from '../deps';
import { AppError } from '../errors';
import { invalid } from '../staff/validate';
import { threadForBluesky, threadForMastodon, threadForX } from '../text/microblog';
import { escapeHtml } from '../text/html';
import { analyzeSms } from '../text/sms';

export interface InboxFilters {
  campaignId?: number;
  updateId?: number;
  channel?: ReplyChannel;
  state?: ReplyState;
  possibleOptOut?: boolean;
  assignedTo?: number;
}

export interface InboxRow {
  id: number;
  channel: ReplyChannel;
  sender: string;
  body: string;
  state: ReplyState;
  possible_opt_out: boolean;
  received_at: Date;
  update_id: number | null;
  campaign_name: string | null;
  assignee_name: string | null;
  answers: number;
}

/** Newest first, keyset-paginated by id. */
export async function listInbox(deps: Pick<Deps, 'db'>, f: InboxFilters, page: { beforeId?: number; limit: number }): Promise<InboxRow[]> {
  let q = deps.db
    .selectFrom('replies as r')
    .leftJoin('updates as u', 'u.id', 'r.update_id')
    .leftJoin('campaigns as c', 'c.id', 'u.campaign_id')
    .leftJoin('staff as a', 'a.id', 'r.assigned_to')
    .select(['r.id', 'r.channel', 'r.sender', 'r.body', 'r.state', 'r.possible_opt_out', 'r.received_at', 'r.update_id', 'c.name as campaign_name', 'a.name as assignee_name'])
    .select((eb) => eb.selectFrom('reply_answers as x').select((x) => x.fn.countAll<number>().as('n')).whereRef('x.reply_id', '=', 'r.id').as('answers'))
    .orderBy('r.id', 'desc')
    .limit(page.limit);
  if (page.beforeId) q = q.where('r.id', '<', page.beforeId);
  if (f.campaignId) q = q.where('u.campaign_id', '=', f.campaignId);
  if (f.updateId) q = q.where('r.update_id', '=', f.updateId);
  if (f.channel) q = q.where('r.channel', '=', f.channel);
  if (f.state) q = q.where('r.state', '=', f.state);
  if (f.possibleOptOut) q = q.where('r.possible_opt_out', '=', true);
  if (f.assignedTo) q = q.where('r.assigned_to', '=', f.assignedTo);
  return (await q.execute()).map((r) => ({ ...r, answers: Number(r.answers ?? 0) }));
}

export async function findReply(deps: Pick<Deps, 'db'>, id: number) {
  const reply = await deps.db.selectFrom('replies').selectAll().where('id', '=', id).executeTakeFirst();
  if (!reply) throw new AppError('NOT_FOUND', 'No reply with this id.');
  const answers = await deps.db
    .selectFrom('reply_answers as x')
    .leftJoin('staff as s', 's.id', 'x.staff_id')
    .select(['x.id', 'x.body', 'x.status', 'x.created_at', 'x.last_error', 's.name as staff_name'])
    .where('x.reply_id', '=', id)
    .orderBy('x.id')
    .execute();
  return { reply, answers };
}

export async function assignReply(deps: Pick<Deps, 'db'>, staff: Staff, id: number): Promise<void> {
  const r = await deps.db.updateTable('replies').set({ assigned_to: staff.id, state: 'assigned' }).where('id', '=', id).where('state', '!=', 'handled').executeTakeFirst();
  if (!r.numUpdatedRows) await findReply(deps, id);
}

export async function markReplyHandled(deps: Pick<Deps, 'db' | 'clock'>, staff: Staff, id: number, handled: boolean): Promise<void> {
  const r = await deps.db
    .updateTable('replies')
    .set(handled ? { state: 'handled', handled_by: staff.id, handled_at: deps.clock.now() } : { state: 'new', handled_by: null, handled_at: null, assigned_to: null })
    .where('id', '=', id)
    .executeTakeFirst();
  if (!r.numUpdatedRows) throw new AppError('NOT_FOUND', 'No reply with this id.');
}

const answerLimit = 2000;

/**
 * Answers a reply on the channel it came from (SMS, an email threaded with
 * In-Reply-To/References, or a reply post), through the same channels as the
 * fan-out; the answer is recorded and tracked like a delivery.
 */
export async function answerReply(deps: Pick<Deps, 'db' | 'clock' | 'config' | 'channels' | 'log'>, staff: Staff, id: number, text: string): Promise<{ ok: boolean; error?: string }> {
  const body = text.replace(/\r\n?/g, '\n').trim();
  const { reply } = await findReply(deps, id);
  if (!body) throw invalid([{ field: 'body', key: 'inbox.answerRequired' }]);
  if (body.length > answerLimit) throw invalid([{ field: 'body', key: 'form.tooLong', vars: { field: 'body', max: answerLimit } }]);
  if (reply.channel === 'sms') {
    if (analyzeSms(body).segments > deps.config.SMS_MAX_SEGMENTS) throw invalid([{ field: 'body', key: 'inbox.answerTooLongSms', vars: { max: deps.config.SMS_MAX_SEGMENTS } }]);
    const sub = await deps.db.selectFrom('subscribers').select(['sms_opted_out_at', 'phone_invalid_at']).where('phone', '=', reply.sender).executeTakeFirst();
    // STOP means stop, even for a human answer.
    if (sub?.sms_opted_out_at || sub?.phone_invalid_at) throw invalid([{ field: 'body', key: 'inbox.optedOut' }]);
  }
  if (!reply.sender) throw invalid([{ field: 'body', key: 'inbox.erased' }]);

  const answer = await deps.db
    .insertInto('reply_answers')
    .values({ reply_id: id, staff_id: staff.id, channel: reply.channel, body })
    .returning('id')
    .executeTakeFirstOrThrow();
  const key = `answer-${answer.id}`;
  const meta = reply.meta as { subject?: string; messageId?: string; references?: string[]; uri?: string; cid?: string; rootUri?: string; rootCid?: string };
  let result: SendResult;
  try {
    if (reply.channel === 'sms') {
      result = await deps.channels.sms.send({ to: reply.sender, body }, { idempotencyKey: key });
    } else if (reply.channel === 'email') {
      const host = new URL(deps.config.PUBLIC_URL).hostname;
      const subject = meta.subject ? (/^re:/i.test(meta.subject) ? meta.subject : `Re: ${meta.subject}`) : `Re: ${deps.config.FOUNDATION_NAME}`;
      const references = [...(meta.references ?? []), ...(meta.messageId ? [meta.messageId] : [])];
      result = await deps.channels.email.send(
        {
          to: reply.sender,
          subject,
          text: body,
          html: `<p>${escapeHtml(body).replace(/\n/g, '<br>')}</p>`,
          messageId: `${key}@${host}`,
          ...(meta.messageId ? { inReplyTo: meta.messageId } : {}),
          ...(references.length ? { references } : {}),
        },
        { idempotencyKey: key },
      );
    } else {
      const network = reply.channel as MicroblogNetwork;
      const parts = network === 'x' ? threadForX(body) : network === 'bluesky' ? threadForBluesky(body) : threadForMastodon(body, deps.config.MASTODON_CHAR_LIMIT);
      result = await deps.channels[network].send(
        { parts, inReplyTo: { id: reply.provider_message_id, ...(meta.uri ? { uri: meta.uri } : {}), ...(meta.cid ? { cid: meta.cid } : {}), ...(meta.rootUri ? { rootUri: meta.rootUri, rootCid: meta.rootCid } : {}) } },
        { idempotencyKey: key },
      );
    }
  } catch (err) {
    result = { ok: false, retryable: true, error: (err as Error).message };
  }
  await deps.db
    .updateTable('reply_answers')
    .set(result.ok ? { status: 'sent', provider_id: result.providerId, sent_at: deps.clock.now() } : { status: 'failed', error_code: result.code ?? null, last_error: result.error })
    .where('id', '=', answer.id)
    .execute();
  if (result.ok) await markReplyHandled(deps, staff, id, true);
  deps.log.info('reply answered', { replyId: id, answerId: answer.id, ok: result.ok });
  return result.ok ? { ok: true } : { ok: false, error: result.error };
}

/** Per update: deliveries by channel and status, replies by channel, reply rate, and the posts' reactions. */
export async function readUpdateFigures(deps: Pick<Deps, 'db'>, updateId: number) {
  const deliveries = await sql<{ channel: string; delivered: number; sent: number; failed: number; total: number }>`
    SELECT channel,
      count(*) FILTER (WHERE status = 'delivered')::int AS delivered,
      count(*) FILTER (WHERE status IN ('sent', 'delivered'))::int AS sent,
      count(*) FILTER (WHERE status IN ('failed', 'undelivered', 'bounced'))::int AS failed,
      count(*)::int AS total
    FROM deliveries WHERE update_id = ${updateId} GROUP BY channel ORDER BY channel`.execute(deps.db);
  const replies = await sql<{ channel: string; n: number }>`
    SELECT channel, count(*)::int AS n FROM replies WHERE update_id = ${updateId} GROUP BY channel`.execute(deps.db);
  const byChannel = ['sms', 'email', 'mastodon', 'bluesky', 'x'].map((channel) => {
    const d = deliveries.rows.find((r) => r.channel === channel);
    const n = replies.rows.find((r) => r.channel === channel)?.n ?? 0;
    return {
      channel,
      sent: d?.sent ?? 0,
      delivered: d?.delivered ?? 0,
      failed: d?.failed ?? 0,
      replies: n,
      replyRate: d && d.sent > 0 ? n / d.sent : null,
    };
  });
  return { channels: byChannel };
}

/** Each post's reactions (boosts, likes, replies), where the network reports them. */
export function readPostMetrics(db: Deps['db'], updateId: number) {
  return db.selectFrom('posts').select(['network', 'metrics']).where('update_id', '=', updateId).orderBy('network').execute();
}
