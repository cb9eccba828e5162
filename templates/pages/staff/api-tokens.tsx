import type { Ui } from '../../../src/routes/context';
import { Csrf, Errors, Layout, Notice, PostButton } from '../../layout';

type Errs = { field: string; message: string }[] | undefined;

function when(ui: Ui, d: Date) {
  return new Intl.DateTimeFormat(ui.lang, { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}

export interface TokenRow {
  id: number;
  name: string;
  prefix: string;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
  staff_id: number;
  staff_name: string;
}

/** API tokens: create (shown once), see when each was last used, revoke. Admins see everyone's. */
export function ApiTokensPage(props: { ui: Ui; tokens: TokenRow[]; created?: string | null; notice?: string | null; errors?: Errs; name?: string }) {
  const { ui } = props;
  const t = ui.t;
  const me = ui.staff!;
  return (
    <Layout ui={ui} title={t('apiTokens.title')}>
      <h1>{t('apiTokens.title')}</h1>
      <p>{t('apiTokens.intro')} <a href="/api/docs">{t('apiTokens.docs')}</a></p>
      <Notice text={props.notice} />
      <Errors ui={ui} errors={props.errors} />
      {props.created ? (
        <div class="notice" role="status">
          <p>{t('apiTokens.created')}</p>
          <code class="link new-token">{props.created}</code>
        </div>
      ) : null}
      {props.tokens.length === 0 ? <p class="muted">{t('apiTokens.none')}</p> : (
        <div class="scroll">
          <table>
            <thead>
              <tr><th>{t('common.name')}</th><th>{t('apiTokens.lastUsed')}</th><th>{t('common.status')}</th></tr>
            </thead>
            <tbody>
              {props.tokens.map((tk) => (
                <tr data-token-id={String(tk.id)}>
                  <td>
                    {tk.name} <span class="muted"><code>{tk.prefix}…</code></span>
                    {tk.staff_id !== me.id ? <><br /><span class="muted">{t('apiTokens.owner')}: {tk.staff_name}</span></> : null}
                  </td>
                  <td>{tk.last_used_at ? when(ui, tk.last_used_at) : t('apiTokens.neverUsed')}</td>
                  <td>
                    {tk.revoked_at ? `${t('apiTokens.revokedAt')} ${when(ui, tk.revoked_at)}` : (
                      <PostButton ui={ui} action={`/staff/api-tokens/${tk.id}/revoke`} label={t('apiTokens.revoke')} />
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h2>{t('apiTokens.create')}</h2>
      <form method="post" action="/staff/api-tokens" class="card">
        <Csrf ui={ui} />
        <label for="name">{t('apiTokens.name')}</label>
        <input id="name" name="name" required maxlength={100} value={props.name ?? ''} />
        <Errors ui={ui} errors={props.errors} field="name" />
        <p><button type="submit">{t('apiTokens.create')}</button></p>
      </form>
    </Layout>
  );
}
