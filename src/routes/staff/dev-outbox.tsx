import { Hono } from 'hono';
import type { Deps } from '../../deps';
import { DevOutboxPage } from '../../../templates/pages/staff/progress';
import type { AppEnv } from '../context';
import { requireStaff, uiOf } from '../middleware';

/** /dev/outbox: what the dev adapters "sent", newest first, for channels with no provider configured. */
export function devOutboxRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
  app.use('*', requireStaff());
  app.get('/outbox', async (c) => {
    const entries = await deps.db.selectFrom('dev_outbox').selectAll().orderBy('id', 'desc').limit(200).execute();
    return c.html(<DevOutboxPage ui={uiOf(c, deps)} entries={entries} />);
  });
  return app;
}
