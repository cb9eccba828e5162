import type { Deps } from '../deps';
import { languages } from '../i18n';
import { feedUrls } from './feeds';

export const websubTimeoutMs = 5_000;

/** Every feed an update of `campaignSlug` appears in: all and its campaign's, in every language, and the CAP index. */
export function feedUrlsToPing(publicUrl: string, campaignSlugs: string[]): string[] {
  const scopes = [null, ...campaignSlugs].flatMap((slug) =>
    [null, ...languages].map((lang) => feedUrls(publicUrl, { campaign: slug ? { slug } : null, lang })),
  );
  return [...scopes.flatMap((u) => [u.rss, u.atom, u.json]), `${publicUrl}/feed.cap.atom`];
}

/**
 * Tells the WebSub hub (WEBSUB_HUB) that the feeds changed, so subscribers fetch them now instead of at their next
 * poll. Call it after the transaction that publishes an update has committed (the hub fetches at once). With an
 * update id, pings that update's campaign feeds too; without, every active campaign's. One POST per feed URL
 * (`hub.mode=publish&hub.url=…`), each with a timeout; a failure is logged, never thrown: a hub that is down must
 * not fail a publication.
 */
export async function pingWebSubHub(
  deps: Pick<Deps, 'db' | 'config' | 'log'>,
  updateId?: number,
  opts: { fetch?: typeof fetch; timeoutMs?: number } = {},
): Promise<{ pinged: number; failed: number }> {
  const hub = deps.config.WEBSUB_HUB;
  if (!hub) return { pinged: 0, failed: 0 };
  let slugs: string[];
  try {
    slugs = updateId
      ? (await deps.db.selectFrom('updates as u').innerJoin('campaigns as c', 'c.id', 'u.campaign_id').select('c.slug').where('u.id', '=', updateId).execute()).map((r) => r.slug)
      : (await deps.db.selectFrom('campaigns').select('slug').where('active', '=', true).execute()).map((r) => r.slug);
  } catch (err) {
    deps.log.warn('websub ping skipped: could not read campaigns', { error: err as Error });
    return { pinged: 0, failed: 1 };
  }
  const doFetch = opts.fetch ?? fetch;
  const urls = feedUrlsToPing(deps.config.PUBLIC_URL, slugs);
  const results = await Promise.all(
    urls.map(async (url) => {
      try {
        const res = await doFetch(hub, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ 'hub.mode': 'publish', 'hub.url': url }).toString(),
          signal: AbortSignal.timeout(opts.timeoutMs ?? websubTimeoutMs),
        });
        await res.body?.cancel();
        if (!res.ok) throw new Error(`hub answered HTTP ${res.status}`);
        return true;
      } catch (err) {
        deps.log.warn('websub ping failed', { hub, url, error: (err as Error).message });
        return false;
      }
    }),
  );
  const failed = results.filter((ok) => !ok).length;
  return { pinged: results.length - failed, failed };
}
