// wsgate dashboard: the live stream. Pages that update live carry data-events on <body>; each named event
// replaces the elements marked data-live="<name>" with the server's HTML (escaped there), and `changed`
// tells the lists (hx-trigger="wsgate-changed from:body") to reload. EventSource reconnects by itself.
(function () {
  'use strict';
  var url = document.body && document.body.getAttribute('data-events');
  if (!url || !window.EventSource) return;
  var source = new EventSource(url);
  function swap(name) {
    source.addEventListener(name, function (event) {
      var targets = document.querySelectorAll('[data-live="' + name + '"]');
      for (var i = 0; i < targets.length; i++) targets[i].innerHTML = event.data;
    });
  }
  swap('overview');
  swap('summary');
  source.addEventListener('changed', function () {
    document.body.dispatchEvent(new CustomEvent('wsgate-changed'));
  });
  source.addEventListener('open', function () {
    document.body.classList.remove('offline');
  });
  source.addEventListener('error', function () {
    document.body.classList.add('offline');
  });
  window.addEventListener('pagehide', function () {
    source.close();
  });
})();
