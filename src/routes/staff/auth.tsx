import { Hono } from 'hono';
import { deleteCookie, setCookie } from 'hono/cookie';
import type { Deps } from '../../deps';
import { AppError } from '../../errors';
import { acceptInvite, findUsableInvite } from '../../staff/invites';
import { logIn } from '../../staff/login';
import { endSession, startSession } from '../../staff/sessions';
import { completeSetup, isSetupTokenValid } from '../../staff/setup';
import { InvitePage, LoginPage, MessagePage, SetupPage } from '../../../templates/pages/staff/auth';
import type { AppEnv } from '../context';
import { translatedFieldErrors } from '../forms';
import { clientIp, cookieOptions, readForm, sessionCookie, uiOf } from '../middleware';

/** Only paths inside Tocsin's staff area, so `next` can never send someone to another site. */
function safeNext(next: string | undefined): string {
  return next && /^\/staff(\/|$|\?)/.test(next) && !next.startsWith('//') ? next : '/staff';
}

export function authRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
  const min = deps.config.PASSWORD_MIN_LENGTH;

  app.get('/login', (c) => {
    if (c.get('staff')) return c.redirect(safeNext(c.req.query('next')), 303);
    const t = c.get('t');
    const notice = c.req.query('expired') || c.get('sessionExpired') ? t('login.expired') : c.req.query('out') ? t('logout.done') : null;
    return c.html(<LoginPage ui={uiOf(c, deps)} notice={notice} next={c.req.query('next')} />);
  });

  app.post('/login', async (c) => {
    const form = await readForm(c);
    const t = c.get('t');
    const email = (form.email ?? '').trim();
    const result = await logIn(deps, {
      email,
      password: form.password ?? '',
      ip: clientIp(c, deps),
      userAgent: c.req.header('user-agent') ?? null,
    });
    if (result.ok) {
      setCookie(c, sessionCookie, result.token, { ...cookieOptions(deps), maxAge: deps.config.SESSION_MAX_HOURS * 3600 });
      return c.redirect(safeNext(form.next), 303);
    }
    let message: string;
    let status: 401 | 429 = 401;
    if (result.reason === 'tooManyIp' || result.reason === 'tooManyAccount') {
      message = t(result.reason === 'tooManyIp' ? 'login.tooManyIp' : 'login.tooManyAccount', { minutes: result.retryInMinutes });
      status = 429;
      c.header('Retry-After', String(result.retryInMinutes * 60));
    } else {
      message = t(result.reason === 'invalid' ? 'login.invalid' : 'login.disabled');
    }
    return c.html(<LoginPage ui={uiOf(c, deps)} email={email} next={form.next} errors={[{ field: 'form', message }]} />, status);
  });

  app.post('/logout', async (c) => {
    const sessionId = c.get('sessionId');
    if (sessionId) await endSession(deps, sessionId);
    deleteCookie(c, sessionCookie, cookieOptions(deps));
    return c.redirect('/login?out=1', 303);
  });

  app.get('/setup', async (c) => {
    const token = c.req.query('token') ?? '';
    const ui = uiOf(c, deps);
    if (!(await isSetupTokenValid(deps, token))) return c.html(<MessagePage ui={ui} title={ui.t('setup.title')} message={ui.t('setup.invalid')} />, 404);
    return c.html(<SetupPage ui={ui} token={token} min={min} />);
  });

  app.post('/setup', async (c) => {
    const form = await readForm(c);
    const ui = uiOf(c, deps);
    const ip = clientIp(c, deps);
    try {
      const staff = await completeSetup(deps, form.token ?? '', {
        email: form.email ?? '',
        name: form.name ?? '',
        password: form.password ?? '',
        password2: form.password2 ?? '',
      }, ip);
      const token = await startSession(deps, staff.id, { ip, userAgent: c.req.header('user-agent') ?? null });
      setCookie(c, sessionCookie, token, { ...cookieOptions(deps), maxAge: deps.config.SESSION_MAX_HOURS * 3600 });
      deps.log.info('first admin created', { staffId: staff.id });
      return c.redirect('/staff?notice=home.setupDone', 303);
    } catch (err) {
      if (err instanceof AppError && err.code === 'GONE') {
        return c.html(<MessagePage ui={ui} title={ui.t('setup.title')} message={ui.t('setup.invalid')} />, 410);
      }
      const errors = translatedFieldErrors(err, ui.t);
      if (!errors) throw err;
      return c.html(<SetupPage ui={ui} token={form.token ?? ''} min={min} values={form} errors={errors} />, 422);
    }
  });

  app.get('/invite', async (c) => {
    const token = c.req.query('token') ?? '';
    const ui = uiOf(c, deps);
    const invite = await findUsableInvite(deps, token);
    if (!invite) return c.html(<MessagePage ui={ui} title={ui.t('invite.title')} message={ui.t('invite.invalid')} />, 410);
    return c.html(<InvitePage ui={ui} token={token} email={invite.email} role={ui.t(`role.${invite.role}`)} min={min} />);
  });

  app.post('/invite', async (c) => {
    const form = await readForm(c);
    const ui = uiOf(c, deps);
    const ip = clientIp(c, deps);
    const token = form.token ?? '';
    try {
      const staff = await acceptInvite(deps, token, { name: form.name ?? '', password: form.password ?? '', password2: form.password2 ?? '' }, ip);
      const session = await startSession(deps, staff.id, { ip, userAgent: c.req.header('user-agent') ?? null });
      setCookie(c, sessionCookie, session, { ...cookieOptions(deps), maxAge: deps.config.SESSION_MAX_HOURS * 3600 });
      return c.redirect('/staff', 303);
    } catch (err) {
      if (err instanceof AppError && err.code === 'GONE') {
        return c.html(<MessagePage ui={ui} title={ui.t('invite.title')} message={ui.t('invite.invalid')} />, 410);
      }
      const errors = translatedFieldErrors(err, ui.t);
      const invite = errors ? await findUsableInvite(deps, token) : undefined;
      if (!errors || !invite) throw err;
      return c.html(<InvitePage ui={ui} token={token} email={invite.email} role={ui.t(`role.${invite.role}`)} min={min} values={form} errors={errors} />, 422);
    }
  });

  return app;
}
