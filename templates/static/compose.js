// Live preview for the compose page: as the author types, the server renders what
// every channel will receive (the same code that sends), so counters are exact.
// Without this script the page works the same through its "Save" button.
(function () {
  var form = document.getElementById('compose');
  if (!form || !window.fetch || !window.FormData) return;
  var preview = document.getElementById('preview');
  var timer = null;
  var inflight = null;
  var idMatch = form.getAttribute('action').match(/\/staff\/updates\/(\d+)$/);

  function refresh() {
    var data = new FormData(form);
    data.delete('image');
    data.delete('action');
    if (idMatch) data.set('id', idMatch[1]);
    if (inflight) inflight.abort();
    inflight = new AbortController();
    fetch(form.getAttribute('data-preview'), {
      method: 'POST',
      body: data,
      credentials: 'same-origin',
      headers: { 'x-csrf-token': form.querySelector('input[name=_csrf]').value },
      signal: inflight.signal,
    })
      .then(function (res) { return res.ok ? res.text() : null; })
      .then(function (html) {
        if (html === null) return;
        var holder = document.createElement('div');
        holder.innerHTML = html;
        var fresh = holder.querySelector('#preview');
        if (fresh) preview.replaceWith(fresh), (preview = fresh);
        else preview.innerHTML = '';
      })
      .catch(function () { /* offline or aborted: the Save button still works */ });
  }

  form.addEventListener('input', function (e) {
    if (e.target && e.target.type === 'file') return;
    clearTimeout(timer);
    timer = setTimeout(refresh, 350);
  });
})();
