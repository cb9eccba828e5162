import type { Task, TaskList } from 'graphile-worker';
import type { Deps } from '../deps';
import { addScanJob, webhookTaskNames } from './jobs';
import { scanWebhookSources } from './scan';
import { pruneWebhookEvents, resumeStalledWebhookDeliveries, sendWebhookDelivery } from './send';

export type WebhookTaskDeps = Pick<Deps, 'db' | 'config' | 'log' | 'clock'>;

/** While there is news, the scan runs again this soon; otherwise the crontab brings it back within a minute. */
export const rescanDelayMs = 5000;

/**
 * The tasks of outgoing webhooks, for startWorker(deps, pool, { tasks: webhookTasks(deps), crontab: webhookCrontab }).
 * - webhooks_scan: turns what is new in the source tables into events and deliveries, gives lost deliveries
 *   their job back, prunes old events;
 * - webhooks_send: one attempt of one delivery ({ deliveryId }).
 */
export function webhookTasks(deps: WebhookTaskDeps): TaskList {
  const scan: Task = async () => {
    const result = await scanWebhookSources(deps);
    await resumeStalledWebhookDeliveries(deps);
    await pruneWebhookEvents(deps);
    if (result.events || result.more || result.waiting.length) {
      await addScanJob(deps.db, new Date(Date.now() + rescanDelayMs));
    }
  };
  const send: Task = async (payload) => {
    const { deliveryId } = payload as { deliveryId: number };
    await sendWebhookDelivery(deps, deliveryId);
  };
  return { [webhookTaskNames.scan]: scan, [webhookTaskNames.send]: send };
}

/** Every minute, one scan at a time (the job key), not retried (the next minute's is the retry). */
export const webhookCrontab: string[] = [`* * * * * ${webhookTaskNames.scan} ?max=1&jobKey=${webhookTaskNames.scan}`];
