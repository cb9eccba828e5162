import { Logger, run, runMigrations, type Runner, type Task, type TaskList } from 'graphile-worker';
import type pg from 'pg';
import type { DeliveryChannel } from '../db/schema-fanout';
import type { Log } from '../log';
import { drainDeliveries, type FanoutDeps } from './dispatch';
import { addJob, drainJobKey, tasks } from './jobs';
import { sendPost } from './posts';
import { sweepStalledWork } from './sweep';

/** graphile-worker's own tables (schema graphile_worker), applied beside ours at start-up. */
export async function migrateJobQueue(pool: pg.Pool): Promise<void> {
  await runMigrations({ pgPool: pool, logger: quietLogger });
}

const quietLogger = new Logger(() => () => {});

function loggerFor(log: Log): Logger {
  return new Logger((scope) => (level, message, meta) => {
    const fields = { worker: scope.workerId, task: scope.taskIdentifier, jobId: scope.jobId, ...meta };
    if (level === 'error') log.error(message, fields);
    else if (level === 'warning') log.warn(message, fields);
    else if (level === 'info') log.debug(message, fields);
  });
}

export function fanoutTasks(deps: FanoutDeps): TaskList {
  const drain: Task = async (payload) => {
    const { updateId, channel, slot } = payload as { updateId: number; channel: DeliveryChannel; slot: number };
    const result = await drainDeliveries(deps, { updateId, channel });
    // The time budget ran out with work left: the same slot continues in a fresh job,
    // so a dead worker holds at most a minute of progress.
    if (result.more) await addJob(deps.db, tasks.drain, { updateId, channel, slot }, { jobKey: drainJobKey(updateId, channel, slot) });
  };
  return {
    [tasks.drain]: drain,
    [tasks.post]: async (payload) => {
      await sendPost(deps, (payload as { postId: number }).postId);
    },
    [tasks.sweep]: async () => {
      await sweepStalledWork(deps);
    },
  };
}

/**
 * The job worker: inside `npm start`, or alone with `npm run worker`, on as many
 * machines as wanted; they share the work through PostgreSQL.
 */
export async function startWorker(
  deps: FanoutDeps,
  pool: pg.Pool,
  extra: { tasks?: TaskList; crontab?: string[] } = {},
): Promise<Runner> {
  await sweepStalledWork(deps);
  return run({
    pgPool: pool,
    concurrency: deps.config.WORKER_CONCURRENCY,
    noHandleSignals: true,
    pollInterval: 2000,
    logger: loggerFor(deps.log),
    taskList: { ...fanoutTasks(deps), ...extra.tasks },
    crontab: [`* * * * * ${tasks.sweep} ?max=1&jobKey=${tasks.sweep}`, ...(extra.crontab ?? [])].join('\n'),
  });
}
