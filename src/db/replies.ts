import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from './schema';
import type { NewReply } from './schema-subscribers';

type Q = Kysely<Database> | Transaction<Database>;

/** Stores a reply once per provider message id; returns its id, or null when the provider sent it before. */
export async function insertReply(db: Q, reply: NewReply): Promise<number | null> {
  const row = await db
    .insertInto('replies')
    .values(reply)
    .onConflict((oc) => oc.columns(['channel', 'provider_message_id']).doNothing())
    .returning('id')
    .executeTakeFirst();
  return row?.id ?? null;
}

/** Erasure: the replies of this subscriber, and those sent from their phone or address before they subscribed. */
export async function blankRepliesOf(db: Q, subscriberId: number, contacts: { phone: string | null; email: string | null }): Promise<number> {
  const r = await db
    .updateTable('replies')
    .set({ sender: '', body: '' })
    .where((eb) => {
      const matches = [eb('subscriber_id', '=', subscriberId)];
      if (contacts.phone) matches.push(eb.and([eb('channel', '=', 'sms'), eb('sender', '=', contacts.phone)]));
      if (contacts.email) matches.push(eb.and([eb('channel', '=', 'email'), eb(sql`lower(sender)`, '=', contacts.email.toLowerCase())]));
      return eb.or(matches);
    })
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}

/** The update most recently sent by SMS to a subscriber: what their next SMS reply is about. */
export async function findLatestSmsUpdateOf(db: Q, subscriberId: number): Promise<number | null> {
  const row = await db
    .selectFrom('deliveries')
    .select('update_id')
    .where('subscriber_id', '=', subscriberId)
    .where('channel', '=', 'sms')
    .where('status', 'in', ['sent', 'delivered', 'unknown'])
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row?.update_id ?? null;
}
