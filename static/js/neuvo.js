// Search-as-you-type for the help center search box. Progressive enhancement:
// without JavaScript the form submits to the normal search page.
(function () {
  "use strict";
  function debounce(fn, ms) {
    var timer;
    return function () {
      var args = arguments;
      clearTimeout(timer);
      timer = setTimeout(function () { fn.apply(null, args); }, ms);
    };
  }

  function attach(input) {
    var list = document.getElementById(input.getAttribute("aria-controls"));
    if (!list) return;
    var controller = null;
    var active = -1;

    function clear() { list.hidden = true; list.textContent = ""; active = -1; }

    function render(results) {
      list.textContent = "";
      results.slice(0, 6).forEach(function (hit, i) {
        var li = document.createElement("li");
        li.setAttribute("role", "option");
        li.id = "suggestion-" + i;
        var a = document.createElement("a");
        a.href = hit.url;
        a.textContent = hit.title;  // titles are text, never HTML
        li.appendChild(a);
        list.appendChild(li);
      });
      list.hidden = results.length === 0;
    }

    var lookup = debounce(function () {
      var q = input.value.trim();
      if (q.length < 2) { clear(); return; }
      if (controller) controller.abort();
      controller = new AbortController();
      var url = input.dataset.suggestUrl + "?as_you_type=1&lang=" + encodeURIComponent(input.dataset.lang) +
        "&q=" + encodeURIComponent(q);
      fetch(url, { signal: controller.signal, headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { results: [] }; })
        .then(function (data) { render(data.results || []); })
        .catch(function () { /* aborted or offline: keep the plain form */ });
    }, 180);

    input.addEventListener("input", lookup);
    input.addEventListener("keydown", function (e) {
      var items = list.querySelectorAll("a");
      if (list.hidden || !items.length) return;
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        active = (active + (e.key === "ArrowDown" ? 1 : -1) + items.length) % items.length;
        items.forEach(function (a, i) { a.setAttribute("aria-selected", i === active ? "true" : "false"); });
        input.setAttribute("aria-activedescendant", "suggestion-" + active);
      } else if (e.key === "Enter" && active >= 0) {
        e.preventDefault();
        window.location.href = items[active].href;
      } else if (e.key === "Escape") {
        clear();
      }
    });
    document.addEventListener("click", function (e) { if (!list.contains(e.target) && e.target !== input) clear(); });
  }

  document.querySelectorAll("input[data-suggest-url]").forEach(attach);
})();

// "Show password": the button toggles its field between hidden and plain text (ASVS 2.1.12).
(function () {
  "use strict";
  document.querySelectorAll("button[data-show-password]").forEach(function (button) {
    var input = document.getElementById(button.getAttribute("data-show-password"));
    if (!input) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      var show = input.type === "password";
      input.type = show ? "text" : "password";
      button.setAttribute("aria-pressed", show ? "true" : "false");
      input.focus();
    });
  });
})();
