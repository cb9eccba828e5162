import { parse } from 'csv-parse/sync';
import { insertAuditEntry } from '../db/audit';
import { listCampaigns, type CampaignWithKeywords } from '../db/campaigns';
import type { Language, Staff } from '../db/schema';
import type { ImportRejection } from '../db/schema-subscribers';
import { applySubscriberImport, completeSubscriberImport, insertSubscriberImport, type ImportRow } from '../db/subscriber-import';
import type { Deps } from '../deps';
import { AppError } from '../errors';
import type { MessageKey } from '../i18n';
import { checkEmail, invalid, type FieldError } from '../staff/validate';
import { normalizeKeywordText } from './keywords';
import { normalizePhone } from './phone';

export const importMaxBytes = 20 * 1024 * 1024;
/** Beyond this, one request would take minutes: split the file. */
export const importMaxRows = 200_000;

type Reason = { key: MessageKey; vars?: Record<string, string | number> };
export interface ImportReport {
  importId: number;
  rowsTotal: number;
  rowsValid: number;
  rowsRejected: number;
  rowsDuplicate: number;
  subscribersCreated: number;
  subscriptionsCreated: number;
  keptUnsubscribed: number;
  /** Line numbers as the spreadsheet shows them (the header is line 1), with every reason found. */
  rejected: { line: number; reasons: Reason[] }[];
  duplicates: { line: number; of: number }[];
}

type Column = 'phone' | 'email' | 'language' | 'campaigns' | 'source';
// Header names as spreadsheets write them, compared without case, accents, spaces or punctuation.
const headerNames: Record<string, Column> = {};
for (const [column, names] of Object.entries({
  phone: ['phone', 'phonenumber', 'telephone', 'tel', 'mobile', 'portable', 'cellulaire', 'numero', 'sms'],
  email: ['email', 'mail', 'courriel', 'emailaddress', 'adresseemail', 'adressecourriel', 'adressemail'],
  language: ['language', 'langue', 'lang'],
  campaigns: ['campaigns', 'campaign', 'campagnes', 'campagne', 'keywords', 'keyword', 'motscles', 'motcle'],
  source: ['consentsource', 'source', 'sourceduconsentement', 'sourceconsentement', 'consent', 'consentement'],
} satisfies Record<Column, string[]>)) {
  for (const name of names) headerNames[name] = column as Column;
}
const headerKey = (h: string) => normalizeKeywordText(h).toLowerCase().replace(/[^a-z0-9]/g, '');

const languageNames: Record<string, Language> = { en: 'en', english: 'en', anglais: 'en', fr: 'fr', french: 'fr', francais: 'fr' };

/**
 * A staff CSV import, all or nothing for its valid rows: every row is checked, the rejected ones are reported with
 * their line and reasons, and the valid ones go in in one transaction. Spreadsheet exports are taken as they
 * come: `;` or `,` or tab separators, a UTF-8 BOM or Windows-1252, CRLF, national phone numbers, blank rows.
 * Importing the same file again changes nothing.
 */
