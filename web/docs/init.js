// Starts Swagger UI on /docs. A served file, not an inline script: the page's
// Content-Security-Policy allows scripts from this origin only.
// validatorUrl null: Swagger UI would otherwise send the spec to validator.swagger.io.
window.addEventListener("load", () => {
  window.ui = window.SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", validatorUrl: null, deepLinking: true });
});
