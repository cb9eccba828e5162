import type { MessageKey, Translate } from '../i18n';
import { fieldErrorsOf } from '../staff/validate';

const labels: Record<string, MessageKey> = {
  email: 'common.email',
  name: 'common.name',
  password: 'common.password',
  role: 'common.role',
  language: 'common.language',
};

/** Field errors of an INVALID_INPUT error, in the page's language; null when `err` is something else. */
export function translatedFieldErrors(err: unknown, t: Translate): { field: string; message: string }[] | null {
  const errors = fieldErrorsOf(err);
  if (!errors) return null;
  return errors.map((e) => {
    const vars = { ...e.vars };
    if (typeof vars.field === 'string' && labels[vars.field]) vars.field = t(labels[vars.field]!);
    return { field: e.field, message: t(e.key, vars) };
  });
}

/** A notice named in a redirect's query string, shown only if it is one of ours. */
export function noticeFrom(query: string | undefined, t: Translate, allowed: readonly MessageKey[]): string | null {
  return query && (allowed as readonly string[]).includes(query) ? t(query as MessageKey) : null;
}
