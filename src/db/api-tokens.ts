import type { Kysely, Transaction } from 'kysely';
import type { Database, Staff } from './schema';

type Q = Kysely<Database> | Transaction<Database>;

export async function insertApiToken(db: Q, t: { staffId: number; name: string; tokenHash: Buffer; prefix: string; at: Date }): Promise<number> {
  const row = await db
    .insertInto('api_tokens')
    .values({ staff_id: t.staffId, name: t.name, token_hash: t.tokenHash, prefix: t.prefix, created_at: t.at })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** Tokens with their owner's name; one person's, or everyone's (for admins). */
export function listApiTokens(db: Q, opts: { staffId?: number }) {
  let q = db
    .selectFrom('api_tokens as t')
    .innerJoin('staff as s', 's.id', 't.staff_id')
    .select(['t.id', 't.name', 't.prefix', 't.created_at', 't.last_used_at', 't.revoked_at', 't.staff_id', 's.name as staff_name'])
    .orderBy('t.revoked_at', (ob) => ob.nullsFirst())
    .orderBy('t.id', 'desc');
  if (opts.staffId !== undefined) q = q.where('t.staff_id', '=', opts.staffId);
  return q.execute();
}

export function findApiToken(db: Q, id: number) {
  return db.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function revokeApiTokenRow(db: Q, id: number, at: Date): Promise<boolean> {
  const r = await db.updateTable('api_tokens').set({ revoked_at: at }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
  return Boolean(r.numUpdatedRows);
}

/** A live token and its owner as they are now (their current role; a disabled owner is returned as such). */
export async function findLiveTokenOwner(db: Q, tokenHash: Buffer): Promise<{ tokenId: number; lastUsedAt: Date | null; staff: Staff } | undefined> {
  const row = await db
    .selectFrom('api_tokens as t')
    .innerJoin('staff as s', 's.id', 't.staff_id')
    .selectAll('s')
    .select(['t.id as token_id', 't.last_used_at as token_last_used_at'])
    .where('t.token_hash', '=', tokenHash)
    .where('t.revoked_at', 'is', null)
    .executeTakeFirst();
  if (!row) return undefined;
  const { token_id, token_last_used_at, ...staff } = row;
  return { tokenId: token_id, lastUsedAt: token_last_used_at, staff: staff as Staff };
}

export async function touchApiToken(db: Q, id: number, at: Date): Promise<void> {
  await db.updateTable('api_tokens').set({ last_used_at: at }).where('id', '=', id).execute();
}
