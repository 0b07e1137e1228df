import { createPublicClient, defineChain, http } from "viem";

/** Where the router's chain calls go: the RPC endpoint, its chain id and how long one call may take. */
export type RpcTarget = { rpcUrl: string; chainId: number; rpcTimeoutMs: number };

/**
 * The viem chain, transport and reader for a configured chain. No retries in
 * the transport: the callers (write-back, anchoring) retry whole steps
 * themselves, checking the chain's state first, so nothing is sent twice.
 */
export function chainClients(target: RpcTarget) {
  const chain = defineChain({
    id: target.chainId,
    name: `chain-${target.chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [target.rpcUrl] } },
  });
  const transport = http(target.rpcUrl, { retryCount: 0, timeout: target.rpcTimeoutMs });
  return { chain, transport, reader: createPublicClient({ chain, transport }) };
}
