import { sql } from 'kysely';
import type { Db } from '../../src/db/connection';
import type { Language } from '../../src/db/schema';

// Each test file has its own database, so numbers only need to differ within a file.
let next = 10_000_000;
/**
 * Active subscribers of a campaign, made in one statement per channel (so a
 * benchmark can seed 100 000 quickly). Phones are +33 6 xx xx xx xx, distinct per call.
 */
export async function seedSubscribers(db: Db, campaignId: number, opts: { sms?: number; email?: number; language?: Language }): Promise<void> {
  const lang = opts.language ?? 'fr';
  const base = next;
  next += (opts.sms ?? 0) + (opts.email ?? 0);
  if (opts.sms) {
    await sql`
      WITH s AS (
        INSERT INTO subscribers (phone, language)
        SELECT '+336' || lpad((${base}::bigint + g)::text, 8, '0'), ${lang} FROM generate_series(1, ${opts.sms}::int) g
        RETURNING id)
      INSERT INTO subscriptions (subscriber_id, campaign_id, channel, status)
      SELECT id, ${campaignId}, 'sms', 'active' FROM s`.execute(db);
  }
  if (opts.email) {
    await sql`
      WITH s AS (
        INSERT INTO subscribers (email, language)
        SELECT 'donor' || (${base}::bigint + g) || '@example.org', ${lang} FROM generate_series(1, ${opts.email}::int) g
        RETURNING id)
      INSERT INTO subscriptions (subscriber_id, campaign_id, channel, status)
      SELECT id, ${campaignId}, 'email', 'active' FROM s`.execute(db);
  }
}
