/* Poll a running attendee import's progress and show it (the page's CSP allows no inline script). */
(function () {
  "use strict";
  var box = document.getElementById("import-progress");
  if (!box) { return; }
  var url = box.getAttribute("data-progress-url");
  var bar = box.querySelector("progress");
  function show(data) {
    Object.keys(data).forEach(function (key) {
      var node = box.querySelector('[data-key="' + key + '"]');
      if (node) { node.textContent = data[key] === null ? "?" : String(data[key]); }
    });
    if (bar && data.percent !== null) { bar.value = data.percent; }
  }
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        show(data);
        if (data.status === "running" || data.status === "uploaded") { window.setTimeout(poll, 1000); }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  poll();
})();
