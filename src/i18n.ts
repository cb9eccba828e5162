import { en, fr, type MessageKey } from '../templates/i18n';
import type { Language } from './db/schema';

export type { MessageKey };
export const languages = ['en', 'fr'] as const satisfies readonly Language[];
const catalogues: Record<Language, Record<MessageKey, string>> = { en, fr };

export type Translate = (key: MessageKey, vars?: Record<string, string | number>) => string;

export function translator(lang: Language): Translate {
  const catalogue = catalogues[lang];
  return (key, vars) =>
    catalogue[key].replace(/\{(\w+)\}/g, (whole, name: string) => (vars && name in vars ? String(vars[name]) : whole));
}

export function isLanguage(v: unknown): v is Language {
  return v === 'en' || v === 'fr';
}

/** The best of our languages for an Accept-Language header, by the header's q-values. */
export function negotiateLanguage(header: string | undefined, fallback: Language): Language {
  if (!header) return fallback;
  const ranked = header
    .split(',')
    .map((part) => {
      const [tag, ...params] = part.trim().split(';');
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      return { lang: tag!.trim().slice(0, 2).toLowerCase(), q: q ? Number(q.slice(2)) || 0 : 1 };
    })
    .filter((x) => x.q > 0)
    .sort((a, b) => b.q - a.q);
  return ranked.find((x) => isLanguage(x.lang))?.lang as Language | undefined ?? fallback;
}
