// Access review page: keyboard decisions, row selection for bulk decisions, and showing a row's
// validation error (htmx leaves 4xx responses unswapped by default). Hooked by data-* attributes.
(function () {
  "use strict";
  var current = null; // id of the entry row the keys act on

  function rows() { return Array.prototype.slice.call(document.querySelectorAll("tr[data-entry]")); }
  function isTyping(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }
  function currentRow() { return current ? document.getElementById(current) : null; }
  function focusRow(row) {
    rows().forEach(function (r) { r.classList.remove("is-current"); });
    if (!row) return;
    current = row.id;
    row.classList.add("is-current");
    row.focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
  }
  function move(step) {
    var all = rows(), row = currentRow(), i = row ? all.indexOf(row) : -1;
    focusRow(all[Math.max(0, Math.min(all.length - 1, i + step))] || null);
  }
  function openReason(row, decision) {
    var box = row.querySelector("[data-reason]"), text = row.querySelector("[data-justification]");
    var save = row.querySelector("[data-save]");
    if (!box || !text) return;
    if (decision && save) save.value = decision;
    box.open = true;
    text.focus();
  }
  function updateCount() {
    var label = document.querySelector("[data-selected-count]");
    if (!label) return;
    var n = document.querySelectorAll("[data-entry-select]:checked").length;
    label.textContent = n ? n + " ticked" : "or tick rows (x)";
  }

  // Keys act on the current row; a decision that needs a reason comes back (422) with the reason box
  // open, and the swap handler below puts the cursor in it.
  document.addEventListener("keydown", function (event) {
    if (!document.querySelector("[data-review-keys]")) return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (target && target.matches && target.matches("[data-justification]")) {
      var row = target.closest("tr[data-entry]");
      if (event.key === "Enter" && !event.shiftKey && row) {
        event.preventDefault();
        var save = row.querySelector("[data-save]");
        if (save) save.click();
      } else if (event.key === "Escape" && row) {
        focusRow(row);
      }
      return;
    }
    if (isTyping(target)) return;
    var key = event.key;
    if (key === "j" || key === "k") { event.preventDefault(); move(key === "j" ? 1 : -1); return; }
    var cur = currentRow();
    if (!cur) return;
    if (key === "x") {
      var box = cur.querySelector("[data-entry-select]");
      if (box) { box.checked = !box.checked; updateCount(); }
    } else if (key === "e") {
      event.preventDefault();
      openReason(cur, "");
    } else if (key === "y" || key === "r" || key === "c") {
      var button = cur.querySelector('button[data-key="' + key + '"]');
      if (button) { event.preventDefault(); button.click(); }
    }
  });

  document.addEventListener("click", function (event) {
    var row = event.target.closest ? event.target.closest("tr[data-entry]") : null;
    if (row && current !== row.id) { rows().forEach(function (r) { r.classList.remove("is-current"); }); current = row.id; row.classList.add("is-current"); }
  });

  document.addEventListener("change", function (event) {
    var t = event.target;
    if (t.matches("[data-select-page]")) {
      document.querySelectorAll("[data-entry-select]").forEach(function (box) { box.checked = t.checked; });
    }
    if (t.matches("[data-select-page], [data-entry-select]")) updateCount();
  });

  // A refused decision answers 422 (409 locked, 403 not yours) with the row showing why: swap it.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if ((status === 422 || status === 409 || status === 403) && event.detail.elt.closest("[data-review]")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    updateCount();
    var row = currentRow();
    if (!row) return;
    row.classList.add("is-current");
    var error = row.querySelector(".review-row-error");
    if (error && event.detail.xhr.status >= 400) {
      openReason(row, "");
    } else if (event.detail.target && event.detail.target.id === current && event.detail.xhr.status === 200) {
      move(1); // decided: on to the next entry
    }
  });
})();
