import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database, Language } from './schema';
import type { NewConsentEntry, Subscriber, SubscriberChannel, Subscription, SubscriptionStatus } from './schema-subscribers';

type Q = Kysely<Database> | Transaction<Database>;

export function findSubscriberById(db: Q, id: number): Promise<Subscriber | undefined> {
  return db.selectFrom('subscribers').selectAll().where('id', '=', id).executeTakeFirst();
}

export function findSubscriberByPhone(db: Q, phone: string): Promise<Subscriber | undefined> {
  return db.selectFrom('subscribers').selectAll().where('phone', '=', phone).executeTakeFirst();
}

export function findSubscriberByEmail(db: Q, email: string): Promise<Subscriber | undefined> {
  return db.selectFrom('subscribers').selectAll().where(sql`lower(email)`, '=', email.toLowerCase()).executeTakeFirst();
}

/** The subscriber with this phone, created if there is none (two messages at once create one). */
export async function ensureSubscriberByPhone(db: Q, phone: string, language: Language, at: Date): Promise<{ subscriber: Subscriber; created: boolean }> {
  const inserted = await db
    .insertInto('subscribers')
    .values({ phone, language, created_at: at })
    .onConflict((oc) => oc.column('phone').doNothing())
    .returningAll()
    .executeTakeFirst();
  if (inserted) return { subscriber: inserted, created: true };
  return { subscriber: (await findSubscriberByPhone(db, phone))!, created: false };
}

/** The subscriber with this address, created if there is none. */
export async function ensureSubscriberByEmail(db: Q, email: string, language: Language, at: Date): Promise<{ subscriber: Subscriber; created: boolean }> {
  const inserted = await db
    .insertInto('subscribers')
    .values({ email: email.toLowerCase(), language, created_at: at })
    .onConflict((oc) => oc.expression(sql`lower(email)`).doNothing())
    .returningAll()
    .executeTakeFirst();
  if (inserted) return { subscriber: inserted, created: true };
  return { subscriber: (await findSubscriberByEmail(db, email))!, created: false };
}

export async function updateSubscriberLanguage(db: Q, id: number, language: Language): Promise<void> {
  await db.updateTable('subscribers').set({ language }).where('id', '=', id).execute();
}

/** Sets the channel's global opt-out unless it is already set; true when it changed. */
export async function setChannelOptOut(db: Q, id: number, channel: SubscriberChannel, at: Date): Promise<boolean> {
  const column = channel === 'sms' ? 'sms_opted_out_at' : 'email_opted_out_at';
  const r = await db.updateTable('subscribers').set({ [column]: at }).where('id', '=', id).where(column, 'is', null).executeTakeFirst();
  return r.numUpdatedRows > 0n;
}

/** Lifts the channel's global opt-out (only ever on the subscriber's own request); true when it changed. */
export async function clearChannelOptOut(db: Q, id: number, channel: SubscriberChannel): Promise<boolean> {
  const column = channel === 'sms' ? 'sms_opted_out_at' : 'email_opted_out_at';
  const r = await db.updateTable('subscribers').set({ [column]: null }).where('id', '=', id).where(column, 'is not', null).executeTakeFirst();
  return r.numUpdatedRows > 0n;
}

export async function setPhoneInvalid(db: Q, id: number, at: Date | null): Promise<boolean> {
  const r = await db
    .updateTable('subscribers')
    .set({ phone_invalid_at: at })
    .where('id', '=', id)
    .where('phone_invalid_at', at ? 'is' : 'is not', null)
    .executeTakeFirst();
  return r.numUpdatedRows > 0n;
}

/**
 * Makes these subscriptions active (inserting the missing ones) and returns the campaigns whose subscription
 * changed, so only real changes reach the consent log.
 */
export async function activateSubscriptions(db: Q, subscriberId: number, channel: SubscriberChannel, campaignIds: number[], at: Date): Promise<number[]> {
  return setSubscriptionsStatus(db, subscriberId, channel, campaignIds, 'active', at, { insertMissing: true });
}

/** Pending subscriptions for campaigns the subscriber does not have at all yet (a web form awaiting confirmation). */
export async function insertPendingSubscriptions(db: Q, subscriberId: number, channel: SubscriberChannel, campaignIds: number[], at: Date): Promise<number[]> {
  if (!campaignIds.length) return [];
  const rows = await db
    .insertInto('subscriptions')
    .values(campaignIds.map((campaign_id) => ({ subscriber_id: subscriberId, campaign_id, channel, status: 'pending' as const, updated_at: at })))
    .onConflict((oc) => oc.columns(['subscriber_id', 'campaign_id', 'channel']).doNothing())
    .returning('campaign_id')
    .execute();
  return rows.map((r) => r.campaign_id);
}

