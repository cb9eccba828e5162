import type { MessageKey } from '../i18n';
import type { Role } from '../db/schema';
import { AppError } from '../errors';

export interface FieldError {
  field: string;
  key: MessageKey;
  vars?: Record<string, string | number>;
}

/** Input errors travel as message keys, so each form shows them in its own language. */
export function invalid(errors: FieldError[]): AppError {
  return new AppError('INVALID_INPUT', errors.map((e) => `${e.field}: ${e.key}`).join('; '), { errors });
}

export function fieldErrorsOf(err: unknown): FieldError[] | null {
  if (err instanceof AppError && err.code === 'INVALID_INPUT' && Array.isArray(err.details?.errors)) {
    return err.details.errors as FieldError[];
  }
  return null;
}

// Deliberately loose: one @, something on each side, a dot in the domain. Confirmation mail is the real test.
const emailPattern = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export const roles = ['admin', 'approver', 'author'] as const satisfies readonly Role[];
export function isRole(v: unknown): v is Role {
  return typeof v === 'string' && (roles as readonly string[]).includes(v);
}

export function checkEmail(email: string, errors: FieldError[]): string {
  const e = email.trim().toLowerCase();
  if (!e) errors.push({ field: 'email', key: 'form.required', vars: { field: 'email' } });
  else if (e.length > 254 || !emailPattern.test(e)) errors.push({ field: 'email', key: 'form.emailInvalid' });
  return e;
}

export function checkName(name: string, errors: FieldError[]): string {
  const n = name.trim();
  if (!n) errors.push({ field: 'name', key: 'form.required', vars: { field: 'name' } });
  else if (n.length > 100) errors.push({ field: 'name', key: 'form.tooLong', vars: { field: 'name', max: 100 } });
  return n;
}

export function checkNewPassword(password: string, confirm: string, min: number, errors: FieldError[], field = 'password'): void {
  // Length in characters as people count them, not UTF-16 code units.
  const length = [...password].length;
  if (length < min) errors.push({ field, key: 'form.passwordTooShort', vars: { min } });
  else if (length > 256) errors.push({ field, key: 'form.tooLong', vars: { field, max: 256 } });
  else if (password !== confirm) errors.push({ field: `${field}2`, key: 'form.passwordMismatch' });
}
