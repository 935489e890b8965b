// Starts Swagger UI on /docs. Kept out of the page so its Content-Security-Policy can say script-src 'self'.
window.addEventListener("load", function () {
  var container = document.getElementById("swagger-ui-container");
  window.ui = SwaggerUIBundle({ url: container.dataset.specUrl, dom_id: "#swagger-ui-container" });
});
