import { insertAuditEntry } from '../db/audit';
import { countRecentFailedLogins, insertLoginAttempt } from '../db/login-attempts';
import { findStaffByEmail } from '../db/staff';
import type { Staff } from '../db/schema';
import type { Deps } from '../deps';
import { AppError } from '../errors';
import { dummyHash, verifyPassword } from './passwords';
import { startSession } from './sessions';

export const loginWindowMinutes = 15;
export const maxFailuresPerIp = 20;
export const maxFailuresPerAccount = 5;

export type LoginResult =
  | { ok: true; staff: Staff; token: string }
  | { ok: false; reason: 'invalid' | 'disabled' }
  | { ok: false; reason: 'tooManyIp' | 'tooManyAccount'; retryInMinutes: number };

/**
 * Checks a password, throttled per IP and per account (failures in the last 15
 * minutes, counted in PostgreSQL so every process shares the count), and opens a
 * session. Every outcome lands in the audit log.
 */
export async function logIn(
  deps: Pick<Deps, 'db' | 'clock'>,
  input: { email: string; password: string; ip: string; userAgent: string | null },
): Promise<LoginResult> {
  const now = deps.clock.now();
  const email = input.email.trim().toLowerCase();
  const since = new Date(now.getTime() - loginWindowMinutes * 60_000);
  const recent = await countRecentFailedLogins(deps.db, input.ip, email, since);
  const waitFrom = (oldest: Date | null) =>
    Math.max(1, Math.ceil(((oldest ? new Date(oldest).getTime() : now.getTime()) + loginWindowMinutes * 60_000 - now.getTime()) / 60_000));
  if (recent.byIp >= maxFailuresPerIp) {
    await insertAuditEntry(deps.db, { staffId: null, actor: email, action: 'login.throttled', ip: input.ip, detail: { by: 'ip' } });
    return { ok: false, reason: 'tooManyIp', retryInMinutes: waitFrom(recent.oldestByIp) };
  }
  if (recent.byEmail >= maxFailuresPerAccount) {
    await insertAuditEntry(deps.db, { staffId: null, actor: email, action: 'login.throttled', ip: input.ip, detail: { by: 'account' } });
    return { ok: false, reason: 'tooManyAccount', retryInMinutes: waitFrom(recent.oldestByEmail) };
  }

  const staff = await findStaffByEmail(deps.db, email);
  const valid = await verifyPassword(input.password, staff?.password_hash ?? (await dummyHash()));
  const succeeded = Boolean(staff && valid && !staff.disabled_at);
  await insertLoginAttempt(deps.db, { at: now, ip: input.ip, email, succeeded });
  if (!staff || !valid) {
    await insertAuditEntry(deps.db, { staffId: staff?.id ?? null, actor: email, action: 'login.failed', ip: input.ip });
    return { ok: false, reason: 'invalid' };
  }
  if (staff.disabled_at) {
    await insertAuditEntry(deps.db, { staffId: staff.id, actor: email, action: 'login.refused_disabled', ip: input.ip });
    return { ok: false, reason: 'disabled' };
  }
  const token = await startSession(deps, staff.id, { ip: input.ip, userAgent: input.userAgent });
  await insertAuditEntry(deps.db, { staffId: staff.id, actor: staff.email, action: 'login', ip: input.ip });
  return { ok: true, staff, token };
}

export function requireRole(staff: Staff, ...roles: Staff['role'][]): void {
  if (!roles.includes(staff.role)) throw new AppError('FORBIDDEN', `This needs the role ${roles.join(' or ')}.`);
}
