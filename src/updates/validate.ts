import type { CampaignWithKeywords } from '../db/campaigns';
import type { Language, Need, Urgency } from '../db/schema';
import { invalid, type FieldError } from '../staff/validate';
import { isCurrency, parseAmount } from './money';

/** What a form or the API sends for an update: strings, as typed. */
export interface UpdateInput {
  leads: Partial<Record<Language, string>>;
  needs: { item?: string; quantity?: string; unit?: string; urgency?: string; met?: boolean }[];
  raised?: string;
  goal?: string;
  currency?: string;
  donors?: string;
  /** ISO 8601, or the `YYYY-MM-DDTHH:mm` of a datetime-local field (read in TIMEZONE). */
  asOf?: string;
  link?: string;
  imageAlt?: string;
}

export interface ValidUpdate {
  leads: Partial<Record<Language, string>>;
  needs: Need[];
  raised: string | null;
  goal: string | null;
  currency: string | null;
  donors: number | null;
  asOf: Date | null;
  link: string | null;
  imageAlt: string | null;
}

/** Hard limits: beyond these no channel can carry the update sensibly, even as a thread. */
export const limits = { lead: 1000, needs: 12, item: 60, unit: 20, quantity: 1_000_000_000, donors: 100_000_000, alt: 1000, link: 2000 };
const urgencies: Urgency[] = ['critical', 'high', 'normal'];

/**
 * Checks an update against its campaign. `complete` (submitting, publishing) also
 * requires a lead in every campaign language; a draft needs only the first one.
 */
export function validateUpdate(input: UpdateInput, campaign: CampaignWithKeywords, opts: { complete: boolean; hasImage: boolean; timeZone: string }): ValidUpdate {
  const errors: FieldError[] = [];
  const leads: Partial<Record<Language, string>> = {};
  campaign.languages.forEach((lang, i) => {
    const lead = (input.leads[lang] ?? '').replace(/\r\n?/g, '\n').trim();
    const field = `lead_${lang}`;
    if (!lead) {
      if (i === 0 || opts.complete) errors.push({ field, key: 'update.leadRequired', vars: { language: lang.toUpperCase() } });
    } else if ([...lead].length > limits.lead) {
      errors.push({ field, key: 'update.leadTooLong', vars: { language: lang.toUpperCase(), max: limits.lead, length: [...lead].length } });
    } else leads[lang] = lead;
  });

  const needs: Need[] = [];
  const rows = input.needs.filter((n) => (n.item ?? '').trim() || (n.quantity ?? '').trim() || (n.unit ?? '').trim());
  if (rows.length > limits.needs) errors.push({ field: 'needs', key: 'update.tooManyNeeds', vars: { max: limits.needs } });
  rows.slice(0, limits.needs).forEach((n, i) => {
    const row = i + 1;
    const item = (n.item ?? '').trim();
    const unit = (n.unit ?? '').trim();
    if (!item) errors.push({ field: `needs.${i}.item`, key: 'update.needItemRequired', vars: { row } });
    else if (item.length > limits.item) errors.push({ field: `needs.${i}.item`, key: 'update.needTooLong', vars: { row, max: limits.item } });
    if (unit.length > limits.unit) errors.push({ field: `needs.${i}.unit`, key: 'update.needTooLong', vars: { row, max: limits.unit } });
    let quantity: number | null = null;
    const q = (n.quantity ?? '').trim();
    if (q) {
      const parsed = parseAmount(q);
      if (parsed === null || !/^\d+$/.test(parsed) || Number(parsed) > limits.quantity) errors.push({ field: `needs.${i}.quantity`, key: 'update.needQuantityInvalid', vars: { row } });
      else quantity = Number(parsed);
    }
    const urgency = (n.urgency || 'normal') as Urgency;
    if (!urgencies.includes(urgency)) errors.push({ field: `needs.${i}.urgency`, key: 'form.invalidChoice', vars: { field: 'urgency' } });
    needs.push({ item, quantity, unit: unit || null, urgency, met: Boolean(n.met) });
  });

  const amount = (field: 'raised' | 'goal') => {
    const raw = (input[field] ?? '').trim();
    if (!raw) return null;
    const v = parseAmount(raw);
    if (v === null) errors.push({ field, key: 'update.amountInvalid', vars: { field } });
    return v;
  };
  const raised = amount('raised');
  const goal = amount('goal');
  const currencyRaw = (input.currency ?? '').trim().toUpperCase();
  let currency: string | null = currencyRaw || null;
  if (currency && !isCurrency(currency)) {
    errors.push({ field: 'currency', key: 'update.currencyInvalid', vars: { currency: currencyRaw } });
    currency = null;
  }
  let donors: number | null = null;
  const donorsRaw = (input.donors ?? '').trim();
  if (donorsRaw) {
    const v = parseAmount(donorsRaw);
    if (v === null || !/^\d+$/.test(v) || Number(v) > limits.donors) errors.push({ field: 'donors', key: 'update.donorsInvalid' });
    else donors = Number(v);
  }
  let asOf: Date | null = null;
  const asOfRaw = (input.asOf ?? '').trim();
  if (asOfRaw) {
    asOf = parseDateTime(asOfRaw, opts.timeZone);
    if (!asOf) errors.push({ field: 'asOf', key: 'update.asOfInvalid' });
  }
  if (raised !== null && !currency) currency = campaign.currency;
  // A goal with nothing raised yet is normal on day one; donors without an amount is not.
  if (donors !== null && raised === null) errors.push({ field: 'raised', key: 'update.raisedRequired' });

  let link: string | null = (input.link ?? '').trim() || null;
  if (link && (!/^https?:\/\/[^\s<>"]+$/.test(link) || link.length > limits.link)) {
    errors.push({ field: 'link', key: 'form.urlInvalid' });
    link = null;
  }
  const imageAlt = (input.imageAlt ?? '').trim() || null;
  if (opts.hasImage && !imageAlt) errors.push({ field: 'imageAlt', key: 'update.altRequired' });
  if (imageAlt && imageAlt.length > limits.alt) errors.push({ field: 'imageAlt', key: 'form.tooLong', vars: { field: 'imageAlt', max: limits.alt } });

  if (errors.length) throw invalid(errors);
  return { leads, needs, raised, goal, currency, donors, asOf, link, imageAlt };
}

/** An ISO date-time, or a datetime-local value read as wall-clock time in `timeZone`. */
export function parseDateTime(raw: string, timeZone: string): Date | null {
  if (/[zZ]|[+-]\d\d:?\d\d$/.test(raw)) {
    const d = new Date(raw);
    return Number.isNaN(d.getTime()) ? null : d;
  }
  const m = raw.match(/^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?$/);
  if (!m) return null;
  const [, y, mo, d, h, mi, s] = m.map((x) => Number(x ?? 0)) as number[];
  const asUtc = Date.UTC(y!, mo! - 1, d!, h!, mi!, s ?? 0);
  if (Number.isNaN(asUtc) || new Date(asUtc).getUTCDate() !== d) return null;
  // The zone's offset at that moment, found by formatting the UTC guess in the zone.
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
      .formatToParts(new Date(asUtc))
      .map((p) => [p.type, p.value]),
  );
  const shown = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  return new Date(asUtc - (shown - asUtc));
}

/** The datetime-local value (`YYYY-MM-DDTHH:mm`) of a date in `timeZone`, to prefill a form. */
export function toDateTimeLocal(d: Date, timeZone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' })
      .formatToParts(d)
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
}
