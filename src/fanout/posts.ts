import { sql } from 'kysely';
import type { MicroblogNetwork, SendResult } from '../channels/types';
import { findCampaignById } from '../db/campaigns';
import type { Post } from '../db/schema-fanout';
import { findUpdateView } from '../db/updates';
import { renderContext, renderPost, renderSettingsOf } from '../updates/render';
import { backoffMs, type FanoutDeps } from './dispatch';
import { addJob, tasks } from './jobs';

/**
 * Posts an update to one microblog account (a thread when it is long). Claimed
 * first like a delivery; the post id is the idempotency key, so Mastodon never
 * posts twice and the other adapters finish a half-posted thread.
 */
export async function sendPost(deps: FanoutDeps, postId: number): Promise<'sent' | 'failed' | 'retry' | 'nothing'> {
  const claimed = await sql<Post>`
    UPDATE posts SET status = 'sending', attempts = attempts + 1, lease_until = now() + interval '5 minutes', updated_at = now()
    WHERE id = ${postId} AND status = 'queued' AND (next_attempt_at IS NULL OR next_attempt_at <= now())
    RETURNING *`.execute(deps.db);
  const post = claimed.rows[0];
  if (!post) return 'nothing';
  const update = await findUpdateView(deps.db, post.update_id);
  const campaign = update && (await findCampaignById(deps.db, update.campaignId));
  if (!update || !campaign || update.status !== 'published') {
    await deps.db.updateTable('posts').set({ status: 'failed', last_error: 'the update is not published', lease_until: null, updated_at: new Date() }).where('id', '=', postId).execute();
    return 'failed';
  }
  const settings = renderSettingsOf(deps.config);
  const corrects = update.correctsId ? await findUpdateView(deps.db, update.correctsId) : null;
  const ctx = renderContext(settings, update, campaign, post.language, corrects ? { id: corrects.id, publishedAt: corrects.publishedAt } : null);
  const rendering = renderPost(ctx, post.network as MicroblogNetwork, settings.mastodonLimit);
  let image: { data: Uint8Array; contentType: string; alt: string } | undefined;
  if (update.imageId) {
    const row = await deps.db.selectFrom('images').select(['bytes', 'content_type']).where('id', '=', update.imageId).executeTakeFirst();
    if (row) image = { data: new Uint8Array(row.bytes), contentType: row.content_type, alt: update.imageAlt ?? '' };
  }

  let result: SendResult;
  try {
    result = await deps.channels[post.network as MicroblogNetwork].send({ parts: rendering.parts, ...(image ? { image } : {}) }, { idempotencyKey: `post-${post.id}` });
  } catch (err) {
    result = { ok: false, retryable: true, error: (err as Error).message };
  }

  if (result.ok) {
    await deps.db
      .updateTable('posts')
      .set({ status: 'sent', remote_id: result.providerId, remote_url: result.url ?? null, parts: JSON.stringify(result.parts ?? []), sent_at: new Date(), lease_until: null, error_code: null, last_error: null, updated_at: new Date() })
      .where('id', '=', postId)
      .execute();
    return 'sent';
  }
  const tooOld = update.publishedAt && Date.now() - update.publishedAt.getTime() > deps.config.FANOUT_MAX_AGE_HOURS * 3_600_000;
  if (result.retryable && post.attempts < deps.config.FANOUT_MAX_ATTEMPTS && !tooOld) {
    const next = new Date(Date.now() + backoffMs(post.attempts, result.retryAfter));
    await deps.db
      .updateTable('posts')
      .set({ status: 'queued', next_attempt_at: next, error_code: result.code ?? null, last_error: result.error, lease_until: null, updated_at: new Date() })
      .where('id', '=', postId)
      .execute();
    await addJob(deps.db, tasks.post, { postId }, { jobKey: `post:${postId}`, runAt: next });
    return 'retry';
  }
  await deps.db
    .updateTable('posts')
    .set({ status: 'failed', error_code: result.code ?? null, last_error: result.error, lease_until: null, updated_at: new Date() })
    .where('id', '=', postId)
    .execute();
  deps.log.warn('post failed', { postId, network: post.network, code: result.code, error: result.error });
  return 'failed';
}
