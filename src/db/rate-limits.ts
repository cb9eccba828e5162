import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from './schema';

type Q = Kysely<Database> | Transaction<Database>;

/**
 * Counts one hit in a fixed window and returns the window's count so far. One atomic upsert, so processes
 * sharing the database share the limit.
 */
export async function countRateLimitHit(db: Q, bucket: string, key: string, windowStart: Date): Promise<number> {
  const row = await db
    .insertInto('rate_limit_counters')
    .values({ bucket, key, window_start: windowStart, count: 1 })
    .onConflict((oc) => oc.columns(['bucket', 'key', 'window_start']).doUpdateSet({ count: sql`rate_limit_counters.count + 1` }))
    .returning('count')
    .executeTakeFirstOrThrow();
  return row.count;
}

export async function deleteRateLimitCountersBefore(db: Q, before: Date): Promise<void> {
  await db.deleteFrom('rate_limit_counters').where('window_start', '<', before).execute();
}
