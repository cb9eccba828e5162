import type { TaskList } from 'graphile-worker';
import type { Deps } from '../deps';
import { sendReplyDigests } from './digest';

/** The inbox's scheduled work, for the job worker (src/fanout/worker.ts). */
export function replyTasks(deps: Pick<Deps, 'db' | 'clock' | 'config' | 'channels' | 'log'>): TaskList {
  return {
    replies_digest: async () => {
      await sendReplyDigests(deps);
    },
  };
}

export const replyCrontab = ['* * * * * replies_digest ?max=1&jobKey=replies_digest'];
