import type { Transaction } from 'kysely';
import type { Database } from '../db/schema';
import type { Deps } from '../deps';
import { addJob } from '../fanout/jobs';
import { materialiseDeliveries } from '../fanout/materialise';

/**
 * Runs inside the transaction that makes an update public: the fan-out's delivery
 * rows and jobs, and the WebSub ping, exist exactly when the publication does.
 */
export async function handOverToFanout(deps: Pick<Deps, 'channels'>, trx: Transaction<Database>, updateId: number): Promise<void> {
  await materialiseDeliveries(deps, trx, updateId);
  // A job, so the hub is told only once the publication is committed, and told again if it was down.
  await addJob(trx, 'websub_ping', { updateId }, { jobKey: `websub:${updateId}`, maxAttempts: 5 });
}
