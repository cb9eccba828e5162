import { insertAuditEntry } from '../db/audit';
import { deleteSessionsOfStaff } from '../db/sessions';
import { countActiveAdmins, findStaffById, lockStaffTable, setStaffDisabled, updateStaffLanguage, updateStaffPassword, updateStaffRole } from '../db/staff';
import type { Language, Staff } from '../db/schema';
import type { Deps } from '../deps';
import { AppError } from '../errors';
import { isLanguage } from '../i18n';
import { hashPassword, verifyPassword } from './passwords';
import { checkNewPassword, invalid, isRole, type FieldError } from './validate';

export async function changeRole(deps: Pick<Deps, 'db'>, admin: Staff, staffId: number, role: string, ip: string): Promise<void> {
  if (!isRole(role)) throw invalid([{ field: 'role', key: 'form.invalidChoice', vars: { field: 'role' } }]);
  await deps.db.transaction().execute(async (trx) => {
    await lockStaffTable(trx);
    const target = await findStaffById(trx, staffId);
    if (!target) throw new AppError('NOT_FOUND', 'No staff member with this id.');
    if (target.role === role) return;
    if (target.role === 'admin' && !target.disabled_at && (await countActiveAdmins(trx)) <= 1) {
      throw invalid([{ field: 'role', key: 'team.lastAdmin' }]);
    }
    await updateStaffRole(trx, staffId, role);
    await insertAuditEntry(trx, { staffId: admin.id, actor: admin.email, action: 'staff.role_changed', target: target.email, ip, detail: { from: target.role, to: role } });
  });
}

export async function setDisabled(deps: Pick<Deps, 'db' | 'clock'>, admin: Staff, staffId: number, disabled: boolean, ip: string): Promise<void> {
  if (disabled && staffId === admin.id) throw invalid([{ field: 'staff', key: 'team.notYourself' }]);
  await deps.db.transaction().execute(async (trx) => {
    await lockStaffTable(trx);
    const target = await findStaffById(trx, staffId);
    if (!target) throw new AppError('NOT_FOUND', 'No staff member with this id.');
    if (Boolean(target.disabled_at) === disabled) return;
    if (disabled && target.role === 'admin' && (await countActiveAdmins(trx)) <= 1) throw invalid([{ field: 'staff', key: 'team.lastAdmin' }]);
    await setStaffDisabled(trx, staffId, disabled ? deps.clock.now() : null);
    // A disabled account must lose access at once, not when its cookie expires.
    if (disabled) await deleteSessionsOfStaff(trx, staffId);
    await insertAuditEntry(trx, { staffId: admin.id, actor: admin.email, action: disabled ? 'staff.disabled' : 'staff.enabled', target: target.email, ip });
  });
}

export async function setMyLanguage(deps: Pick<Deps, 'db'>, me: Staff, language: string): Promise<Language | null> {
  const value = language === '' ? null : language;
  if (value !== null && !isLanguage(value)) throw invalid([{ field: 'language', key: 'form.invalidChoice', vars: { field: 'language' } }]);
  await updateStaffLanguage(deps.db, me.id, value);
  return value;
}

export async function changeMyPassword(
  deps: Pick<Deps, 'db' | 'config'>,
  me: Staff,
  sessionId: number,
  input: { current: string; password: string; password2: string },
  ip: string,
): Promise<void> {
  const errors: FieldError[] = [];
  if (!(await verifyPassword(input.current, me.password_hash))) errors.push({ field: 'current', key: 'account.wrongPassword' });
  checkNewPassword(input.password, input.password2, deps.config.PASSWORD_MIN_LENGTH, errors);
  if (errors.length) throw invalid(errors);
  const hash = await hashPassword(input.password);
  await deps.db.transaction().execute(async (trx) => {
    await updateStaffPassword(trx, me.id, hash);
    // Someone who learnt the old password keeps no session opened with it.
    await deleteSessionsOfStaff(trx, me.id, sessionId);
    await insertAuditEntry(trx, { staffId: me.id, actor: me.email, action: 'staff.password_changed', target: me.email, ip });
  });
}
