import { Hono } from 'hono';
import { listApiTokens } from '../../db/api-tokens';
import type { Deps } from '../../deps';
import type { MessageKey } from '../../i18n';
import { createApiToken, revokeApiToken } from '../../staff/api-tokens';
import { ApiTokensPage } from '../../../templates/pages/staff/api-tokens';
import type { AppContext, AppEnv } from '../context';
import { noticeFrom, translatedFieldErrors } from '../forms';
import { clientIp, idParam, readForm, requireStaff, uiOf } from '../middleware';

const notices: MessageKey[] = ['apiTokens.revoked'];

/** /staff/api-tokens: every staff member manages their own tokens; admins see and revoke everyone's. */
export function staffApiTokenRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
  app.use('*', requireStaff());

  const render = async (c: AppContext, extra: { created?: string; notice?: string | null; errors?: { field: string; message: string }[]; name?: string } = {}, status: 200 | 422 = 200) => {
    const staff = c.get('staff')!;
    const tokens = await listApiTokens(deps.db, staff.role === 'admin' ? {} : { staffId: staff.id });
    // The page may show a new token: no cache may keep it.
    c.header('cache-control', 'no-store');
    return c.html(<ApiTokensPage ui={uiOf(c, deps)} tokens={tokens} {...extra} />, status);
  };

  app.get('/', (c) => render(c, { notice: noticeFrom(c.req.query('notice'), c.get('t'), notices) }));

  // Answered with the page itself, not a redirect: the token must never travel in a URL.
  app.post('/', async (c) => {
    const form = await readForm(c);
    try {
      const { token } = await createApiToken(deps, c.get('staff')!, form.name ?? '', clientIp(c, deps));
      return render(c, { created: token });
    } catch (err) {
      const errors = translatedFieldErrors(err, c.get('t'));
      if (!errors) throw err;
      return render(c, { errors, name: form.name }, 422);
    }
  });

  app.post('/:id{[0-9]+}/revoke', async (c) => {
    await revokeApiToken(deps, c.get('staff')!, idParam(c), clientIp(c, deps));
    return c.redirect('/staff/api-tokens?notice=apiTokens.revoked', 303);
  });

  return app;
}
