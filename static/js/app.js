// convdesk's page script. Loaded with defer after htmx; no inline script
// anywhere (the Content-Security-Policy forbids it).
//
// - Every htmx request carries the CSRF token from <meta name="csrf-token">
//   in the X-CSRF-Token header, so the token never travels in a URL.
// - A response's HX-Trigger header {"toast": {"level": ..., "message": ...}}
//   shows a toast in the aria-live region #toasts. With "undo" (a same-site
//   path) and "undoLabel" it also offers an Undo link there (the preview of
//   reverting the edit); such a toast stays while pointed at or focused.
(function () {
  "use strict";

  var LEVELS = ["info", "success", "warning", "error"];
  // How long a non-error toast stays; errors stay until dismissed. One that
  // offers Undo stays longer, and never goes while pointed at or focused.
  var TOAST_MS = 6000;
  var TOAST_UNDO_MS = 15000;

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function region() {
    return document.getElementById("toasts");
  }

  // showToast builds the same markup as views.Toast; the message is set as
  // text, never as HTML.
  function showToast(detail) {
    var box = region();
    if (!box || !detail) {
      return;
    }
    var message = typeof detail.message === "string" ? detail.message : "";
    if (message === "") {
      return;
    }
    var level = LEVELS.indexOf(detail.level) >= 0 ? detail.level : "info";

    var toast = document.createElement("div");
    toast.className = "toast toast-" + level;
    toast.setAttribute("role", level === "error" ? "alert" : "status");
    toast.setAttribute("data-testid", "toast");
    toast.setAttribute("data-level", level);

    var text = document.createElement("p");
    text.className = "toast-message";
    text.textContent = message;
    toast.appendChild(text);

    var undo = typeof detail.undo === "string" && detail.undo.charAt(0) === "/" && detail.undo.charAt(1) !== "/" ? detail.undo : "";
    if (undo) {
      var link = document.createElement("a");
      link.className = "toast-action";
      link.href = undo;
      link.setAttribute("data-testid", "toast-undo");
      link.textContent = typeof detail.undoLabel === "string" && detail.undoLabel ? detail.undoLabel : "Undo";
      toast.appendChild(link);
    }

    var close = document.createElement("button");
    close.type = "button";
    close.className = "toast-close";
    close.setAttribute("data-toast-close", "");
    close.setAttribute("aria-label", box.getAttribute("data-label-dismiss") || "Dismiss");
    close.textContent = "\u00d7";
    toast.appendChild(close);

    box.appendChild(toast);
    if (level !== "error") {
      fadeLater(toast, undo ? TOAST_UNDO_MS : TOAST_MS);
    }
  }

  // fadeLater removes toast after ms, or, while it is pointed at or holds
  // the focus (someone is about to press Undo), once that ends.
  function fadeLater(toast, ms) {
    window.setTimeout(function () {
      if (toast.matches(":hover") || toast.contains(document.activeElement)) {
        var again = function () {
          toast.removeEventListener("mouseleave", again);
          toast.removeEventListener("focusout", again);
          fadeLater(toast, TOAST_MS);
        };
        toast.addEventListener("mouseleave", again);
        toast.addEventListener("focusout", again);
        return;
      }
      toast.remove();
    }, ms);
  }

  document.addEventListener("htmx:configRequest", function (event) {
    var token = csrfToken();
    if (token) {
      event.detail.headers["X-CSRF-Token"] = token;
    }
  });

  // HX-Trigger: {"toast": {"level": "...", "message": "..."}}. htmx passes the
  // object as the event's detail and the event bubbles up to the document.
  document.addEventListener("toast", function (event) {
    showToast(event.detail);
  });

  // A request that never got an answer: say so, since nothing else will.
  document.addEventListener("htmx:sendError", function () {
    var box = region();
    showToast({ level: "error", message: box ? box.getAttribute("data-msg-offline") : "" });
  });

  // An error response without its own toast (the server adds one to every
  // error it renders; a proxy in between may not).
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail && event.detail.xhr;
    if (xhr && xhr.getResponseHeader("HX-Trigger")) {
      return;
    }
    var box = region();
    showToast({ level: "error", message: box ? box.getAttribute("data-msg-failed") : "" });
  });

  // Dismiss buttons, for server-rendered and script-built toasts alike.
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-toast-close]") : null;
    if (button) {
      var toast = button.closest(".toast");
      if (toast) {
        toast.remove();
      }
    }
  });

  // Server-rendered flashes that are not errors fade like the others. The
  // sign-in form sends the browser's time zone, kept for a staff member who
  // has none yet.
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("input[data-browser-tz]").forEach(function (input) {
      try {
        input.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
      } catch (e) {
        input.value = "";
      }
    });
    var box = region();
    if (!box) {
      return;
    }
    box.querySelectorAll(".toast:not(.toast-error)").forEach(function (toast) {
      fadeLater(toast, TOAST_MS);
    });
  });
})();
