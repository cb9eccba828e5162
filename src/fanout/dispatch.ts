import { sql } from 'kysely';
import type { SendResult } from '../channels/types';
import { findCampaignById, type CampaignWithKeywords } from '../db/campaigns';
import type { Language } from '../db/schema';
import type { DeliveryChannel, DeliveryStatus } from '../db/schema-fanout';
import { findUpdateView } from '../db/updates';
import type { Deps } from '../deps';
import { listUnsubscribeHeaders, unsubscribeUrl } from '../subscribers/links';
import { markPhoneInvalid, markPhoneUnsubscribedByCarrier } from '../subscribers/provider-errors';
import { renderContext, renderEmail, renderSettingsOf, renderSms } from '../updates/render';
import type { UpdateView } from '../updates/types';
import { addDrainJobs } from './jobs';
import { reserveSendSlots } from './rate';
import { replyAddress } from './reply-address';

export type FanoutDeps = Pick<Deps, 'db' | 'config' | 'channels' | 'log' | 'secret' | 'clock'>;

interface Claimed {
  id: number;
  subscriber_id: number;
  language: Language;
  attempts: number;
  phone: string | null;
  email: string | null;
}

interface Outcome {
  id: number;
  status: DeliveryStatus;
  providerId: string | null;
  segments: number | null;
  errorCode: string | null;
  error: string | null;
  nextAttemptAt: Date | null;
}

const sleep = (ms: number) => (ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve());

/** Retries wait 30 s, 1 min, 2 min… up to 1 h, each ±50 % so a provider's recovery is not met by a stampede. */
export function backoffMs(attempt: number, retryAfterSeconds?: number): number {
  const base = Math.min(3_600_000, 30_000 * 2 ** Math.max(0, attempt - 1));
  const jittered = base * (0.5 + Math.random());
  return Math.max(jittered, (retryAfterSeconds ?? 0) * 1000);
}

/**
 * Claims up to `limit` queued deliveries of one update and channel, with ids above `afterId`: `sending` with
 * a lease when the subscriber is still active, `skipped` when they left since publication. One statement;
 * SKIP LOCKED lets other workers claim the next rows. The lower bound matters: the queued index keeps the
 * entries of rows already claimed until a vacuum, and without it each claim would step over all of them again
 * (measured: 95 000 claimed 50 at a time took 21.8 s of PostgreSQL without the bound, 1.1 s with it).
 */
async function claimDeliveries(
  deps: FanoutDeps,
  updateId: number,
  channel: DeliveryChannel,
  afterId: number,
  limit: number,
  leaseSeconds: number,
): Promise<{ claimed: Claimed[]; lastId: number | null }> {
  const result = await sql<Claimed & { status: DeliveryStatus }>`
    WITH picked AS (
      SELECT d.id FROM deliveries d
      WHERE d.update_id = ${updateId} AND d.channel = ${channel} AND d.status = 'queued' AND d.id > ${afterId}
        AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= now())
      ORDER BY d.id
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    ), checked AS (
      SELECT d.id, s.phone, s.email,
        (sub.status = 'active' AND s.erased_at IS NULL AND
          CASE WHEN d.channel = 'sms' THEN s.phone IS NOT NULL AND s.sms_opted_out_at IS NULL AND s.phone_invalid_at IS NULL
               ELSE s.email IS NOT NULL AND s.email_opted_out_at IS NULL END) IS TRUE AS still_active
      FROM picked p
      JOIN deliveries d ON d.id = p.id
      JOIN updates u ON u.id = d.update_id
      JOIN subscribers s ON s.id = d.subscriber_id
      LEFT JOIN subscriptions sub ON sub.subscriber_id = d.subscriber_id AND sub.campaign_id = u.campaign_id AND sub.channel = d.channel
    )
    UPDATE deliveries d SET
      status = CASE WHEN c.still_active THEN 'sending' ELSE 'skipped' END,
      attempts = d.attempts + CASE WHEN c.still_active THEN 1 ELSE 0 END,
      lease_until = CASE WHEN c.still_active THEN now() + make_interval(secs => ${leaseSeconds}) END,
      last_error = CASE WHEN c.still_active THEN d.last_error ELSE 'unsubscribed before it was sent' END,
      updated_at = now()
    FROM checked c
    WHERE d.id = c.id
    RETURNING d.id, d.subscriber_id, d.language, d.attempts, d.status, c.phone, c.email`.execute(deps.db);
  const lastId = result.rows.reduce<number | null>((max, r) => (max === null || Number(r.id) > max ? Number(r.id) : max), null);
  return { claimed: result.rows.filter((r) => r.status === 'sending'), lastId };
}

