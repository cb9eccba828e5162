/**
 * A 100 000-row staff CSV import (French spreadsheet export: `;`, CRLF, national numbers), as the import page runs
 * it, beside a floor made of the same unavoidable work: csv-parse and libphonenumber on every row, then the
 * already-normalised rows written with three raw INSERT … SELECT statements in one transaction, no matching, no
 * report. Then the same file imported again (it must change nothing). Target: the import under 30 s.
 * Run: npm run bench -- import
 */
import { parse } from 'csv-parse/sync';
import { sql } from 'kysely';
import { parseConfig } from '../src/config';
import { insertStaff } from '../src/db/staff';
import { importSubscribersCsv } from '../src/subscribers/csv-import';
import { normalizePhone } from '../src/subscribers/phone';
import { benchDatabase, fmt, machine, report } from './lib';

const rows = Math.round(100_000 * Number(process.env.BENCH_SCALE ?? 1));
const { db, close } = await benchDatabase();
const config = parseConfig({ PUBLIC_URL: 'http://tocsin.bench' });
const deps = { db, config, clock: { now: () => new Date() } };
const staff = await insertStaff(db, { email: 'bench@example.org', name: 'Bench', password_hash: 'x', role: 'admin', language: 'fr' });
const campaignIds: number[] = [];
for (const [slug, keyword] of [['seisme-haiti', 'HAITI'], ['cyclone-quebec', 'QUEBEC']] as const) {
  const c = await db
    .insertInto('campaigns')
    .values({ name: slug, slug, languages: ['fr', 'en'], currency: 'EUR', active: true, hashtag: null, goal: null, donate_url: null, created_by: staff.id })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db.insertInto('campaign_keywords').values({ keyword, campaign_id: c.id }).execute();
  campaignIds.push(c.id);
}

const lines = ['Téléphone;Courriel;Langue;Campagnes;Source du consentement'];
for (let i = 0; i < rows; i++) {
  const email = i % 2 === 0 ? `personne${i}@example.org` : '';
  const campaigns = i % 3 === 0 ? 'seisme-haiti|QUEBEC' : 'HAITI';
  lines.push(`06 ${String(10_000_000 + i).replace(/(\d\d)(?=\d)/g, '$1 ')};${email};fr;${campaigns};formulaire papier ${i % 7}`);
}
const bytes = new TextEncoder().encode(lines.join('\r\n'));

// Between rounds the throwaway database is emptied, which the consent log otherwise refuses (it is append-only).
await sql`ALTER TABLE consent_log DISABLE TRIGGER consent_log_no_truncate`.execute(db);
const emptyTables = () => sql`TRUNCATE consent_log, subscriptions, subscribers, subscriber_imports RESTART IDENTITY CASCADE`.execute(db);
const importOnce = () =>
  importSubscribersCsv(deps, staff, { fileName: 'bench.csv', bytes, attested: true, defaultSource: 'bench', attestation: 'Attested for the benchmark.' }, '127.0.0.1');

async function floor(): Promise<number> {
  const t = performance.now();
  const records: string[][] = parse(new TextDecoder().decode(bytes), { delimiter: ';', from_line: 2 });
  const parsed = records.map((r, idx) => ({
    idx,
    phone: normalizePhone(r[0]!, config.DEFAULT_COUNTRY),
    email: r[1] || null,
    campaign_ids: r[3]!.includes('|') ? campaignIds : [campaignIds[0]!],
    source: r[4],
  }));
  await db.transaction().execute(async (trx) => {
    await sql`CREATE TEMP TABLE floor_rows ON COMMIT DROP AS
      SELECT x.*, nextval(pg_get_serial_sequence('subscribers', 'id')) AS id
      FROM json_to_recordset(${JSON.stringify(parsed)}::json) AS x (idx int, phone text, email text, campaign_ids bigint[], source text)`.execute(trx);
    await sql`INSERT INTO subscribers (id, phone, email, language, created_at) OVERRIDING SYSTEM VALUE
      SELECT id, phone, email, 'fr', now() FROM floor_rows`.execute(trx);
    await sql`WITH added AS (
        INSERT INTO subscriptions (subscriber_id, campaign_id, channel, status, updated_at)
        SELECT r.id, c, ch, 'active', now() FROM floor_rows r, unnest(r.campaign_ids) c, (VALUES ('sms'), ('email')) AS v (ch)
        WHERE ch = 'sms' OR r.email IS NOT NULL
        RETURNING subscriber_id, campaign_id, channel
      )
      INSERT INTO consent_log (at, subscriber_id, campaign_id, channel, action, source, source_ref, staff_id, shown_text, detail)
      SELECT now(), subscriber_id, campaign_id, channel, 'subscribe', 'staff_import', 'bench', ${staff.id}, 'Attested for the benchmark.', null FROM added`.execute(trx);
  });
  return performance.now() - t;
}

// Interleaved, three rounds each; the median is shown.
const ours: number[] = [];
const again: number[] = [];
const floors: number[] = [];
let report1: Awaited<ReturnType<typeof importOnce>> | null = null;
for (let round = 0; round < 3; round++) {
  await emptyTables();
  floors.push(await floor());
  await emptyTables();
  let t = performance.now();
  report1 = await importOnce();
  ours.push(performance.now() - t);
  t = performance.now();
  const second = await importOnce();
  again.push(performance.now() - t);
  if (second.subscribersCreated || second.subscriptionsCreated) throw new Error('The second import changed something.');
}
if (!report1 || report1.rowsValid !== rows) throw new Error(`Expected ${rows} valid rows, got ${report1?.rowsValid}.`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[1]!;
const [o, a, f] = [median(ours), median(again), median(floors)];
report([
  `Machine: ${machine()}`,
  '',
  `CSV import of ${fmt(rows)} rows (${fmt(bytes.byteLength / 2 ** 20, 1)} MB; ${fmt(report1.subscriptionsCreated)} subscriptions and consent entries), median of 3:`,
  `  Tocsin import ${fmt(o / 1000, 1)} s (target < 30 s: ${o < 30_000 ? 'met' : 'MISSED'}); the same file again ${fmt(a / 1000, 1)} s, nothing changed`,
  `  floor (parse + phone normalisation + three raw INSERT … SELECT) ${fmt(f / 1000, 1)} s; ratio ${fmt(o / f, 2)}`,
]);
await close();
