import type { Ui } from '../../../src/routes/context';
import { Csrf, Errors, Layout, Notice } from '../../layout';

type Errs = { field: string; message: string }[] | undefined;

export function LoginPage(props: { ui: Ui; email?: string; errors?: Errs; notice?: string | null; next?: string }) {
  const { ui } = props;
  const t = ui.t;
  return (
    <Layout ui={ui} title={t('login.title')}>
      <h1>{t('login.title')}</h1>
      <Notice text={props.notice} />
      <Errors ui={ui} errors={props.errors} />
      <form method="post" action="/login" class="card">
        <Csrf ui={ui} />
        {props.next ? <input type="hidden" name="next" value={props.next} /> : null}
        <label for="email">{t('common.email')}</label>
        <input id="email" name="email" type="email" autocomplete="username" required value={props.email ?? ''} />
        <label for="password">{t('common.password')}</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required />
        <p><button type="submit">{t('login.submit')}</button></p>
      </form>
      <p class="langs">
        <a href="?lang=en" hreflang="en">English</a>
        <a href="?lang=fr" hreflang="fr">Français</a>
      </p>
    </Layout>
  );
}

function PasswordFields(props: { ui: Ui; errors?: Errs; min: number; label?: string; name?: string }) {
  const t = props.ui.t;
  const name = props.name ?? 'password';
  return (
    <>
      <label for={name}>{props.label ?? t('common.password')}</label>
      <input id={name} name={name} type="password" autocomplete="new-password" required minlength={props.min} />
      <p class="hint">{t('setup.passwordHint', { min: props.min })}</p>
      <Errors ui={props.ui} errors={props.errors} field={name} />
      <label for={`${name}2`}>{t('form.passwordConfirm')}</label>
      <input id={`${name}2`} name={`${name}2`} type="password" autocomplete="new-password" required minlength={props.min} />
      <Errors ui={props.ui} errors={props.errors} field={`${name}2`} />
    </>
  );
}

export function SetupPage(props: { ui: Ui; token: string; min: number; values?: { email?: string; name?: string }; errors?: Errs }) {
  const { ui } = props;
  const t = ui.t;
  return (
    <Layout ui={ui} title={t('setup.title')}>
      <h1>{t('setup.title')}</h1>
      <p>{t('setup.intro')}</p>
      <Errors ui={ui} errors={props.errors} />
      <form method="post" action="/setup" class="card">
        <Csrf ui={ui} />
        <input type="hidden" name="token" value={props.token} />
        <label for="name">{t('common.name')}</label>
        <input id="name" name="name" autocomplete="name" required maxlength={100} value={props.values?.name ?? ''} />
        <Errors ui={ui} errors={props.errors} field="name" />
        <label for="email">{t('common.email')}</label>
        <input id="email" name="email" type="email" autocomplete="username" required value={props.values?.email ?? ''} />
        <Errors ui={ui} errors={props.errors} field="email" />
        <PasswordFields ui={ui} errors={props.errors} min={props.min} />
        <p><button type="submit">{t('setup.submit')}</button></p>
      </form>
    </Layout>
  );
}

export function InvitePage(props: { ui: Ui; token: string; email: string; role: string; min: number; values?: { name?: string }; errors?: Errs }) {
  const { ui } = props;
  const t = ui.t;
  return (
    <Layout ui={ui} title={t('invite.title')}>
      <h1>{t('invite.title')}</h1>
      <p>{t('invite.intro', { role: props.role, email: props.email })}</p>
      <Errors ui={ui} errors={props.errors} />
      <form method="post" action="/invite" class="card">
        <Csrf ui={ui} />
        <input type="hidden" name="token" value={props.token} />
        <label for="name">{t('common.name')}</label>
        <input id="name" name="name" autocomplete="name" required maxlength={100} value={props.values?.name ?? ''} />
        <Errors ui={ui} errors={props.errors} field="name" />
        <PasswordFields ui={ui} errors={props.errors} min={props.min} />
        <p><button type="submit">{t('invite.submit')}</button></p>
      </form>
    </Layout>
  );
}

export function MessagePage(props: { ui: Ui; title: string; message: string }) {
  return (
    <Layout ui={props.ui} title={props.title}>
      <h1>{props.title}</h1>
      <p class="error" role="alert">{props.message}</p>
    </Layout>
  );
}

export { PasswordFields };
