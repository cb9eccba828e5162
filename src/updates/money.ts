import type { Language } from '../db/schema';

const currencies = new Set(Intl.supportedValuesOf('currency'));

export function isCurrency(code: string): boolean {
  return currencies.has(code);
}

/**
 * Reads an amount as people type it on a phone: "45200", "45 200", "45,200.50",
 * "45 200,50" (French). Returns a plain decimal string ("45200.5"), or null when it
 * is not a non-negative amount. Kept as a string: money never goes through a float.
 */
export function parseAmount(input: string): string | null {
  let s = input.trim().replace(/[\s\u00a0\u202f']/g, '');
  if (!/^\d[\d.,]*$/.test(s)) return null;
  const lastComma = s.lastIndexOf(',');
  const lastDot = s.lastIndexOf('.');
  let decimalSep: ',' | '.' | null = null;
  if (lastComma >= 0 && lastDot >= 0) decimalSep = lastComma > lastDot ? ',' : '.';
  else if (lastComma >= 0) decimalSep = /^\d{1,3}(,\d{3})+$/.test(s) ? null : ',';
  else if (lastDot >= 0) decimalSep = /^\d{1,3}(\.\d{3})+$/.test(s) && (s.match(/\./g)?.length ?? 0) > 1 ? null : '.';
  const [intPart, frac = ''] = decimalSep ? [s.slice(0, s.lastIndexOf(decimalSep)), s.slice(s.lastIndexOf(decimalSep) + 1)] : [s, ''];
  // Separators left in the whole part must group thousands: "1,2,3,4" is a typo, not 1234.
  if (!/^\d+$/.test(intPart) && !/^\d{1,3}([.,]\d{3})+$/.test(intPart)) return null;
  const digits = intPart.replace(/[.,]/g, '');
  if (!/^\d{1,12}$/.test(digits) || !/^\d{0,2}$/.test(frac)) return null;
  s = String(BigInt(digits));
  const cents = frac.replace(/0+$/, '');
  return cents ? `${s}.${cents}` : s;
}

const locales: Record<Language, string> = { en: 'en-US', fr: 'fr-FR' };

/** fr: « 45 200 € », en: "€45,200"; cents only when there are some. */
export function formatMoney(amount: string | number, currency: string, lang: Language): string {
  const n = Number(amount);
  return new Intl.NumberFormat(locales[lang], {
    style: 'currency',
    currency,
    minimumFractionDigits: Number.isInteger(n) ? 0 : 2,
    maximumFractionDigits: Number.isInteger(n) ? 0 : 2,
  }).format(n);
}

export function formatCount(n: number, lang: Language): string {
  return new Intl.NumberFormat(locales[lang]).format(n);
}

/** Whole percent, floored so 99.6 % never reads as "100 %" before the goal is met. */
export function formatPercent(raised: string, goal: string, lang: Language): string | null {
  const g = Number(goal);
  if (!(g > 0)) return null;
  return new Intl.NumberFormat(locales[lang], { style: 'percent', maximumFractionDigits: 0 }).format(Math.floor((Number(raised) / g) * 100) / 100);
}

export function formatDateTime(d: Date, lang: Language, timeZone = 'UTC'): string {
  return new Intl.DateTimeFormat(locales[lang], { dateStyle: 'medium', timeStyle: 'short', timeZone }).format(d);
}
