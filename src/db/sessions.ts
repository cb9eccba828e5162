import type { Kysely, Transaction } from 'kysely';
import type { Database, Staff } from './schema';

type Q = Kysely<Database> | Transaction<Database>;

export async function insertSession(
  db: Q,
  row: { token_hash: Buffer; staff_id: number; at: Date; ip: string | null; user_agent: string | null },
): Promise<void> {
  await db
    .insertInto('staff_sessions')
    .values({ token_hash: row.token_hash, staff_id: row.staff_id, created_at: row.at, last_seen_at: row.at, ip: row.ip, user_agent: row.user_agent })
    .execute();
}

export interface SessionWithStaff {
  sessionId: number;
  createdAt: Date;
  lastSeenAt: Date;
  staff: Staff;
}

export async function findSessionByTokenHash(db: Q, tokenHash: Buffer): Promise<SessionWithStaff | undefined> {
  const row = await db
    .selectFrom('staff_sessions as s')
    .innerJoin('staff', 'staff.id', 's.staff_id')
    .selectAll('staff')
    .select(['s.id as session_id', 's.created_at as session_created_at', 's.last_seen_at'])
    .where('s.token_hash', '=', tokenHash)
    .executeTakeFirst();
  if (!row) return undefined;
  const { session_id, session_created_at, last_seen_at, ...staff } = row;
  return { sessionId: session_id, createdAt: session_created_at, lastSeenAt: last_seen_at, staff };
}

export async function touchSession(db: Q, sessionId: number, at: Date): Promise<void> {
  await db.updateTable('staff_sessions').set({ last_seen_at: at }).where('id', '=', sessionId).execute();
}

export async function deleteSession(db: Q, sessionId: number): Promise<void> {
  await db.deleteFrom('staff_sessions').where('id', '=', sessionId).execute();
}

export async function deleteSessionsOfStaff(db: Q, staffId: number, exceptSessionId?: number): Promise<void> {
  let q = db.deleteFrom('staff_sessions').where('staff_id', '=', staffId);
  if (exceptSessionId !== undefined) q = q.where('id', '!=', exceptSessionId);
  await q.execute();
}

export async function deleteExpiredSessions(db: Q, idleBefore: Date, createdBefore: Date): Promise<number> {
  const res = await db
    .deleteFrom('staff_sessions')
    .where((eb) => eb.or([eb('last_seen_at', '<', idleBefore), eb('created_at', '<', createdBefore)]))
    .executeTakeFirst();
  return Number(res.numDeletedRows);
}
