import { Hono } from 'hono';
import type { Deps } from '../../deps';
import { PublicHomePage } from '../../../templates/pages/public/home';
import type { AppEnv } from '../context';
import { uiOf } from '../middleware';

export function publicRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
  app.get('/', (c) => c.html(<PublicHomePage ui={uiOf(c, deps)} />));
  return app;
}
