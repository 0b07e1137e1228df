/**
 * The router's signer, as its well-known document publishes it
 * (domain/receipts/router-anchor.ts): what the node's join names, and the
 * only router whose claims the node signs results for. An operator may pin it
 * (`--router-signer 0x…`); otherwise the first answer is trusted and logged.
 */
import { isAddress, isAddressEqual, type Hex } from "viem";
import { WELL_KNOWN_PATH } from "../domain/receipts/router-anchor.ts";
import { ConfigError } from "./secrets.ts";

export async function fetchRouterSigner(routerUrl: string, pin: Hex | undefined, fetcher: typeof fetch = fetch): Promise<Hex> {
  const url = new URL(WELL_KNOWN_PATH, routerUrl);
  let body: unknown;
  try {
    const res = await fetcher(url, { signal: AbortSignal.timeout(10_000) });
    if (!res.ok) throw new ConfigError(`${url} answered ${res.status}`);
    body = await res.json();
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`cannot read the router's signer at ${url}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const address = (body as { receipt_signer?: { address?: unknown } } | null)?.receipt_signer?.address;
  if (typeof address !== "string" || !isAddress(address, { strict: false })) throw new ConfigError(`${url} names no receipt_signer.address`);
  if (pin && !isAddressEqual(pin, address as Hex)) throw new ConfigError(`the router at ${routerUrl} signs as ${address}, not the pinned ${pin} (--router-signer)`);
  return address.toLowerCase() as Hex;
}
