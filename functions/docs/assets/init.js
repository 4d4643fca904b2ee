// The page's only script of its own (the CSP allows no inline script): Swagger UI on the
// document this same API serves, "Try it out" against the origin that served the page.
window.ui = SwaggerUIBundle({
  url: "/api/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  persistAuthorization: true,
  validatorUrl: null,
  tryItOutEnabled: false,
});
