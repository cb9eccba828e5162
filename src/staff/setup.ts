import { insertAuditEntry } from '../db/audit';
import { countActiveAdmins, findStaffByEmail, insertStaff } from '../db/staff';
import type { Staff } from '../db/schema';
import type { Deps } from '../deps';
import { AppError } from '../errors';
import { hashPassword } from './passwords';
import { hashToken, newToken } from './tokens';
import { checkEmail, checkName, checkNewPassword, invalid, type FieldError } from './validate';

/**
 * While no admin exists, each start replaces the setup link with a fresh one and
 * returns it for the console; once an admin exists there is none.
 */
export async function issueSetupTokenIfNoAdmin(deps: Pick<Deps, 'db' | 'clock'>): Promise<string | null> {
  return deps.db.transaction().execute(async (trx) => {
    if ((await countActiveAdmins(trx)) > 0) {
      await trx.deleteFrom('setup_tokens').execute();
      return null;
    }
    const token = newToken();
    await trx.deleteFrom('setup_tokens').execute();
    await trx.insertInto('setup_tokens').values({ token_hash: hashToken(token), created_at: deps.clock.now() }).execute();
    return token;
  });
}

export async function isSetupTokenValid(deps: Pick<Deps, 'db'>, token: string): Promise<boolean> {
  if (!token) return false;
  const row = await deps.db.selectFrom('setup_tokens').select('created_at').where('token_hash', '=', hashToken(token)).executeTakeFirst();
  return Boolean(row);
}

export interface NewAccountInput {
  email: string;
  name: string;
  password: string;
  password2: string;
}

/** Creates the first admin. The token is consumed in the same transaction, so it works exactly once. */
export async function completeSetup(
  deps: Pick<Deps, 'db' | 'clock' | 'config'>,
  token: string,
  input: NewAccountInput,
  ip: string,
): Promise<Staff> {
  const errors: FieldError[] = [];
  const email = checkEmail(input.email, errors);
  const name = checkName(input.name, errors);
  checkNewPassword(input.password, input.password2, deps.config.PASSWORD_MIN_LENGTH, errors);
  if (errors.length) throw invalid(errors);
  const passwordHash = await hashPassword(input.password);
  return deps.db.transaction().execute(async (trx) => {
    const consumed = await trx.deleteFrom('setup_tokens').where('token_hash', '=', hashToken(token)).returning('created_at').executeTakeFirst();
    if (!consumed || (await countActiveAdmins(trx)) > 0) throw new AppError('GONE', 'This setup link is not valid or has already been used.');
    if (await findStaffByEmail(trx, email)) throw invalid([{ field: 'email', key: 'form.emailTaken' }]);
    const staff = await insertStaff(trx, { email, name, password_hash: passwordHash, role: 'admin', language: null });
    await insertAuditEntry(trx, { staffId: staff.id, actor: email, action: 'setup.admin_created', target: email, ip });
    return staff;
  });
}
