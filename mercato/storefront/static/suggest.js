// Type-ahead for the search box: a progressive enhancement; without it the form simply submits.
(function () {
  "use strict";
  const input = document.querySelector("input[data-suggest]");
  if (!input) return;
  const list = document.getElementById(input.getAttribute("aria-controls"));
  let items = [];
  let active = -1;
  let timer = null;
  let controller = null;

  function close() {
    list.hidden = true;
    list.replaceChildren();
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    items = [];
    active = -1;
  }

  function highlight(index) {
    items.forEach((li, i) => li.setAttribute("aria-selected", i === index ? "true" : "false"));
    active = index;
    if (index >= 0) input.setAttribute("aria-activedescendant", items[index].id);
    else input.removeAttribute("aria-activedescendant");
  }

  function show(data) {
    close();
    if (!data.length) return;
    data.forEach((entry, i) => {
      const li = document.createElement("li");
      li.id = "suggestion-" + i;
      li.setAttribute("role", "option");
      const a = document.createElement("a");
      a.href = entry.url;
      a.textContent = entry.text; // text, never HTML
      a.tabIndex = -1;
      li.appendChild(a);
      list.appendChild(li);
      items.push(li);
    });
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
  }

  async function fetchSuggestions(q) {
    if (controller) controller.abort();
    controller = new AbortController();
    try {
      const response = await fetch(input.dataset.suggest + "?q=" + encodeURIComponent(q), {
        signal: controller.signal,
        headers: { accept: "application/json" },
      });
      if (!response.ok) return close();
      const body = await response.json();
      if (input.value.trim() === q) show(body.data || []);
    } catch (e) {
      if (e.name !== "AbortError") close();
    }
  }

  input.addEventListener("input", () => {
    clearTimeout(timer);
    const q = input.value.trim();
    if (q.length < 2) return close();
    timer = setTimeout(() => fetchSuggestions(q), 150);
  });

  input.addEventListener("keydown", (event) => {
    if (list.hidden) return;
    if (event.key === "ArrowDown") {
      event.preventDefault();
      highlight((active + 1) % items.length);
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      highlight(active <= 0 ? items.length - 1 : active - 1);
    } else if (event.key === "Enter" && active >= 0) {
      event.preventDefault();
      window.location.href = items[active].querySelector("a").href;
    } else if (event.key === "Escape") {
      close();
    }
  });

  input.addEventListener("blur", () => setTimeout(close, 150));

  // Sorting applies at once where scripts run; the Apply button does the same without them.
  document.querySelectorAll("form.filters select[name=sort]").forEach((select) => {
    select.addEventListener("change", () => select.form.submit());
  });
})();
