import { isSupportedCountry, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';

/**
 * A phone number in E.164 (+33612345678), or null when it is not a valid number. Numbers written without a `+`
 * are read as numbers of `defaultCountry` (DEFAULT_COUNTRY): "06 12 34 56 78" in France is +33612345678, and the
 * country's own international prefix works too ("0033…" in France, "011…" in the US).
 */
export function normalizePhone(input: string, defaultCountry: string): string | null {
  const text = input.trim();
  if (!text || text.length > 40) return null;
  const country = isSupportedCountry(defaultCountry) ? (defaultCountry as CountryCode) : undefined;
  const parsed = parsePhoneNumberFromString(text, country);
  return parsed?.isValid() ? parsed.number : null;
}
