import { bytesToHex } from "@noble/hashes/utils";

const encoder = new TextEncoder();

export async function sha256Hex(input: string | Uint8Array): Promise<string> {
  const bytes = typeof input === "string" ? encoder.encode(input) : input;
  return bytesToHex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)));
}
