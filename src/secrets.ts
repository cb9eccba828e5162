import { randomBytes } from 'node:crypto';
import type { Db } from './db/connection';

/**
 * SECRET_KEY when the environment gives one; otherwise a key generated once and
 * kept in the database, so signed links survive restarts and every process agrees.
 */
export async function loadSecret(db: Db, fromEnv: string | undefined): Promise<string> {
  if (fromEnv) return fromEnv;
  await db
    .insertInto('app_secrets')
    .values({ name: 'signing_key', value: randomBytes(32).toString('base64url') })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  const row = await db.selectFrom('app_secrets').select('value').where('name', '=', 'signing_key').executeTakeFirstOrThrow();
  return row.value;
}
