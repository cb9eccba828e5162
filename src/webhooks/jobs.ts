import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../db/schema';

type Q = Kysely<Database> | Transaction<Database>;

/** Task names of the job runner (graphile-worker); src/webhooks/tasks.ts maps them to functions. */
export const webhookTaskNames = {
  scan: 'webhooks_scan',
  send: 'webhooks_send',
} as const;

// The fan-out's jobs (priority 0) go first: a backlog of webhooks must never delay an SMS broadcast.
const sendPriority = 5;

export function sendJobKey(deliveryId: number): string {
  return `webhook:${deliveryId}`;
}

/**
 * One named queue per endpoint: graphile-worker runs a queue's jobs one at a time, so an endpoint that hangs
 * holds at most one worker, and the others (and the fan-out) keep theirs.
 */
export function endpointQueue(endpointId: number): string {
  return `webhooks:endpoint:${endpointId}`;
}

/**
 * The job that sends one delivery, at `runAt` (default now). Through graphile-worker's own SQL, so a job added
 * in a transaction exists exactly when the delivery row does; the job key keeps one job per delivery.
 */
export async function addSendJob(db: Q, d: { id: number; endpointId: number; runAt?: Date | null }): Promise<void> {
  await sql`SELECT graphile_worker.add_job(
    ${webhookTaskNames.send},
    ${JSON.stringify({ deliveryId: d.id })}::json,
    queue_name => ${endpointQueue(d.endpointId)}::text,
    run_at => ${d.runAt ?? null}::timestamptz,
    max_attempts => 5,
    job_key => ${sendJobKey(d.id)}::text,
    priority => ${sendPriority}::int,
    job_key_mode => 'replace'
  )`.execute(db);
}

/** The next scan in a few seconds; a scan already waiting keeps its (earlier) time. */
export async function addScanJob(db: Q, runAt: Date): Promise<void> {
  await sql`SELECT graphile_worker.add_job(
    ${webhookTaskNames.scan},
    '{}'::json,
    run_at => ${runAt}::timestamptz,
    max_attempts => 1,
    job_key => ${webhookTaskNames.scan}::text,
    job_key_mode => 'preserve_run_at'
  )`.execute(db);
}
