import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database, Language, UpdateRow, UpdateStatus } from './schema';
import type { UpdateView } from '../updates/types';

type Q = Kysely<Database> | Transaction<Database>;

export function toUpdateView(row: UpdateRow, texts: { language: Language; lead: string; sms_gsm7: boolean }[]): UpdateView {
  return {
    id: row.id,
    campaignId: row.campaign_id,
    status: row.status,
    leads: Object.fromEntries(texts.map((t) => [t.language, t.lead])),
    smsGsm7: texts.filter((t) => t.sms_gsm7).map((t) => t.language),
    needs: row.needs,
    raised: row.raised,
    goal: row.goal,
    currency: row.currency,
    donors: row.donors,
    asOf: row.as_of,
    link: row.link,
    imageId: row.image_id,
    imageAlt: row.image_alt,
    correctsId: row.corrects_id,
    authorId: row.author_id,
    publishedAt: row.published_at,
    updatedAt: row.updated_at,
    version: row.version,
  };
}

export async function findUpdateView(db: Q, id: number): Promise<UpdateView | undefined> {
  const row = await db.selectFrom('updates').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) return undefined;
  const texts = await db.selectFrom('update_texts').select(['language', 'lead', 'sms_gsm7']).where('update_id', '=', id).execute();
  return toUpdateView(row, texts);
}

/** Views for many updates in two queries, in the order of `rows`. */
export async function loadUpdateViews(db: Q, rows: UpdateRow[]): Promise<UpdateView[]> {
  if (!rows.length) return [];
  const texts = await db
    .selectFrom('update_texts')
    .select(['update_id', 'language', 'lead', 'sms_gsm7'])
    .where('update_id', 'in', rows.map((r) => r.id))
    .execute();
  return rows.map((r) => toUpdateView(r, texts.filter((t) => t.update_id === r.id)));
}

export async function replaceUpdateTexts(db: Q, updateId: number, leads: Partial<Record<Language, string>>, smsGsm7: Language[]): Promise<void> {
  await db.deleteFrom('update_texts').where('update_id', '=', updateId).execute();
  const rows = Object.entries(leads)
    .filter(([, lead]) => lead)
    .map(([language, lead]) => ({ update_id: updateId, language: language as Language, lead: lead!, sms_gsm7: smsGsm7.includes(language as Language) }));
  if (rows.length) await db.insertInto('update_texts').values(rows).execute();
}

export async function insertUpdateEvent(db: Q, e: { updateId: number; staffId: number | null; action: string; comment?: string | null; at?: Date }) {
  await db
    .insertInto('update_events')
    .values({ update_id: e.updateId, staff_id: e.staffId, action: e.action, comment: e.comment ?? null, ...(e.at ? { at: e.at } : {}) })
    .execute();
}

export function listUpdateEvents(db: Q, updateId: number) {
  return db
    .selectFrom('update_events as e')
    .leftJoin('staff as s', 's.id', 'e.staff_id')
    .select(['e.id', 'e.at', 'e.action', 'e.comment', 's.name as staff_name'])
    .where('e.update_id', '=', updateId)
    .orderBy('e.id')
    .execute();
}

export function listUpdatesForStaff(db: Q, opts: { status?: UpdateStatus; limit: number; beforeId?: number }) {
  let q = db
    .selectFrom('updates as u')
    .innerJoin('campaigns as c', 'c.id', 'u.campaign_id')
    .leftJoin('staff as s', 's.id', 'u.author_id')
    .select(['u.id', 'u.status', 'u.created_at', 'u.published_at', 'u.submitted_at', 'u.corrects_id', 'c.name as campaign_name', 's.name as author_name'])
    .select((eb) =>
      // The lead in the campaign's first language.
      eb
        .selectFrom('update_texts as t2')
        .select('t2.lead')
        .whereRef('t2.update_id', '=', 'u.id')
        .orderBy(sql`array_position(c.languages, t2.language)`)
        .limit(1)
        .as('lead'),
    )
    .orderBy('u.id', 'desc')
    .limit(opts.limit);
  if (opts.status) q = q.where('u.status', '=', opts.status);
  if (opts.beforeId) q = q.where('u.id', '<', opts.beforeId);
  return q.execute();
}

export async function countUpdatesByStatus(db: Q): Promise<Record<UpdateStatus, number>> {
  const rows = await db.selectFrom('updates').select(['status', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('status').execute();
  const out: Record<UpdateStatus, number> = { draft: 0, pending_approval: 0, published: 0, rejected: 0 };
  for (const r of rows) out[r.status] = r.n;
  return out;
}
