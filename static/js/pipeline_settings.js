// Pipelines & stages: drag a stage row by its handle; the new order is posted at once.
(() => {
  const init = () => {
    const list = document.getElementById("stage-list");
    if (!list || list.dataset.sortable || !window.Sortable) return;
    list.dataset.sortable = "1";
    Sortable.create(list, {
      handle: ".drag-handle",
      draggable: ".stage-row",
      animation: 120,
      onEnd: (evt) => {
        if (evt.oldIndex === evt.newIndex) return;
        htmx.trigger(document.getElementById("stage-order"), "reorder");
      },
    });
  };
  if (window.Sortable) init(); else window.addEventListener("load", init);
  document.body.addEventListener("htmx:load", init);
})();
