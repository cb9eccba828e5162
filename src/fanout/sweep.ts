import { sql } from 'kysely';
import type { DeliveryChannel } from '../db/schema-fanout';
import type { FanoutDeps } from './dispatch';
import { addDrainJobs, addJob, tasks } from './jobs';

/**
 * Recovery after a crash, run at start-up and every minute:
 * - a claimed message whose lease ran out was in flight when its worker died:
 *   it is marked `unknown` (never re-sent: it may have gone), and the provider's
 *   status callback, when it comes, resolves it;
 * - queued work with no live job (its worker was killed) gets its jobs back.
 */
export async function sweepStalledWork(deps: Pick<FanoutDeps, 'db' | 'log'>): Promise<{ unknown: number; resumed: number }> {
  const lost = await sql<{ id: number }>`
    UPDATE deliveries SET status = 'unknown', lease_until = NULL, updated_at = now(),
      last_error = 'in flight when its worker stopped; waiting for the provider''s status callback'
    WHERE status = 'sending' AND lease_until < now()
    RETURNING id`.execute(deps.db);
  await sql`
    UPDATE posts SET status = 'unknown', lease_until = NULL, updated_at = now(),
      last_error = 'in flight when its worker stopped; check the account before posting again'
    WHERE status = 'sending' AND lease_until < now()`.execute(deps.db);

  // Queued work with no job waiting to run gets its jobs back. A job still locked may
  // belong to a dead worker (graphile-worker frees those only after 4 hours), so it
  // does not count: at worst a live drain gains a companion, and SKIP LOCKED claims
  // keep the two from ever sending the same message. The jobs are looked up once per
  // (update, channel), not once per queued row: a slow broadcast has a million of those.
  const stalled = await sql<{ update_id: number; channel: DeliveryChannel }>`
    SELECT d.update_id, d.channel FROM (SELECT DISTINCT update_id, channel FROM deliveries WHERE status = 'queued') d
    WHERE NOT EXISTS (
      SELECT 1 FROM graphile_worker.jobs j
      WHERE j.key LIKE 'drain:' || d.update_id || ':' || d.channel || ':%' AND j.locked_at IS NULL)`.execute(deps.db);
  for (const s of stalled.rows) {
    const next = await deps.db
      .selectFrom('deliveries')
      .select((eb) => eb.fn.min('next_attempt_at').as('at'))
      .where('update_id', '=', s.update_id)
      .where('channel', '=', s.channel)
      .where('status', '=', 'queued')
      .executeTakeFirst();
    const at = next?.at ? new Date(next.at as Date) : undefined;
    await addDrainJobs(deps.db, s.update_id, s.channel, at && at > new Date() ? at : undefined);
  }
  const posts = await sql<{ id: number; next_attempt_at: Date | null }>`
    SELECT p.id, p.next_attempt_at FROM posts p
    WHERE p.status = 'queued'
      AND NOT EXISTS (SELECT 1 FROM graphile_worker.jobs j WHERE j.key = 'post:' || p.id AND j.locked_at IS NULL)`.execute(deps.db);
  for (const p of posts.rows) await addJob(deps.db, tasks.post, { postId: p.id }, { jobKey: `post:${p.id}`, ...(p.next_attempt_at ? { runAt: p.next_attempt_at } : {}) });

  const resumed = stalled.rows.length + posts.rows.length;
  if (lost.rows.length || resumed) deps.log.warn('recovered stalled fan-out work', { unknown: lost.rows.length, resumed });
  return { unknown: lost.rows.length, resumed };
}
