// audit.js: behaviour of the audit pages. The layout loads it on every page;
// it only listens for clicks on audit result rows, so elsewhere it does
// nothing. Everything works without it: each row's number is a link.
//
// - A click anywhere on a results row opens that event, as its number link
//   does. Clicks on links and form controls, on a row's folded reads
//   (<details>), modified clicks (new tab) and text selections are left alone.
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    if (event.defaultPrevented || event.button !== 0 ||
        event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
      return;
    }
    var target = event.target;
    if (!target || !target.closest) {
      return;
    }
    var row = target.closest("tr.audit-row[data-href]");
    if (!row || target.closest("a, button, input, select, textarea, label, details")) {
      return;
    }
    var selection = window.getSelection ? String(window.getSelection()) : "";
    if (selection !== "") {
      return;
    }
    // Only a path on this site: the attribute comes from the server, but a
    // row is never a way off it.
    var href = row.getAttribute("data-href") || "";
    if (href.charAt(0) === "/" && href.charAt(1) !== "/") {
      window.location.assign(href);
    }
  });
})();
