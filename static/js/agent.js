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

  // Where the closing of a reply begins ("Ystävällisin terveisin", "Med vänliga hälsningar",
  // "Kind regards", or the "-- " delimiter): the index of that line, or -1.
  var SIGN_OFF = /^(--\s*$|(ystävällisin terveisin|ystävällisesti|terveisin|parhain terveisin|med vänlig(a)? hälsning(ar)?|vänliga hälsningar|hälsningar|mvh|kind regards|best regards|regards|best wishes|yours sincerely)\b)/i;

  function signatureStart(value) {
    var lines = value.split("\n"), offset = 0, found = -1;
    for (var i = 0; i < lines.length; i++) {
      if (i > 0 && SIGN_OFF.test(lines[i].trim())) { found = offset; }
      offset += lines[i].length + 1;
    }
    return found;
  }

  // A linked answer is a paragraph of its own: at the cursor, but never inside or below the sign-off.
  function insertParagraph(textarea, text) {
    var value = textarea.value;
    var start = typeof textarea.selectionStart === "number" ? textarea.selectionStart : value.length;
    var end = typeof textarea.selectionEnd === "number" ? textarea.selectionEnd : start;
    var signature = signatureStart(value);
    if (signature !== -1 && end > signature) { start = end = signature; }
    var before = value.slice(0, start), after = value.slice(end);
    var lead = before.replace(/[ \t]+$/, "");
    if (lead && !/\n\n$/.test(lead)) { text = (/\n$/.test(lead) ? "\n" : "\n\n") + text; }
    if (after.replace(/^[ \t]+/, "") && !/^\n\n/.test(after)) { text = text + (/^\n/.test(after) ? "\n" : "\n\n"); }
    textarea.value = lead + text + after;
    var caret = lead.length + text.length - (after && /\n\n$/.test(text) ? 2 : 0);
    textarea.selectionStart = textarea.selectionEnd = caret;
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
    textarea.focus();
  }

  // After a canned reply, put the cursor in its empty middle (between greeting and sign-off) if it has one.
  function caretToGap(textarea, from, to) {
    var gap = textarea.value.slice(from, to).search(/\n\n\n+/);
    if (gap === -1) { return; }
    var at = from + gap + 2;
    textarea.selectionStart = textarea.selectionEnd = at;
  }

  function setUpInsertions(textarea) {
    var linked = document.getElementById("reply-linked");
    Array.prototype.forEach.call(document.querySelectorAll(".insert-answer"), function (button) {
      button.addEventListener("click", function () {
        var answer = button.dataset.answer || "";
        var at = answer ? textarea.value.indexOf(answer) : -1;
        if (at >= 0) {  // already in the reply (a second click): show it there instead of adding it twice
          textarea.focus();
          textarea.setSelectionRange(at, at + answer.length);
          return;
        }
        insertParagraph(textarea, answer);
        if (linked) { recordLinked(linked, button.dataset.articleId); }
      });
    });
    var select = document.getElementById("macro-select");
    var insert = document.getElementById("macro-insert");
    if (select && insert) {
      insert.addEventListener("click", function () {
        var option = select.options[select.selectedIndex];
        if (option && option.value) {
          var from = textarea.selectionStart || 0;
          insertAtCursor(textarea, option.dataset.body || "");
          caretToGap(textarea, from, textarea.selectionEnd);
        }
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
