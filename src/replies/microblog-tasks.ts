import type { TaskList } from 'graphile-worker';
import { pollMicroblogReplies, refreshPostMetrics, type MicroblogDeps } from './microblog';

/** Task names of the job runner (graphile-worker). */
export const microblogTaskNames = {
  poll: 'microblog_poll_replies',
  metrics: 'microblog_refresh_metrics',
} as const;

/**
 * Failures are recorded per network in poll_cursors and logged there; the task itself never fails, since the next
 * scheduled run is the retry (and a failed run would otherwise be retried beside it).
 */
export function microblogTasks(deps: MicroblogDeps): TaskList {
  return {
    [microblogTaskNames.poll]: async () => {
      await pollMicroblogReplies(deps);
    },
    [microblogTaskNames.metrics]: async () => {
      await refreshPostMetrics(deps);
    },
  };
}

/** Mentions every minute, counts every 10 minutes; the job key keeps one of each queued. */
export const microblogCrontab: string[] = [
  `* * * * * ${microblogTaskNames.poll} ?max=1&jobKey=${microblogTaskNames.poll}`,
  `*/10 * * * * ${microblogTaskNames.metrics} ?max=1&jobKey=${microblogTaskNames.metrics}`,
];
