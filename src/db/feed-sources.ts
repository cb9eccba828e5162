import type { Kysely, Transaction } from 'kysely';
import type { Database } from './schema';
import type { FeedSource } from './schema-feeds';

type Q = Kysely<Database> | Transaction<Database>;

export function listFeedSources(db: Q) {
  return db
    .selectFrom('feed_sources as f')
    .innerJoin('campaigns as c', 'c.id', 'f.campaign_id')
    .selectAll('f')
    .select(['c.name as campaign_name'])
    .orderBy('f.id')
    .execute();
}

export function findFeedSource(db: Q, id: number): Promise<FeedSource | undefined> {
  return db.selectFrom('feed_sources').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function insertFeedSource(db: Q, s: { url: string; campaignId: number; addedBy: number | null; at: Date }): Promise<number | null> {
  const row = await db
    .insertInto('feed_sources')
    .values({ url: s.url, campaign_id: s.campaignId, added_by: s.addedBy, created_at: s.at })
    .onConflict((oc) => oc.column('url').doNothing())
    .returning('id')
    .executeTakeFirst();
  return row?.id ?? null;
}

export async function deleteFeedSource(db: Q, id: number): Promise<string | null> {
  const row = await db.deleteFrom('feed_sources').where('id', '=', id).returning('url').executeTakeFirst();
  return row?.url ?? null;
}

/** What one fetch found: the validators to send next time (only after a successful one), or why it failed. */
export async function recordFeedFetch(
  db: Q,
  id: number,
  r: { at: Date; error: string | null; etag?: string | null; lastModified?: string | null; imported: number },
): Promise<void> {
  await db
    .updateTable('feed_sources')
    .set((eb) => ({
      last_checked_at: r.at,
      last_error: r.error,
      ...(r.error === null ? { last_success_at: r.at } : {}),
      ...(r.etag !== undefined ? { etag: r.etag } : {}),
      ...(r.lastModified !== undefined ? { last_modified: r.lastModified } : {}),
      items_imported: eb('items_imported', '+', r.imported),
    }))
    .where('id', '=', id)
    .execute();
}

/** Claims an item for import; false when it was seen before (by this or another worker). */
export async function claimFeedItem(db: Q, feedSourceId: number, itemKey: string, at: Date): Promise<boolean> {
  const row = await db
    .insertInto('feed_items')
    .values({ feed_source_id: feedSourceId, item_key: itemKey, imported_at: at, update_id: null, error: null })
    .onConflict((oc) => oc.columns(['feed_source_id', 'item_key']).doNothing())
    .returning('item_key')
    .executeTakeFirst();
  return Boolean(row);
}

export async function settleFeedItem(db: Q, feedSourceId: number, itemKey: string, r: { updateId: number | null; error: string | null }) {
  await db.updateTable('feed_items').set({ update_id: r.updateId, error: r.error }).where('feed_source_id', '=', feedSourceId).where('item_key', '=', itemKey).execute();
}

export async function releaseFeedItem(db: Q, feedSourceId: number, itemKey: string) {
  await db.deleteFrom('feed_items').where('feed_source_id', '=', feedSourceId).where('item_key', '=', itemKey).execute();
}
