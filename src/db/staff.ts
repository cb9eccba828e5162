import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database, NewStaff, Role, Staff } from './schema';

type Q = Kysely<Database> | Transaction<Database>;

export function findStaffById(db: Q, id: number): Promise<Staff | undefined> {
  return db.selectFrom('staff').selectAll().where('id', '=', id).executeTakeFirst();
}

export function findStaffByEmail(db: Q, email: string): Promise<Staff | undefined> {
  return db.selectFrom('staff').selectAll().where(sql`lower(email)`, '=', email.toLowerCase()).executeTakeFirst();
}

export function listStaff(db: Q): Promise<Staff[]> {
  return db.selectFrom('staff').selectAll().orderBy('disabled_at', 'desc').orderBy('name').execute();
}

export function insertStaff(db: Q, row: NewStaff): Promise<Staff> {
  return db.insertInto('staff').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function countActiveAdmins(db: Q): Promise<number> {
  const row = await db
    .selectFrom('staff')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('role', '=', 'admin')
    .where('disabled_at', 'is', null)
    .executeTakeFirstOrThrow();
  return row.n;
}

export async function updateStaffRole(db: Q, id: number, role: Role): Promise<void> {
  await db.updateTable('staff').set({ role }).where('id', '=', id).execute();
}

export async function setStaffDisabled(db: Q, id: number, at: Date | null): Promise<void> {
  await db.updateTable('staff').set({ disabled_at: at }).where('id', '=', id).execute();
}

export async function updateStaffLanguage(db: Q, id: number, language: Staff['language']): Promise<void> {
  await db.updateTable('staff').set({ language }).where('id', '=', id).execute();
}

export async function updateStaffPassword(db: Q, id: number, passwordHash: string): Promise<void> {
  await db.updateTable('staff').set({ password_hash: passwordHash }).where('id', '=', id).execute();
}

/** Serialises changes that must keep at least one active admin (two admins demoting each other at once). */
export async function lockStaffTable(trx: Transaction<Database>): Promise<void> {
  await sql`LOCK TABLE staff IN SHARE ROW EXCLUSIVE MODE`.execute(trx);
}
