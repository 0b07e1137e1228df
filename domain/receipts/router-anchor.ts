import { z } from "@hono/zod-openapi";
import { DEV_ROUTER_SIGNER_KEY } from "../config/dev-credentials.ts";
import { RECEIPT_VERSION } from "./receipt-schema.ts";
import { routerSigner } from "./router-signer.ts";

/**
 * The trust anchor of receipts: the router publishes the address it signs
 * receipts with (`GET /api/v1/about` and this well-known document), and a
 * verifier checks a receipt against that address, never against the
 * address inside the receipt (anyone can sign a receipt naming their own).
 */
export const WELL_KNOWN_PATH = "/.well-known/cortensor-router.json";
/** How receipts are signed: EIP-191 (personal_sign) of the message `canonical.ts` builds. */
export const RECEIPT_SIGNATURE_SCHEME = "eip191:cortensor-receipt:v1";

const Address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "a 0x-prefixed 20-byte hex address");

export const ReceiptSignerSchema = z
  .object({
    address: Address.describe("the address every receipt of this router is signed by: pin it (npm run verify -- --router 0x…)"),
    scheme: z.literal(RECEIPT_SIGNATURE_SCHEME).describe("EIP-191 signature of 'cortensor-receipt:v1\\nsha256:' + SHA-256 of the receipt's canonical JSON"),
    key: z.enum(["configured", "dev"]).describe("configured: the operator's ROUTER_SIGNER_KEY; dev: the public development key (outside production only): anyone can sign as it"),
  })
  .openapi("ReceiptSigner");
export type ReceiptSigner = z.infer<typeof ReceiptSignerSchema>;

export const RouterAnchorSchema = z
  .object({
    name: z.string(),
    receipt_signer: ReceiptSignerSchema,
    receipt_version: z.literal(RECEIPT_VERSION),
    chain_id: z.number().int().nullable().describe("the chain the router indexes and anchors to; null: no chain configured"),
    about: z.string().describe("the router's discovery route (absolute URL), which names the same signer"),
    // Optional: documents published before receipts were anchored parse as they were.
    receipt_anchor: z
      .object({
        contract: Address.describe("the ReceiptAnchor contract the router posts its receipts' Merkle roots to"),
        sender: Address.describe("the router's chain account: an anchored root counts only if this account posted it"),
      })
      .nullable()
      .optional()
      .describe("where receipts are anchored on chain (npm run verify -- --rpc); null: not anchored"),
  })
  .describe("What a verifier fetches to pin a router's receipt signer (npm run verify -- --router-url https://…)")
  .openapi("RouterAnchor");
export type RouterAnchor = z.infer<typeof RouterAnchorSchema>;

/**
 * The signer of a router signing with `signerKey`. A configuration that
 * serves always has one (production refuses to serve without
 * ROUTER_SIGNER_KEY; elsewhere the dev key stands in), so it is never empty;
 * the dev key is named as such, since anyone can derive it.
 */
export function receiptSignerOf(signerKey: `0x${string}`): ReceiptSigner {
  return {
    address: routerSigner(signerKey).address,
    scheme: RECEIPT_SIGNATURE_SCHEME,
    key: signerKey.toLowerCase() === DEV_ROUTER_SIGNER_KEY ? "dev" : "configured",
  };
}

/** The well-known document of a router named `name`, signing with `signerKey`, reachable at `base`. */
export function routerAnchorOf(r: {
  name: string;
  signerKey: `0x${string}`;
  chainId: number | null;
  base: string;
  receiptAnchor?: { contract: string; sender: string } | null;
}): RouterAnchor {
  return {
    name: r.name,
    receipt_signer: receiptSignerOf(r.signerKey),
    receipt_version: RECEIPT_VERSION,
    chain_id: r.chainId,
    about: `${r.base.replace(/\/+$/, "")}/api/v1/about`,
    receipt_anchor: r.receiptAnchor ?? null,
  };
}
