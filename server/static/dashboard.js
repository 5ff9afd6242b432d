/* Refresh the event dashboard without reloading the page.
 *
 * Every few seconds this fetches the dashboard's JSON (figures laid out by the server,
 * from the same template as the first page) and swaps the figures in place. It waits
 * while the tab is hidden, and backs off when the server cannot be reached.
 */
(function () {
  "use strict";
  var body = document.getElementById("dash-body");
  var status = document.getElementById("dash-live");
  if (!body || !status) { return; }
  var url = body.getAttribute("data-source");
  var every = parseInt(body.getAttribute("data-every") || "5000", 10);
  var delay = every;
  var timer = null;

  function say(text, paused) {
    status.textContent = text;
    status.classList.toggle("paused", !!paused);
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(refresh, delay);
  }

  function refresh() {
    if (document.hidden) { schedule(); return; }
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (response.status === 401) {
          say("Logged out: reload the page to log in again", true);
          return null;
        }
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (data) {
        if (!data) { return; }
        body.innerHTML = data.html;
        body.setAttribute("data-total", String(data.total));
        say("Live · updated " + data.updated, false);
        delay = every;
        schedule();
      })
      .catch(function () {
        // The venue's network comes and goes: keep the last figures and try again later.
        delay = Math.min(delay * 2, 60000);
        say("Offline · showing the last figures, retrying", true);
        schedule();
      });
  }

  document.addEventListener("visibilitychange", function () { if (!document.hidden) { refresh(); } });
  schedule();
})();