export async function importSubscribersCsv(
  deps: Pick<Deps, 'db' | 'clock' | 'config'>,
  staff: Staff,
  input: { fileName: string; bytes: Uint8Array; attested: boolean; defaultSource: string; attestation: string },
  ip: string,
): Promise<ImportReport> {
  if (staff.role !== 'admin' && staff.role !== 'approver') throw new AppError('FORBIDDEN', 'Imports need the role approver or admin.');
  const fileErrors: FieldError[] = [];
  if (!input.attested) fileErrors.push({ field: 'attest', key: 'subscribers.import.attestRequired' });
  if (input.bytes.byteLength === 0) fileErrors.push({ field: 'file', key: 'subscribers.import.fileRequired' });
  if (input.bytes.byteLength > importMaxBytes) fileErrors.push({ field: 'file', key: 'subscribers.import.tooLarge', vars: { max: importMaxBytes / 1024 / 1024 } });
  if (input.defaultSource.length > 200) fileErrors.push({ field: 'source', key: 'subscribers.import.sourceTooLong' });
  if (fileErrors.length) throw invalid(fileErrors);

  const records = parseCsv(decodeText(input.bytes));
  if (records.length - 1 > importMaxRows) throw invalid([{ field: 'file', key: 'subscribers.import.tooManyRows', vars: { max: importMaxRows } }]);
  const header = records[0];
  const columns = new Map<Column, number>();
  header?.record.forEach((h, i) => {
    const column = headerNames[headerKey(h)];
    if (column && !columns.has(column)) columns.set(column, i);
  });
  if (!columns.has('phone') && !columns.has('email')) throw invalid([{ field: 'file', key: 'subscribers.import.noContactColumn' }]);
  if (!columns.has('campaigns')) throw invalid([{ field: 'file', key: 'subscribers.import.noCampaignColumn' }]);

  const campaigns = await listCampaigns(deps.db);
  const bySlug = new Map(campaigns.map((c) => [c.slug, c]));
  const byKeyword = new Map(campaigns.flatMap((c) => c.keywords.map((k) => [k, c] as const)));
  const cell = (record: string[], column: Column) => {
    const i = columns.get(column);
    // Our own export prefixes cells that a spreadsheet would run as formulas with '; take it off again.
    return i === undefined ? '' : (record[i] ?? '').trim().replace(/^'(?=[=+\-@\t\r])/, '').trim();
  };

  const rejected: ImportReport['rejected'] = [];
  const duplicates: ImportReport['duplicates'] = [];
  const accepted: ImportRow[] = [];
  const byPhone = new Map<string, ImportRow>();
  const byEmail = new Map<string, ImportRow>();
  let rowsTotal = 0;

  for (const { record, line } of records.slice(1)) {
    if (record.every((v) => v.trim() === '')) continue;
    rowsTotal++;
    const reasons: Reason[] = [];
    const phoneText = cell(record, 'phone');
    const emailText = cell(record, 'email');
    const phone = phoneText ? normalizePhone(phoneText, deps.config.DEFAULT_COUNTRY) : null;
    if (phoneText && !phone) reasons.push({ key: 'subscribers.import.reason.phoneInvalid', vars: { value: phoneText } });
    const emailErrors: FieldError[] = [];
    const email = emailText ? checkEmail(emailText, emailErrors) : '';
    if (emailErrors.length) reasons.push({ key: 'subscribers.import.reason.emailInvalid', vars: { value: emailText } });
    if (!phoneText && !emailText) reasons.push({ key: 'subscribers.import.reason.noContact' });

    const found: CampaignWithKeywords[] = [];
    const names = cell(record, 'campaigns').split(/[|,]/).map((s) => s.trim()).filter(Boolean);
    if (!names.length) reasons.push({ key: 'subscribers.import.reason.noCampaign' });
    for (const name of names) {
      const campaign = bySlug.get(name.toLowerCase()) ?? byKeyword.get(normalizeKeywordText(name));
      if (!campaign) reasons.push({ key: 'subscribers.import.reason.unknownCampaign', vars: { value: name } });
      else if (!found.includes(campaign)) found.push(campaign);
    }

    const languageText = cell(record, 'language');
    let language: Language | undefined;
    if (languageText) {
      language = languageNames[headerKey(languageText)];
      const offered = new Set(found.flatMap((c) => c.languages));
      if (!language || (found.length && !offered.has(language))) {
        reasons.push({ key: 'subscribers.import.reason.languageInvalid', vars: { value: languageText } });
      }
    }
    language ??= found[0]?.languages[0] ?? deps.config.DEFAULT_LANGUAGE;

    const source = cell(record, 'source') || input.defaultSource.trim();
    if (!source) reasons.push({ key: 'subscribers.import.reason.noSource' });
    else if (source.length > 200) reasons.push({ key: 'subscribers.import.reason.sourceTooLong' });

    if (reasons.length) {
      rejected.push({ line, reasons });
      continue;
    }
    const row: ImportRow = { line, phone, email: email || null, language, source, campaignIds: found.map((c) => c.id) };

    // The same person twice in one file (a copied line, or once per campaign) is one subscriber, with every
    // campaign named; two different people sharing a phone or an address is for a person to sort out.
    const earlier = [row.phone ? byPhone.get(row.phone) : undefined, row.email ? byEmail.get(row.email) : undefined].filter((r): r is ImportRow => Boolean(r));
    const first = earlier[0];
    if (!first) {
      accepted.push(row);
      if (row.phone) byPhone.set(row.phone, row);
      if (row.email) byEmail.set(row.email, row);
      continue;
    }
    const clash =
      earlier.some((r) => r !== first) ||
      (first.phone && row.phone && first.phone !== row.phone) ||
      (first.email && row.email && first.email !== row.email);
    if (clash) {
      rejected.push({ line, reasons: [{ key: 'subscribers.import.reason.conflictInFile', vars: { other: first.line } }] });
      continue;
    }
    duplicates.push({ line, of: first.line });
    if (row.phone && !first.phone) byPhone.set((first.phone = row.phone), first);
    if (row.email && !first.email) byEmail.set((first.email = row.email), first);
    for (const id of row.campaignIds) if (!first.campaignIds.includes(id)) first.campaignIds.push(id);
  }

  const now = deps.clock.now();
  return deps.db.transaction().execute(async (trx) => {
    const importId = await insertSubscriberImport(trx, { at: now, staffId: staff.id, fileName: input.fileName.slice(0, 200) });
    const applied = await applySubscriberImport(trx, accepted, { at: now, importRef: `import #${importId}`, staffId: staff.id, shownText: input.attestation });
    const conflictLines = new Set(applied.conflicts);
    for (const line of conflictLines) rejected.push({ line, reasons: [{ key: 'subscribers.import.reason.conflictExisting' }] });
    rejected.sort((a, b) => a.line - b.line);
    const report: ImportReport = {
      importId,
      rowsTotal,
      rowsValid: accepted.length - conflictLines.size,
      rowsRejected: rejected.length,
      rowsDuplicate: duplicates.length,
      subscribersCreated: applied.subscribersCreated,
      subscriptionsCreated: applied.subscriptionsCreated,
      keptUnsubscribed: applied.keptUnsubscribed,
      rejected,
      duplicates,
    };
    // The stored report keeps line numbers and reasons, not the rejected values (phone numbers, addresses).
    const stored: ImportRejection[] = rejected.map((r) => ({ line: r.line, reasons: r.reasons.map((x) => ({ key: x.key, vars: withoutValue(x.vars) })) }));
    await completeSubscriberImport(trx, importId, report, stored);
    const { rejected: _r, duplicates: _d, importId: _i, ...counts } = report;
    await insertAuditEntry(trx, { staffId: staff.id, actor: staff.email, action: 'subscribers.imported', target: `import #${importId}`, ip, at: now, detail: { file: input.fileName.slice(0, 200), ...counts } });
    return report;
  });
}

function withoutValue(vars: Record<string, string | number> | undefined) {
  if (!vars) return undefined;
  const { value: _v, ...rest } = vars;
  return Object.keys(rest).length ? rest : undefined;
}

/** UTF-8 (with or without BOM) as most tools write it; Windows-1252 as Excel on Windows still does. */
function decodeText(bytes: Uint8Array): string {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    text = new TextDecoder('windows-1252').decode(bytes);
  }
  return text.replace(/^\uFEFF/, '');
}

/** Records with their row number as a spreadsheet shows it (the header is row 1; a cell with line breaks is one row). */
function parseCsv(text: string): { record: string[]; line: number }[] {
  const firstLine = text.slice(0, text.search(/\r?\n|$/));
  const counts = ([';', ',', '\t'] as const).map((d) => [d, firstLine.split(d).length - 1] as const);
  const delimiter = counts.reduce((best, c) => (c[1] > best[1] ? c : best), [',', 0] as const)[0];
  try {
    const rows = parse(text, { delimiter, relax_column_count: true, relax_quotes: true }) as string[][];
    return rows.map((record, i) => ({ record, line: i + 1 }));
  } catch (err) {
    const line = Number((err as { records?: number }).records ?? 0) + 1;
    throw invalid([{ field: 'file', key: 'subscribers.import.unreadable', vars: { line } }]);
  }
}
