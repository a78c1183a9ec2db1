// Agent ticket page: insert linked answers and canned replies at the cursor, and watch
// for colleagues (presence) so a reply is not written against an old version.
// All data comes from data- attributes rendered by the server (CSP forbids inline script).
(function () {
  "use strict";

  function insertAtCursor(textarea, text) {
    var start = textarea.selectionStart, end = textarea.selectionEnd;
    var value = textarea.value;
    if (typeof start !== "number") { start = end = value.length; }
    // keep the inserted block on its own lines
    var before = value.slice(0, start), after = value.slice(end);
    if (before && !/\n$/.test(before)) { text = "\n" + text; }
    if (after && !/^\n/.test(after)) { text = text + "\n"; }
    if (typeof textarea.setRangeText === "function") {
      textarea.setRangeText(text, start, end, "end");
    } else {
      textarea.value = before + text + after;
      textarea.selectionStart = textarea.selectionEnd = start + text.length;
    }
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
    textarea.focus();
  }

  function recordLinked(input, id) {
    var ids = input.value.split(/[\s,]+/).filter(Boolean);
    if (ids.indexOf(id) === -1) { ids.push(id); }
    input.value = ids.join(",");
  }

  function setUpInsertions(textarea) {
    var linked = document.getElementById("reply-linked");
    Array.prototype.forEach.call(document.querySelectorAll(".insert-answer"), function (button) {
      button.addEventListener("click", function () {
        var d = button.dataset;
        insertAtCursor(textarea, d.title + "\n" + d.excerpt + "\n" + d.url + "\n");
        if (linked) { recordLinked(linked, d.articleId); }
      });
    });
    var select = document.getElementById("macro-select");
    var insert = document.getElementById("macro-insert");
    if (select && insert) {
      insert.addEventListener("click", function () {
        var option = select.options[select.selectedIndex];
        if (option && option.value) { insertAtCursor(textarea, option.dataset.body || ""); }
      });
    }
  }

  function setUpPresence(root) {
    var url = root.dataset.presenceUrl, version = parseInt(root.dataset.version, 10);
    var stale = document.getElementById("presence-stale");
    var viewers = document.getElementById("presence-viewers");
    if (!url || !window.fetch) { return; }
    function poll() {
      fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data) { return; }
          if (viewers) {
            var names = data.viewers.map(function (v) { return v.name; });
            viewers.textContent = names.length ? root.dataset.msgViewing + " " + names.join(", ") : "";
          }
          if (stale && data.version > version) {
            stale.textContent = root.dataset.msgStale;  // text, never HTML
            stale.hidden = false;
            stale.setAttribute("role", "alert");
          }
        })
        .catch(function () { /* offline for a moment: try again at the next tick */ });
    }
    setInterval(poll, 20000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("agent-ticket");
    if (!root) { return; }
    var textarea = document.getElementById("reply-body");
    if (textarea) { setUpInsertions(textarea); }
    setUpPresence(root);
  });
})();
