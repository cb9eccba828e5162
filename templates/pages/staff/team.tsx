import type { AuditEntry, Staff, StaffInvite } from '../../../src/db/schema';
import type { Ui } from '../../../src/routes/context';
import { Csrf, Errors, Layout, Notice, PostButton } from '../../layout';
import { PasswordFields } from './auth';

type Errs = { field: string; message: string }[] | undefined;
const roleKeys = { admin: 'role.admin', approver: 'role.approver', author: 'role.author' } as const;

function when(ui: Ui, d: Date) {
  return new Intl.DateTimeFormat(ui.lang, { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}

export function StaffHomePage(props: { ui: Ui; notice?: string | null }) {
  const { ui } = props;
  const staff = ui.staff!;
  return (
    <Layout ui={ui} title={ui.t('nav.home')}>
      <h1>{ui.t('home.title', { name: staff.name })}</h1>
      <Notice text={props.notice} />
      <p>{ui.t('home.role', { role: ui.t(roleKeys[staff.role]) })}</p>
    </Layout>
  );
}

export function TeamPage(props: {
  ui: Ui;
  staff: Staff[];
  invites: StaffInvite[];
  notice?: string | null;
  errors?: Errs;
  created?: { url: string; email: string; expiresAt: Date } | null;
  values?: { email?: string; role?: string };
}) {
  const { ui } = props;
  const t = ui.t;
  const me = ui.staff!;
  return (
    <Layout ui={ui} title={t('team.title')}>
      <h1>{t('team.title')}</h1>
      <Notice text={props.notice} />
      <Errors ui={ui} errors={props.errors} />
      {props.created ? (
        <div class="notice" role="status">
          <p>{t('team.inviteCreated', { email: props.created.email, expires: when(ui, props.created.expiresAt) })}</p>
          <code class="link">{props.created.url}</code>
        </div>
      ) : null}
      <div class="scroll">
        <table>
          <thead>
            <tr><th>{t('common.name')}</th><th>{t('common.role')}</th><th>{t('common.status')}</th></tr>
          </thead>
          <tbody>
            {props.staff.map((s) => (
              <tr>
                <td>
                  {s.name} {s.id === me.id ? <span class="muted">{t('team.you')}</span> : null}
                  <br /><span class="muted">{s.email}</span>
                </td>
                <td>
                  <form method="post" action={`/staff/team/${s.id}/role`} class="stack">
                    <Csrf ui={ui} />
                    <label class="skip" for={`role-${s.id}`}>{t('common.role')}</label>
                    <select id={`role-${s.id}`} name="role">
                      {(['author', 'approver', 'admin'] as const).map((r) => (
                        <option value={r} selected={s.role === r}>{t(roleKeys[r])}</option>
                      ))}
                    </select>
                    <button type="submit" class="secondary">{t('team.changeRole')}</button>
                  </form>
                </td>
                <td>
                  {s.disabled_at ? t('team.disabled') : t('team.active')}
                  {s.id !== me.id ? (
                    <PostButton ui={ui} action={`/staff/team/${s.id}/${s.disabled_at ? 'enable' : 'disable'}`} label={s.disabled_at ? t('team.enable') : t('team.disable')} />
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>

      <h2>{t('team.invite')}</h2>
      <form method="post" action="/staff/team/invite" class="card">
        <Csrf ui={ui} />
        <label for="invite-email">{t('common.email')}</label>
        <input id="invite-email" name="email" type="email" required value={props.values?.email ?? ''} />
        <Errors ui={ui} errors={props.errors} field="email" />
        <label for="invite-role">{t('common.role')}</label>
        <select id="invite-role" name="role">
          {(['author', 'approver', 'admin'] as const).map((r) => (
            <option value={r} selected={(props.values?.role ?? 'author') === r}>{t(roleKeys[r])}</option>
          ))}
        </select>
        <p><button type="submit">{t('team.inviteSubmit')}</button></p>
      </form>

      <h2>{t('team.pendingInvites')}</h2>
      {props.invites.length === 0 ? <p class="muted">{t('common.none')}</p> : (
        <div class="scroll">
          <table>
            <tbody>
              {props.invites.map((i) => (
                <tr>
                  <td>{i.email}<br /><span class="muted">{t(roleKeys[i.role])}</span></td>
                  <td>{t('team.expires')}: {when(ui, i.expires_at)}</td>
                  <td>
                    <PostButton ui={ui} action={`/staff/team/invites/${i.id}/revoke`} label={t('team.revoke')} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Layout>
  );
}

export function AuditPage(props: { ui: Ui; entries: AuditEntry[]; olderHref: string | null }) {
  const { ui } = props;
  const t = ui.t;
  return (
    <Layout ui={ui} title={t('audit.title')}>
      <h1>{t('audit.title')}</h1>
      {props.entries.length === 0 ? <p class="muted">{t('common.none')}</p> : (
        <div class="scroll">
          <table>
            <thead>
              <tr><th>{t('common.when')}</th><th>{t('audit.actor')}</th><th>{t('audit.action')}</th><th>{t('audit.target')}</th><th>{t('audit.from')}</th></tr>
            </thead>
            <tbody>
              {props.entries.map((e) => (
                <tr>
                  <td>{when(ui, e.at)}</td>
                  <td>{e.actor}</td>
                  <td>
                    <code>{e.action}</code>
                    {Object.keys(e.detail).length ? <><br /><span class="muted">{JSON.stringify(e.detail)}</span></> : null}
                  </td>
                  <td>{e.target ?? ''}</td>
                  <td>{e.ip ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {props.olderHref ? <p><a href={props.olderHref}>{t('audit.older')}</a></p> : null}
    </Layout>
  );
}

export function AccountPage(props: { ui: Ui; min: number; notice?: string | null; errors?: Errs }) {
  const { ui } = props;
  const t = ui.t;
  const me = ui.staff!;
  return (
    <Layout ui={ui} title={t('account.title')}>
      <h1>{t('account.title')}</h1>
      <Notice text={props.notice} />
      <Errors ui={ui} errors={props.errors} />
      <form method="post" action="/staff/account/language" class="card">
        <Csrf ui={ui} />
        <label for="language">{t('common.language')}</label>
        <select id="language" name="language">
          <option value="" selected={me.language === null}>{t('account.languageAuto')}</option>
          <option value="en" selected={me.language === 'en'}>English</option>
          <option value="fr" selected={me.language === 'fr'}>Français</option>
        </select>
        <p><button type="submit">{t('common.save')}</button></p>
      </form>
      <form method="post" action="/staff/account/digest" class="card">
        <Csrf ui={ui} />
        <label for="digest">{t('digest.setting')}</label>
        <select id="digest" name="digest">
          <option value="" selected={me.digest_minutes === null}>{t('digest.off')}</option>
          <option value="15" selected={me.digest_minutes === 15}>{t('digest.every', { minutes: 15 })}</option>
          <option value="60" selected={me.digest_minutes === 60}>{t('digest.hourly')}</option>
          <option value="240" selected={me.digest_minutes === 240}>{t('digest.every4h')}</option>
          <option value="1440" selected={me.digest_minutes === 1440}>{t('digest.daily')}</option>
        </select>
        <p><button type="submit">{t('common.save')}</button></p>
      </form>
      <h2>{t('account.changePassword')}</h2>
      <form method="post" action="/staff/account/password" class="card">
        <Csrf ui={ui} />
        <label for="current">{t('account.currentPassword')}</label>
        <input id="current" name="current" type="password" autocomplete="current-password" required />
        <Errors ui={ui} errors={props.errors} field="current" />
        <PasswordFields ui={ui} errors={props.errors} min={props.min} label={t('account.newPassword')} />
        <p><button type="submit">{t('common.save')}</button></p>
      </form>
    </Layout>
  );
}
