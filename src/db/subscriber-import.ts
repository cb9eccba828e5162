import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database, Language } from './schema';
import type { ImportRejection } from './schema-subscribers';

/** A validated CSV row: contacts normalised (E.164, lower-case email), campaigns resolved to ids. */
export interface ImportRow {
  line: number;
  phone: string | null;
  email: string | null;
  language: Language;
  source: string;
  campaignIds: number[];
}

export interface AppliedImport {
  /** Rows whose phone and email belong to different existing subscribers, or conflict with what is stored. */
  conflicts: number[];
  subscribersCreated: number;
  subscriptionsCreated: number;
  keptUnsubscribed: number;
}

/**
 * Writes an import's valid rows with a handful of set-based statements (the rows travel as one JSON parameter into
 * temporary tables), so 100 000 rows cost a handful of statements, not 100 000 round-trips. Must run inside the import's
 * one transaction. Idempotent by construction: subscribers are matched before any is created, subscriptions are
 * only ever inserted (ON CONFLICT DO NOTHING), and consent entries are written only for inserted subscriptions.
 * Nothing an import does re-activates an unsubscribed subscription or crosses a channel's opt-out.
 */
export async function applySubscriberImport(
  trx: Transaction<Database>,
  rows: ImportRow[],
  ctx: { at: Date; importRef: string; staffId: number; shownText: string },
): Promise<AppliedImport> {
  const json = JSON.stringify(rows.map((r, idx) => ({ idx, line: r.line, phone: r.phone, email: r.email, language: r.language, source: r.source, campaign_ids: r.campaignIds })));
  // Each row with the subscribers its phone and its email already belong to. A row must not merge two people, nor
  // give someone a second phone or address: that is a conflict, for a person to sort out. A row for someone new
  // gets its subscriber id from the table's own sequence now, so nothing has to be matched again after the insert.
  await sql`CREATE TEMP TABLE import_rows ON COMMIT DROP AS
    SELECT m.*, CASE WHEN NOT m.conflict THEN coalesce(m.phone_match, m.email_match, nextval(pg_get_serial_sequence('subscribers', 'id'))) END AS subscriber_id
    FROM (
      SELECT x.*, sp.id AS phone_match, se.id AS email_match,
        coalesce((sp.id IS NOT NULL AND se.id IS NOT NULL AND sp.id <> se.id)
          OR (sp.id IS NOT NULL AND se.id IS NULL AND x.email IS NOT NULL AND sp.email IS NOT NULL)
          OR (se.id IS NOT NULL AND sp.id IS NULL AND x.phone IS NOT NULL AND se.phone IS NOT NULL), false) AS conflict
      FROM json_to_recordset(${json}::json) AS x (idx int, line int, phone text, email text, language text, source text, campaign_ids bigint[])
      LEFT JOIN subscribers sp ON sp.phone = x.phone
      LEFT JOIN subscribers se ON lower(se.email) = x.email
    ) m`.execute(trx);

  // Fill in what an existing subscriber lacks (someone who joined by SMS and whose paper form gives an email).
  await sql`UPDATE subscribers s SET email = r.email FROM import_rows r
    WHERE NOT r.conflict AND s.id = r.phone_match AND r.email_match IS NULL AND r.email IS NOT NULL AND s.email IS NULL`.execute(trx);
  await sql`UPDATE subscribers s SET phone = r.phone FROM import_rows r
    WHERE NOT r.conflict AND s.id = r.email_match AND r.phone_match IS NULL AND r.phone IS NOT NULL AND s.phone IS NULL`.execute(trx);

  // ON CONFLICT: if someone texted JOIN from one of these numbers a moment ago, that row is reported (import the
  // file again to add them) instead of failing the whole import.
  const created = await sql`INSERT INTO subscribers (id, phone, email, language, created_at) OVERRIDING SYSTEM VALUE
    SELECT subscriber_id, phone, email, language, ${ctx.at} FROM import_rows
    WHERE NOT conflict AND phone_match IS NULL AND email_match IS NULL ORDER BY idx
    ON CONFLICT DO NOTHING`.execute(trx);
  const conflicting = await sql<{ line: number }>`SELECT line FROM import_rows r
    WHERE conflict OR NOT EXISTS (SELECT 1 FROM subscribers s WHERE s.id = r.subscriber_id)`.execute(trx);

  // What the file asks for: one row per (subscriber, campaign, channel), on the channels the row gives a contact for.
  await sql`CREATE TEMP TABLE import_wanted ON COMMIT DROP AS
    SELECT DISTINCT ON (r.subscriber_id, c.campaign_id, ch.channel) r.subscriber_id, c.campaign_id, ch.channel, r.source
    FROM import_rows r
    CROSS JOIN LATERAL unnest(r.campaign_ids) AS c (campaign_id)
    CROSS JOIN (VALUES ('sms'), ('email')) AS ch (channel)
    WHERE NOT r.conflict AND ((ch.channel = 'sms' AND r.phone IS NOT NULL) OR (ch.channel = 'email' AND r.email IS NOT NULL))
    ORDER BY r.subscriber_id, c.campaign_id, ch.channel, r.idx`.execute(trx);
  // Temporary tables get no statistics by themselves; without them the planner guesses nested loops.
  await sql`ANALYZE import_wanted`.execute(trx);

  // A channel opted out of, or a campaign unsubscribed from, stays so: only the subscriber undoes that.
  const kept = await sql<{ n: number }>`SELECT count(DISTINCT w.subscriber_id)::int AS n
    FROM import_wanted w
    JOIN subscribers s ON s.id = w.subscriber_id
    LEFT JOIN subscriptions x ON x.subscriber_id = w.subscriber_id AND x.campaign_id = w.campaign_id AND x.channel = w.channel
    WHERE x.status = 'unsubscribed'
       OR (w.channel = 'sms' AND s.sms_opted_out_at IS NOT NULL)
       OR (w.channel = 'email' AND s.email_opted_out_at IS NOT NULL)`.execute(trx);

  const inserted = await sql`WITH added AS (
      INSERT INTO subscriptions (subscriber_id, campaign_id, channel, status, updated_at)
      SELECT w.subscriber_id, w.campaign_id, w.channel, 'active', ${ctx.at}
      FROM import_wanted w JOIN subscribers s ON s.id = w.subscriber_id
      WHERE (w.channel = 'sms' AND s.phone IS NOT NULL AND s.sms_opted_out_at IS NULL)
         OR (w.channel = 'email' AND s.email IS NOT NULL AND s.email_opted_out_at IS NULL)
      ON CONFLICT DO NOTHING
      RETURNING subscriber_id, campaign_id, channel
    )
    INSERT INTO consent_log (at, subscriber_id, campaign_id, channel, action, source, source_ref, staff_id, shown_text, detail)
    SELECT ${ctx.at}, a.subscriber_id, a.campaign_id, a.channel, 'subscribe', 'staff_import', ${ctx.importRef}, ${ctx.staffId}, ${ctx.shownText}, w.source
    FROM added a JOIN import_wanted w USING (subscriber_id, campaign_id, channel)`.execute(trx);

  return {
    conflicts: conflicting.rows.map((r) => r.line),
    subscribersCreated: Number(created.numAffectedRows ?? 0n),
    subscriptionsCreated: Number(inserted.numAffectedRows ?? 0n),
    keptUnsubscribed: kept.rows[0]?.n ?? 0,
  };
}

