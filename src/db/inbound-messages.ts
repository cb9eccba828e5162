import type { Kysely, Transaction } from 'kysely';
import type { Database } from './schema';

type Q = Kysely<Database> | Transaction<Database>;

/**
 * Claims a provider's message id; false when it was claimed before (a retry). Inside a transaction, a retry
 * arriving while the first is still being processed waits here until that one commits.
 */
export async function claimInboundMessage(db: Q, messageSid: string, at: Date): Promise<boolean> {
  const row = await db
    .insertInto('inbound_messages')
    .values({ message_sid: messageSid, received_at: at, answer: null })
    .onConflict((oc) => oc.column('message_sid').doNothing())
    .returning('message_sid')
    .executeTakeFirst();
  return row !== undefined;
}

export async function findInboundAnswer(db: Q, messageSid: string): Promise<string | null> {
  const row = await db.selectFrom('inbound_messages').select('answer').where('message_sid', '=', messageSid).executeTakeFirst();
  return row?.answer ?? null;
}

export async function setInboundAnswer(db: Q, messageSid: string, answer: string): Promise<void> {
  await db.updateTable('inbound_messages').set({ answer }).where('message_sid', '=', messageSid).execute();
}
