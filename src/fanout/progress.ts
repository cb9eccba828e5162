import { sql } from 'kysely';
import type { Db } from '../db/connection';
import type { DeliveryChannel, DeliveryStatus } from '../db/schema-fanout';

export interface ChannelProgress {
  channel: DeliveryChannel;
  total: number;
  byStatus: Partial<Record<DeliveryStatus, number>>;
  /** Messages handed to the provider or beyond (sent, delivered, undelivered, failed after sending...). */
  done: number;
  /** Sent per second over the last minute (or since the first send, if more recent). */
  ratePerSecond: number;
  /** Seconds until the queue is empty at the current rate; null when idle or unknown. */
  etaSeconds: number | null;
}

export interface PostProgress {
  network: string;
  status: string;
  url: string | null;
  error: string | null;
}

export interface UpdateProgress {
  channels: ChannelProgress[];
  posts: PostProgress[];
  finished: boolean;
}

const finalStatuses: DeliveryStatus[] = ['sent', 'delivered', 'failed', 'undelivered', 'bounced', 'skipped', 'unknown'];

/** Counts per channel and status, the sending rate over the last minute and the time left. */
export async function readUpdateProgress(db: Db, updateId: number): Promise<UpdateProgress> {
  const rows = await db
    .selectFrom('deliveries')
    .select(['channel', 'status', (eb) => eb.fn.countAll<number>().as('n')])
    .where('update_id', '=', updateId)
    .groupBy(['channel', 'status'])
    .execute();
  // The rate over the last minute, or over the time since the first of those sends when that is shorter: a
  // broadcast ten seconds old at 100/s sends 100/s, not 1 000 per 60 s (which would make its ETA six times too long).
  const recent = await sql<{ channel: DeliveryChannel; n: number; seconds: number }>`
    SELECT channel, count(*)::int AS n, greatest(1, extract(epoch FROM now() - min(sent_at)))::float8 AS seconds FROM deliveries
    WHERE update_id = ${updateId} AND sent_at > now() - interval '60 seconds'
    GROUP BY channel`.execute(db);
  const channels: ChannelProgress[] = (['sms', 'email'] as const).map((channel) => {
    const byStatus: Partial<Record<DeliveryStatus, number>> = {};
    for (const r of rows.filter((r) => r.channel === channel)) byStatus[r.status] = r.n;
    const total = Object.values(byStatus).reduce((a, b) => a + b, 0);
    const done = finalStatuses.reduce((a, s) => a + (byStatus[s] ?? 0), 0);
    const sent = recent.rows.find((r) => r.channel === channel);
    const ratePerSecond = sent ? sent.n / Math.min(60, sent.seconds) : 0;
    const left = total - done;
    return { channel, total, byStatus, done, ratePerSecond, etaSeconds: left > 0 && ratePerSecond > 0 ? Math.round(left / ratePerSecond) : null };
  });
  const posts = await db.selectFrom('posts').select(['network', 'status', 'remote_url as url', 'last_error as error']).where('update_id', '=', updateId).orderBy('network').execute();
  const finished = channels.every((c) => c.done === c.total) && posts.every((p) => p.status !== 'queued' && p.status !== 'sending');
  return { channels, posts, finished };
}

/**
 * How long a broadcast will take at the configured rates, shown before approval:
 * "100 000 SMS at 1/s ≈ 28 h". Twilio keeps a message in its queue at most 10 hours.
 */
export function estimateDrain(recipients: number, perSecond: number): { seconds: number; overTwilioWindow: boolean } {
  const seconds = recipients / perSecond;
  return { seconds, overTwilioWindow: seconds > 10 * 3600 };
}

/** Active recipients of a campaign per channel and language: what publication would materialise now. */
export async function countRecipients(db: Db, campaignId: number) {
  const rows = await sql<{ channel: DeliveryChannel; language: string; n: number }>`
    SELECT sub.channel, s.language, count(*)::int AS n
    FROM subscriptions sub JOIN subscribers s ON s.id = sub.subscriber_id
    WHERE sub.campaign_id = ${campaignId} AND sub.status = 'active' AND s.erased_at IS NULL
      AND ((sub.channel = 'sms' AND s.phone IS NOT NULL AND s.sms_opted_out_at IS NULL AND s.phone_invalid_at IS NULL)
        OR (sub.channel = 'email' AND s.email IS NOT NULL AND s.email_opted_out_at IS NULL))
    GROUP BY sub.channel, s.language`.execute(db);
  return rows.rows;
}
