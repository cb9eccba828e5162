/**
 * The Cloudflare Workers entry: configuration from the Worker's bindings, the
 * database through Hyperdrive. Migrations are applied beforehand with `npm run migrate`.
 */
import { createApp } from '../app';
import { buildChannels } from '../channels';
import { parseConfig } from '../config';
import { createDb } from '../db/connection';
import { systemClock, type Deps } from '../deps';
import { createLog } from '../log';
import { loadSecret } from '../secrets';

interface Env {
  HYPERDRIVE: { connectionString: string };
  [name: string]: unknown;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const vars = Object.fromEntries(Object.entries(env).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
    const config = parseConfig({ ...vars, DATABASE_URL: env.HYPERDRIVE.connectionString });
    // Hyperdrive pools connections itself; a Worker keeps one per request.
    const db = createDb(config.DATABASE_URL!, 1);
    try {
      const log = createLog(config.LOG_LEVEL, (line) => console.log(line));
      const deps: Deps = { db, config, clock: systemClock, log, channels: buildChannels(config, db, log), secret: await loadSecret(db, config.SECRET_KEY) };
      return await createApp(deps).fetch(request);
    } finally {
      await db.destroy();
    }
  },
};
