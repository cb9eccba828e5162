import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../db/schema';
import type { DeliveryChannel } from '../db/schema-fanout';

type Q = Kysely<Database> | Transaction<Database>;

/** Task names of the job runner (graphile-worker); src/fanout/worker.ts maps them to functions. */
export const tasks = {
  drain: 'fanout_drain',
  post: 'fanout_post',
  sweep: 'fanout_sweep',
} as const;

/**
 * Several drain jobs per (update, channel) share the queue through SKIP LOCKED
 * claims, so several worker processes can work on one broadcast at once.
 */
export const drainSlots = 2;

export function drainJobKey(updateId: number, channel: DeliveryChannel, slot: number): string {
  return `drain:${updateId}:${channel}:${slot}`;
}

/**
 * Enqueues through graphile-worker's own SQL function, so a job added inside the
 * publishing transaction exists exactly when the deliveries it serves do.
 */
export async function addJob(
  db: Q,
  task: string,
  payload: Record<string, unknown>,
  opts: { jobKey?: string; runAt?: Date; maxAttempts?: number; jobKeyMode?: 'replace' | 'preserve_run_at' } = {},
): Promise<void> {
  await sql`SELECT graphile_worker.add_job(
    ${task},
    ${JSON.stringify(payload)}::json,
    run_at => ${opts.runAt ?? null}::timestamptz,
    max_attempts => ${opts.maxAttempts ?? 25}::int,
    job_key => ${opts.jobKey ?? null}::text,
    job_key_mode => ${opts.jobKeyMode ?? 'replace'}::text
  )`.execute(db);
}

export async function addDrainJobs(db: Q, updateId: number, channel: DeliveryChannel, runAt?: Date): Promise<void> {
  for (let slot = 0; slot < drainSlots; slot++) {
    await addJob(db, tasks.drain, { updateId, channel, slot }, { jobKey: drainJobKey(updateId, channel, slot), runAt, jobKeyMode: 'preserve_run_at' });
  }
}
