import { env } from "cloudflare:workers";
import { runDurableObjectAlarm } from "cloudflare:test";
import { inject } from "vitest";
import { pad, sha256, stringToHex, toHex, type Address, type Hex } from "viem";
import { rawLogEmitterAbi, sessionQueueV2Abi, sessionV2Abi } from "../../contracts/artifacts";
import { rawLogEmitterBytecode } from "../../contracts/bytecode";
import { devChainClients } from "../../tools/dev-chain/deploy";
import type { AnchorTarget, ChainTarget, RewardTarget } from "../../domain/config/config";
import { chainIndexStub } from "../../domain/objects/stubs";
import type { TestChain } from "../setup/global-setup";

export const chains = () => inject("chains");

/** The index target of a test chain, with the limits a test wants. */
export function targetFor(chain: TestChain, overrides: Partial<ChainTarget> = {}): ChainTarget {
  return {
    rpcUrl: chain.url,
    chainId: chain.chainId,
    sessionAddress: chain.sessionAddress.toLowerCase() as Address,
    queueAddress: chain.queueAddress.toLowerCase() as Address,
    startBlock: chain.startBlock,
    confirmations: 0,
    reorgWindow: 128,
    maxBlockRange: 2000,
    maxCallsPerTick: 40,
    rpcTimeoutMs: 5_000,
    hybridSessions: {},
    writeback: false,
    ...overrides,
  };
}

/** The receipt-anchor target of a test chain (its ReceiptAnchor), with the limits a test wants: by default a batch is due only when a test flushes it. */
export function anchorTargetFor(chain: Pick<TestChain, "url" | "chainId" | "anchorAddress">, overrides: Partial<AnchorTarget> = {}): AnchorTarget {
  return {
    rpcUrl: chain.url,
    chainId: chain.chainId,
    anchorAddress: chain.anchorAddress.toLowerCase() as Address,
    batchSize: 10_000,
    intervalMs: 7 * 86_400_000,
    rpcTimeoutMs: 5_000,
    ...overrides,
  };
}

/** The rewards target of a test chain (its RewardDistributor): by default an epoch closes only when a test forces it. */
export function rewardTargetFor(chain: Pick<TestChain, "url" | "chainId" | "distributorAddress">, overrides: Partial<RewardTarget> = {}): RewardTarget {
  return {
    rpcUrl: chain.url,
    chainId: chain.chainId,
    distributorAddress: chain.distributorAddress.toLowerCase() as Address,
    epochMs: 7 * 86_400_000,
    rpcTimeoutMs: 5_000,
    ...overrides,
  };
}

export const indexOf = (target: ChainTarget) => chainIndexStub(env, target);

/** Ticks until the index has read every confirmed block (or `maxTicks` pass), as the cron and alarm would. */
export async function tickUntilCaughtUp(target: ChainTarget, maxTicks = 60) {
  const index = indexOf(target);
  const reports = [];
  for (let i = 0; i < maxTicks; i++) {
    const report = await index.tick(target);
    reports.push(report);
    if (report.outcome === "caught_up" && !report.skipped) return { last: report, reports };
    if (report.outcome === "stopped") return { last: report, reports };
  }
  throw new Error(`index not caught up after ${maxTicks} ticks: ${JSON.stringify(reports.at(-1))}`);
}

/**
 * Ticks until caught up, then runs the object's due work by its alarm
 * (dispatch, write-back: they leave the tick) until no hybrid task waits
 * for either and nothing runs, then ticks again to read what the write-back
 * emitted. Returns what is left due.
 */
export async function settle(target: ChainTarget, maxRounds = 120) {
  const index = indexOf(target);
  for (let i = 0; i < maxRounds; i++) {
    await tickUntilCaughtUp(target);
    const work = await index.workState();
    if (!work || (work.pending_dispatches === 0 && work.pending_writebacks === 0 && work.running.length === 0)) {
      await tickUntilCaughtUp(target);
      return work;
    }
    // A retry not due yet, or the alarm already running on its own: wait a little.
    if (!(await runDurableObjectAlarm(index))) await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`hybrid work not settled after ${maxRounds} rounds: ${JSON.stringify(await index.workState())}`);
}

/** A JSON-RPC call straight to a chain (dev methods: evm_snapshot, evm_revert, evm_mine, hardhat_setCode). */
export async function rpc<T = unknown>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) });
  const body = (await res.json()) as { result?: T; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result as T;
}

export const mine = async (url: string, blocks: number) => {
  for (let i = 0; i < blocks; i++) await rpc(url, "evm_mine");
};

/** The contracts of a test chain, driven by its dev accounts: [0] admin, [1] session owner, [2] router, [3..5] miners. */
export function actors(chain: TestChain, url = chain.url) {
  const [admin, owner, router, minerA, minerB, minerC, other, funder] = chain.accounts as [Address, Address, Address, Address, Address, Address, Address, Address];
  const as = (from: Address) => devChainClients(url, chain.chainId, from);
  const session = chain.sessionAddress;
  const queue = chain.queueAddress;
  const send = async (from: Address, write: (w: ReturnType<typeof as>["wallet"]) => Promise<Hex>) => {
    const c = as(from);
    return c.confirm(await write(c.wallet));
  };
  const reader = as(admin).publicClient;
  return {
    admin,
    owner,
    router,
    miners: [minerA, minerB, minerC] as const,
    other,
    funder,
    reader,
    sessionWrite: (from: Address, functionName: string, args: readonly unknown[], value?: bigint) =>
      send(from, (w) => w.writeContract({ address: session, abi: sessionV2Abi, functionName, args, ...(value ? { value } : {}) } as never)),
    queueWrite: (from: Address, functionName: string, args: readonly unknown[]) =>
      send(from, (w) => w.writeContract({ address: queue, abi: sessionQueueV2Abi, functionName, args } as never)),
    getSession: (id: bigint) => reader.readContract({ address: session, abi: sessionV2Abi, functionName: "getSession", args: [id] }),
    getSessions: (owner: Address) => reader.readContract({ address: session, abi: sessionV2Abi, functionName: "getSessions", args: [owner] }),
    getSessionMiners: (id: bigint) => reader.readContract({ address: session, abi: sessionV2Abi, functionName: "getSessionMiners", args: [id] }),
    getTasks: (id: bigint) => reader.readContract({ address: queue, abi: sessionQueueV2Abi, functionName: "getTasksBySessionId", args: [id] }),
    getTaskResults: (id: bigint, taskId: bigint) => reader.readContract({ address: queue, abi: sessionQueueV2Abi, functionName: "getTaskResults", args: [id, taskId] }),
    sessionCount: () => reader.readContract({ address: session, abi: sessionV2Abi, functionName: "sessionCount" }),
    /** Deploys the raw-log emitter and returns its runtime code, to put at a watched address for a moment. */
    rawEmitterCode: async () => {
      const c = as(admin);
      const receipt = await c.confirm(await c.wallet.deployContract({ abi: rawLogEmitterAbi, bytecode: rawLogEmitterBytecode }));
      const code = await c.publicClient.getCode({ address: receipt.contractAddress as Address });
      return code as Hex;
    },
    emitRaw: (at: Address, topic0: Hex, data: Hex) => send(admin, (w) => w.writeContract({ address: at, abi: rawLogEmitterAbi, functionName: "emitRaw", args: [topic0, data] })),
  };
}

export const nodeId = (address: Address) => pad(address.toLowerCase() as Hex, { size: 32 });
export const resultHash = (result: string) => sha256(stringToHex(result));
export const ether = (n: number) => BigInt(n * 1e6) * 10n ** 12n;
export { toHex };