/** Outcomes in one statement per batch. A callback that already moved a delivery further wins. */
async function recordOutcomes(deps: FanoutDeps, outcomes: Outcome[]): Promise<void> {
  if (!outcomes.length) return;
  const values = outcomes.map(
    (o) => sql`(${o.id}::bigint, ${o.status}::text, ${o.providerId}::text, ${o.segments}::int, ${o.errorCode}::text, ${o.error}::text, ${o.nextAttemptAt}::timestamptz)`,
  );
  await sql`
    UPDATE deliveries d SET
      status = CASE WHEN d.status IN ('sending', 'unknown') THEN v.status ELSE d.status END,
      provider_id = coalesce(v.provider_id, d.provider_id),
      segments = coalesce(v.segments, d.segments),
      error_code = v.error_code,
      last_error = v.last_error,
      next_attempt_at = v.next_attempt_at,
      sent_at = CASE WHEN v.status = 'sent' THEN now() ELSE d.sent_at END,
      lease_until = NULL,
      updated_at = now()
    FROM (VALUES ${sql.join(values)}) AS v(id, status, provider_id, segments, error_code, last_error, next_attempt_at)
    WHERE d.id = v.id`.execute(deps.db);
}

/**
 * The messages a process holds between claiming them and recording their outcome,
 * per channel, shared by every drain job in the process. Capping it at the
 * configured concurrency is what bounds the loss to a crash: at most that many
 * messages can be caught in flight (and end `unknown`) when a worker is killed.
 */
class Outstanding {
  /** When this process's latest sends on the channel started (performance.now()), oldest first. */
  readonly recentStarts: number[] = [];
  private used = 0;
  private waiters: (() => void)[] = [];
  constructor(readonly size: number) {}

  /** Waits for room, then takes up to `max` places. */
  async take(max: number): Promise<number> {
    while (this.used >= this.size) await new Promise<void>((r) => this.waiters.push(r));
    const n = Math.min(max, this.size - this.used);
    this.used += n;
    return n;
  }

  give(n: number) {
    this.used -= n;
    for (const w of this.waiters.splice(0)) w();
  }
}

/** Above a thousand a second the slots' own spacing is finer than the timers anyway: no per-process window. */
const maxGatedRate = 1000;

/**
 * Timers fire late under load, and the sends after a late one would then bunch up. A send starts only once
 * fewer than `rate` sends of this process started in the last second (and a few milliseconds: the provider
 * counts arrivals, a little later), so no one-second window ever holds more than the rate, while a late send
 * still lets the next ones catch up with their slots. Returns how long to wait; 0 means go now.
 */
function rateWait(starts: number[], rate: number): number {
  if (rate > maxGatedRate) return 0;
  const window = 1005;
  const now = performance.now();
  while (starts.length && now - starts[0]! >= window) starts.shift();
  return starts.length < Math.max(1, Math.floor(rate)) ? 0 : window - (now - starts[0]!) + 0.1;
}

const outstandingByChannels = new WeakMap<object, Partial<Record<DeliveryChannel, Outstanding>>>();
function outstandingFor(deps: FanoutDeps, channel: DeliveryChannel, size: number): Outstanding {
  const perProcess = outstandingByChannels.get(deps.channels) ?? {};
  outstandingByChannels.set(deps.channels, perProcess);
  return (perProcess[channel] ??= new Outstanding(size));
}

interface Prepared {
  update: UpdateView;
  campaign: CampaignWithKeywords;
  sms: Partial<Record<Language, string>>;
  email: Partial<Record<Language, { subject: string; html: string; text: string }>>;
}

const unsubscribePlaceholder = 'https://tocsin.invalid/unsubscribe-placeholder';

/** Renders once per language for the whole batch; only the unsubscribe link differs per email. */
function prepare(deps: FanoutDeps, update: UpdateView, campaign: CampaignWithKeywords, corrects: { id: number; publishedAt: Date | null } | null): Prepared {
  const settings = renderSettingsOf(deps.config);
  const imageUrl = update.imageId ? `${deps.config.PUBLIC_URL}/images/${update.imageId}` : null;
  const prepared: Prepared = { update, campaign, sms: {}, email: {} };
  for (const lang of campaign.languages.filter((l) => update.leads[l])) {
    const ctx = renderContext(settings, update, campaign, lang, corrects);
    prepared.sms[lang] = renderSms(ctx, settings.smsMaxSegments).text;
    prepared.email[lang] = renderEmail(ctx, { unsubscribeUrl: unsubscribePlaceholder, imageUrl });
  }
  return prepared;
}

