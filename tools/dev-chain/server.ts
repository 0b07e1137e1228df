/**
 * A local development EVM on loopback: Hardhat's EDR (the Rust EVM runtime
 * behind `hardhat node`, from npm) answering JSON-RPC over HTTP and, on the
 * same port, over WebSocket with `eth_subscribe` (websocket.ts), with
 * funded accounts of the well-known development mnemonic, automine, and the
 * dev methods tests use (evm_snapshot, evm_revert, evm_mine, hardhat_setCode).
 * Not Hardhat's CLI: that would compile through downloaded compilers; the
 * contracts here are compiled by scripts/chain/compile.ts. Dev and tests only.
 */
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import {
  ContractDecoder,
  EdrContext,
  L1_CHAIN_TYPE,
  MineOrdering,
  l1GenesisState,
  l1HardforkLatest,
  l1HardforkToString,
  l1ProviderFactory,
  type Provider,
  type SubscriptionEvent,
} from "@nomicfoundation/edr";
import { hexToBytes, toHex, type Hex } from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { attachWebSocketRpc, type JsonRpcRequest } from "./websocket.ts";

/** The development mnemonic every EVM dev tool funds; its keys are public, never use them elsewhere. */
export const DEV_MNEMONIC = "test test test test test test test test test test test junk";

export function devAccountKeys(count: number): Hex[] {
  return Array.from({ length: count }, (_, addressIndex) => toHex(mnemonicToAccount(DEV_MNEMONIC, { addressIndex }).getHdKey().privateKey as Uint8Array));
}

let context: Promise<EdrContext> | undefined;
/** EDR allows one context per process; providers (chains) are made from it. */
function edrContext(): Promise<EdrContext> {
  context ??= (async () => {
    const ctx = new EdrContext();
    await ctx.registerProviderFactory(L1_CHAIN_TYPE, l1ProviderFactory());
    return ctx;
  })();
  return context;
}

/** `onSubscription`: EDR's report of an `eth_subscribe` event (a new head, matching logs) as it mines. */
async function createChain(chainId: number, keys: Hex[], onSubscription: (event: SubscriptionEvent) => void): Promise<Provider> {
  const hardfork = l1HardforkLatest();
  const ctx = await edrContext();
  return ctx.createProvider(
    L1_CHAIN_TYPE,
    {
      allowBlocksWithSameTimestamp: false,
      allowUnlimitedContractSize: false,
      // A reverted eth_call (and gas estimate) answers with the revert's error and reason, as geth does, not with success.
      bailOnCallFailure: true,
      bailOnTransactionFailure: false,
      chainId: BigInt(chainId),
      coinbase: new Uint8Array(20),
      // Under the Osaka per-transaction gas cap (EIP-7825, 2^24).
      defaultTransactionGasLimit: 16_000_000n,
      genesisState: [...l1GenesisState(hardfork), ...keys.map((key) => ({ address: hexToBytes(mnemonicAddress(key)), balance: 10_000n * 10n ** 18n }))],
      hardfork: l1HardforkToString(hardfork),
      initialBaseFeePerGas: 1_000_000_000n,
      minGasPrice: 0n,
      mining: { autoMine: true, memPool: { order: MineOrdering.Priority } },
      network: { genesisBlockGasLimit: 30_000_000n },
      networkId: BigInt(chainId),
      observability: {},
      ownedAccounts: keys,
      precompileOverrides: [],
    },
    { enable: false, decodeConsoleLogInputsCallback: () => [], printLineCallback: () => {} },
    { subscriptionCallback: onSubscription },
    new ContractDecoder(),
  );
}

const addresses = new Map<Hex, Hex>();
function mnemonicAddress(key: Hex): Hex {
  let address = addresses.get(key);
  if (!address) {
    const index = devAccountKeys(20).indexOf(key);
    address = mnemonicToAccount(DEV_MNEMONIC, { addressIndex: index }).address;
    addresses.set(key, address);
  }
  return address;
}

async function answer(provider: Provider, request: JsonRpcRequest): Promise<Record<string, unknown>> {
  const response = await provider.handleRequest(JSON.stringify({ jsonrpc: "2.0", id: request.id ?? null, method: request.method, params: request.params ?? [] }));
  const data = (typeof response.data === "string" ? JSON.parse(response.data) : response.data) as Record<string, unknown>;
  return { jsonrpc: "2.0", id: request.id ?? null, ...data, ...asGethRevert(data.error) };
}

/**
 * A reverted call as geth answers it (code 3, `data` the revert's bytes), so
 * clients decode the reason (viem's ContractFunctionRevertedError): EDR puts
 * the bytes one level down, in `data.data`, which clients do not read.
 */
function asGethRevert(error: unknown): { error: { code: number; message: string; data: string } } | undefined {
  const e = error as { message?: unknown; data?: { data?: unknown } } | undefined;
  const bytes = e?.data?.data;
  if (typeof bytes !== "string" || !/^0x[0-9a-fA-F]*$/.test(bytes)) return undefined;
  return { error: { code: 3, message: typeof e?.message === "string" ? e.message : "execution reverted", data: bytes } };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** `url`: JSON-RPC over HTTP; `wsUrl`: the same port over WebSocket, with eth_subscribe. */
export type DevChain = { url: string; wsUrl: string; chainId: number; accounts: Hex[]; openSubscriptions: () => number; close: () => Promise<void> };

/** Starts a chain on 127.0.0.1 (`port` 0: any free port). `accounts` are the funded dev keys, unlocked for eth_sendTransaction. */
export async function startDevChain(options: { port?: number; chainId?: number; accountCount?: number } = {}): Promise<DevChain> {
  const chainId = options.chainId ?? 31337;
  const keys = devAccountKeys(options.accountCount ?? 10);
  let sockets: ReturnType<typeof attachWebSocketRpc> | undefined;
  const provider = await createChain(chainId, keys, (event) => sockets?.notify(event));
  // A WebSocket upgrade never reaches this handler: the server's "upgrade" listener (websocket.ts) takes it.
  const server = createServer(async (req, res) => {
    if (req.method !== "POST") return res.writeHead(405).end();
    let body: unknown;
    try {
      body = JSON.parse(await readBody(req));
    } catch {
      return res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: -32700, message: "parse error" } }));
    }
    const result = Array.isArray(body) ? await Promise.all(body.map((r) => answer(provider, r as JsonRpcRequest))) : await answer(provider, body as JsonRpcRequest);
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(result));
  });
  sockets = attachWebSocketRpc(server, (request) => answer(provider, request));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}`,
    chainId,
    accounts: keys.map(mnemonicAddress),
    openSubscriptions: () => sockets?.openSubscriptions() ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        sockets?.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
