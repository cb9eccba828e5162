import { readFileSync } from 'node:fs';
import { Hono } from 'hono';
import type { Deps } from '../../deps';
import { AppError } from '../../errors';
import type { AppEnv } from '../context';
import { idParam } from '../middleware';

// The pages' small scripts, read once at start-up and served from memory.
const scripts = new Map(
  ['compose.js', 'progress.js'].map((name) => [name, readFileSync(new URL(`../../../templates/static/${name}`, import.meta.url), 'utf8')]),
);

export function assetRoutes(deps: Pick<Deps, 'db'>) {
  const app = new Hono<AppEnv>();

  app.get('/static/:name{[a-z]+\\.js}', (c) => {
    const script = scripts.get(c.req.param('name'));
    if (!script) throw new AppError('NOT_FOUND', 'No such script.');
    c.header('content-type', 'text/javascript; charset=utf-8');
    c.header('cache-control', 'public, max-age=300');
    return c.body(script);
  });

  /** An update's image: public once the update is published; staff see drafts' images too. */
  app.get('/images/:id', async (c) => {
    const id = idParam(c);
    let q = deps.db.selectFrom('images as i').select(['i.bytes', 'i.content_type', 'i.sha256']).where('i.id', '=', id);
    if (!c.get('staff')) {
      q = q.where((eb) => eb.exists(eb.selectFrom('updates as u').select('u.id').whereRef('u.image_id', '=', 'i.id').where('u.status', '=', 'published')));
    }
    const image = await q.executeTakeFirst();
    if (!image) throw new AppError('NOT_FOUND', 'No such image.');
    const etag = `"${image.sha256}"`;
    if (c.req.header('if-none-match') === etag) return c.body(null, 304);
    c.header('content-type', image.content_type);
    c.header('etag', etag);
    c.header('cache-control', c.get('staff') ? 'private, max-age=60' : 'public, max-age=86400');
    c.header('x-content-type-options', 'nosniff');
    return c.body(new Uint8Array(image.bytes));
  });

  return app;
}
