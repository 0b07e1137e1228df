/**
 * The chain of `npm run dev`: a local EVM (tools/dev-chain) on loopback with
 * SessionV2 and SessionQueueV2 deployed, the router's account registered as
 * a router, and a hybrid session (on-chain session 0, mode 1) that the
 * router serves on its edge session 0. What the CLI (`npm run chain`) needs
 * to find it is written to .wrangler/dev-chain.json.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { sessionV2Abi } from "../../contracts/artifacts.ts";
import { deployContracts, devChainClients } from "../../tools/dev-chain/deploy.ts";
import { devAccountKeys, startDevChain } from "../../tools/dev-chain/server.ts";

export const DEV_CHAIN_ID = 31337;
export const DEV_CHAIN_FILE = new URL("../../.wrangler/dev-chain.json", import.meta.url).pathname;
/** Dev account 8 of the public dev mnemonic: the router's signer, local only. */
const ROUTER_KEY = devAccountKeys(10)[8] as `0x${string}`;

/** `wsUrl`: the same chain over WebSocket, with eth_subscribe (the seed's "Listening to Events"); `anchorAddress`: the ReceiptAnchor contract. */
export type DevChainInfo = {
  rpcUrl: string;
  wsUrl: string;
  chainId: number;
  sessionAddress: string;
  queueAddress: string;
  anchorAddress: string;
  /** The RewardDistributor miners claim from (`npm run chain -- claim`) and its RewardToken. */
  distributorAddress: string;
  tokenAddress: string;
  startBlock: number;
  hybridSessionId: number;
  /** The edge session that serves it. */
  hybridEdgeSessionId: number;
};

/** The on-chain hybrid session of `npm run dev`, and the edge session (redundancy 3, of signing dev miners) serving it. */
const HYBRID_SESSION_ID = 0;
const HYBRID_EDGE_SESSION_ID = 1;

/**
 * `infoFile`: where to write what the CLI needs (false: nowhere, for a test's own chain); `fund`: addresses
 * given 1 ETH of gas money (the signing dev miners, so `npm run chain -- claim` can send their claims).
 */
export async function startChainForDev(port: number, infoFile: string | false = DEV_CHAIN_FILE, fund: readonly `0x${string}`[] = []) {
  const chain = await startDevChain({ port, chainId: DEV_CHAIN_ID });
  try {
    const [funder, owner] = chain.accounts as [`0x${string}`, `0x${string}`];
    // A fresh deployer each run: the contracts get new addresses, so the index an earlier run
    // left in .wrangler/state (of a chain that is gone) is a different index, never mixed with this one.
    const deployer = privateKeyToAccount(generatePrivateKey());
    const funding = devChainClients(chain.url, DEV_CHAIN_ID, funder);
    await funding.confirm(await funding.wallet.sendTransaction({ to: deployer.address, value: 10n ** 20n }));
    for (const to of fund) await funding.confirm(await funding.wallet.sendTransaction({ to, value: 10n ** 18n }));
    const router = privateKeyToAccount(ROUTER_KEY).address;
    const deployment = await deployContracts(chain.url, DEV_CHAIN_ID, deployer, { rewardPoster: router });
    const admin = devChainClients(chain.url, DEV_CHAIN_ID, deployer);
    await admin.confirm(await admin.wallet.writeContract({ address: deployment.sessionAddress, abi: sessionV2Abi, functionName: "addRouter", args: [router, "npm run dev"] }));
    const asOwner = devChainClients(chain.url, DEV_CHAIN_ID, owner);
    await asOwner.confirm(
      await asOwner.wallet.writeContract({
        address: deployment.sessionAddress,
        abi: sessionV2Abi,
        functionName: "create",
        args: ["dev hybrid session", `served by npm run dev on edge session ${HYBRID_EDGE_SESSION_ID}`, owner, 1n, 1n, 1n, 0n, 1n, false],
      }),
    );
    const info: DevChainInfo = {
      rpcUrl: chain.url,
      wsUrl: chain.wsUrl,
      chainId: DEV_CHAIN_ID,
      ...deployment,
      hybridSessionId: HYBRID_SESSION_ID,
      hybridEdgeSessionId: HYBRID_EDGE_SESSION_ID,
    };
    if (infoFile) {
      await mkdir(dirname(infoFile), { recursive: true });
      await writeFile(infoFile, `${JSON.stringify(info, null, 2)}\n`);
    }
    return {
      info,
      close: chain.close,
      /** eth_subscribe subscriptions open on the chain's WebSocket (a test waits for its listener's). */
      openSubscriptions: chain.openSubscriptions,
      /**
       * The router's vars for this chain: indexed with no confirmations, hybrid session 0 → edge session 1, written back.
       * Edge session 1 runs each task on three dev miners: those of dev-miner-1..5 sign with their registered keys, so
       * every agreed answer has a signed copy and `getTaskResults` names the dev miners who answered, never the router
       * (dev-miner-6, a NeuroShard node, cannot sign: a task of one miner might fall to it alone).
       */
      vars: {
        CHAIN_RPC_URL: chain.url,
        CHAIN_ID: String(DEV_CHAIN_ID),
        CHAIN_SESSION_ADDRESS: deployment.sessionAddress,
        CHAIN_QUEUE_ADDRESS: deployment.queueAddress,
        CHAIN_START_BLOCK: String(deployment.startBlock),
        CHAIN_CONFIRMATIONS: "0",
        CHAIN_HYBRID_SESSIONS: JSON.stringify({ [HYBRID_SESSION_ID]: HYBRID_EDGE_SESSION_ID }),
        CHAIN_WRITEBACK: "true",
        CHAIN_SIGNER_KEY: ROUTER_KEY,
        // Receipts anchored every 8 receipts or 30 seconds, so a developer sees anchors come.
        CHAIN_ANCHOR_ADDRESS: deployment.anchorAddress,
        ANCHOR_BATCH_SIZE: "8",
        ANCHOR_INTERVAL_S: "30",
        // Miners' cumulative earnings posted every minute, claimable with `npm run chain -- claim`.
        CHAIN_REWARD_DISTRIBUTOR_ADDRESS: deployment.distributorAddress,
        REWARD_EPOCH_S: "60",
      },
    };
  } catch (err) {
    await chain.close();
    throw err;
  }
}