function pickLanguage(p: Prepared, lang: Language): Language {
  return p.sms[lang] !== undefined ? lang : (p.campaign.languages.find((l) => p.sms[l] !== undefined) ?? lang);
}

async function sendOne(deps: FanoutDeps, channel: DeliveryChannel, p: Prepared, row: Claimed): Promise<SendResult> {
  const lang = pickLanguage(p, row.language);
  if (channel === 'sms') {
    return deps.channels.sms.send(
      {
        to: row.phone!,
        body: p.sms[lang]!,
        ...(p.update.imageId ? { mediaUrls: [`${deps.config.PUBLIC_URL}/images/${p.update.imageId}`] } : {}),
        statusCallback: `${deps.config.PUBLIC_URL}/webhooks/twilio/status/${row.id}`,
      },
      { idempotencyKey: `delivery-${row.id}` },
    );
  }
  const email = p.email[lang]!;
  const target = { subscriberId: row.subscriber_id, campaignId: p.campaign.id };
  const url = unsubscribeUrl(deps, target);
  const host = new URL(deps.config.PUBLIC_URL).hostname;
  return deps.channels.email.send(
    {
      to: row.email!,
      subject: email.subject,
      html: email.html.replaceAll(unsubscribePlaceholder, url),
      text: email.text.replaceAll(unsubscribePlaceholder, url),
      // Derived from the delivery: a retry carries the same Message-ID, and replies point back to it.
      messageId: `delivery-${row.id}@${host}`,
      replyTo: replyAddress(deps, row.id),
      headers: listUnsubscribeHeaders(deps, target),
    },
    { idempotencyKey: `delivery-${row.id}` },
  );
}

function outcomeOf(deps: FanoutDeps, row: Claimed, result: SendResult, publishedAt: Date | null): Outcome {
  if (result.ok) {
    return { id: row.id, status: 'sent', providerId: result.providerId, segments: result.segments ?? null, errorCode: null, error: null, nextAttemptAt: null };
  }
  const tooOld = publishedAt && deps.clock.now().getTime() - publishedAt.getTime() > deps.config.FANOUT_MAX_AGE_HOURS * 3_600_000;
  if (result.retryable && row.attempts < deps.config.FANOUT_MAX_ATTEMPTS && !tooOld) {
    const next = new Date(Date.now() + backoffMs(row.attempts, result.retryAfter));
    return { id: row.id, status: 'queued', providerId: null, segments: null, errorCode: result.code ?? null, error: result.error, nextAttemptAt: next };
  }
  const why = result.retryable ? (tooOld ? ' (gave up: older than FANOUT_MAX_AGE_HOURS)' : ` (gave up after ${row.attempts} attempts)`) : '';
  return { id: row.id, status: 'failed', providerId: null, segments: null, errorCode: result.code ?? null, error: `${result.error}${why}`, nextAttemptAt: null };
}

/** Twilio's verdicts about the number itself change the subscriber, not just this delivery. */
async function applyProviderVerdicts(deps: FanoutDeps, row: Claimed, result: SendResult): Promise<void> {
  if (result.ok || !row.phone) return;
  const event = { at: deps.clock.now(), ref: `delivery:${row.id}`, message: `${result.code}: ${result.error}` };
  if (result.code === '21610') await markPhoneUnsubscribedByCarrier(deps.db, row.phone, event);
  if (result.code === '21211') await markPhoneInvalid(deps.db, row.phone, event);
}

export interface DrainResult {
  sent: number;
  failed: number;
  retrying: number;
  /** More is queued than this run's time budget allowed: run again now. */
  more: boolean;
}

/**
 * Sends one update's queued deliveries on one channel: claim a batch, reserve
 * send slots (the shared rate limit), send with bounded concurrency, record the
 * outcomes in batched updates; repeat until the queue is empty or the time budget
 * is spent. Retries are re-queued with backoff and a job is scheduled for them.
 */
