import { raw } from 'hono/html';
import type { Child } from 'hono/jsx';
import type { Ui } from '../src/routes/context';

// Inline so a page is one request on a bad connection; kept small (pages stay well under 60 KB).
const css = `
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a1a1a;background:#f6f6f4}
a{color:#0b57d0}
header.top{background:#7a1010;color:#fff;padding:.5rem 1rem;display:flex;flex-wrap:wrap;gap:.25rem 1rem;align-items:center}
header.top a{color:#fff;text-decoration:none;padding:.6rem .25rem;display:inline-block}
header.top .brand{font-weight:700;margin-right:auto}
header.top form{margin:0}
header.top button{background:none;border:1px solid #fff;color:#fff;min-height:44px;padding:0 .8rem;border-radius:6px;font:inherit}
main{max-width:42rem;margin:0 auto;padding:1rem}
h1{font-size:1.5rem;line-height:1.25;margin:.5rem 0 1rem}
h2{font-size:1.2rem;margin:1.5rem 0 .5rem}
label{display:block;font-weight:600;margin:.75rem 0 .25rem}
input,select,textarea{width:100%;font:inherit;padding:.6rem;border:1px solid #888;border-radius:6px;background:#fff;min-height:44px}
input[type=checkbox],input[type=radio]{width:auto;min-height:0}
button,.button{display:inline-block;font:inherit;font-weight:600;min-height:44px;padding:.55rem 1.1rem;border:0;border-radius:6px;background:#7a1010;color:#fff;cursor:pointer;text-decoration:none}
button.secondary{background:#fff;color:#7a1010;border:1px solid #7a1010}
form.inline{display:inline}
.card{background:#fff;border:1px solid #ddd;border-radius:8px;padding:1rem;margin:0 0 1rem}
.notice{background:#e7f4e4;border:1px solid #8bc48a;padding:.75rem;border-radius:6px;margin:0 0 1rem}
.error,.errors{background:#fdecea;border:1px solid #e0a19b;padding:.75rem;border-radius:6px;margin:0 0 1rem}
.field-error{color:#a00;font-size:.95rem;margin:.25rem 0 0}
.hint{color:#555;font-size:.9rem;margin:.25rem 0 0}
.muted{color:#666}
.stack>*+*{margin-top:.5rem}
table{width:100%;border-collapse:collapse;font-size:.95rem}
th,td{text-align:left;padding:.5rem .25rem;border-bottom:1px solid #ddd;vertical-align:top}
.scroll{overflow-x:auto}
code.link{word-break:break-all;display:block;background:#f0f0f0;padding:.5rem;border-radius:4px}
.skip{position:absolute;left:-999px}.skip:focus{left:.5rem;top:.5rem;background:#fff;color:#000;padding:.5rem}
.langs a{margin-right:.75rem}
.badge{display:inline-block;color:#fff;background:#555;border-radius:999px;padding:.05rem .6rem;font-size:.85rem;font-weight:600;vertical-align:middle}
.badge.pending-count{background:#a15c00}
.warning{background:#fff4d6;border:1px solid #e0c060;padding:.5rem .75rem;border-radius:6px}
.row{display:flex;gap:.75rem}.row>*{flex:1}
.actions{display:flex;flex-wrap:wrap;gap:.5rem;margin:1rem 0}
.tabs{display:flex;flex-wrap:wrap;gap:.25rem 1rem;margin:0 0 1rem}.tabs a{padding:.6rem 0}.tabs a[aria-current=page]{font-weight:700;text-decoration:none}
pre.msg{white-space:pre-wrap;word-break:break-word;background:#f7f7f7;border:1px solid #e4e4e4;border-radius:6px;padding:.6rem;font:15px/1.45 system-ui,sans-serif;margin:.5rem 0}
.card.update-row{display:block;color:inherit;text-decoration:none}
.counter{font-variant-numeric:tabular-nums}
fieldset{border:1px solid #ddd;border-radius:6px;margin:.5rem 0;padding:.5rem .75rem}
summary{cursor:pointer;min-height:44px;display:flex;align-items:center}
h3{font-size:1.05rem;margin:1rem 0 .5rem}h4{margin:0 0 .25rem}
`;

export function Layout(props: { ui: Ui; title: string; children?: Child; head?: Child }) {
  const { ui } = props;
  const t = ui.t;
  return (
    <html lang={ui.lang}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} · ${ui.foundation}`}</title>
        <style>{raw(css)}</style>
        {props.head}
      </head>
      <body>
        <a class="skip" href="#content">{t('nav.skip')}</a>
        <header class="top">
          <a class="brand" href={ui.staff ? '/staff' : '/'}>{ui.foundation}</a>
          {ui.staff ? (
            <>
              <a href="/staff">{t('nav.home')}</a>
              <a href="/staff/updates">{t('nav.updates')}</a>
              <a href="/staff/inbox">{t('nav.inbox')}</a>
              <a href="/staff/campaigns">{t('nav.campaigns')}</a>
              <a href="/staff/subscribers">{t('nav.subscribers')}</a>
              {ui.staff.role === 'admin' ? <a href="/staff/team">{t('nav.team')}</a> : null}
              {ui.staff.role === 'admin' ? <a href="/staff/audit">{t('nav.audit')}</a> : null}
              {ui.staff.role === 'admin' ? <a href="/staff/feeds">{t('nav.feeds')}</a> : null}
              {ui.staff.role === 'admin' ? <a href="/staff/webhooks">{t('nav.webhooks')}</a> : null}
              <a href="/staff/api-tokens">{t('nav.apiTokens')}</a>
              <a href="/staff/account">{t('nav.account')}</a>
              {ui.devOutbox ? <a href="/dev/outbox">{t('outbox.title')}</a> : null}
              <form method="post" action="/logout">
                <input type="hidden" name="_csrf" value={ui.csrf} />
                <button type="submit">{t('nav.logout')}</button>
              </form>
            </>
          ) : null}
        </header>
        <main id="content">{props.children}</main>
      </body>
    </html>
  );
}

export function Csrf(props: { ui: Ui }) {
  return <input type="hidden" name="_csrf" value={props.ui.csrf} />;
}

/** One action on one thing (revoke, disable, mark handled…): a form holding only its CSRF token and a button. */
export function PostButton(props: { ui: Ui; action: string; label: string; inline?: boolean }) {
  return (
    <form method="post" action={props.action} class={props.inline ? 'inline' : undefined}>
      <Csrf ui={props.ui} />
      <button type="submit" class="secondary">{props.label}</button>
    </form>
  );
}

export function Errors(props: { ui: Ui; errors?: { field: string; message: string }[] | undefined; field?: string }) {
  const list = (props.errors ?? []).filter((e) => (props.field ? e.field === props.field : true));
  if (!list.length) return null;
  if (props.field) return <p class="field-error">{list.map((e) => e.message).join(' ')}</p>;
  return (
    <div class="errors" role="alert">
      <ul>{list.map((e) => <li>{e.message}</li>)}</ul>
    </div>
  );
}

export function Notice(props: { text?: string | null | undefined }) {
  return props.text ? <p class="notice" role="status">{props.text}</p> : null;
}
