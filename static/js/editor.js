// Editor workspace: live Markdown preview and confirmations. No inline scripts (CSP):
// everything is wired from data- attributes. Without JavaScript the forms still work
// and the preview shows the last saved text.
(function () {
  "use strict";

  function debounce(fn, ms) {
    var timer;
    return function () {
      clearTimeout(timer);
      timer = setTimeout(fn, ms);
    };
  }

  function csrfToken(form) {
    var field = form && form.querySelector("input[name=csrf_token]");
    return field ? field.value : "";
  }

  function attachPreview(textarea) {
    var target = document.getElementById(textarea.dataset.previewTarget);
    if (!target) return;
    var controller = null;
    var update = debounce(function () {
      if (controller) controller.abort();
      controller = new AbortController();
      var body = new FormData();
      body.append("body", textarea.value);
      fetch(textarea.dataset.previewUrl, {
        method: "POST", body: body, signal: controller.signal, credentials: "same-origin",
        headers: { "Accept": "application/json", "X-CSRFToken": csrfToken(textarea.form) }
      })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          // The server renders and sanitises (Markdown + nh3), exactly as readers see it.
          if (data && typeof data.html === "string") target.innerHTML = data.html;
        })
        .catch(function () { /* aborted or offline: keep the last preview */ });
    }, 300);
    textarea.addEventListener("input", update);
  }

  document.querySelectorAll("textarea[data-preview-url]").forEach(attachPreview);

  document.querySelectorAll("button[data-confirm]").forEach(function (button) {
    button.addEventListener("click", function (event) {
      if (!window.confirm(button.dataset.confirm)) event.preventDefault();
    });
  });

  // Warn before leaving an edited, unsaved article.
  document.querySelectorAll("form.editor-form").forEach(function (form) {
    var dirty = false;
    form.addEventListener("input", function () { dirty = true; });
    form.addEventListener("submit", function () { dirty = false; });
    window.addEventListener("beforeunload", function (event) {
      if (dirty) { event.preventDefault(); event.returnValue = ""; }
    });
  });
})();
