import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema';

/**
 * Reserves `count` consecutive send slots on a channel, shared by every worker
 * process through one row (GCRA: the row holds the next free moment). Returns how
 * many milliseconds from now each slot starts; the caller starts each message at
 * its slot, so the channel never goes above `perSecond`, whichever process sends.
 * Delays are computed by the database clock alone, so machines' clocks may differ.
 */
export async function reserveSendSlots(db: Kysely<Database>, channel: string, count: number, perSecond: number): Promise<number[]> {
  const intervalMs = 1000 / perSecond;
  const span = (count * intervalMs) / 1000;
  const row = await sql<{ delay_ms: number }>`
    WITH now AS (SELECT clock_timestamp() AS t)
    INSERT INTO rate_limits AS r (channel, next_free_at)
    SELECT ${channel}, now.t + make_interval(secs => ${span}) FROM now
    ON CONFLICT (channel) DO UPDATE
      SET next_free_at = greatest(r.next_free_at, clock_timestamp()) + make_interval(secs => ${span})
    RETURNING (extract(epoch FROM (r.next_free_at - make_interval(secs => ${span}) - clock_timestamp())) * 1000)::float8 AS delay_ms`.execute(db);
  const first = Math.max(0, Number(row.rows[0]!.delay_ms));
  return Array.from({ length: count }, (_, i) => first + i * intervalMs);
}
