import type { Kysely, Transaction } from 'kysely';
import type { Campaign, Database } from './schema';

type Q = Kysely<Database> | Transaction<Database>;

export interface CampaignWithKeywords extends Campaign {
  keywords: string[];
}

export async function listCampaigns(db: Q, opts: { activeOnly?: boolean } = {}): Promise<CampaignWithKeywords[]> {
  let q = db
    .selectFrom('campaigns as c')
    .selectAll('c')
    .select((eb) =>
      eb.fn
        .coalesce(
          eb.selectFrom('campaign_keywords as k').select((k) => k.fn.agg<string[]>('array_agg', ['k.keyword']).as('kw')).whereRef('k.campaign_id', '=', 'c.id'),
          eb.val<string[]>([]),
        )
        .as('keywords'),
    )
    .orderBy('c.active', 'desc')
    .orderBy('c.created_at', 'desc');
  if (opts.activeOnly) q = q.where('c.active', '=', true);
  return (await q.execute()) as CampaignWithKeywords[];
}

export async function findCampaignById(db: Q, id: number): Promise<CampaignWithKeywords | undefined> {
  const c = await db.selectFrom('campaigns').selectAll().where('id', '=', id).executeTakeFirst();
  if (!c) return undefined;
  const kw = await db.selectFrom('campaign_keywords').select('keyword').where('campaign_id', '=', id).orderBy('keyword').execute();
  return { ...c, keywords: kw.map((k) => k.keyword) };
}

export async function findCampaignBySlug(db: Q, slug: string): Promise<CampaignWithKeywords | undefined> {
  const c = await db.selectFrom('campaigns').select('id').where('slug', '=', slug).executeTakeFirst();
  return c ? findCampaignById(db, c.id) : undefined;
}

export async function findKeywordOwners(db: Q, keywords: string[]): Promise<{ keyword: string; campaign_id: number }[]> {
  if (!keywords.length) return [];
  return db.selectFrom('campaign_keywords').selectAll().where('keyword', 'in', keywords).execute();
}

export async function replaceCampaignKeywords(db: Q, campaignId: number, keywords: string[]): Promise<void> {
  await db.deleteFrom('campaign_keywords').where('campaign_id', '=', campaignId).execute();
  if (keywords.length) await db.insertInto('campaign_keywords').values(keywords.map((keyword) => ({ keyword, campaign_id: campaignId }))).execute();
}

/** The figures of the campaign's latest published update: what a new update starts from. */
export function findLatestSnapshot(db: Q, campaignId: number) {
  return db
    .selectFrom('updates')
    .select(['raised', 'goal', 'currency', 'donors', 'as_of'])
    .where('campaign_id', '=', campaignId)
    .where('status', '=', 'published')
    .where('raised', 'is not', null)
    .orderBy('published_at', 'desc')
    .limit(1)
    .executeTakeFirst();
}
