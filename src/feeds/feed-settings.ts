import { insertAuditEntry } from '../db/audit';
import { findCampaignById } from '../db/campaigns';
import { deleteFeedSource, insertFeedSource } from '../db/feed-sources';
import type { Staff } from '../db/schema';
import type { Deps } from '../deps';
import { AppError } from '../errors';
import { invalid } from '../staff/validate';

type D = Pick<Deps, 'db' | 'clock'>;

/** An admin adds a feed whose new items become drafts of one campaign. */
export async function addFeedSource(deps: D, admin: Staff, input: { url: string; campaignId: number }, ip: string): Promise<number> {
  const raw = input.url.trim();
  let url: string | null = null;
  try {
    const u = new URL(raw);
    if (/^https?:$/.test(u.protocol) && u.hostname && raw.length <= 2000) url = u.href;
  } catch {
    url = null;
  }
  if (!url) throw invalid([{ field: 'url', key: 'feeds.urlInvalid' }]);
  if (!(await findCampaignById(deps.db, input.campaignId))) throw invalid([{ field: 'campaign', key: 'update.campaignUnknown' }]);
  return deps.db.transaction().execute(async (trx) => {
    const id = await insertFeedSource(trx, { url, campaignId: input.campaignId, addedBy: admin.id, at: deps.clock.now() });
    if (id === null) throw invalid([{ field: 'url', key: 'feeds.urlTaken' }]);
    await insertAuditEntry(trx, { staffId: admin.id, actor: admin.email, action: 'feed.added', target: `feed:${id}`, ip, detail: { url, campaignId: input.campaignId } });
    return id;
  });
}

export async function removeFeedSource(deps: D, admin: Staff, id: number, ip: string): Promise<void> {
  await deps.db.transaction().execute(async (trx) => {
    const url = await deleteFeedSource(trx, id);
    if (url === null) throw new AppError('NOT_FOUND', 'No such feed.');
    await insertAuditEntry(trx, { staffId: admin.id, actor: admin.email, action: 'feed.removed', target: `feed:${id}`, ip, detail: { url } });
  });
}
