/**
 * A web server on loopback for the web-fetch and realtime-search tests:
 * pages, redirects (to itself and to addresses the guard must refuse), a big
 * page, a slow page, a binary, and a search API answering JSON results.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

const PAGE = `<!doctype html><html><head><title>Routers</title><style>body { color: red }</style>
<script>window.secret = "do not include";</script></head>
<body><h1>Cortensor routers</h1><p>Routers accept API requests, resolve sessions &amp; submit tasks.</p>
<!-- a comment --><ul><li>Fan-out</li><li>Consensus</li></ul></body></html>`;

export async function startWebServer(): Promise<{ origin: string; host: string; close(): Promise<void> }> {
  let brokenRouterHits = 0;
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    // A "router" that is up but failing, for the gateway's failover.
    if (url.pathname.startsWith("/broken-router/api/")) {
      brokenRouterHits++;
      res.writeHead(503, { "content-type": "application/json" }).end(JSON.stringify({ error: { code: "overloaded", message: "try another router" } }));
      return;
    }
    if (url.pathname === "/broken-router/hits") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ hits: brokenRouterHits }));
      return;
    }
    switch (url.pathname) {
      case "/page.html":
        res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(PAGE);
        return;
      case "/redirect-ok":
        res.writeHead(302, { location: "/page.html" }).end();
        return;
      case "/redirect-metadata":
        res.writeHead(302, { location: "http://169.254.169.254/latest/meta-data/" }).end();
        return;
      case "/redirect-private":
        res.writeHead(301, { location: "http://10.0.0.5/admin" }).end();
        return;
      case "/redirect-loopback":
        // Loopback on another port: not the allowed host:port.
        res.writeHead(307, { location: "http://127.0.0.1:9/" }).end();
        return;
      case "/big":
        res.writeHead(200, { "content-type": "text/plain" }).end("word ".repeat(600_000));
        return;
      case "/slow":
        setTimeout(() => res.writeHead(200, { "content-type": "text/plain" }).end("late"), 3000).unref();
        return;
      case "/image.png":
        res.writeHead(200, { "content-type": "image/png" }).end(Buffer.alloc(64));
        return;
      case "/search": {
        const q = url.searchParams.get("q") ?? "";
        res.writeHead(200, { "content-type": "application/json" }).end(
          JSON.stringify({
            results: [
              { title: "Cortensor docs: node roles", url: "https://docs.example/roles", snippet: `Roles include router, miner and oracle. (query: ${q.slice(0, 40)})` },
              { title: "Validator overview", url: "https://docs.example/validators", content: "Validators check results." },
            ],
          }),
        );
        return;
      }
      default:
        res.writeHead(404).end("not found");
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
