// Small behaviours the pages share. No framework: htmx does the rest.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const source = document.querySelector(button.dataset.copy);
  if (!source) return;
  source.select();
  const done = () => { button.textContent = "Copied"; setTimeout(() => (button.textContent = "Copy"), 2000); };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(source.value).then(done, () => { document.execCommand("copy"); done(); });
  } else {
    document.execCommand("copy");
    done();
  }
});

// Servers announce results of htmx actions with `HX-Trigger: {"trellis:flash": {...}}`.
document.body.addEventListener("trellis:flash", (event) => {
  const { message, level } = event.detail || {};
  const box = document.getElementById("flashes");
  if (!box || !message) return;
  const alert = document.createElement("div");
  alert.className = `alert alert-${level || "info"} alert-dismissible fade show`;
  alert.setAttribute("role", "alert");
  alert.textContent = message;
  const close = document.createElement("button");
  close.type = "button";
  close.className = "btn-close";
  close.setAttribute("data-bs-dismiss", "alert");
  close.setAttribute("aria-label", "Close");
  alert.appendChild(close);
  box.replaceChildren(alert);
});

// "Select all" boxes: `data-select-all="#group"` ticks every other box in that group and
// shows mixed when only some are ticked. Without JS the boxes themselves still work.
const syncSelectAll = (toggle) => {
  const group = document.querySelector(toggle.dataset.selectAll);
  if (!group) return;
  const boxes = [...group.querySelectorAll("input[type=checkbox]:not([data-select-all])")];
  const ticked = boxes.filter((box) => box.checked).length;
  toggle.checked = boxes.length > 0 && ticked === boxes.length;
  toggle.indeterminate = ticked > 0 && ticked < boxes.length;
};
const syncAllSelectAlls = (root) => root.querySelectorAll("[data-select-all]").forEach(syncSelectAll);

// "Select all N matching" (the lists' select_matching macro): offered while every row of
// the page is ticked; choosing it sets all_matching=1 for the bulk form. Unticking a row
// or "Clear selection" goes back to the ticked rows.
const rowBoxes = (offer) => [...(document.querySelector(offer.dataset.selectMatching)?.querySelectorAll("input[type=checkbox]") || [])];
const syncMatching = (offer) => {
  const boxes = rowBoxes(offer);
  const allTicked = boxes.length > 0 && boxes.every((box) => box.checked);
  const input = offer.querySelector("input[name=all_matching]");
  if (!allTicked) input.value = "";
  offer.hidden = !allTicked;
  offer.querySelector("[data-matching-off]").hidden = input.value === "1";
  offer.querySelector("[data-matching-on]").hidden = input.value !== "1";
};
const syncAllMatching = (root) => root.querySelectorAll("[data-select-matching]").forEach(syncMatching);
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-matching]");
  const offer = button?.closest("[data-select-matching]");
  if (!offer) return;
  const on = button.dataset.matching === "on";
  offer.querySelector("input[name=all_matching]").value = on ? "1" : "";
  if (!on) {
    rowBoxes(offer).forEach((box) => { box.checked = false; });
    syncAllSelectAlls(document);
  }
  syncMatching(offer);
  offer.querySelector(on ? "[data-matching=off]" : "[data-matching=on]")?.focus();
});

document.addEventListener("change", (event) => {
  const toggle = event.target.closest("[data-select-all]");
  if (toggle) {
    const group = document.querySelector(toggle.dataset.selectAll);
    group?.querySelectorAll("input[type=checkbox]:not([data-select-all])").forEach((box) => { box.checked = toggle.checked; });
    toggle.indeterminate = false;
  } else if (event.target.matches("input[type=checkbox]")) {
    document.querySelectorAll("[data-select-all]").forEach((other) => {
      if (document.querySelector(other.dataset.selectAll)?.contains(event.target)) syncSelectAll(other);
    });
  }
  syncAllMatching(document);
});
syncAllSelectAlls(document);
syncAllMatching(document);
document.body.addEventListener("htmx:load", (event) => { syncAllSelectAlls(event.target); syncAllMatching(event.target); });

// A list reloaded in place (search, filter, sort, page: `data-keep-ticks` on its target)
// keeps the ticks of the rows it still shows.
document.body.addEventListener("htmx:beforeSwap", (event) => {
  const target = event.detail.target;
  if (!target?.matches?.("[data-keep-ticks]")) return;
  target.keptTicks = [...target.querySelectorAll("input[type=checkbox][name]:checked")].map((box) => `${box.name}=${box.value}`);
});
document.body.addEventListener("htmx:afterSwap", (event) => {
  const target = event.detail.target;
  if (!target?.keptTicks) return;
  const kept = new Set(target.keptTicks);
  delete target.keptTicks;
  target.querySelectorAll("input[type=checkbox][name]").forEach((box) => {
    if (kept.has(`${box.name}=${box.value}`)) box.checked = true;
  });
  syncAllSelectAlls(document);
  syncAllMatching(document);
});

