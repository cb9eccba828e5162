import { sql, type Transaction } from 'kysely';
import type { MicroblogNetwork } from '../channels/types';
import type { Database, Language } from '../db/schema';
import type { Deps } from '../deps';
import { addDrainJobs, addJob, tasks } from './jobs';

export const networks: MicroblogNetwork[] = ['mastodon', 'bluesky', 'x'];

/**
 * Runs in the transaction that publishes: one delivery per active subscriber and
 * channel, in their language when the update has it (else the campaign's first),
 * chosen by one INSERT … SELECT so subscribers never pass through Node's memory;
 * one post per microblog account; and the jobs that will send them. The unique
 * index makes a second call add nothing.
 */
export async function materialiseDeliveries(
  deps: Pick<Deps, 'channels'>,
  trx: Transaction<Database>,
  updateId: number,
): Promise<{ deliveries: number; posts: number }> {
  const update = await trx
    .selectFrom('updates as u')
    .innerJoin('campaigns as c', 'c.id', 'u.campaign_id')
    .select(['u.campaign_id', 'c.languages'])
    .where('u.id', '=', updateId)
    .executeTakeFirstOrThrow();
  const texts = await trx.selectFrom('update_texts').select('language').where('update_id', '=', updateId).execute();
  const available = update.languages.filter((l) => texts.some((t) => t.language === l));
  const fallback: Language = available[0] ?? update.languages[0]!;

  const inserted = await sql<{ n: number }>`
    WITH rows AS (
      INSERT INTO deliveries (update_id, subscriber_id, channel, language)
      SELECT ${updateId}, s.id, sub.channel,
             CASE WHEN s.language = ANY(${sql.val(available)}::text[]) THEN s.language ELSE ${fallback} END
      FROM subscriptions sub
      JOIN subscribers s ON s.id = sub.subscriber_id
      WHERE sub.campaign_id = ${update.campaign_id}
        AND sub.status = 'active'
        AND s.erased_at IS NULL
        AND ((sub.channel = 'sms' AND s.phone IS NOT NULL AND s.sms_opted_out_at IS NULL AND s.phone_invalid_at IS NULL)
          OR (sub.channel = 'email' AND s.email IS NOT NULL AND s.email_opted_out_at IS NULL))
      ON CONFLICT (update_id, subscriber_id, channel) DO NOTHING
      RETURNING 1
    )
    SELECT count(*)::int AS n FROM rows`.execute(trx);

  const posts = await trx
    .insertInto('posts')
    .values(networks.map((network) => ({ update_id: updateId, network, account: deps.channels[network].account, language: fallback })))
    .onConflict((oc) => oc.columns(['update_id', 'network']).doNothing())
    .returning('id')
    .execute();

  await addDrainJobs(trx, updateId, 'sms');
  await addDrainJobs(trx, updateId, 'email');
  for (const p of posts) await addJob(trx, tasks.post, { postId: p.id }, { jobKey: `post:${p.id}` });
  return { deliveries: inserted.rows[0]!.n, posts: posts.length };
}
