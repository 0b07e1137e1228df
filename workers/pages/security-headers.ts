import { createMiddleware } from "hono/factory";
import { secureHeaders } from "hono/secure-headers";

/**
 * The Content-Security-Policy of every HTML page the Worker serves (/docs, and
 * any page served from static assets): scripts, styles, fonts and fetches from
 * this origin only, so nothing loads from a CDN and no inline script runs.
 * Images may also be data: URLs (Swagger UI's icons are, in its stylesheet).
 */
export const PAGE_CSP = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", "data:"],
  fontSrc: ["'self'"],
  connectSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
};

const pageHeaders = secureHeaders({
  contentSecurityPolicy: PAGE_CSP,
  xFrameOptions: "DENY",
  // A deployment's HSTS is its domain's choice (and browsers ignore it over http).
  strictTransportSecurity: false,
  permissionsPolicy: { camera: [], microphone: [], geolocation: [], payment: [], usb: [] },
});
const done = async () => {};

/** Adds the page headers to a response that is an HTML page, whichever route made it; the API's JSON answers are left alone. */
export const htmlSecurityHeaders = createMiddleware(async function htmlSecurityHeaders(c, next) {
  await next();
  if (c.res.headers.get("content-type")?.startsWith("text/html")) await pageHeaders(c, done);
});
