/* Quicker editing of the settings forms' rows: add, move up or down, and mark for removal.
 * Only a convenience: each button does what editing the Position and Remove fields and
 * posting would do, so the forms work the same without this script. */
(function () {
  "use strict";

  function rowsOf(list) {
    return Array.prototype.filter.call(list.children, function (child) {
      return child.hasAttribute("data-row");
    });
  }

  function renumber(list) {
    rowsOf(list).forEach(function (row, index) {
      var order = row.querySelector("input[name$='-order']");
      if (order) { order.value = String(index + 1); }
    });
  }

  function nextIndex(list) {
    var highest = -1;
    list.querySelectorAll("input[name$='-order']").forEach(function (input) {
      var found = /-(\d+)-order$/.exec(input.name);
      if (found) { highest = Math.max(highest, parseInt(found[1], 10)); }
    });
    return highest + 1;
  }

  function reveal(root) {
    root.querySelectorAll("[data-move], [data-add-row]").forEach(function (button) {
      button.hidden = false;
    });
  }

  document.querySelectorAll("[data-rows]").forEach(function (list) {
    reveal(list);
    renumber(list);
  });
  reveal(document);

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-move], [data-add-row]");
    if (!button) { return; }
    if (button.hasAttribute("data-add-row")) {
      var name = button.getAttribute("data-add-row");
      var list = document.querySelector("[data-rows='" + name + "']");
      var template = document.querySelector("[data-row-template='" + name + "']");
      var html = template.innerHTML.replace(/__n__/g, String(nextIndex(list)));
      list.insertAdjacentHTML("beforeend", html);
      var added = list.lastElementChild;
      reveal(added);
      renumber(list);
      var first = added.querySelector("input:not([type=hidden]):not([type=number]), select, textarea");
      if (first) { first.focus(); }
      return;
    }
    var row = button.closest("[data-row]");
    var rows = rowsOf(row.parentNode);
    var at = rows.indexOf(row);
    if (button.getAttribute("data-move") === "up" && at > 0) {
      row.parentNode.insertBefore(row, rows[at - 1]);
    } else if (button.getAttribute("data-move") === "down" && at < rows.length - 1) {
      row.parentNode.insertBefore(rows[at + 1], row);
    }
    renumber(row.parentNode);
    button.focus();
  });

  document.addEventListener("change", function (event) {
    if (event.target.hasAttribute && event.target.hasAttribute("data-remove")) {
      event.target.closest("[data-row]").classList.toggle("removed", event.target.checked);
    }
  });
})();
