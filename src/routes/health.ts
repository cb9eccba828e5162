import { Hono } from 'hono';
import { sql } from 'kysely';
import type { Deps } from '../deps';
import type { AppEnv } from './context';

export function healthRoutes(deps: Pick<Deps, 'db' | 'log'>) {
  const app = new Hono<AppEnv>();
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    try {
      // A stuck database must answer "not ready", not hang the probe.
      await Promise.race([
        sql`SELECT 1`.execute(deps.db),
        new Promise((_, reject) => setTimeout(() => reject(new Error('database did not answer within 2 s')), 2000).unref()),
      ]);
      return c.json({ status: 'ready' });
    } catch (err) {
      deps.log.warn('readiness check failed', { requestId: c.get('requestId'), error: (err as Error).message });
      return c.json({ status: 'unavailable', reason: 'database unreachable' }, 503);
    }
  });
  return app;
}
