import type { Transaction } from 'kysely';
import type { Database } from '../db/schema';
import type { Deps } from '../deps';
import { materialiseDeliveries } from '../fanout/materialise';

/**
 * Runs inside the transaction that makes an update public: the fan-out's delivery
 * rows and jobs exist exactly when the publication does.
 */
export async function handOverToFanout(deps: Pick<Deps, 'channels'>, trx: Transaction<Database>, updateId: number): Promise<void> {
  await materialiseDeliveries(deps, trx, updateId);
}
