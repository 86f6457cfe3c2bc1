// The deal board: drag cards between columns (SortableJS); htmx posts the move, and the
// answer swaps in the card and, out of band, both columns' headers. A refused move (a
// lost stage without a reason, a stale card) puts the card back where it was.
(() => {
  const board = document.getElementById("board");
  if (!board) return;

  // Pickers of the toolbar apply at once.
  document.querySelectorAll("form[data-autosubmit] select").forEach((select) =>
    select.addEventListener("change", () => select.form.requestSubmit()));

  // "No deals" shows in exactly the columns without a card.
  function emptyNotes() {
    board.querySelectorAll(".board-cards").forEach((list) => {
      const note = list.querySelector(":scope > .board-empty");
      if (list.querySelector(".deal-card")) note?.remove();
      else if (!note) {
        const empty = document.createElement("div");
        empty.className = "board-empty text-muted small";
        empty.setAttribute("aria-hidden", "true");
        empty.textContent = "No deals";
        list.appendChild(empty);
      }
    });
  }

  const origins = new Map(); // deal id -> {parent, next}: where to put a refused card back

  const putBack = (dealId) => {
    const origin = origins.get(String(dealId));
    const card = document.getElementById(`deal-${dealId}`);
    origins.delete(String(dealId));
    if (!origin || !card) return;
    origin.parent.insertBefore(card, origin.next && origin.next.parentNode === origin.parent ? origin.next : null);
    emptyNotes();
    card.classList.add("move-refused");
    setTimeout(() => card.classList.remove("move-refused"), 1500);
  };

  const cardAbove = (card) => {
    let prev = card.previousElementSibling;
    while (prev && !prev.classList.contains("deal-card")) prev = prev.previousElementSibling;
    return prev;
  };

  const post = (card, to) => {
    const values = {
      stage_id: to.dataset.stageId,
      after_id: cardAbove(card)?.dataset.dealId || "",
      version: card.dataset.version,
      owner_id: board.dataset.ownerId || "",
    };
    if (to.dataset.stageKind === "lost" && !card.classList.contains("status-lost")) {
      const reason = window.prompt(`Why was “${card.dataset.title}” lost?`);
      if (reason === null) { putBack(card.dataset.dealId); return; }
      values.lost_reason = reason;
    }
    const url = board.dataset.moveUrl.replace("/0/", `/${card.dataset.dealId}/`);
    htmx.ajax("POST", url, { source: card, target: card, swap: "outerHTML", values });
  };

  const init = (list) => {
    if (list.dataset.sortable || !window.Sortable || board.dataset.canMove !== "true") return;
    list.dataset.sortable = "1";
    Sortable.create(list, {
      group: "deals",
      draggable: ".deal-card",
      filter: "button, input, textarea, select, .board-more",
      preventOnFilter: false,
      animation: 120,
      ghostClass: "deal-card-ghost",
      onStart: (evt) => origins.set(evt.item.dataset.dealId, { parent: evt.from, next: evt.item.nextElementSibling }),
      onEnd: (evt) => {
        if (evt.from === evt.to && evt.oldIndex === evt.newIndex) { origins.delete(evt.item.dataset.dealId); return; }
        // The loader stays last in its column.
        const loader = evt.to.querySelector(":scope > .board-more");
        if (loader && loader !== evt.to.lastElementChild) evt.to.appendChild(loader);
        emptyNotes();
        post(evt.item, evt.to);
      },
    });
  };

  const initAll = () => board.querySelectorAll(".board-cards").forEach(init);
  if (window.Sortable) initAll(); else window.addEventListener("load", initAll);

  document.body.addEventListener("trellis:move-failed", (evt) => putBack(evt.detail.deal_id));
  document.body.addEventListener("htmx:afterRequest", (evt) => {
    const card = evt.detail.elt;
    if (!card?.classList?.contains("deal-card")) return;
    if (evt.detail.successful && !evt.detail.failed) origins.delete(card.dataset.dealId);
    else putBack(card.dataset.dealId);
  });
  document.body.addEventListener("htmx:sendError", (evt) => {
    const card = evt.detail.elt;
    if (card?.classList?.contains("deal-card")) putBack(card.dataset.dealId);
    document.body.dispatchEvent(new CustomEvent("trellis:flash", { detail: { message: "The server could not be reached; the card was put back.", level: "danger" } }));
  });

  // Mark lost: ask for the reason first (the form's data-ask-reason), then send it.
  document.body.addEventListener("htmx:confirm", (evt) => {
    const form = evt.target;
    if (!form.matches?.("form[data-ask-reason]")) return;
    evt.preventDefault();
    const reason = window.prompt(form.dataset.askReason);
    if (reason === null) return;
    form.querySelector("[name=lost_reason]").value = reason;
    evt.detail.issueRequest(true);
  });

  document.body.addEventListener("htmx:oobAfterSwap", emptyNotes);
})();
