// Suggested articles while the customer writes to customer service. Progressive
// enhancement: without JavaScript the form works the same, only without suggestions.
// Titles are inserted as text, never as HTML.
(function () {
  "use strict";
  var form = document.querySelector("form.contact-form[data-suggest-url]");
  if (!form || !window.fetch) return;
  var panel = document.getElementById("contact-suggestions");
  var list = document.getElementById("contact-suggestion-list");
  var status = document.getElementById("contact-suggestion-status");
  var sources = form.querySelectorAll("[data-suggest-source]");
  if (!panel || !list || !status || !sources.length) return;

  var controller = null;
  var timer = null;
  var lastText = "";

  function text() {
    var parts = [];
    sources.forEach(function (field) { parts.push(field.value.trim()); });
    return parts.join("\n").trim().slice(0, 5000);
  }

  function openUrl(slug) {
    return form.dataset.openUrl.replace("__slug__", encodeURIComponent(slug));
  }

  function render(suggestions) {
    list.textContent = "";
    suggestions.slice(0, 3).forEach(function (item) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = openUrl(item.slug);
      a.target = "_blank";
      a.rel = "noopener";
      a.textContent = item.title || item.slug;
      li.appendChild(a);
      list.appendChild(li);
    });
    var count = list.children.length;
    panel.hidden = count === 0;
    status.textContent = count ? form.dataset.foundText.replace("{n}", String(count)) : "";
  }

  function lookup() {
    var value = text();
    if (value.length < 12 || value === lastText) {
      if (value.length < 12) render([]);
      return;
    }
    lastText = value;
    if (controller) controller.abort();
    controller = new AbortController();
    fetch(form.dataset.suggestUrl, {
      method: "POST",
      signal: controller.signal,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify({ text: value, language: form.dataset.lang, k: 3 })
    })
      .then(function (r) { return r.ok ? r.json() : { suggestions: [] }; })
      .then(function (data) { render(data.suggestions || []); })
      .catch(function () { /* aborted, offline or rate-limited: the form works without suggestions */ });
  }

  sources.forEach(function (field) {
    field.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(lookup, 400);
    });
  });
})();
