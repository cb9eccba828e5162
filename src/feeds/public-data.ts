import { sql, type Kysely, type Transaction } from 'kysely';
import { listCampaigns, type CampaignWithKeywords } from '../db/campaigns';
import type { Database, Language, Need, UpdateRow } from '../db/schema';
import { findUpdateView, loadUpdateViews } from '../db/updates';
import type { UpdateView } from '../updates/types';

type Q = Kysely<Database> | Transaction<Database>;

/** A published update with what the public pages and feeds show around it. */
export interface PublicUpdate {
  update: UpdateView;
  campaign: CampaignWithKeywords;
  /** The update this one corrects. */
  corrects: { id: number; publishedAt: Date | null } | null;
  /** Published corrections of this update, oldest first. */
  correctedBy: { id: number; publishedAt: Date | null }[];
  /** The update's image, for enclosures and previews. */
  image: { id: number; contentType: string; size: number; width: number | null; height: number | null } | null;
}

export interface Snapshot {
  raised: string;
  goal: string | null;
  currency: string;
  donors: number | null;
  asOf: Date | null;
  /** The update the figures come from. */
  updateId: number;
}

export interface CampaignSummary {
  campaign: CampaignWithKeywords;
  snapshot: Snapshot | null;
  /** Open needs of the latest published update, most urgent first. */
  needs: Need[];
  latest: PublicUpdate[];
}

const urgencyOrder = { critical: 0, high: 1, normal: 2 } as const;

export function openNeeds(needs: Need[]): Need[] {
  return needs.filter((n) => !n.met).sort((a, b) => urgencyOrder[a.urgency] - urgencyOrder[b.urgency]);
}

/** The language an update is shown in: the one asked for when it has it, else its campaign's first that it has. */
export function languageFor(update: UpdateView, campaign: { languages: Language[] }, asked?: Language | null): Language {
  if (asked && update.leads[asked]) return asked;
  return campaign.languages.find((l) => update.leads[l]) ?? (Object.keys(update.leads)[0] as Language | undefined) ?? campaign.languages[0]!;
}

/** Adds campaigns and correction links to published update rows, in three queries whatever their number. */
async function toPublicUpdates(db: Q, rows: UpdateRow[], campaigns?: CampaignWithKeywords[]): Promise<PublicUpdate[]> {
  if (!rows.length) return [];
  const views = await loadUpdateViews(db, rows);
  const byId = new Map((campaigns ?? (await listCampaigns(db))).map((c) => [c.id, c]));
  const ids = rows.map((r) => r.id);
  const correctsIds = [...new Set(rows.map((r) => r.corrects_id).filter((x): x is number => x !== null))];
  const links = await db
    .selectFrom('updates')
    .select(['id', 'corrects_id', 'published_at'])
    .where('status', '=', 'published')
    .where((eb) => eb.or([eb('corrects_id', 'in', ids), ...(correctsIds.length ? [eb('id', 'in', correctsIds)] : [])]))
    .orderBy('published_at')
    .orderBy('id')
    .execute();
  const imageIds = rows.map((r) => r.image_id).filter((x): x is number => x !== null);
  const images = imageIds.length
    ? await db.selectFrom('images').select(['id', 'content_type', 'size', 'width', 'height']).where('id', 'in', imageIds).execute()
    : [];
  return views.map((update) => {
    const image = images.find((i) => i.id === update.imageId);
    const original = update.correctsId ? links.find((l) => l.id === update.correctsId) : undefined;
    return {
      update,
      campaign: byId.get(update.campaignId)!,
      corrects: original ? { id: original.id, publishedAt: original.published_at } : null,
      correctedBy: links.filter((l) => l.corrects_id === update.id).map((l) => ({ id: l.id, publishedAt: l.published_at })),
      image: image ? { id: image.id, contentType: image.content_type, size: image.size, width: image.width, height: image.height } : null,
    };
  });
}

