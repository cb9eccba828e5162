import type { TaskList } from 'graphile-worker';
import type { Deps } from '../deps';
import { runRssImport } from './rss-import';
import { pingWebSubHub } from './websub';

/** Feeds' background work for the job worker: the blog import, and the WebSub ping after each publication. */
export function feedTasks(deps: Deps): TaskList {
  return {
    rss_import: async () => {
      await runRssImport(deps);
    },
    websub_ping: async (payload) => {
      await pingWebSubHub(deps, (payload as { updateId: number }).updateId);
    },
  };
}

export const feedCrontab = ['*/15 * * * * rss_import ?max=1&jobKey=rss_import'];
