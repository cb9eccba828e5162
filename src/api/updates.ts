import type { CampaignWithKeywords } from '../db/campaigns';
import type { Db } from '../db/connection';
import type { UpdateStatus } from '../db/schema';
import { loadUpdateViews } from '../db/updates';
import { permalinkOf } from '../updates/render';
import type { UpdateView } from '../updates/types';

/** An update as the API shows it (snake_case, money as decimal strings, times in ISO 8601). */
export function toApiUpdate(publicUrl: string, u: UpdateView, extra: { source: string; createdAt: Date }) {
  return {
    id: u.id,
    campaign_id: u.campaignId,
    status: u.status,
    leads: u.leads,
    needs: u.needs,
    raised: u.raised,
    goal: u.goal,
    currency: u.currency,
    donors: u.donors,
    as_of: u.asOf?.toISOString() ?? null,
    link: u.link,
    image_url: u.imageId ? `${publicUrl}/images/${u.imageId}` : null,
    image_alt: u.imageAlt,
    corrects_id: u.correctsId,
    author_id: u.authorId,
    source: extra.source as 'staff' | 'api' | 'rss',
    version: u.version,
    created_at: extra.createdAt.toISOString(),
    updated_at: u.updatedAt.toISOString(),
    published_at: u.publishedAt?.toISOString() ?? null,
    url: u.status === 'published' ? permalinkOf(publicUrl, u.id) : null,
  };
}

export function toApiCampaign(c: CampaignWithKeywords) {
  return {
    id: c.id,
    name: c.name,
    slug: c.slug,
    languages: c.languages,
    goal: c.goal,
    currency: c.currency,
    donate_url: c.donate_url,
    hashtag: c.hashtag,
    keywords: c.keywords,
    active: c.active,
  };
}

/** Newest first, by id: a cursor is the last id of the previous page, so pages stay stable while updates are added. */
export async function listUpdatesPage(db: Db, publicUrl: string, opts: { status?: UpdateStatus; campaignId?: number; beforeId?: number; limit: number }) {
  let q = db.selectFrom('updates').selectAll().orderBy('id', 'desc').limit(opts.limit + 1);
  if (opts.status) q = q.where('status', '=', opts.status);
  if (opts.campaignId) q = q.where('campaign_id', '=', opts.campaignId);
  if (opts.beforeId) q = q.where('id', '<', opts.beforeId);
  const rows = await q.execute();
  const page = rows.slice(0, opts.limit);
  const views = await loadUpdateViews(db, page);
  return {
    items: views.map((v, i) => toApiUpdate(publicUrl, v, { source: page[i]!.source, createdAt: page[i]!.created_at })),
    nextBeforeId: rows.length > opts.limit ? page.at(-1)!.id : null,
  };
}

export async function findUpdateExtra(db: Db, id: number) {
  return db.selectFrom('updates').select(['source', 'created_at']).where('id', '=', id).executeTakeFirst();
}
