/**
 * The router address `npm run verify` checks a receipt against: the one
 * given (`--router`), or the one the router publishes at its
 * /.well-known/cortensor-router.json (`--router-url`). No Node imports, so a
 * test inside workerd runs it against the Worker itself.
 */
import { isAddressEqual } from "viem";
import { RouterAnchorSchema, WELL_KNOWN_PATH } from "../domain/receipts/router-anchor.ts";

export const UNPINNED =
  "refusing to verify without a pinned router: pass --router 0x… (the router's published signer address) or --router-url https://… (fetches its /.well-known/cortensor-router.json); the address inside a receipt is whoever signed it";

/** The anchor document's URL for a router URL (its origin and base path, or the document itself). */
export const anchorUrl = (routerUrl: string) => (routerUrl.endsWith(WELL_KNOWN_PATH) ? routerUrl : `${routerUrl.replace(/\/+$/, "")}${WELL_KNOWN_PATH}`);

/** `anchorSender`: the chain account the router publishes as the poster of its receipts' roots (null: none published, or pinned by --router). */
type Pin = { ok: true; address: string; warning: string | null; anchorSender: string | null } | { ok: false; message: string };

/** The router address to verify against: the one given, or the one the router publishes (both given: they must agree). */
export async function resolvePin(args: { router?: string | undefined; routerUrl?: string | undefined }, fetchFn: typeof fetch = fetch): Promise<Pin> {
  if (!args.routerUrl) return args.router ? { ok: true, address: args.router, warning: null, anchorSender: null } : { ok: false, message: UNPINNED };
  const url = anchorUrl(args.routerUrl);
  let body: unknown;
  try {
    // A redirect is not followed: the anchor is read where it was asked for.
    const res = await fetchFn(url, { headers: { accept: "application/json" }, redirect: "manual" });
    if (!res.ok) return { ok: false, message: `${url} answered ${res.status}: no router signer to pin` };
    body = await res.json();
  } catch (err) {
    return { ok: false, message: `cannot fetch ${url}: ${err instanceof Error ? err.message : String(err)}` };
  }
  const anchor = RouterAnchorSchema.safeParse(body);
  if (!anchor.success) return { ok: false, message: `${url} is not a router anchor document: ${anchor.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}` };
  const { address, key } = anchor.data.receipt_signer;
  if (args.router && !isAddressEqual(args.router as `0x${string}`, address as `0x${string}`)) {
    return { ok: false, message: `--router ${args.router} is not the signer ${url} publishes (${address})` };
  }
  const warning = key === "dev" ? `warning: ${anchor.data.name} signs with the public dev key (${address}): anyone can sign receipts as it` : null;
  return { ok: true, address, warning, anchorSender: anchor.data.receipt_anchor?.sender ?? null };
}
