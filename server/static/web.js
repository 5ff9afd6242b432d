/* Ask before forms marked data-confirm are sent (revoking a tablet cannot be undone).
 * A file of its own, not an inline handler: the pages' CSP allows only scripts from this site. */
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var question = event.target.getAttribute && event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); }
  });
})();
