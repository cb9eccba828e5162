// Interactive API documentation, served from our own origin so the strict CSP (script-src 'self') holds: it reads
// /api/openapi.json and, for each operation, offers a form that sends the request with the token typed on the
// page (kept in memory only, never stored, and no cookie is sent). Text is set with textContent, never as HTML.
(function () {
  var root = document.getElementById('operations');
  var tokenInput = document.getElementById('token');
  if (!root || !window.fetch) return;

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) { e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return e;
  }

  function resolve(doc, schema) {
    if (schema && schema.$ref) return doc.components.schemas[schema.$ref.split('/').pop()];
    return schema;
  }

  // A JSON example of a request body, from the schema's examples and types.
  function example(doc, schema, depth) {
    schema = resolve(doc, schema);
    if (!schema || depth > 4) return null;
    if (schema.example !== undefined) return schema.example;
    if (schema.anyOf) return example(doc, schema.anyOf[0], depth + 1);
    if (schema.enum) return schema.enum[0];
    var type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
    if (type === 'object') {
      var out = {};
      Object.keys(schema.properties || {}).forEach(function (k) {
        if ((schema.required || []).indexOf(k) >= 0 || depth === 0) out[k] = example(doc, schema.properties[k], depth + 1);
      });
      return out;
    }
    if (type === 'array') return [];
    if (type === 'integer' || type === 'number') return 1;
    if (type === 'boolean') return false;
    return '';
  }

  function operation(doc, path, method, op) {
    var params = (op.parameters || []).map(function (p) {
      return el('label', {}, [p.name + ' (' + p.in + ')', el('input', { name: p.name, 'data-in': p.in })]);
    });
    var bodySchema = op.requestBody && op.requestBody.content['application/json'].schema;
    var body = bodySchema ? el('textarea', { name: '_body', rows: '8' }, [JSON.stringify(example(doc, bodySchema, 0), null, 2)]) : null;
    var out = el('pre', { class: 'msg', 'aria-live': 'polite' }, []);
    var button = el('button', { type: 'submit' }, ['Send']);
    var form = el('form', { class: 'stack' }, params.concat(body ? [el('label', {}, ['JSON body', body])] : [], [button, out]));
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var url = path;
      var query = new URLSearchParams();
      form.querySelectorAll('input[data-in]').forEach(function (i) {
        if (i.getAttribute('data-in') === 'path') url = url.replace('{' + i.name + '}', encodeURIComponent(i.value));
        else if (i.value) query.set(i.name, i.value);
      });
      var init = { method: method.toUpperCase(), headers: {}, credentials: 'omit' };
      if (tokenInput.value) init.headers.authorization = 'Bearer ' + tokenInput.value.trim();
      if (body) { init.headers['content-type'] = 'application/json'; init.body = body.value; }
      out.textContent = '…';
      fetch(url + (query.toString() ? '?' + query : ''), init)
        .then(function (res) { return res.text().then(function (t) { return res.status + ' ' + res.statusText + '\n\n' + t; }); })
        .then(function (t) { out.textContent = t; }, function (e) { out.textContent = String(e); });
    });
    return el('details', { class: 'card' }, [el('summary', {}, [method.toUpperCase() + ' ' + path + ' — ' + (op.summary || '')]), form]);
  }

  fetch('/api/openapi.json', { credentials: 'omit' })
    .then(function (res) { return res.json(); })
    .then(function (doc) {
      root.textContent = '';
      Object.keys(doc.paths).forEach(function (path) {
        Object.keys(doc.paths[path]).forEach(function (method) { root.appendChild(operation(doc, path, method, doc.paths[path][method])); });
      });
    });
})();
