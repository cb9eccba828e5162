// Keeps the delivery section of an update's page live through Server-Sent Events.
// Without this script the page shows the figures as of its loading.
(function () {
  var section = document.getElementById('progress');
  if (!section || !window.EventSource) return;
  var url = section.getAttribute('data-live');
  if (!url) return;
  var source = new EventSource(url);
  source.addEventListener('progress', function (e) {
    var holder = document.createElement('div');
    holder.innerHTML = e.data;
    var fresh = holder.querySelector('#progress');
    if (fresh) section.replaceWith(fresh), (section = fresh);
  });
  source.addEventListener('done', function () { source.close(); });
})();