/** Unsubscribes from these campaigns (existing subscriptions only); returns the campaigns that changed. */
export function unsubscribeSubscriptions(db: Q, subscriberId: number, channel: SubscriberChannel, campaignIds: number[], at: Date): Promise<number[]> {
  return setSubscriptionsStatus(db, subscriberId, channel, campaignIds, 'unsubscribed', at, { insertMissing: false });
}

async function setSubscriptionsStatus(
  db: Q,
  subscriberId: number,
  channel: SubscriberChannel,
  campaignIds: number[],
  status: SubscriptionStatus,
  at: Date,
  opts: { insertMissing: boolean },
): Promise<number[]> {
  if (!campaignIds.length) return [];
  if (!opts.insertMissing) {
    const rows = await db
      .updateTable('subscriptions')
      .set({ status, updated_at: at })
      .where('subscriber_id', '=', subscriberId)
      .where('channel', '=', channel)
      .where('campaign_id', 'in', campaignIds)
      .where('status', '<>', status)
      .returning('campaign_id')
      .execute();
    return rows.map((r) => r.campaign_id);
  }
  const rows = await db
    .insertInto('subscriptions')
    .values(campaignIds.map((campaign_id) => ({ subscriber_id: subscriberId, campaign_id, channel, status, updated_at: at })))
    .onConflict((oc) =>
      oc
        .columns(['subscriber_id', 'campaign_id', 'channel'])
        .doUpdateSet({ status, updated_at: at })
        .where('subscriptions.status', '<>', status),
    )
    .returning('campaign_id')
    .execute();
  return rows.map((r) => r.campaign_id);
}

export interface SubscriptionWithCampaign extends Subscription {
  campaign_name: string;
  campaign_slug: string;
}

export function listSubscriptionsOf(db: Q, subscriberIds: number[]): Promise<SubscriptionWithCampaign[]> {
  if (!subscriberIds.length) return Promise.resolve([]);
  return db
    .selectFrom('subscriptions as s')
    .innerJoin('campaigns as c', 'c.id', 's.campaign_id')
    .selectAll('s')
    .select(['c.name as campaign_name', 'c.slug as campaign_slug'])
    .where('s.subscriber_id', 'in', subscriberIds)
    .orderBy('s.subscriber_id')
    .orderBy('s.channel')
    .orderBy('c.name')
    .execute();
}

export async function countActiveSubscriptions(db: Q, subscriberId: number, channel: SubscriberChannel): Promise<number> {
  const row = await db
    .selectFrom('subscriptions')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('subscriber_id', '=', subscriberId)
    .where('channel', '=', channel)
    .where('status', '=', 'active')
    .executeTakeFirstOrThrow();
  return row.n;
}

export async function insertConsentEntries(db: Q, entries: NewConsentEntry[]): Promise<void> {
  if (entries.length) await db.insertInto('consent_log').values(entries).execute();
}

export function listConsentEntries(db: Q, subscriberId: number) {
  return db
    .selectFrom('consent_log as l')
    .leftJoin('campaigns as c', 'c.id', 'l.campaign_id')
    .leftJoin('staff as st', 'st.id', 'l.staff_id')
    .selectAll('l')
    .select(['c.name as campaign_name', 'st.email as staff_email'])
    .where('l.subscriber_id', '=', subscriberId)
    .orderBy('l.id', 'desc')
    .execute();
}

/** Erasure only: the transaction-local setting is what lets the append-only trigger allow the DELETE. */
export async function deleteConsentEntriesForErasure(trx: Transaction<Database>, subscriberId: number): Promise<number> {
  await sql`SELECT set_config('tocsin.erasure', 'on', true)`.execute(trx);
  const r = await trx.deleteFrom('consent_log').where('subscriber_id', '=', subscriberId).executeTakeFirst();
  await sql`SELECT set_config('tocsin.erasure', 'off', true)`.execute(trx);
  return Number(r.numDeletedRows);
}

export async function deleteSubscriptionsOf(db: Q, subscriberId: number): Promise<void> {
  await db.deleteFrom('subscriptions').where('subscriber_id', '=', subscriberId).execute();
}

export async function eraseSubscriberRow(db: Q, id: number, at: Date): Promise<void> {
  await db.updateTable('subscribers').set({ phone: null, email: null, erased_at: at }).where('id', '=', id).execute();
}

export function lockSubscriber(trx: Transaction<Database>, id: number): Promise<Subscriber | undefined> {
  return trx.selectFrom('subscribers').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}
