import { stringify } from 'csv-stringify/sync';
import { listSubscribersForExport, type SubscriberFilters } from '../db/subscriber-search';
import { insertAuditEntry } from '../db/audit';
import type { Staff } from '../db/schema';
import type { Deps } from '../deps';
import { AppError } from '../errors';

/**
 * A cell a spreadsheet would run as a formula (=, +, -, @, or a tab/CR that some strip first) gets a leading
 * apostrophe (OWASP "CSV injection"). That includes E.164 phone numbers ("+336…"); the import takes it off.
 */
export function csvSafeCell(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

/** The subscribers matching the staff list's filters, as a CSV file. Exporting personal data is audited. */
export async function exportSubscribersCsv(deps: Pick<Deps, 'db' | 'clock'>, staff: Staff, filters: SubscriberFilters, ip: string): Promise<string> {
  if (staff.role !== 'admin' && staff.role !== 'approver') throw new AppError('FORBIDDEN', 'Exports need the role approver or admin.');
  const rows = await listSubscribersForExport(deps.db, filters);
  const iso = (d: Date | null) => (d ? d.toISOString() : '');
  const csv = stringify(
    rows.map((r) => [r.phone ?? '', r.email ?? '', r.language, r.sms_campaigns, r.email_campaigns, iso(r.sms_opted_out_at), iso(r.email_opted_out_at), iso(r.phone_invalid_at), iso(r.created_at)].map(csvSafeCell)),
    { header: true, columns: ['phone', 'email', 'language', 'sms_campaigns', 'email_campaigns', 'sms_opted_out_at', 'email_opted_out_at', 'phone_invalid_at', 'created_at'], record_delimiter: 'windows', bom: true },
  );
  await insertAuditEntry(deps.db, { staffId: staff.id, actor: staff.email, action: 'subscribers.exported', ip, at: deps.clock.now(), detail: { rows: rows.length, filters: { ...filters, q: filters.q ? '(search text not kept)' : undefined } } });
  return csv;
}
