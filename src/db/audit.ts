import type { Kysely, Transaction } from 'kysely';
import type { AuditEntry, Database } from './schema';

type Q = Kysely<Database> | Transaction<Database>;

export interface AuditEvent {
  staffId: number | null;
  actor: string;
  action: string;
  target?: string | null;
  ip?: string | null;
  detail?: Record<string, unknown>;
  at?: Date;
}

export async function insertAuditEntry(db: Q, e: AuditEvent): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({
      staff_id: e.staffId,
      actor: e.actor,
      action: e.action,
      target: e.target ?? null,
      ip: e.ip ?? null,
      detail: JSON.stringify(e.detail ?? {}),
      ...(e.at ? { at: e.at } : {}),
    })
    .execute();
}

/** Newest first, keyset-paginated by id so a busy log pages stably. */
export function listAuditEntries(db: Q, opts: { beforeId?: number; limit: number }): Promise<AuditEntry[]> {
  let q = db.selectFrom('audit_log').selectAll().orderBy('id', 'desc').limit(opts.limit);
  if (opts.beforeId) q = q.where('id', '<', opts.beforeId);
  return q.execute();
}
