import { sha256Hex } from "../crypto/sha256.ts";
import type { ReceiptBody } from "./receipt-schema.ts";

/**
 * JSON with object keys sorted at every level and no whitespace: one byte
 * string per value, whatever order a receipt's fields were written or read
 * in. Numbers are as JavaScript prints them (shortest round trip), which is
 * how RFC 8785 (JCS) prints them too; receipts hold no other number forms.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

/**
 * The SHA-256 (hex) of a receipt body's canonical JSON: what the router
 * signs and what its anchor's leaf is. The anchor, added after signing, and
 * the signature itself are never part of it, whatever object is passed.
 */
export async function receiptBodyHash(body: ReceiptBody): Promise<string> {
  const { router_signature: _signature, anchor: _anchor, ...signed } = body as ReceiptBody & { router_signature?: unknown; anchor?: unknown };
  return sha256Hex(canonicalJson(signed));
}

/** The text the router signs (EIP-191) for a receipt body. */
export async function receiptMessage(body: ReceiptBody): Promise<string> {
  return `cortensor-receipt:v1\nsha256:${await receiptBodyHash(body)}`;
}
