import { insertAuditEntry } from '../db/audit';
import { findStaffByEmail, insertStaff } from '../db/staff';
import type { Role, Staff, StaffInvite } from '../db/schema';
import type { Deps } from '../deps';
import { AppError } from '../errors';
import { hashPassword } from './passwords';
import { hashToken, newToken } from './tokens';
import { checkEmail, checkName, checkNewPassword, invalid, isRole, type FieldError } from './validate';

export async function createInvite(
  deps: Pick<Deps, 'db' | 'clock' | 'config'>,
  admin: Staff,
  input: { email: string; role: string },
  ip: string,
): Promise<{ token: string; email: string; expiresAt: Date }> {
  const errors: FieldError[] = [];
  const email = checkEmail(input.email, errors);
  if (!isRole(input.role)) errors.push({ field: 'role', key: 'form.invalidChoice', vars: { field: 'role' } });
  if (!errors.length && (await findStaffByEmail(deps.db, email))) errors.push({ field: 'email', key: 'form.emailTaken' });
  if (errors.length) throw invalid(errors);
  const token = newToken();
  const now = deps.clock.now();
  const expiresAt = new Date(now.getTime() + deps.config.INVITE_TTL_HOURS * 3_600_000);
  await deps.db.transaction().execute(async (trx) => {
    await trx
      .insertInto('staff_invites')
      .values({ token_hash: hashToken(token), email, role: input.role as Role, invited_by: admin.id, created_at: now, expires_at: expiresAt })
      .execute();
    await insertAuditEntry(trx, { staffId: admin.id, actor: admin.email, action: 'staff.invited', target: email, ip, detail: { role: input.role } });
  });
  return { token, email, expiresAt };
}

export async function findUsableInvite(deps: Pick<Deps, 'db' | 'clock'>, token: string): Promise<StaffInvite | undefined> {
  if (!token) return undefined;
  return deps.db
    .selectFrom('staff_invites')
    .selectAll()
    .where('token_hash', '=', hashToken(token))
    .where('accepted_at', 'is', null)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', deps.clock.now())
    .executeTakeFirst();
}

export function listPendingInvites(deps: Pick<Deps, 'db' | 'clock'>): Promise<StaffInvite[]> {
  return deps.db
    .selectFrom('staff_invites')
    .selectAll()
    .where('accepted_at', 'is', null)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', deps.clock.now())
    .orderBy('created_at', 'desc')
    .execute();
}

/** Creates the account; the invite is claimed in the same transaction, so a link works once. */
export async function acceptInvite(
  deps: Pick<Deps, 'db' | 'clock' | 'config'>,
  token: string,
  input: { name: string; password: string; password2: string },
  ip: string,
): Promise<Staff> {
  const errors: FieldError[] = [];
  const name = checkName(input.name, errors);
  checkNewPassword(input.password, input.password2, deps.config.PASSWORD_MIN_LENGTH, errors);
  if (errors.length) throw invalid(errors);
  const passwordHash = await hashPassword(input.password);
  const now = deps.clock.now();
  return deps.db.transaction().execute(async (trx) => {
    const invite = await trx
      .updateTable('staff_invites')
      .set({ accepted_at: now })
      .where('token_hash', '=', hashToken(token))
      .where('accepted_at', 'is', null)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', now)
      .returningAll()
      .executeTakeFirst();
    if (!invite) throw new AppError('GONE', 'This invitation is not valid, has expired or has already been used.');
    if (await findStaffByEmail(trx, invite.email)) throw invalid([{ field: 'email', key: 'form.emailTaken' }]);
    const staff = await insertStaff(trx, { email: invite.email, name, password_hash: passwordHash, role: invite.role, language: null });
    await insertAuditEntry(trx, { staffId: staff.id, actor: staff.email, action: 'staff.invite_accepted', target: staff.email, ip, detail: { role: staff.role } });
    return staff;
  });
}

export async function revokeInvite(deps: Pick<Deps, 'db' | 'clock'>, admin: Staff, inviteId: number, ip: string): Promise<void> {
  await deps.db.transaction().execute(async (trx) => {
    const invite = await trx
      .updateTable('staff_invites')
      .set({ revoked_at: deps.clock.now() })
      .where('id', '=', inviteId)
      .where('accepted_at', 'is', null)
      .where('revoked_at', 'is', null)
      .returning('email')
      .executeTakeFirst();
    if (!invite) throw new AppError('NOT_FOUND', 'No pending invitation with this id.');
    await insertAuditEntry(trx, { staffId: admin.id, actor: admin.email, action: 'staff.invite_revoked', target: invite.email, ip });
  });
}
