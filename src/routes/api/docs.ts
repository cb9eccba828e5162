import { readFileSync } from 'node:fs';
import { Hono } from 'hono';
import { html } from 'hono/html';

// Read once at start-up, like the compose script.
const docsJs = readFileSync(new URL('../../../templates/static/api-docs.js', import.meta.url), 'utf8');

/**
 * /api/docs: a small page and script of our own rather than Swagger UI or Scalar from a CDN. A third-party script on
 * our origin could use a logged-in staff member's session (same-origin requests carry the cookie), and loosening
 * script-src for it would need a page-specific CSP and trust in the CDN; ours keeps `script-src 'self'`, works
 * offline, and stays small enough for a phone.
 */
export function apiDocsRoutes() {
  const app = new Hono();
  app.get('/docs.js', (c) => {
    c.header('content-type', 'text/javascript; charset=utf-8');
    c.header('cache-control', 'public, max-age=300');
    return c.body(docsJs);
  });
  app.get('/docs', (c) =>
    c.html(html`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"/><meta name="viewport" content="width=device-width, initial-scale=1"/>
<title>Tocsin API</title>
<style>body{margin:0;font:16px/1.5 system-ui,sans-serif;background:#f6f6f4;color:#1a1a1a}main{max-width:48rem;margin:0 auto;padding:1rem}
.card{background:#fff;border:1px solid #ddd;border-radius:8px;padding:.5rem 1rem;margin:0 0 .75rem}summary{cursor:pointer;min-height:44px;display:flex;align-items:center;font-family:ui-monospace,monospace;font-size:.95rem}
label{display:block;font-weight:600;margin:.5rem 0 .25rem}input,textarea{width:100%;font:inherit;padding:.5rem;border:1px solid #888;border-radius:6px}
textarea{font-family:ui-monospace,monospace;font-size:.9rem}button{font:inherit;font-weight:600;min-height:44px;padding:.5rem 1rem;border:0;border-radius:6px;background:#7a1010;color:#fff;margin:.5rem 0}
pre.msg{white-space:pre-wrap;word-break:break-word;background:#f7f7f7;border:1px solid #e4e4e4;border-radius:6px;padding:.5rem;font-size:.85rem}</style>
</head><body><main>
<h1>Tocsin API</h1>
<p>The OpenAPI 3.1 document: <a href="/api/openapi.json">/api/openapi.json</a>. Every call needs <code>Authorization: Bearer &lt;token&gt;</code>; staff create tokens on <a href="/staff/api-tokens">API tokens</a>. A token acts as its creator, with their current role.</p>
<label for="token">Token for the requests below (kept on this page only)</label>
<input id="token" type="password" autocomplete="off" placeholder="tocsin_…"/>
<div id="operations"><p>Loading the operations… (without JavaScript, read <a href="/api/openapi.json">the document</a>.)</p></div>
</main><script src="/api/docs.js"></script></body></html>`),
  );
  return app;
}
