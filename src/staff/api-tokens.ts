import { insertAuditEntry } from '../db/audit';
import { findApiToken, findLiveTokenOwner, insertApiToken, revokeApiTokenRow, touchApiToken } from '../db/api-tokens';
import type { Staff } from '../db/schema';
import type { Deps } from '../deps';
import { AppError } from '../errors';
import { hashToken, newToken } from './tokens';
import { invalid } from './validate';

type D = Pick<Deps, 'db' | 'clock'>;

/** Recognisable in logs and secret scanners; the rest is 256 random bits. */
export const apiTokenPrefix = 'tocsin_';

/** Creates a token acting as `staff`. The token itself is returned once and only its hash is kept. */
export async function createApiToken(deps: D, staff: Staff, name: string, ip: string): Promise<{ id: number; token: string }> {
  const n = name.trim();
  if (!n) throw invalid([{ field: 'name', key: 'form.required', vars: { field: 'name' } }]);
  if (n.length > 100) throw invalid([{ field: 'name', key: 'form.tooLong', vars: { field: 'name', max: 100 } }]);
  const token = `${apiTokenPrefix}${newToken()}`;
  const id = await deps.db.transaction().execute(async (trx) => {
    const id = await insertApiToken(trx, { staffId: staff.id, name: n, tokenHash: hashToken(token), prefix: token.slice(0, apiTokenPrefix.length + 6), at: deps.clock.now() });
    await insertAuditEntry(trx, { staffId: staff.id, actor: staff.email, action: 'api_token.created', target: `api_token:${id}`, ip, detail: { name: n } });
    return id;
  });
  return { id, token };
}

/** The owner revokes their token; an admin revokes anyone's. */
export async function revokeApiToken(deps: D, staff: Staff, id: number, ip: string): Promise<void> {
  const token = await findApiToken(deps.db, id);
  if (!token) throw new AppError('NOT_FOUND', 'No such token.');
  if (token.staff_id !== staff.id && staff.role !== 'admin') throw new AppError('FORBIDDEN', 'Only its owner or an admin may revoke this token.');
  await deps.db.transaction().execute(async (trx) => {
    if (await revokeApiTokenRow(trx, id, deps.clock.now())) {
      await insertAuditEntry(trx, { staffId: staff.id, actor: staff.email, action: 'api_token.revoked', target: `api_token:${id}`, ip });
    }
  });
}

// Recording every use would write on every API call; a minute's precision is enough to tell a token is in use.
const touchEveryMs = 60_000;

/**
 * The staff member a bearer token acts as, with their role as it is now. Unknown, revoked, or owned by a
 * disabled account: null (the API answers 401 the same way for all three).
 */
export async function authenticateApiToken(deps: D, token: string): Promise<Staff | null> {
  if (!token.startsWith(apiTokenPrefix) || token.length > 200) return null;
  const found = await findLiveTokenOwner(deps.db, hashToken(token));
  if (!found || found.staff.disabled_at) return null;
  const now = deps.clock.now();
  if (!found.lastUsedAt || now.getTime() - found.lastUsedAt.getTime() >= touchEveryMs) await touchApiToken(deps.db, found.tokenId, now);
  return found.staff;
}