/** Published updates, newest first; of one campaign, and only those written in `lang`, when asked. */
export async function listPublishedUpdates(
  db: Q,
  opts: { campaignId?: number; lang?: Language | null; limit: number; offset?: number; campaigns?: CampaignWithKeywords[] },
): Promise<PublicUpdate[]> {
  let q = db
    .selectFrom('updates as u')
    .selectAll('u')
    .where('u.status', '=', 'published')
    .orderBy('u.published_at', 'desc')
    .orderBy('u.id', 'desc')
    .limit(opts.limit)
    .offset(opts.offset ?? 0);
  if (opts.campaignId) q = q.where('u.campaign_id', '=', opts.campaignId);
  if (opts.lang) {
    const lang = opts.lang;
    q = q.where((eb) => eb.exists(eb.selectFrom('update_texts as t').select('t.update_id').whereRef('t.update_id', '=', 'u.id').where('t.language', '=', lang)));
  }
  return toPublicUpdates(db, await q.execute(), opts.campaigns);
}

export async function countPublishedUpdates(db: Q, campaignId: number): Promise<number> {
  const r = await db
    .selectFrom('updates')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('campaign_id', '=', campaignId)
    .where('status', '=', 'published')
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** One published update; drafts, pending and rejected updates do not exist publicly. */
export async function findPublishedUpdate(db: Q, id: number): Promise<PublicUpdate | undefined> {
  const view = await findUpdateView(db, id);
  if (!view || view.status !== 'published') return undefined;
  const row = await db.selectFrom('updates').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  return (await toPublicUpdates(db, [row]))[0];
}

/** The figures of a campaign's latest published update that has some. */
export async function latestSnapshots(db: Q, campaignIds: number[]): Promise<Map<number, Snapshot>> {
  if (!campaignIds.length) return new Map();
  const rows = await db
    .selectFrom('updates')
    .select(['id', 'campaign_id', 'raised', 'goal', 'currency', 'donors', 'as_of'])
    .distinctOn('campaign_id')
    .where('campaign_id', 'in', campaignIds)
    .where('status', '=', 'published')
    .where('raised', 'is not', null)
    .orderBy('campaign_id')
    .orderBy('published_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
  return new Map(
    rows.map((r) => [r.campaign_id, { raised: r.raised!, goal: r.goal, currency: r.currency ?? '', donors: r.donors, asOf: r.as_of, updateId: r.id }]),
  );
}

/** What the home page shows of each active campaign: figures, current needs, latest updates. */
export async function summarizeActiveCampaigns(db: Q, latestCount: number): Promise<CampaignSummary[]> {
  const all = await listCampaigns(db);
  const active = all.filter((c) => c.active);
  if (!active.length) return [];
  // The latest few published updates of each campaign, in one query.
  const rows = await db
    .selectFrom((eb) =>
      eb
        .selectFrom('updates as u')
        .selectAll('u')
        .select(sql<number>`row_number() OVER (PARTITION BY u.campaign_id ORDER BY u.published_at DESC, u.id DESC)`.as('rank'))
        .where('u.status', '=', 'published')
        .where('u.campaign_id', 'in', active.map((c) => c.id))
        .as('ranked'),
    )
    .selectAll('ranked')
    .where('ranked.rank', '<=', latestCount)
    .orderBy('ranked.published_at', 'desc')
    .orderBy('ranked.id', 'desc')
    .execute();
  const updates = await toPublicUpdates(db, rows as unknown as UpdateRow[], all);
  const snapshots = await latestSnapshots(db, active.map((c) => c.id));
  return active.map((campaign) => {
    const latest = updates.filter((u) => u.campaign.id === campaign.id);
    const snapshot = snapshots.get(campaign.id) ?? null;
    return {
      campaign,
      snapshot: snapshot ? { ...snapshot, goal: snapshot.goal ?? campaign.goal, currency: snapshot.currency || campaign.currency } : null,
      needs: latest[0] ? openNeeds(latest[0].update.needs) : [],
      latest,
    };
  });
}
