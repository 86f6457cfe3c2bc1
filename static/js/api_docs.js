// Starts Swagger UI on /api/docs (templates/api/docs.html). A file rather than the inline
// script flask-smorest's own page has, which the Content-Security-Policy would refuse.
window.addEventListener("DOMContentLoaded", () => {
  const container = document.getElementById("swagger-ui-container");
  window.ui = SwaggerUIBundle({
    url: container.dataset.specUrl,
    dom_id: "#swagger-ui-container",
    ...JSON.parse(container.dataset.config || "{}"),
  });
});
