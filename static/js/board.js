// board.js: the board's drag and drop, selection, menus and dialogs, and the
// search box's Enter key. Loaded on every page after htmx and SortableJS; on
// a page without a board (or a search form) it does nothing. No inline
// script anywhere: the Content-Security-Policy forbids it, so every handler
// is attached here, by delegation from the document.
//
// The server is the authority. A drop only fills one of the board's hidden
// forms and submits it; the answer re-renders the columns involved from the
// server's state (out of band), so the board never keeps an optimistic drag
// position: on an error the drop is undone and the columns are reloaded.
(function () {
  "use strict";

  var BUSY_TIMEOUT_MS = 15000;

  function board() {
    return document.getElementById("board");
  }

  function canEdit() {
    var b = board();
    return !!b && b.getAttribute("data-can-edit") === "true";
  }

  function byId(id) {
    return document.getElementById(id);
  }

  function fmt(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, function (m, k) {
      return Object.prototype.hasOwnProperty.call(values, k) ? String(values[k]) : m;
    });
  }

  // ---- Columns and cards -------------------------------------------------

  function columnOf(el) {
    return el && el.closest ? el.closest(".column[data-column]") : null;
  }

  // groupOfList returns the group ID of a column's list as the server gave
  // it (opaque); "" is "in no group".
  function groupOfList(list) {
    return list.getAttribute("data-group") || "";
  }

  function cardID(card) {
    return card.getAttribute("data-conversation");
  }

  function cardName(id) {
    var cards = document.querySelectorAll("#board .card[data-conversation]");
    for (var i = 0; i < cards.length; i++) {
      if (cardID(cards[i]) === id) {
        var name = cards[i].querySelector(".card-name");
        return name ? name.textContent : id;
      }
    }
    return id;
  }

  function isSelected(card) {
    var box = card.querySelector(".card-select");
    return !!box && box.checked;
  }

  function selectedCards(scope) {
    var out = [];
    var root = scope || board();
    if (!root) {
      return out;
    }
    root.querySelectorAll(".card .card-select:checked").forEach(function (box) {
      var card = box.closest(".card");
      if (card && out.indexOf(card) < 0) {
        out.push(card);
      }
    });
    return out;
  }

  function uniqueIDs(cards) {
    var ids = [];
    cards.forEach(function (card) {
      var id = cardID(card);
      if (id && ids.indexOf(id) < 0) {
        ids.push(id);
      }
    });
    return ids;
  }

  // The conversations a drag or a card menu acts on: the card, and with it
  // the other selected cards of its column when the card is selected.
  function actedOn(card, list) {
    if (!isSelected(card)) {
      return [cardID(card)];
    }
    var cards = selectedCards(list);
    if (cards.indexOf(card) < 0) {
      cards.unshift(card);
    }
    return uniqueIDs(cards);
  }

  // ---- Selection -----------------------------------------------------------

  function groupsFull() {
    var state = byId("board-state");
    return !!state && state.getAttribute("data-groups-full") === "true";
  }

  function updateSelection() {
    var bar = byId("selection-bar");
    if (!bar) {
      return;
    }
    var cards = selectedCards(board());
    var n = uniqueIDs(cards).length;
    document.querySelectorAll("#board .card").forEach(function (card) {
      card.classList.toggle("is-selected", isSelected(card));
    });
    var count = bar.querySelector("[data-selection-count]");
    if (count) {
      count.textContent = n === 0 ? count.getAttribute("data-format-none") : fmt(count.getAttribute("data-format"), { n: n });
    }
    document.querySelectorAll('#board [data-action="create-from-selection"]').forEach(function (b) {
      b.disabled = n === 0 || groupsFull();
    });
    bar.querySelectorAll('[data-action="clear-selection"]').forEach(function (b) {
      b.disabled = n === 0;
    });
  }

  function clearSelection() {
    document.querySelectorAll("#board .card-select:checked").forEach(function (box) {
      box.checked = false;
    });
    updateSelection();
  }

  // ---- Requests: busy state, columns shown, refresh ------------------------

  var busyTimer = 0;

  function setBusy(on) {
    var b = board();
    if (!b) {
      return;
    }
    b.classList.toggle("is-busy", on);
    window.clearTimeout(busyTimer);
    if (on) {
      busyTimer = window.setTimeout(function () {
        setBusy(false);
      }, BUSY_TIMEOUT_MS);
    }
  }

  // shown lists how many cards each column shows ("g12:35"), so that the
  // columns the server re-renders keep their depth.
  function shown() {
    var out = [];
    document.querySelectorAll("#board .column[data-column]").forEach(function (col) {
      out.push(col.getAttribute("data-column") + ":" + col.querySelectorAll(".card-list > .card").length);
    });
    return out;
  }

  // refreshFor lists the other columns that show one of ids: their cards'
  // "also in" lists change with the edit.
  function refreshFor(ids) {
    var out = [];
    document.querySelectorAll("#board .column[data-column] .card[data-conversation]").forEach(function (card) {
      if (ids.indexOf(cardID(card)) >= 0) {
        var key = columnOf(card).getAttribute("data-column");
        if (out.indexOf(key) < 0) {
          out.push(key);
        }
      }
    });
    return out;
  }

  // refreshColumns asks the server for every column as it is, keeping the
  // depths shown: after a failed request, the board shows the truth.
  function refreshColumns() {
    var b = board();
    var filters = byId("board-filters");
    if (!b || !filters || !window.htmx) {
      return;
    }
    window.htmx.ajax("GET", b.getAttribute("data-columns-url"), {
      source: filters,
      swap: "none",
      values: { shown: shown() },
    });
  }

  function isBoardEdit(elt) {
    return !!elt && !!elt.closest && !!elt.closest("#board") && !elt.closest(".card-actions");
  }

  document.addEventListener("htmx:configRequest", function (event) {
    var d = event.detail;
    if (!d || !isBoardEdit(d.elt) || d.verb !== "post") {
      return;
    }
    var ids = d.formData.getAll("conversation").map(String);
    // The counts as of the page's board version: live updates may have
    // changed the columns since, without the version.
    beforeEdit = { ids: ids, to: d.formData.get("to"), selected: uniqueIDs(selectedCards(board())), counts: live.countsAtVersion || columnCounts() };
    shown().forEach(function (s) {
      d.formData.append("shown", s);
    });
    refreshFor(ids).forEach(function (k) {
      d.formData.append("refresh", k);
    });
    // The page's own ID: the live stream does not send this page its own
    // edits back.
    d.formData.set("page", pageID);
    setBusy(true);
  });

  // A failed edit (a group deleted meanwhile, the server unreachable) may
  // have left a card where the staff member dropped it: undo the drop and
  // reload the columns. Failed reads (paging, filters) changed nothing.
  function failed(event) {
    var d = event.detail || {};
    var verb = d.requestConfig ? d.requestConfig.verb : "";
    if (!isBoardEdit(d.elt) || verb !== "post") {
      return;
    }
    setBusy(false);
    undoDrop();
    // A 409 answer is the fresh board itself (and the conflict banner):
    // reloading it would drop the selection kept for the retry.
    if (d.xhr && d.xhr.status === 409) {
      return;
    }
    refreshColumns();
  }
  document.addEventListener("htmx:responseError", failed);
  document.addEventListener("htmx:sendError", failed);

  // An edit that went through while its columns changed under it (a group
  // deleted meanwhile) is answered with its toast and "board:refresh": the
  // columns are reloaded as they now are.
  document.addEventListener("board:refresh", function () {
    setBusy(false);
    refreshColumns();
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    if (isBoardEdit(event.detail && event.detail.elt)) {
      setBusy(false);
    }
    if (liveSwapping && event.detail && isLiveRequest(event.detail)) {
      liveSwapping = false;
    }
    window.setTimeout(applyLive, 0);
  });

  // The server answers every edit with "board:edited" once its answer is
  // swapped in: close the dialogs (unless a form came back with an error),
  // clear the selection and put focus where it makes sense.
  // beforeEdit is the board as the last edit left it: the conversations it
  // acted on, the selection and each column's count. A refused stale edit
  // (409) ticks them again on the fresh board and marks the columns that
  // changed meanwhile.
  var beforeEdit = null;

  function columnCounts() {
    var out = {};
    document.querySelectorAll("#board .column[data-column]").forEach(function (col) {
      var count = col.querySelector(".column-count");
      out[col.getAttribute("data-column")] = count ? count.textContent.trim() : "";
    });
    return out;
  }

  function afterConflict() {
    var b = beforeEdit;
    if (!b) {
      return;
    }
    var keep = b.selected.length > 0 ? b.selected : b.ids;
    document.querySelectorAll("#board .card[data-conversation]").forEach(function (card) {
      var box = card.querySelector(".card-select");
      if (box && keep.indexOf(cardID(card)) >= 0) {
        box.checked = true;
      }
    });
    if (b.to) {
      dialogTarget = b.to;
    }
    restoreTargets();
    var now = columnCounts();
    document.querySelectorAll("#board .column[data-column]").forEach(function (col) {
      var key = col.getAttribute("data-column");
      col.classList.toggle("is-changed", !(key in b.counts) || b.counts[key] !== now[key]);
      col.classList.remove("is-live-changed");
    });
  }

  document.addEventListener("board:edited", function (event) {
    var d = event.detail || {};
    setBusy(false);
    if (d.conflict) {
      afterConflict();
    }
    var fromDrag = lastDrop !== null;
    lastDrop = null;
    if (d.close) {
      document.querySelectorAll("#board dialog[open]").forEach(function (dlg) {
        // Focus goes where the server says, not back to the opener.
        dlg.convdeskOpener = null;
        dlg.convdeskKeepFocus = true;
        dlg.close();
      });
      clearSelection();
    }
    var target = d.focus ? byId(d.focus) : null;
    if (target) {
      target.focus({ preventScroll: fromDrag });
      if (target.select && target.tagName === "INPUT") {
        target.select();
      }
    }
    updateSelection();
  });

  // ---- Drag and drop -------------------------------------------------------

  // lastDrop remembers the drop being submitted, to undo it if it fails.
  var lastDrop = null;

  function dragMode() {
    var checked = document.querySelector('input[name="drag_mode"]:checked');
    return checked ? checked.value : "move";
  }

  function undoDrop() {
    var d = lastDrop;
    lastDrop = null;
    if (!d || d.kept === false) {
      return;
    }
    putBack(d);
  }

  // putBack returns a dragged card to where it came from. In "also add" mode
  // Sortable left a clone in the source: the dragged original just goes.
  function putBack(d) {
    if (d.pullMode === "clone") {
      d.item.remove();
      return;
    }
    var ref = d.from.children[d.oldIndex] || null;
    d.from.insertBefore(d.item, ref);
  }

  function fillFields(form, ids) {
    var box = form.querySelector("[data-fields]");
    box.textContent = "";
    ids.forEach(function (id) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = "conversation";
      input.value = id;
      box.appendChild(input);
    });
  }

  // ---- Where a drag ends ---------------------------------------------------
  //
  // A drop goes to the target under the pointer when it is released: a
  // column, a rail entry or the "New group" zone, each marked
  // data-drop-target. Never to the list Sortable last put the card in: a
  // card dragged over a column and released elsewhere (empty space, a
  // refusing zone) would otherwise be moved there. Every target says what
  // it will do while hovered; a drop released nowhere, or on a target that
  // refuses, goes back and changes nothing.

  var drag = null; // { from, ids, point, target }

  function boardData(name) {
    var b = board();
    return b ? b.getAttribute("data-" + name) || "" : "";
  }

  function groupedFull() {
    var state = byId("board-state");
    return !!state && state.getAttribute("data-grouped-full") === "true";
  }

  function dropTargetFrom(el) {
    var t = el && el.closest ? el.closest("[data-drop-target]") : null;
    return t && t.closest("#board") ? t : null;
  }

  function dropTargetAt(point) {
    if (!point) {
      return null;
    }
    return dropTargetFrom(document.elementFromPoint(point.x, point.y));
  }

  // judge says what a drop of d on target would do: { ok, kind, label, same }.
  function judge(d, target) {
    if (!target) {
      return { ok: false, label: boardData("drop-nowhere") };
    }
    if (target.getAttribute("data-drop-target") === "new") {
      if (groupsFull()) {
        return { ok: false, kind: "new", label: boardData("drop-full") };
      }
      if (groupedFull() && d.from === "") {
        return { ok: false, kind: "new", label: boardData("drop-grouped-full") };
      }
      var n = d.ids.length;
      return { ok: true, kind: "new", label: n === 1 ? boardData("drop-new-one") : fmt(boardData("drop-new-many"), { n: n }) };
    }
    var to = target.getAttribute("data-group") || "";
    var name = target.getAttribute("data-name") || "";
    if (to === d.from) {
      return { ok: false, same: true, kind: "group", to: to, label: boardData("drop-same") };
    }
    if (groupedFull() && d.from === "") {
      return { ok: false, kind: "group", to: to, label: boardData("drop-grouped-full") };
    }
    var add = dragMode() === "add" && to !== "";
    return { ok: true, kind: "group", to: to, add: add, label: fmt(boardData(add ? "drop-add" : "drop-move"), { name: name }) };
  }

  function clearDropMarks() {
    document.querySelectorAll("#board .is-drop-ok, #board .is-drop-refused").forEach(function (el) {
      el.classList.remove("is-drop-ok", "is-drop-refused");
    });
    var hint = byId("drop-hint");
    if (hint) {
      hint.hidden = true;
    }
  }

  function showDropHint(point, target) {
    var hint = byId("drop-hint");
    if (!drag || !hint) {
      return;
    }
    if (target !== drag.target) {
      clearDropMarks();
      drag.target = target;
    }
    if (!target) {
      hint.hidden = true;
      return;
    }
    var v = judge(drag, target);
    target.classList.add(v.ok ? "is-drop-ok" : "is-drop-refused");
    hint.textContent = v.label;
    hint.classList.toggle("drop-hint-refused", !v.ok);
    hint.hidden = false;
    hint.style.left = Math.min(point.x + 14, window.innerWidth - hint.offsetWidth - 8) + "px";
    hint.style.top = Math.min(point.y + 18, window.innerHeight - hint.offsetHeight - 8) + "px";
  }

  function trackPointer(event) {
    if (!drag || typeof event.clientX !== "number") {
      return;
    }
    // A dragend reports 0,0 in some browsers: keep the last real point.
    if (event.type === "dragend" && event.clientX === 0 && event.clientY === 0) {
      return;
    }
    drag.point = { x: event.clientX, y: event.clientY };
    if (event.type === "dragover") {
      // Every place accepts the drop event, so the drag always ends here
      // and is judged by what is under the pointer.
      event.preventDefault();
      var target = dropTargetFrom(event.target);
      if (event.dataTransfer) {
        event.dataTransfer.dropEffect = target && judge(drag, target).ok ? "move" : "none";
      }
      showDropHint(drag.point, target);
    } else if (event.type === "pointermove" || event.type === "mousemove" || event.type === "touchmove") {
      showDropHint(drag.point, dropTargetAt(drag.point));
    }
  }
  ["dragover", "drop", "dragend", "pointermove", "mousemove"].forEach(function (type) {
    document.addEventListener(type, trackPointer, true);
  });

  function notify(message) {
    if (message) {
      document.dispatchEvent(new CustomEvent("toast", { detail: { level: "warning", message: message } }));
    }
  }

  function onStart(evt) {
    drag = { from: groupOfList(evt.from), ids: actedOn(evt.item, evt.from), point: null, target: null };
    markDragCount(evt);
  }

  function onEnd(evt) {
    clearDragCount(evt);
    var d = drag;
    drag = null;
    clearDropMarks();
    window.setTimeout(applyLive, 0);
    if (!d) {
      if (evt.to !== evt.from) {
        putBack({ item: evt.item, from: evt.from, oldIndex: evt.oldIndex, pullMode: evt.pullMode });
      }
      return;
    }
    var target = dropTargetAt(d.point);
    var v = judge(d, target);
    var moved = evt.to !== evt.from;
    var kept = v.ok && v.kind === "group" && target.classList.contains("column") && groupOfList(evt.to) === v.to && evt.to !== evt.from;
    var back = { item: evt.item, from: evt.from, oldIndex: evt.oldIndex, pullMode: evt.pullMode };
    if (!kept && moved) {
      putBack(back);
    }
    if (!v.ok) {
      if (!v.same) {
        notify(v.label === boardData("drop-nowhere") ? v.label : v.label + " · " + boardData("drop-unchanged"));
      }
      return;
    }
    if (v.kind === "new") {
      openCreate(d.ids, null);
      return;
    }
    var form = byId(v.add ? "drag-add-form" : "drag-move-form");
    if (!form) {
      if (kept) {
        putBack(back);
      }
      return;
    }
    lastDrop = kept ? back : { kept: false };
    if (!v.add) {
      form.querySelector('input[name="from"]').value = d.from;
    }
    form.querySelector('input[name="to"]').value = v.to;
    fillFields(form, d.ids);
    form.requestSubmit();
  }

  function markDragCount(evt) {
    var n = actedOn(evt.item, evt.from).length;
    if (n > 1) {
      evt.item.setAttribute("data-drag-count", String(n));
    }
  }

  function clearDragCount(evt) {
    evt.item.removeAttribute("data-drag-count");
  }

  function initList(list) {
    window.Sortable.create(list, {
      group: {
        name: "board",
        pull: function () {
          return dragMode() === "add" ? "clone" : true;
        },
        put: true,
      },
      sort: false,
      draggable: ".card",
      filter: "input, button, a, summary, .card-message",
      preventOnFilter: false,
      animation: 120,
      ghostClass: "card-ghost",
      chosenClass: "card-chosen",
      onStart: onStart,
      onEnd: onEnd,
    });
  }

  // The "New group" zone takes no card into its list: a drop released over
  // it opens the dialog (onEnd), and nothing changes until the name is given.
  function initNewGroupZone(zone) {
    window.Sortable.create(zone, {
      group: { name: "board", pull: false, put: false },
      sort: false,
    });
  }

  function initLists(root) {
    if (!window.Sortable || !canEdit()) {
      return;
    }
    var lists = [];
    if (root && root.matches && root.matches(".card-list")) {
      lists.push(root);
    }
    if (root && root.querySelectorAll) {
      root.querySelectorAll(".card-list").forEach(function (l) {
        lists.push(l);
      });
    }
    lists.forEach(function (list) {
      if (list.hasAttribute("data-sortable") || !list.closest("#board")) {
        return;
      }
      list.setAttribute("data-sortable", "");
      if (list.id === "list-new") {
        initNewGroupZone(list);
      } else {
        initList(list);
      }
    });
  }

  // ---- Dialogs -------------------------------------------------------------

  function showDialog(dialog, opener) {
    if (!dialog) {
      return;
    }
    dialog.convdeskOpener = opener || document.activeElement;
    dialog.convdeskColumn = opener ? (columnOf(opener) || {}).id : "";
    if (!dialog.open) {
      dialog.showModal();
    }
  }

  // Focus goes back to what opened the dialog, or, when the answer replaced
  // it, to its column's heading, or the board's.
  document.addEventListener(
    "close",
    function (event) {
      var dialog = event.target;
      if (!(dialog instanceof HTMLDialogElement) || !dialog.closest("#board")) {
        return;
      }
      var opener = dialog.convdeskOpener;
      dialog.convdeskOpener = null;
      if (dialog.convdeskKeepFocus) {
        dialog.convdeskKeepFocus = false;
        return;
      }
      if (opener && opener.isConnected) {
        opener.focus();
        return;
      }
      var heading = dialog.convdeskColumn ? byId(dialog.convdeskColumn + "-title") : null;
      (heading || byId("board-title") || document.body).focus();
    },
    true
  );

  function openCardDialog(card, opener) {
    var dialog = byId("conv-dialog");
    var form = byId("conv-form");
    if (!dialog || !form) {
      return;
    }
    var list = card.closest(".card-list");
    var col = columnOf(card);
    var ids = actedOn(card, list);
    var from = groupOfList(list);

    var title = form.querySelector("[data-conv-title]");
    title.textContent = ids.length === 1 ? cardName(ids[0]) : fmt(title.getAttribute("data-format-many"), { n: ids.length });
    var place = form.querySelector("[data-conv-place]");
    var colName = col.querySelector(".column-title");
    place.textContent = from === "" ? place.getAttribute("data-none") : fmt(place.getAttribute("data-format"), { name: colName ? colName.textContent.trim() : "" });
    if (ids.length === 1) {
      place.textContent += " · " + ids[0];
    }
    form.querySelector("[data-conv-from]").value = from;
    var box = form.querySelector("[data-conv-fields]");
    box.textContent = "";
    ids.forEach(function (id) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = "conversation";
      input.value = id;
      box.appendChild(input);
    });

    var select = byId("conv-target");
    var firstEnabled = null;
    Array.prototype.forEach.call(select.options, function (opt) {
      opt.disabled = opt.value === from;
      if (!opt.disabled && firstEnabled === null) {
        firstEnabled = opt;
      }
    });
    if (select.selectedOptions.length === 0 || select.selectedOptions[0].disabled) {
      if (firstEnabled) {
        firstEnabled.selected = true;
      }
    }
    form.querySelectorAll('[data-testid="conv-move"], [data-testid="conv-add"]').forEach(function (b) {
      b.disabled = firstEnabled === null;
    });
    var remove = form.querySelector("[data-conv-remove]");
    remove.hidden = from === "";
    form.querySelector('[data-action="create-from-dialog"]').disabled = groupsFull();
    var filter = byId("conv-filter");
    if (filter) {
      filter.value = "";
      filterTargets(filter);
    }
    showDialog(dialog, opener);
    (filter || select).focus();
  }

  // filterTargets narrows the Move dialog's groups to those whose name or
  // number holds what was typed, and selects the first that fits.
  function filterTargets(filter) {
    var select = byId("conv-target");
    if (!select) {
      return;
    }
    var q = filter.value.trim().toLowerCase();
    var first = null;
    var numbered = null; // the group whose number is exactly what was typed
    Array.prototype.forEach.call(select.options, function (opt) {
      var name = (opt.getAttribute("data-name") || opt.textContent).toLowerCase();
      var num = opt.getAttribute("data-number") || "";
      var fits = q === "" || name.indexOf(q) >= 0 || num.indexOf(q) === 0;
      opt.hidden = !fits;
      if (fits && !opt.disabled && first === null) {
        first = opt;
      }
      if (num === q && !opt.disabled) {
        numbered = opt;
      }
    });
    first = numbered || first;
    if (first && (select.selectedOptions.length === 0 || select.selectedOptions[0].hidden || select.selectedOptions[0].disabled || q !== "")) {
      first.selected = true;
    }
    dialogTarget = select.value;
    var form = byId("conv-form");
    if (form) {
      form.querySelectorAll('[data-testid="conv-move"], [data-testid="conv-add"]').forEach(function (b) {
        b.disabled = first === null;
      });
    }
  }

  // dialogTarget is the group the open Move dialog is aimed at. Every
  // answer swaps in a fresh list of groups; while the dialog is open it
  // keeps its aim and its source stays disabled.
  var dialogTarget = "";

  function restoreTargets() {
    var dialog = byId("conv-dialog");
    var select = byId("conv-target");
    if (!dialog || !dialog.open || !select) {
      return;
    }
    var from = byId("conv-form").querySelector("[data-conv-from]").value;
    Array.prototype.forEach.call(select.options, function (opt) {
      opt.disabled = opt.value === from;
    });
    var want = dialogTarget;
    var filter = byId("conv-filter");
    if (filter && filter.value) {
      filterTargets(filter);
    }
    Array.prototype.forEach.call(select.options, function (opt) {
      if (opt.value === want && !opt.disabled) {
        opt.selected = true;
      }
    });
    dialogTarget = select.value;
  }

  document.addEventListener("change", function (event) {
    if (event.target && event.target.id === "conv-target") {
      dialogTarget = event.target.value;
    }
  });

  // ---- Rail and collapsed columns --------------------------------------------

  function goToColumn(col) {
    if (!col) {
      return;
    }
    setCollapsed(col, false, true);
    col.scrollIntoView({ block: "nearest", inline: "nearest" });
    var heading = byId(col.id + "-title") || col;
    heading.focus({ preventScroll: true });
  }

  function collapseKey() {
    return "convdesk.collapsed:" + location.pathname;
  }

  function collapsedKeys() {
    try {
      return JSON.parse(window.sessionStorage.getItem(collapseKey()) || "[]");
    } catch (e) {
      return [];
    }
  }

  function setCollapsed(col, on, remember) {
    if (!col) {
      return;
    }
    col.classList.toggle("is-collapsed", on);
    var button = col.querySelector('[data-action="toggle-column"]');
    if (button) {
      button.setAttribute("aria-expanded", on ? "false" : "true");
    }
    if (!remember) {
      return;
    }
    var key = col.getAttribute("data-column");
    var keys = collapsedKeys().filter(function (k) {
      return k !== key;
    });
    if (on) {
      keys.push(key);
    }
    try {
      window.sessionStorage.setItem(collapseKey(), JSON.stringify(keys));
    } catch (e) {
      // Storage refused (private mode): the column folds for this view only.
    }
  }

  function restoreCollapsed(root) {
    var keys = collapsedKeys();
    if (keys.length === 0 || !root || !root.querySelectorAll) {
      return;
    }
    var cols = root.matches && root.matches(".column[data-column]") ? [root] : [];
    root.querySelectorAll(".column[data-column]").forEach(function (c) {
      cols.push(c);
    });
    cols.forEach(function (c) {
      if (keys.indexOf(c.getAttribute("data-column")) >= 0) {
        setCollapsed(c, true, false);
      }
    });
  }

  // ---- Keyboard: cards, columns, selection -----------------------------------

  // One card is in the Tab order (roving tabindex); the arrow keys move it.
  function ensureRovingCard() {
    var b = board();
    if (!b || b.querySelector('.column .card[tabindex="0"]')) {
      return;
    }
    var first = b.querySelector(".column .card");
    if (first) {
      first.setAttribute("tabindex", "0");
    }
  }

  function focusCard(card) {
    if (!card) {
      return;
    }
    document.querySelectorAll('#board .card[tabindex="0"]').forEach(function (c) {
      c.setAttribute("tabindex", "-1");
    });
    card.setAttribute("tabindex", "0");
    card.focus();
    card.scrollIntoView({ block: "nearest", inline: "nearest" });
  }

  function cardsOf(col) {
    return col ? Array.prototype.slice.call(col.querySelectorAll(".card-list > .card")) : [];
  }

  function neighbourColumn(col, step) {
    var cols = Array.prototype.slice.call(document.querySelectorAll("#board .column[data-column]"));
    var i = cols.indexOf(col) + step;
    while (i >= 0 && i < cols.length) {
      if (!cols[i].classList.contains("is-collapsed")) {
        return cols[i];
      }
      i += step;
    }
    return null;
  }

  function onCardKey(event, card) {
    var col = columnOf(card);
    var cards = cardsOf(col);
    var i = cards.indexOf(card);
    switch (event.key) {
      case "ArrowDown":
      case "ArrowUp":
        event.preventDefault();
        focusCard(cards[i + (event.key === "ArrowDown" ? 1 : -1)]);
        return true;
      case "ArrowLeft":
      case "ArrowRight":
        event.preventDefault();
        var next = neighbourColumn(col, event.key === "ArrowRight" ? 1 : -1);
        if (next) {
          var there = cardsOf(next);
          if (there.length > 0) {
            focusCard(there[Math.min(i, there.length - 1)]);
          } else {
            goToColumn(next);
          }
        }
        return true;
      case " ":
        var box = card.querySelector(".card-select");
        if (box) {
          event.preventDefault();
          box.checked = !box.checked;
          updateSelection();
        }
        return true;
      case "m":
      case "M":
        if (canEdit()) {
          event.preventDefault();
          swallowKey = event.key;
          openCardDialog(card, card);
        }
        return true;
    }
    return false;
  }

  // swallowKey is the key that opened the Move dialog: its character must
  // not land in the dialog's filter box (a browser that delivers it apart
  // from the keydown would type it there).
  var swallowKey = "";
  document.addEventListener(
    "keypress",
    function (event) {
      if (swallowKey && event.key === swallowKey) {
        event.preventDefault();
      }
      swallowKey = "";
    },
    true
  );
  document.addEventListener(
    "keyup",
    function () {
      swallowKey = "";
    },
    true
  );

  document.addEventListener("keydown", function (event) {
    var t = event.target;
    if (!board() || event.altKey || event.ctrlKey || event.metaKey || !t || !t.closest) {
      return;
    }
    if (t.id === "conv-filter" && event.key === "Enter") {
      event.preventDefault();
      swallowKey = "Enter";
      var move = byId("conv-form").querySelector('[data-testid="conv-move"]');
      if (!move.disabled) {
        byId("conv-form").requestSubmit(move);
      }
      return;
    }
    if (t.matches(".card") && t.closest("#board") && onCardKey(event, t)) {
      return;
    }
    if (event.key === "?" && !t.closest("input, textarea, select, [contenteditable], dialog")) {
      event.preventDefault();
      showDialog(byId("keys-dialog"), t);
    }
  });

  document.addEventListener("input", function (event) {
    if (event.target && event.target.id === "conv-filter") {
      filterTargets(event.target);
    }
  });

  // Focus moving to a card (a click, a skip link) makes it the roving one.
  document.addEventListener("focusin", function (event) {
    var t = event.target;
    if (t && t.matches && t.matches("#board .card") && t.getAttribute("tabindex") !== "0") {
      document.querySelectorAll('#board .card[tabindex="0"]').forEach(function (c) {
        c.setAttribute("tabindex", "-1");
      });
      t.setAttribute("tabindex", "0");
    }
  });

  function openCreate(ids, opener) {
    var dialog = byId("create-dialog");
    var form = byId("create-form");
    if (!dialog || !form || ids.length === 0) {
      return;
    }
    var list = form.querySelector("[data-create-list]");
    list.textContent = "";
    ids.forEach(function (id) {
      var li = document.createElement("li");
      var name = document.createElement("span");
      name.textContent = cardName(id);
      var code = document.createElement("code");
      code.textContent = id;
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = "conversation";
      input.value = id;
      li.appendChild(name);
      li.appendChild(code);
      li.appendChild(input);
      list.appendChild(li);
    });
    var summary = form.querySelector("[data-create-summary]");
    summary.textContent = fmt(summary.getAttribute("data-format"), { n: ids.length });
    var input = form.querySelector("[data-byte-input]");
    input.value = "";
    input.removeAttribute("aria-invalid");
    var err = byId(input.id + "-error");
    if (err) {
      err.textContent = "";
    }
    updateByteCounter(input, false);
    showDialog(dialog, opener);
    input.focus();
  }

  // Names in the create dialog's list, after the server rendered it again
  // (it knows the IDs; the cards know the names).
  function nameCreateList(root) {
    var form = root && root.id === "create-form" ? root : null;
    if (!form) {
      return;
    }
    form.querySelectorAll("[data-create-list] li").forEach(function (li) {
      var code = li.querySelector("code");
      var name = li.querySelector("span");
      if (code && name && name.textContent === "") {
        name.textContent = cardName(code.textContent);
      }
    });
  }

  // ---- Rename --------------------------------------------------------------

  function showRename(col) {
    var form = col ? col.querySelector(".rename-form") : null;
    if (!form) {
      return;
    }
    form.hidden = false;
    col.classList.add("is-renaming");
    var input = form.querySelector("[data-byte-input]");
    updateByteCounter(input, false);
    input.focus();
    input.select();
  }

  function hideRename(col) {
    var form = col ? col.querySelector(".rename-form") : null;
    if (!form) {
      return;
    }
    form.hidden = true;
    col.classList.remove("is-renaming");
    window.setTimeout(applyLive, 0);
    var input = form.querySelector("[data-byte-input]");
    input.value = input.getAttribute("data-current") || "";
    input.removeAttribute("aria-invalid");
    var err = byId(input.id + "-error");
    if (err) {
      err.textContent = "";
    }
    updateByteCounter(input, false);
    var heading = byId(col.id + "-title");
    if (heading) {
      heading.focus();
    }
  }

  // ---- Byte counter and name hints -------------------------------------------

  var encoder = typeof TextEncoder === "function" ? new TextEncoder() : null;

  function byteLength(s) {
    if (encoder) {
      return encoder.encode(s).length;
    }
    return unescape(encodeURIComponent(s)).length;
  }

  function groupNames() {
    var state = byId("board-state");
    try {
      return JSON.parse((state && state.getAttribute("data-group-names")) || "[]");
    } catch (e) {
      return [];
    }
  }

  // updateByteCounter shows "n / 32 bytes" and, as a courtesy before the
  // round trip, why the name would be refused. The server decides.
  function updateByteCounter(input, typed) {
    if (!input) {
      return;
    }
    var counter = byId(input.id + "-bytes");
    var max = counter ? parseInt(counter.getAttribute("data-max"), 10) || 32 : 32;
    var n = byteLength(input.value);
    if (counter) {
      counter.textContent = fmt(counter.getAttribute("data-format"), { n: n });
      counter.classList.toggle("byte-counter-over", n > max);
    }
    var msg = "";
    if (input.value === "") {
      msg = input.getAttribute("data-msg-empty");
    } else if (n > max) {
      msg = input.getAttribute("data-msg-long");
    } else if (input.value !== input.getAttribute("data-current") && groupNames().indexOf(input.value) >= 0) {
      msg = input.getAttribute("data-msg-duplicate");
    }
    input.setCustomValidity(msg || "");
    if (typed) {
      var err = byId(input.id + "-error");
      if (err && err.textContent !== (msg || "")) {
        err.textContent = msg || "";
      }
      if (msg) {
        input.setAttribute("aria-invalid", "true");
      } else {
        input.removeAttribute("aria-invalid");
      }
    }
  }

  document.addEventListener("input", function (event) {
    var t = event.target;
    if (t && t.matches && t.matches("[data-byte-input]")) {
      updateByteCounter(t, true);
    }
  });

  // ---- Clicks, keys and changes ---------------------------------------------

  function closeMenus(except) {
    document.querySelectorAll("#board details.menu[open]").forEach(function (d) {
      if (d !== except) {
        d.open = false;
      }
    });
  }

  document.addEventListener("click", function (event) {
    var t = event.target;
    if (!t || !t.closest || !board()) {
      return;
    }
    var openMenu = t.closest("details.menu");
    closeMenus(openMenu);

    var action = t.closest("[data-action]");
    var name = action ? action.getAttribute("data-action") : "";
    var col = columnOf(t);
    switch (name) {
      case "card-menu":
        openCardDialog(action.closest(".card"), action);
        return;
      case "rename":
        closeMenus(null);
        showRename(col);
        return;
      case "cancel-rename":
        hideRename(col);
        return;
      case "delete":
        closeMenus(null);
        showDialog(byId(action.getAttribute("data-dialog")), col ? col.querySelector("summary") : action);
        return;
      case "select-all":
        closeMenus(null);
        if (col) {
          col.querySelectorAll(".card-list .card-select").forEach(function (box) {
            box.checked = true;
          });
        }
        updateSelection();
        return;
      case "close-dialog":
        var dlg = action.closest("dialog");
        if (dlg) {
          dlg.close();
        }
        return;
      case "create-from-selection":
        openCreate(uniqueIDs(selectedCards(board())), action);
        return;
      case "create-from-dialog":
        var ids = [];
        byId("conv-form")
          .querySelectorAll('[data-conv-fields] input[name="conversation"]')
          .forEach(function (i) {
            ids.push(i.value);
          });
        var opener = byId("conv-dialog").convdeskOpener;
        byId("conv-dialog").close();
        openCreate(ids, opener);
        return;
      case "skip-board":
        event.preventDefault();
        ensureRovingCard();
        var roving = document.querySelector('#board .card[tabindex="0"]');
        if (roving) {
          focusCard(roving);
        }
        return;
      case "clear-selection":
        clearSelection();
        return;
      case "dismiss-conflict":
        var banner = byId("conflict-banner");
        if (banner) {
          banner.textContent = "";
        }
        document.querySelectorAll("#board .column.is-changed").forEach(function (c) {
          c.classList.remove("is-changed");
        });
        (byId("board-title") || document.body).focus();
        return;
      case "dismiss-results":
        var slot = byId("edit-results");
        if (slot) {
          slot.textContent = "";
        }
        return;
      case "rail-go":
        goToColumn(byId(action.getAttribute("data-column-id")));
        return;
      case "toggle-column":
        setCollapsed(col, action.getAttribute("aria-expanded") === "true", true);
        return;
      case "keys-help":
        showDialog(byId("keys-dialog"), action);
        return;
      case "close-history":
        var h = byId("history");
        if (h) {
          h.open = false;
          h.querySelector("summary").focus();
        }
        return;
    }

    // Ctrl-, Cmd- or Shift-click on a card toggles its selection.
    var card = t.closest(".card");
    if (card && (event.ctrlKey || event.metaKey || event.shiftKey) && !t.closest("input, button, a")) {
      var box = card.querySelector(".card-select");
      if (box) {
        event.preventDefault();
        box.checked = !box.checked;
        updateSelection();
      }
    }
  });

  // Double-clicking a group's name opens its rename form.
  document.addEventListener("dblclick", function (event) {
    var t = event.target;
    var heading = t && t.closest ? t.closest(".column-title") : null;
    if (heading && canEdit()) {
      showRename(columnOf(heading));
    }
  });

  document.addEventListener("change", function (event) {
    var t = event.target;
    if (t && t.matches && t.matches(".card-select")) {
      updateSelection();
    }
  });

  // Escape closes an open menu, the history drawer or the rename form, and
  // gives focus back to what opened it. (Dialogs close on Escape by
  // themselves.)
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || !board()) {
      return;
    }
    var t = event.target;
    var rename = t && t.closest ? t.closest(".rename-form") : null;
    if (rename) {
      event.preventDefault();
      hideRename(columnOf(rename));
      return;
    }
    var menu = t && t.closest ? t.closest("details.menu[open]") : null;
    if (menu) {
      menu.open = false;
      menu.querySelector("summary").focus();
      return;
    }
    var history = byId("history");
    if (history && history.open && history.contains(t)) {
      history.open = false;
      history.querySelector("summary").focus();
    }
  });

  // ---- Ticket: kept for the whole visit to a board ----------------------------

  // The ticket field lives in the filter form, so every request from the
  // board, edits included, carries it. The browser does not keep it over a
  // reload (autocomplete is off), so it is kept here, in sessionStorage (this
  // tab only, gone when the tab closes), under the path of the board's own
  // URL: another user's board has another path and starts empty.
  //
  // Each entry remembers the ticket the server last rendered into the field
  // (from ?ticket=, e.g. the form sent without script): a page that arrives
  // with a new ticket of its own keeps that one, while a page that arrives
  // with none, or the same one (a reload), gets back what was typed since.
  var TICKET_INPUT_ID = "board-ticket"; // views.TicketInputID

  function ticketKey(input) {
    var form = input.form;
    var action = form ? form.getAttribute("action") : "";
    var path = location.pathname;
    try {
      path = new URL(action || path, location.href).pathname;
    } catch (e) {
      // An action the URL parser refuses: the page's own path.
    }
    return "convdesk.ticket:" + path;
  }

  function readTicket(key) {
    try {
      var saved = JSON.parse(window.sessionStorage.getItem(key) || "null");
      return saved && typeof saved.value === "string" && typeof saved.from === "string" ? saved : null;
    } catch (e) {
      return null;
    }
  }

  function saveTicket(key, saved) {
    try {
      window.sessionStorage.setItem(key, JSON.stringify(saved));
    } catch (e) {
      // Storage refused (private mode): the ticket lasts until a reload.
    }
  }

  function restoreTicket(root) {
    var input = byId(TICKET_INPUT_ID);
    if (!input || !root || (root !== input && !(root.contains && root.contains(input)))) {
      return;
    }
    var key = ticketKey(input);
    var rendered = input.getAttribute("value") || "";
    var saved = readTicket(key);
    if (saved && (rendered === "" || rendered === saved.from)) {
      input.value = saved.value;
    } else if (rendered !== "") {
      saveTicket(key, { from: rendered, value: rendered });
    }
  }

  function rememberTicket(event) {
    var input = event.target;
    if (!input || input.id !== TICKET_INPUT_ID) {
      return;
    }
    var key = ticketKey(input);
    var saved = readTicket(key);
    saveTicket(key, { from: saved ? saved.from : input.getAttribute("value") || "", value: input.value });
  }
  document.addEventListener("input", rememberTicket);
  document.addEventListener("change", rememberTicket);

  // ---- Search box ----------------------------------------------------------

  // The search form is a plain GET form, so Enter works without script.
  // With htmx the box searches as one types; Enter searches at once (the
  // browser's "search" event) instead of loading the page again.
  var lastSearchAt = 0;
  document.addEventListener(
    "search",
    function (event) {
      if (event.target && event.target.closest && event.target.closest("[data-search-form]")) {
        lastSearchAt = Date.now();
      }
    },
    true
  );
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!window.htmx || !form.matches || !form.matches("[data-search-form]")) {
      return;
    }
    event.preventDefault();
    var input = form.querySelector('input[name="q"]');
    var submittedAt = Date.now();
    window.setTimeout(function () {
      // Browsers that fired no "search" event (or a click on the button).
      if (lastSearchAt < submittedAt - 50) {
        window.htmx.trigger(input, "search");
      }
    }, 0);
  });

  // ---- Live board: the change stream ----------------------------------------
  //
  // A board with a live slot (#board-live, beside the board's content)
  // connects its change stream once the page has loaded, through the htmx
  // SSE extension (loaded here, only then). The stream names the columns
  // another page's edit changed and a line saying what happened; the board
  // reads its columns again itself (its filters, its depths), keeps the
  // selection, scroll positions, ticket and open dialogs, marks the columns
  // for a moment and announces the line with a toast. It never reloads the
  // page and never touches the state token (#board-state): the next edit
  // gets the 409 that names who changed what. Updates wait while a drag, a
  // request or a rename is under way.

  // pageID names this page to the server, so its own edits are not sent
  // back to it. Random per load: never a staff or session identifier.
  var pageID = (function () {
    var bytes = new Uint8Array(12);
    try {
      window.crypto.getRandomValues(bytes);
    } catch (e) {
      for (var i = 0; i < bytes.length; i++) {
        bytes[i] = Math.floor(Math.random() * 256);
      }
    }
    return Array.prototype.map
      .call(bytes, function (b) {
        return ("0" + b.toString(16)).slice(-2);
      })
      .join("");
  })();

  var LIVE_MARK_MS = 4000;
  var LIVE_HEADER = "X-Convdesk-Live";
  // countsAtVersion are the column counts when the page's board version
  // was last set, kept once live updates change the columns under it, so a
  // refused stale edit (409) still marks every column changed since.
  var live = { lastId: 0, pending: [], busyShown: false, stopped: false, countsAtVersion: null };
  var liveSwapping = false;

  // streamSource is the extension's EventSource factory. It resumes a new
  // EventSource after the last event this page saw, and keeps the browser's
  // own reconnects (with Last-Event-ID) quiet: only a source the browser
  // gave up on is reported to the extension, which then opens a new one.
  function streamSource(url) {
    var u = new URL(url, location.href);
    if (u.searchParams.has("page")) {
      u.searchParams.set("after", String(live.lastId));
    }
    var source = new EventSource(u.pathname + u.search, { withCredentials: true });
    var onerror = null;
    Object.defineProperty(source, "onerror", {
      configurable: true,
      get: function () {
        return onerror;
      },
      set: function (f) {
        onerror = f;
      },
    });
    source.addEventListener("error", function (event) {
      if (source.readyState === EventSource.CLOSED && onerror && !live.stopped) {
        onerror.call(source, event);
      }
    });
    return source;
  }

  function loadExtension(src, done) {
    if (window.htmx.createEventSource === streamSource) {
      done();
      return;
    }
    window.htmx.createEventSource = streamSource;
    var script = document.createElement("script");
    script.src = src;
    script.onload = done;
    document.head.appendChild(script);
  }

  function connectLive() {
    var slot = byId("board-live");
    var b = board();
    if (!slot || !b || !window.htmx || typeof window.EventSource !== "function" || live.stopped || b.hasAttribute("sse-connect")) {
      return;
    }
    live.lastId = Math.max(live.lastId, parseInt(slot.getAttribute("data-after"), 10) || 0);
    loadExtension(slot.getAttribute("data-extension"), function () {
      if (!board() || board() !== b || b.hasAttribute("sse-connect")) {
        return;
      }
      var u = new URL(slot.getAttribute("data-stream-url"), location.href);
      u.searchParams.set("page", pageID);
      var ear = document.createElement("div");
      ear.id = "board-live-events";
      ear.hidden = true;
      ear.setAttribute("hx-trigger", "sse:change, sse:refetch, sse:busy, sse:signed-out");
      b.appendChild(ear);
      var presence = byId("board-presence");
      if (presence) {
        presence.setAttribute("sse-swap", "presence");
        presence.setAttribute("hx-swap", "innerHTML");
      }
      b.setAttribute("hx-ext", "sse");
      b.setAttribute("sse-close", "signed-out");
      b.setAttribute("sse-connect", u.pathname + u.search);
      window.htmx.process(b);
    });
  }

  function liveMessage(name) {
    var slot = byId("board-live");
    return slot ? slot.getAttribute("data-msg-" + name) || "" : "";
  }

  function noteEventId(message) {
    var id = parseInt(message && message.lastEventId, 10);
    if (id > live.lastId) {
      live.lastId = id;
    }
  }

  document.addEventListener("sse:change", function (event) {
    var m = event.detail || {};
    noteEventId(m);
    var change;
    try {
      change = JSON.parse(m.data);
    } catch (e) {
      change = { columns: [], line: "" };
    }
    live.pending.push(change);
    live.busyShown = false;
    applyLive();
  });

  document.addEventListener("sse:refetch", function () {
    live.pending.push({ columns: [], line: "" });
    applyLive();
  });

  // Too many streams in this browser session: the server sent what this
  // page missed and closed; the EventSource comes back every 5 s.
  document.addEventListener("sse:busy", function () {
    if (!live.busyShown) {
      live.busyShown = true;
      notifyLive("info", liveMessage("busy"));
    }
  });

  document.addEventListener("sse:signed-out", function () {
    live.stopped = true;
    notifyLive("warning", liveMessage("signed-out"));
  });

  document.addEventListener("htmx:sseOpen", function () {
    live.busyShown = false;
  });

  function notifyLive(level, message) {
    if (message) {
      document.dispatchEvent(new CustomEvent("toast", { detail: { level: level, message: message } }));
    }
  }

  function isLiveRequest(d) {
    var headers = d.requestConfig && d.requestConfig.headers;
    return !!headers && headers[LIVE_HEADER] === "1";
  }

  // A live refresh leaves the state token and the last edit's results alone.
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (isLiveRequest(event.detail || {})) {
      liveSwapping = true;
    }
  });
  document.addEventListener("htmx:oobAfterSwap", function (event) {
    var t = event.detail && event.detail.target;
    if (!liveSwapping && t && t.id === "board-state") {
      live.countsAtVersion = null;
    }
  });
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var t = event.detail && event.detail.target;
    if (liveSwapping && t && (t.id === "board-state" || t.id === "edit-results" || t.id === "conflict-banner")) {
      event.detail.shouldSwap = false;
    }
  });

  function liveHeld() {
    var b = board();
    return !b || drag !== null || lastDrop !== null || b.classList.contains("is-busy") || !!b.querySelector(".column.is-renaming") || live.refreshing;
  }

  // applyLive reads the columns again for the changes waiting, unless a
  // drag, a request or a rename is under way: then it runs when that ends.
  function applyLive() {
    if (live.pending.length === 0 || liveHeld()) {
      return;
    }
    var b = board();
    var filters = byId("board-filters");
    if (!filters || !window.htmx) {
      return;
    }
    var batch = live.pending;
    live.pending = [];
    var columns = [];
    var lines = [];
    batch.forEach(function (c) {
      (c.columns || []).forEach(function (k) {
        if (columns.indexOf(k) < 0) {
          columns.push(k);
        }
      });
      if (c.line) {
        lines.push(c.line);
      }
    });
    var view = saveView();
    if (!live.countsAtVersion) {
      live.countsAtVersion = columnCounts();
    }
    live.refreshing = true;
    // After htmx has settled the new columns (settling puts back the
    // classes the server rendered, which would drop the marks).
    var settled = function () {
      live.refreshing = false;
      restoreView(view);
      markColumns(columns);
      lines.slice(-3).forEach(function (line) {
        notifyLive("info", line);
      });
      applyLive();
    };
    var done = function () {
      liveSwapping = false;
      window.setTimeout(settled, (window.htmx.config.defaultSettleDelay || 0) + 20);
    };
    window.htmx
      .ajax("GET", b.getAttribute("data-columns-url"), {
        source: filters,
        swap: "none",
        values: { shown: shown() },
        headers: { "X-Convdesk-Live": "1" },
      })
      .then(done, done);
  }

  function saveView() {
    var v = { selected: uniqueIDs(selectedCards(board())), left: 0, lists: {}, focus: null };
    var strip = byId("board-columns");
    if (strip) {
      v.left = strip.scrollLeft;
    }
    document.querySelectorAll("#board .column[data-column] .card-list").forEach(function (list) {
      v.lists[columnOf(list).getAttribute("data-column")] = list.scrollTop;
    });
    var f = document.activeElement;
    if (f && f.closest && f.closest("#board-columns")) {
      var card = f.closest(".card");
      v.focus = { id: f.id, card: card ? cardID(card) : "", column: columnOf(f) ? columnOf(f).getAttribute("data-column") : "" };
    }
    return v;
  }

  function restoreView(v) {
    document.querySelectorAll("#board .card[data-conversation]").forEach(function (card) {
      var box = card.querySelector(".card-select");
      if (box && v.selected.indexOf(cardID(card)) >= 0) {
        box.checked = true;
      }
    });
    var strip = byId("board-columns");
    if (strip) {
      strip.scrollLeft = v.left;
    }
    document.querySelectorAll("#board .column[data-column] .card-list").forEach(function (list) {
      var key = columnOf(list).getAttribute("data-column");
      if (key in v.lists) {
        list.scrollTop = v.lists[key];
      }
    });
    if (v.focus && (!document.activeElement || document.activeElement === document.body)) {
      var col = document.querySelector('#board .column[data-column="' + cssEscape(v.focus.column) + '"]');
      var target = v.focus.id ? byId(v.focus.id) : null;
      if (!target && col && v.focus.card) {
        target = col.querySelector('.card[data-conversation="' + cssEscape(v.focus.card) + '"]');
      }
      if (target) {
        target.focus({ preventScroll: true });
      }
    }
    restoreTargets();
    updateSelection();
  }

  function cssEscape(s) {
    return window.CSS && window.CSS.escape ? window.CSS.escape(s) : String(s).replace(/["\\]/g, "\\$&");
  }

  function markColumns(keys) {
    keys.forEach(function (key) {
      var col = document.querySelector('#board .column[data-column="' + cssEscape(key) + '"]');
      if (!col) {
        return;
      }
      col.classList.add("is-changed", "is-live-changed");
      window.setTimeout(function () {
        if (col.classList.contains("is-live-changed")) {
          col.classList.remove("is-changed", "is-live-changed");
        }
      }, LIVE_MARK_MS);
    });
  }

  function startLive() {
    if (document.readyState === "complete") {
      connectLive();
    } else {
      window.addEventListener("load", connectLive, { once: true });
    }
  }

  // ---- Start ---------------------------------------------------------------

  function start() {
    if (!window.htmx) {
      return;
    }
    window.htmx.onLoad(function (elt) {
      initLists(elt);
      nameCreateList(elt);
      restoreCollapsed(elt);
      restoreTicket(elt);
      if (elt && elt.id === "conv-target") {
        restoreTargets();
      }
      if (board()) {
        ensureRovingCard();
        updateSelection();
        if (elt && elt.contains && elt.contains(board())) {
          startLive();
        }
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
