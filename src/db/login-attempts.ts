import type { Kysely, Transaction } from 'kysely';
import type { Database } from './schema';

type Q = Kysely<Database> | Transaction<Database>;

export async function insertLoginAttempt(db: Q, row: { at: Date; ip: string; email: string; succeeded: boolean }): Promise<void> {
  await db.insertInto('login_attempts').values({ ...row, email: row.email.toLowerCase() }).execute();
}

/** Failures since `since` from one IP and for one address, and the oldest of each (to say when the wait ends). */
export async function countRecentFailedLogins(db: Q, ip: string, email: string, since: Date) {
  const row = await db
    .selectFrom('login_attempts')
    .select((eb) => [
      eb.fn.count<number>('id').filterWhere('ip', '=', ip).as('byIp'),
      eb.fn.min<Date | null>('at').filterWhere('ip', '=', ip).as('oldestByIp'),
      eb.fn.count<number>('id').filterWhere('email', '=', email.toLowerCase()).as('byEmail'),
      eb.fn.min<Date | null>('at').filterWhere('email', '=', email.toLowerCase()).as('oldestByEmail'),
    ])
    .where('succeeded', '=', false)
    .where('at', '>=', since)
    .where((eb) => eb.or([eb('ip', '=', ip), eb('email', '=', email.toLowerCase())]))
    .executeTakeFirstOrThrow();
  return row;
}

export async function deleteLoginAttemptsBefore(db: Q, before: Date): Promise<void> {
  await db.deleteFrom('login_attempts').where('at', '<', before).execute();
}