export async function insertSubscriberImport(trx: Transaction<Database>, row: { at: Date; staffId: number; fileName: string }): Promise<number> {
  const r = await trx
    .insertInto('subscriber_imports')
    .values({
      at: row.at,
      staff_id: row.staffId,
      file_name: row.fileName,
      rows_total: 0,
      rows_valid: 0,
      rows_rejected: 0,
      rows_duplicate: 0,
      subscribers_created: 0,
      subscriptions_created: 0,
      kept_unsubscribed: 0,
      rejected: '[]',
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return r.id;
}

export async function completeSubscriberImport(
  trx: Transaction<Database>,
  id: number,
  counts: { rowsTotal: number; rowsValid: number; rowsRejected: number; rowsDuplicate: number; subscribersCreated: number; subscriptionsCreated: number; keptUnsubscribed: number },
  rejected: ImportRejection[],
): Promise<void> {
  await trx
    .updateTable('subscriber_imports')
    .set({
      rows_total: counts.rowsTotal,
      rows_valid: counts.rowsValid,
      rows_rejected: counts.rowsRejected,
      rows_duplicate: counts.rowsDuplicate,
      subscribers_created: counts.subscribersCreated,
      subscriptions_created: counts.subscriptionsCreated,
      kept_unsubscribed: counts.keptUnsubscribed,
      rejected: JSON.stringify(rejected),
    })
    .where('id', '=', id)
    .execute();
}

export function listSubscriberImports(db: Kysely<Database> | Transaction<Database>, limit = 20) {
  return db
    .selectFrom('subscriber_imports as i')
    .leftJoin('staff as s', 's.id', 'i.staff_id')
    .selectAll('i')
    .select('s.email as staff_email')
    .orderBy('i.id', 'desc')
    .limit(limit)
    .execute();
}
