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
        // close the list only: a search field's own Escape would also empty the query
        e.preventDefault();
        clear();
        input.removeAttribute("aria-activedescendant");
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

// Form parts that matter for one choice only ("what would you like instead?" for an exchange,
// the complaint route for a faulty product): data-show-when="NAME=VALUE[,VALUE]". Without
// JavaScript they are simply always shown.
(function () {
  "use strict";
  document.querySelectorAll("[data-show-when]").forEach(function (part) {
    var rule = part.getAttribute("data-show-when").split("=");
    var form = part.closest("form");
    if (!form || rule.length !== 2) return;
    var values = rule[1].split(",");
    function update() {
      var chosen = form.querySelector("[name='" + rule[0] + "']:checked") ||
        form.querySelector("select[name='" + rule[0] + "']");
      part.hidden = !(chosen && values.indexOf(chosen.value) !== -1);
    }
    form.addEventListener("change", update);
    update();
  });
})();

// "Was this article helpful?": answers are sent in the background and the section is replaced
// in place, so the page neither reloads nor jumps. Without JavaScript the forms post and the
// page comes back at #feedback.
(function () {
  "use strict";
  if (!window.fetch || !window.FormData) return;
  document.addEventListener("submit", function (e) {
    var form = e.target;
    var section = form.closest("[data-feedback]");
    if (!section) return;
    e.preventDefault();
    var data = new FormData(form);
    if (e.submitter && e.submitter.name) data.append(e.submitter.name, e.submitter.value);
    var buttons = form.querySelectorAll("button");
    buttons.forEach(function (b) { b.disabled = true; });
    fetch(form.action, { method: "POST", body: data, credentials: "same-origin",
                         headers: { "X-Requested-With": "fetch" } })
      .then(function (r) {
        if (!r.ok && r.status !== 400) throw new Error(String(r.status));
        return r.text();
      })
      .then(function (html) {
        var holder = document.createElement("div");
        holder.innerHTML = html;
        var fresh = holder.querySelector("[data-feedback]");
        if (!fresh) throw new Error("no section");
        var root = document.documentElement, pageHeight = root.scrollHeight, y = window.scrollY;
        section.replaceWith(fresh);
        // a shorter section (the thanks) would pull the page up under the reader: keep its room
        fresh.style.boxSizing = "border-box";
        for (var tries = 0; tries < 3 && root.scrollHeight < pageHeight; tries++) {  // margins may collapse
          fresh.style.minHeight = (fresh.getBoundingClientRect().height + pageHeight - root.scrollHeight) + "px";
        }
        window.scrollTo(window.scrollX, y);
        var focus = fresh.querySelector("textarea") || fresh.querySelector("[role=status]");
        if (focus) {
          if (!focus.matches("textarea")) focus.setAttribute("tabindex", "-1");
          focus.focus({ preventScroll: true });
        }
      })
      .catch(function () {  // refused or offline: the plain post still works
        if (e.submitter && e.submitter.name) {
          var chosen = document.createElement("input");
          chosen.type = "hidden";
          chosen.name = e.submitter.name;
          chosen.value = e.submitter.value;
          form.appendChild(chosen);
        }
        form.submit();
      });
  });
})();