export async function drainDeliveries(
  deps: FanoutDeps,
  job: { updateId: number; channel: DeliveryChannel },
  opts: { budgetMs?: number } = {},
): Promise<DrainResult> {
  const { updateId, channel } = job;
  const update = await findUpdateView(deps.db, updateId);
  if (!update || update.status !== 'published') return { sent: 0, failed: 0, retrying: 0, more: false };
  const campaign = (await findCampaignById(deps.db, update.campaignId))!;
  const corrects = update.correctsId ? await findUpdateView(deps.db, update.correctsId) : null;
  const prepared = prepare(deps, update, campaign, corrects ? { id: corrects.id, publishedAt: corrects.publishedAt } : null);

  const rate = channel === 'sms' ? deps.config.SMS_MAX_PER_SECOND : deps.config.EMAIL_MAX_PER_SECOND;
  const concurrency = channel === 'sms' ? deps.config.SMS_CONCURRENCY : deps.config.EMAIL_CONCURRENCY;
  const outstanding = outstandingFor(deps, channel, concurrency);
  // Claims go in chunks of half the window, so one half is sending while the other is being claimed.
  const chunk = Math.max(1, Math.floor(concurrency / 2));
  const deadline = Date.now() + (opts.budgetMs ?? 60_000);
  const inflight = new Set<Promise<void>>();
  const pending: Outcome[] = [];
  const totals = { sent: 0, failed: 0, retrying: 0 };
  // Group commit: one write at a time, each taking every outcome that came in meanwhile. A send's slot is given
  // back only once its outcome is stored (so a crash leaves at most `concurrency` sends unresolved), so outcomes
  // must not wait for a timer or a full batch: that wait would idle the slots.
  let flushing: Promise<void> = Promise.resolve();
  let flushQueued = false;
  const flush = () => {
    if (flushQueued) return flushing;
    flushQueued = true;
    flushing = flushing.then(async () => {
      flushQueued = false;
      const batch = pending.splice(0);
      if (!batch.length) return;
      try {
        await recordOutcomes(deps, batch);
      } catch (err) {
        deps.log.error('recording outcomes failed', { error: err, updateId, channel });
      } finally {
        outstanding.give(batch.length);
      }
    });
    return flushing;
  };

  let more = false;
  let afterId = 0;
  try {
    for (;;) {
      if (Date.now() > deadline) {
        more = true;
        break;
      }
      const room = await outstanding.take(chunk);
      // A lease long enough to wait for every reserved slot, plus the send's own timeout.
      const { claimed: rows, lastId } = await claimDeliveries(deps, updateId, channel, afterId, room, Math.ceil(room / rate) + 120).catch((err) => {
        outstanding.give(room);
        throw err;
      });
      if (rows.length < room) outstanding.give(room - rows.length);
      if (lastId === null) {
        // Nothing above the cursor: one look from the start for rows another worker had locked, or whose retry
        // time has come, before calling the queue empty.
        if (afterId === 0) break;
        afterId = 0;
        continue;
      }
      afterId = lastId;
      if (!rows.length) continue;
      const delays = await reserveSendSlots(deps.db, channel, rows.length, rate);
      const claimedAt = Date.now();
      rows.forEach((row, i) => {
        const task = (async () => {
          await sleep(claimedAt + delays[i]! - Date.now());
          for (let wait = rateWait(outstanding.recentStarts, rate); wait > 0; wait = rateWait(outstanding.recentStarts, rate)) await sleep(wait);
          let result: SendResult;
          try {
            // Recorded and sent in one synchronous step: nothing can slip in between the count and the request.
            if (rate <= maxGatedRate) outstanding.recentStarts.push(performance.now());
            result = await sendOne(deps, channel, prepared, row);
          } catch (err) {
            // An adapter should never throw; if it does, the send is treated as a transient failure.
            result = { ok: false, retryable: true, error: (err as Error).message };
          }
          const outcome = outcomeOf(deps, row, result, update.publishedAt);
          if (outcome.status === 'sent') totals.sent++;
          else if (outcome.status === 'failed') totals.failed++;
          else totals.retrying++;
          pending.push(outcome);
          void flush();
          await applyProviderVerdicts(deps, row, result);
        })();
        inflight.add(task);
        void task.finally(() => inflight.delete(task));
      });
    }
    await Promise.all(inflight);
  } finally {
    await Promise.all(inflight);
    await flush();
  }
  // Whatever waits for a retry (from this run or an earlier one) gets a job at its time.
  const waiting = await deps.db
    .selectFrom('deliveries')
    .select((eb) => eb.fn.min('next_attempt_at').as('at'))
    .where('update_id', '=', updateId)
    .where('channel', '=', channel)
    .where('status', '=', 'queued')
    .executeTakeFirst();
  if (!more && waiting?.at) await addDrainJobs(deps.db, updateId, channel, new Date(waiting.at as Date));
  deps.log.info('drain finished', { updateId, channel, ...totals, more });
  return { ...totals, more };
}
