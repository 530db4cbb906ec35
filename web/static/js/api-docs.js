// Starts Swagger UI on /docs (served from /vendor/swagger-ui, never a CDN). A file of its own,
// not an inline script, so the page keeps the strict policy: script-src 'self'.
/* global SwaggerUIBundle */
(function start() {
  const node = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: node.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    validatorUrl: null, // the validator badge would call validator.swagger.io
    oauth2RedirectUrl: new URL(node.dataset.oauth2RedirectUrl, window.location.href).href,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  });
})();
