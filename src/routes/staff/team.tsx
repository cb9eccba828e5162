import { Hono } from 'hono';
import { listAuditEntries } from '../../db/audit';
import { listStaff } from '../../db/staff';
import type { Deps } from '../../deps';
import { createInvite, listPendingInvites, revokeInvite } from '../../staff/invites';
import { changeMyPassword, changeRole, setDisabled, setMyLanguage } from '../../staff/team';
import { digestChoices } from '../../replies/digest';
import { invalid } from '../../staff/validate';
import { AccountPage, AuditPage, StaffHomePage, TeamPage } from '../../../templates/pages/staff/team';
import type { AppContext, AppEnv } from '../context';
import { noticeFrom, translatedFieldErrors } from '../forms';
import { clientIp, idParam, readForm, requireStaff, uiOf } from '../middleware';

const teamNotices = ['team.roleChanged', 'team.accountDisabled', 'team.accountEnabled', 'team.inviteRevoked'] as const;

export function staffRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
  app.use('*', requireStaff());
  app.use('/team/*', requireStaff('admin'));
  app.use('/team', requireStaff('admin'));
  app.use('/audit', requireStaff('admin'));

  app.get('/', (c) =>
    c.html(<StaffHomePage ui={uiOf(c, deps)} notice={noticeFrom(c.req.query('notice'), c.get('t'), ['home.setupDone'])} />),
  );

  const renderTeam = async (c: AppContext, extra: Partial<Parameters<typeof TeamPage>[0]> = {}, status: 200 | 422 = 200) => {
    const [staff, invites] = await Promise.all([listStaff(deps.db), listPendingInvites(deps)]);
    return c.html(
      <TeamPage ui={uiOf(c, deps)} staff={staff} invites={invites} notice={noticeFrom(c.req.query('notice'), c.get('t'), teamNotices)} {...extra} />,
      status,
    );
  };

  app.get('/team', (c) => renderTeam(c));

  app.post('/team/invite', async (c) => {
    const form = await readForm(c);
    try {
      const invite = await createInvite(deps, c.get('staff')!, { email: form.email ?? '', role: form.role ?? '' }, clientIp(c, deps));
      const url = `${deps.config.PUBLIC_URL}/invite?token=${invite.token}`;
      return renderTeam(c, { created: { url, email: invite.email, expiresAt: invite.expiresAt } });
    } catch (err) {
      const errors = translatedFieldErrors(err, c.get('t'));
      if (!errors) throw err;
      return renderTeam(c, { errors, values: form }, 422);
    }
  });

  const teamAction = (path: string, act: (c: AppContext, id: number, form: Record<string, string>) => Promise<void>, notice: (typeof teamNotices)[number]) =>
    app.post(path, async (c) => {
      const form = await readForm(c);
      try {
        await act(c, idParam(c), form);
      } catch (err) {
        const errors = translatedFieldErrors(err, c.get('t'));
        if (!errors) throw err;
        return renderTeam(c, { errors }, 422);
      }
      return c.redirect(`/staff/team?notice=${notice}`, 303);
    });
  teamAction('/team/:id/role', (c, id, form) => changeRole(deps, c.get('staff')!, id, form.role ?? '', clientIp(c, deps)), 'team.roleChanged');
  teamAction('/team/:id/disable', (c, id) => setDisabled(deps, c.get('staff')!, id, true, clientIp(c, deps)), 'team.accountDisabled');
  teamAction('/team/:id/enable', (c, id) => setDisabled(deps, c.get('staff')!, id, false, clientIp(c, deps)), 'team.accountEnabled');
  teamAction('/team/invites/:id/revoke', (c, id) => revokeInvite(deps, c.get('staff')!, id, clientIp(c, deps)), 'team.inviteRevoked');

  app.get('/audit', async (c) => {
    const limit = 100;
    const before = Number(c.req.query('before')) || undefined;
    const entries = await listAuditEntries(deps.db, { beforeId: before, limit });
    const olderHref = entries.length === limit ? `/staff/audit?before=${entries.at(-1)!.id}` : null;
    return c.html(<AuditPage ui={uiOf(c, deps)} entries={entries} olderHref={olderHref} />);
  });

  const min = deps.config.PASSWORD_MIN_LENGTH;
  app.get('/account', (c) =>
    c.html(<AccountPage ui={uiOf(c, deps)} min={min} notice={noticeFrom(c.req.query('notice'), c.get('t'), ['account.saved', 'account.passwordChanged'])} />),
  );
  app.post('/account/language', async (c) => {
    const form = await readForm(c);
    await setMyLanguage(deps, c.get('staff')!, form.language ?? '');
    return c.redirect('/staff/account?notice=account.saved', 303);
  });
  app.post('/account/digest', async (c) => {
    const form = await readForm(c);
    const minutes = form.digest ? Number(form.digest) : null;
    if (minutes !== null && !(digestChoices as readonly number[]).includes(minutes)) throw invalid([{ field: 'digest', key: 'form.invalidChoice', vars: { field: 'digest' } }]);
    await deps.db.updateTable('staff').set({ digest_minutes: minutes as (typeof digestChoices)[number] | null, digest_sent_at: deps.clock.now() }).where('id', '=', c.get('staff')!.id).execute();
    return c.redirect('/staff/account?notice=account.saved', 303);
  });
  app.post('/account/password', async (c) => {
    const form = await readForm(c);
    try {
      await changeMyPassword(deps, c.get('staff')!, c.get('sessionId')!, { current: form.current ?? '', password: form.password ?? '', password2: form.password2 ?? '' }, clientIp(c, deps));
    } catch (err) {
      const errors = translatedFieldErrors(err, c.get('t'));
      if (!errors) throw err;
      return c.html(<AccountPage ui={uiOf(c, deps)} min={min} errors={errors} />, 422);
    }
    return c.redirect('/staff/account?notice=account.passwordChanged', 303);
  });

  return app;
}
