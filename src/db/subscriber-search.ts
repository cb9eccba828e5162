import { sql, type ExpressionBuilder, type Kysely, type Transaction } from 'kysely';
import type { Database, Language } from './schema';
import type { SubscriberChannel } from './schema-subscribers';

type Q = Kysely<Database> | Transaction<Database>;

export type ChannelStatusFilter = 'active' | 'pending' | 'unsubscribed' | 'opted_out' | 'invalid';

export interface SubscriberFilters {
  /** Part of a phone number (digits) or of an email address. */
  q?: string;
  campaignId?: number;
  channel?: SubscriberChannel;
  status?: ChannelStatusFilter;
  language?: Language;
}

const channels: SubscriberChannel[] = ['sms', 'email'];

/**
 * "active" means what the fan-out will send to: an active subscription on a channel that is neither opted out
 * of nor (for SMS) marked invalid.
 */
function applyFilters(eb: ExpressionBuilder<Database, 'subscribers'>, f: SubscriberFilters) {
  const all = [eb('subscribers.erased_at', 'is', null)];
  if (f.language) all.push(eb('subscribers.language', '=', f.language));
  const q = f.q?.trim();
  if (q) {
    const like = `%${q.toLowerCase().replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
    const digits = q.replace(/\D/g, '');
    const any = [eb(sql`lower(subscribers.email)`, 'like', like)];
    if (digits.length >= 3 && !q.includes('@')) any.push(eb('subscribers.phone', 'like', `%${digits}%`));
    all.push(eb.or(any));
  }
  const chosen = f.channel ? [f.channel] : channels;
  if (f.status === 'opted_out') {
    all.push(eb.or(chosen.map((ch) => eb(ch === 'sms' ? 'subscribers.sms_opted_out_at' : 'subscribers.email_opted_out_at', 'is not', null))));
  } else if (f.status === 'invalid') {
    all.push(eb('subscribers.phone_invalid_at', 'is not', null));
  }
  const subscriptionStatus = f.status === 'active' || f.status === 'pending' || f.status === 'unsubscribed' ? f.status : null;
  if (subscriptionStatus || f.campaignId || (f.channel && !f.status)) {
    all.push(
      eb.exists(
        eb
          .selectFrom('subscriptions as x')
          .select(sql`1`.as('one'))
          .whereRef('x.subscriber_id', '=', 'subscribers.id')
          .where((x) => {
            const conds = [x('x.channel', 'in', chosen)];
            if (f.campaignId) conds.push(x('x.campaign_id', '=', f.campaignId));
            if (subscriptionStatus) conds.push(x('x.status', '=', subscriptionStatus));
            if (subscriptionStatus === 'active') {
              conds.push(
                x.or([
                  x.and([x('x.channel', '=', 'sms'), x('subscribers.sms_opted_out_at', 'is', null), x('subscribers.phone_invalid_at', 'is', null)]),
                  x.and([x('x.channel', '=', 'email'), x('subscribers.email_opted_out_at', 'is', null)]),
                ]),
              );
            }
            return x.and(conds);
          }),
      ),
    );
  }
  return eb.and(all);
}

export async function searchSubscribers(db: Q, f: SubscriberFilters, page: { limit: number; offset: number }) {
  const [rows, total] = await Promise.all([
    db.selectFrom('subscribers').selectAll().where((eb) => applyFilters(eb, f)).orderBy('id', 'desc').limit(page.limit).offset(page.offset).execute(),
    db.selectFrom('subscribers').select((eb) => eb.fn.countAll<number>().as('n')).where((eb) => applyFilters(eb, f)).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: total.n };
}

/** Every matching subscriber with the slugs of the campaigns they receive per channel, for the CSV export. */
export function listSubscribersForExport(db: Q, f: SubscriberFilters) {
  const campaignsOn = (channel: SubscriberChannel) =>
    sql<string>`coalesce((SELECT string_agg(c.slug, '|' ORDER BY c.slug) FROM subscriptions x JOIN campaigns c ON c.id = x.campaign_id
      WHERE x.subscriber_id = subscribers.id AND x.channel = ${channel} AND x.status = 'active'), '')`;
  return db
    .selectFrom('subscribers')
    .select(['id', 'phone', 'email', 'language', 'sms_opted_out_at', 'email_opted_out_at', 'phone_invalid_at', 'created_at'])
    .select([campaignsOn('sms').as('sms_campaigns'), campaignsOn('email').as('email_campaigns')])
    .where((eb) => applyFilters(eb, f))
    .orderBy('id')
    .execute();
}

export interface CampaignChannelCount {
  campaign_id: number;
  campaign_name: string;
  channel: SubscriberChannel;
  /** What the fan-out would send to. */
  active: number;
  pending: number;
  /** Unsubscribed from the campaign, opted out of the channel, or (SMS) an invalid number. */
  stopped: number;
}

export async function countSubscriptionsByCampaign(db: Q): Promise<CampaignChannelCount[]> {
  const r = await sql<CampaignChannelCount>`
    SELECT c.id AS campaign_id, c.name AS campaign_name, x.channel,
      count(*) FILTER (WHERE x.status = 'active' AND NOT stopped)::int AS active,
      count(*) FILTER (WHERE x.status = 'pending' AND NOT stopped)::int AS pending,
      count(*) FILTER (WHERE x.status = 'unsubscribed' OR stopped)::int AS stopped
    FROM subscriptions x
    JOIN campaigns c ON c.id = x.campaign_id
    JOIN subscribers s ON s.id = x.subscriber_id
    CROSS JOIN LATERAL (SELECT CASE WHEN x.channel = 'sms' THEN s.sms_opted_out_at IS NOT NULL OR s.phone_invalid_at IS NOT NULL
                                    ELSE s.email_opted_out_at IS NOT NULL END AS stopped) st
    WHERE s.erased_at IS NULL
    GROUP BY c.id, c.name, x.channel
    ORDER BY c.name, x.channel`.execute(db);
  return r.rows;
}
