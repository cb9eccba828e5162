import { deleteSession, findSessionByTokenHash, insertSession, touchSession } from '../db/sessions';
import type { Staff } from '../db/schema';
import type { Deps } from '../deps';
import { hashToken, newToken } from './tokens';

export interface CurrentStaff {
  staff: Staff;
  sessionId: number;
}

export async function startSession(
  deps: Pick<Deps, 'db' | 'clock'>,
  staffId: number,
  meta: { ip: string | null; userAgent: string | null },
): Promise<string> {
  const token = newToken();
  await insertSession(deps.db, {
    token_hash: hashToken(token),
    staff_id: staffId,
    at: deps.clock.now(),
    ip: meta.ip,
    user_agent: meta.userAgent?.slice(0, 300) ?? null,
  });
  return token;
}

// Writing last_seen_at on every request would turn each page view into a write.
const touchEveryMs = 60_000;

/**
 * The staff member behind a session cookie, or why there is none: `expired` when
 * the session passed its idle or absolute limit (it is deleted), `none` otherwise.
 */
export async function resolveSession(
  deps: Pick<Deps, 'db' | 'clock' | 'config'>,
  token: string,
): Promise<CurrentStaff | 'expired' | 'none'> {
  const found = await findSessionByTokenHash(deps.db, hashToken(token));
  if (!found) return 'none';
  const now = deps.clock.now().getTime();
  const idleMs = deps.config.SESSION_IDLE_MINUTES * 60_000;
  const maxMs = deps.config.SESSION_MAX_HOURS * 3_600_000;
  if (found.staff.disabled_at || now - found.lastSeenAt.getTime() > idleMs || now - found.createdAt.getTime() > maxMs) {
    await deleteSession(deps.db, found.sessionId);
    return 'expired';
  }
  if (now - found.lastSeenAt.getTime() > touchEveryMs) await touchSession(deps.db, found.sessionId, new Date(now));
  return { staff: found.staff, sessionId: found.sessionId };
}

export async function endSession(deps: Pick<Deps, 'db'>, sessionId: number): Promise<void> {
  await deleteSession(deps.db, sessionId);
}