// `data-show-if="#input"`: shown only while that checkbox or radio is ticked (the login
// fields, the chosen locations). Without JS everything stays visible and still works.
const syncShowIf = (root) => {
  const targets = [...root.querySelectorAll("[data-show-if]")];
  if (root.matches?.("[data-show-if]")) targets.push(root);
  targets.forEach((element) => {
    const input = document.querySelector(element.dataset.showIf);
    if (input) element.hidden = !input.checked;
  });
};
document.addEventListener("change", (event) => {
  if (event.target.matches("input[type=checkbox], input[type=radio]")) syncShowIf(document);
});
syncShowIf(document);
document.body.addEventListener("htmx:load", (event) => syncShowIf(event.target));

// No inline code runs under the Content-Security-Policy (no on...= handlers, no eval, so
// no htmx trigger filters): these behaviours are asked for with data- attributes and events.

// `data-confirm="Question?"` on a form, on its submit button, or on an <option> of one of
// its selects (asked only while that option is chosen): confirm() before the form goes,
// htmx forms included (this listener captures the submit before htmx's own sees it).
// `{count}` in a question is the rows ticked in that form, or the matching total once
// "all matching" is chosen; "(s)" agrees with it ("Delete {count} deal(s)?").
const withCount = (question, form) => {
  if (!question.includes("{count}")) return question;
  const matching = form.querySelector("[data-select-matching] input[name=all_matching]");
  const count = matching?.value === "1"
    ? matching.closest("[data-select-matching]").dataset.total
    : String(form.querySelectorAll("input[type=checkbox][name]:checked").length);
  return question.replace("{count}", count).replace("(s)", count === "1" ? "" : "s");
};
const confirmationsFor = (form, submitter) => [
  form.dataset.confirm,
  submitter?.dataset.confirm,
  ...[...form.elements].filter((field) => field.matches("select"))
    .flatMap((select) => [...select.selectedOptions].map((option) => option.dataset.confirm)),
].filter(Boolean).map((question) => withCount(question, form));
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (confirmationsFor(form, event.submitter).every((question) => window.confirm(question))) return;
  event.preventDefault();
  event.stopImmediatePropagation();
}, true);

// `data-submit-on-change`: a picker that applies at once (a <noscript> button does it without JS).
document.addEventListener("change", (event) => {
  if (event.target.matches("[data-submit-on-change]")) event.target.form?.requestSubmit();
});

// `trellis:query` on a search box whose text is worth a request: empty (show everything)
// or two characters or more (one matches nearly everything). Live-search forms listen
// with hx-trigger="trellis:query changed delay:300ms from:#the-box".
document.addEventListener("input", (event) => {
  const box = event.target;
  if (box.matches("input[type=search]") && box.value.length !== 1) {
    box.dispatchEvent(new CustomEvent("trellis:query", { bubbles: true }));
  }
});

// The header search: arrow keys move through the results (role=option), Enter opens the
// chosen one (or submits the form for the full results page), Escape closes the list.
(() => {
  const input = document.getElementById("global-search");
  const box = document.getElementById("global-search-results");
  if (!input || !box) return;
  const options = () => [...box.querySelectorAll("[role=option]")];
  const close = () => {
    box.replaceChildren();
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  };
  const select = (index) => {
    const all = options();
    all.forEach((option, i) => option.setAttribute("aria-selected", i === index ? "true" : "false"));
    if (all[index]) {
      input.setAttribute("aria-activedescendant", all[index].id);
      all[index].scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  };
  const current = () => options().findIndex((option) => option.getAttribute("aria-selected") === "true");
  input.addEventListener("keydown", (event) => {
    const all = options();
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!all.length) return;
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      select((current() + step + all.length) % all.length);
    } else if (event.key === "Enter") {
      const chosen = all[current()];
      if (chosen) {
        event.preventDefault();
        window.location.assign(chosen.dataset.href);
      }
    } else if (event.key === "Escape") {
      close();
    }
  });
  input.addEventListener("input", () => { if (input.value.trim().length < 2) close(); });
  // Back on the box with a query still in it (e.g. after going back): show its results
  // again (hx-trigger "trellis:refocus once").
  input.addEventListener("focus", () => {
    if (input.value.length > 1) input.dispatchEvent(new CustomEvent("trellis:refocus"));
  });
  box.addEventListener("htmx:afterSwap", () => {
    input.setAttribute("aria-expanded", options().length ? "true" : "false");
    input.removeAttribute("aria-activedescendant");
  });
  document.addEventListener("click", (event) => { if (!event.target.closest(".header-search")) close(); });
  // "/" anywhere outside a field jumps to the search box.
  document.addEventListener("keydown", (event) => {
    if (event.key !== "/" || event.target.closest("input, textarea, select, [contenteditable]")) return;
    event.preventDefault();
    input.focus();
  });
})();
