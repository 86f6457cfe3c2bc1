// The convert dialog: htmx loads the modal into #modal-host; show it once it is there.
document.body.addEventListener("htmx:afterSwap", (event) => {
  if (event.detail.target.id !== "modal-host") return;
  const element = event.detail.target.querySelector(".modal");
  if (element && window.bootstrap) window.bootstrap.Modal.getOrCreateInstance(element).show();
});
