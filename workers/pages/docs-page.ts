import { html } from "hono/html";

/**
 * /docs: Swagger UI over /openapi.json, its scripts and styles served by the
 * Worker from static assets (scripts/build-static.ts copies them from the
 * swagger-ui-dist package), started by a served script (web/docs/init.js):
 * the page holds no inline script or style, as its Content-Security-Policy requires.
 */
export const docsPage = () => html`<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <meta name="description" content="API reference of the Cortensor edge router" />
    <title>Cortensor edge router: API reference</title>
    <link rel="icon" type="image/png" href="/docs/swagger-ui/favicon-32x32.png" />
    <link rel="stylesheet" href="/docs/swagger-ui/swagger-ui.css" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="/docs/swagger-ui/swagger-ui-bundle.js"></script>
    <script src="/docs/init.js"></script>
  </body>
</html>`;
