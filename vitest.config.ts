import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { buildStatic } from "./scripts/build-static.ts";
import { devAccountKeys } from "./tools/dev-chain/server.ts";
import { TEST_ADMIN_KEY, TEST_CREDENTIAL_KEY, TEST_PAYLOAD_MASTER_KEY, TEST_ROUTER_KEY, TEST_ROUTER_SIGNER_KEY } from "./test/keys.ts";

// static/ (wrangler.toml's [assets]) must exist before workerd reads the configuration.
await buildStatic();

/**
 * Test files that need a workerd of their own, with nothing stored before
 * them: each asserts on the whole of some shared state (every account's books
 * balancing, the registry's count of miners, the trial's day-wide cap, the
 * registry calls a task makes, the chain index's status), or counts exactly
 * what one object does (its storage turns, the calls between objects), which
 * work left running by earlier files (alarms, probes, report flushes) would
 * add to, or fakes the clock, which in one workerd is every object's clock.
 * Every other workers file runs in one workerd, one file after another
 * (isolate: false): they pass beside whatever other files stored, since each
 * names its own sessions, models, keys and accounts, and starting a workerd
 * and importing the Worker for each of about a hundred files was most of the
 * suite's time. A new test that fails only after other files ran belongs here.
 */
const OWN_RUNTIME = [
  // The whole of some shared state.
  "test/adversarial/consensus-status.test.ts",
  "test/adversarial/economy/conservation-by-source.test.ts",
  "test/adversarial/economy/inflating-miner.test.ts",
  "test/adversarial/economy/reward-claims.test.ts",
  "test/adversarial/idempotency.test.ts",
  "test/chain/chain-routes.test.ts",
  "test/miner-rewards.test.ts",
  "test/neuroshard-health.test.ts",
  "test/neuroshard-node.test.ts",
  "test/stakes-and-slashing.test.ts",
  "test/trial.test.ts",
  "test/wallet-addresses.test.ts",
  "test/wallet.test.ts",
  // Exact counts of one object's work.
  "test/gateway-object-calls.test.ts",
  "test/object-traffic.test.ts",
  "test/report-batching.test.ts",
  "test/storage-turns.test.ts",
  // A faked clock (vi.setSystemTime): in a shared workerd it is every object's clock, earlier files' included.
  "test/activity.test.ts",
  "test/admin-rewards.test.ts",
  "test/adversarial/economy/micro-stake.test.ts",
  "test/adversarial/economy/sybil.test.ts",
  "test/completions.test.ts",
  "test/crash.test.ts",
  "test/gateway-fast-path.test.ts",
  "test/miner-join.test.ts",
  "test/neuroshard-one-token.test.ts",
  "test/session-shards.test.ts",
  "test/session-state.test.ts",
];

/** Inside workerd, against real Durable Objects, real dev miners and real local chains on loopback. */
function workersProject(name: string, files: { include: string[]; exclude: string[]; isolate: boolean }) {
  return {
    plugins: [
      // A function, so that the bindings can name what test/setup/global-setup.ts started (the local chain).
      cloudflareTest(({ inject }) => ({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            ENVIRONMENT: "test",
            ROUTER_API_KEYS: TEST_ROUTER_KEY,
            ADMIN_API_KEY: TEST_ADMIN_KEY,
            MINER_CREDENTIAL_KEY: TEST_CREDENTIAL_KEY,
            PAYLOAD_MASTER_KEY: TEST_PAYLOAD_MASTER_KEY,
            ROUTER_SIGNER_KEY: TEST_ROUTER_SIGNER_KEY,
            // v3 replica-tier pools; test/work.test.ts creates these sessions.
            V3_SESSION_POOLS: JSON.stringify({ "1": 801, "3": 803, "5": 805 }),
            // A second R2 backend, to exercise backend_index.
            PAYLOAD_BACKENDS: JSON.stringify([
              { index: 0, binding: "PAYLOADS", bucket: "cortensor-payloads" },
              { index: 1, binding: "PAYLOADS_ARCHIVE", bucket: "cortensor-archive" },
            ]),
            // The chain indexer, pointed at the local chain the setup started and deployed to.
            CHAIN_RPC_URL: inject("chains").main.url,
            CHAIN_ID: String(inject("chains").main.chainId),
            CHAIN_SESSION_ADDRESS: inject("chains").main.sessionAddress,
            CHAIN_QUEUE_ADDRESS: inject("chains").main.queueAddress,
            CHAIN_START_BLOCK: String(inject("chains").main.startBlock),
            CHAIN_CONFIRMATIONS: "2",
            // Receipts queue for anchoring on the main chain; a batch is due only when a test flushes it (test/chain/receipt-anchor.test.ts).
            CHAIN_ANCHOR_ADDRESS: inject("chains").main.anchorAddress,
            ANCHOR_BATCH_SIZE: "10000",
            ANCHOR_INTERVAL_S: String(7 * 86_400),
            // Miners' earnings posted to the main chain's RewardDistributor; an epoch closes only when a test forces it (test/chain/reward-claims.test.ts).
            CHAIN_REWARD_DISTRIBUTOR_ADDRESS: inject("chains").main.distributorAddress,
            REWARD_EPOCH_S: String(7 * 86_400),
            // The router's chain account for write-back: a dev account of the local chains (test/chain/hybrid.test.ts).
            CHAIN_SIGNER_KEY: String(devAccountKeys(10)[8]),
          },
          r2Buckets: {
            PAYLOADS_ARCHIVE: "cortensor-archive",
          },
        },
      })),
    ],
    test: {
      name,
      ...files,
      globalSetup: ["test/setup/global-setup.ts"],
      testTimeout: 30_000,
      hookTimeout: 30_000,
    },
  };
}

export default defineConfig({
  test: {
    projects: [
      workersProject("workers", { include: ["test/**/*.test.ts"], exclude: ["test/runtime/**", "test/browser/**", ...OWN_RUNTIME], isolate: false }),
      workersProject("workers-own-runtime", { include: OWN_RUNTIME, exclude: [], isolate: true }),
      {
        // From Node: the built Worker on workerd (Miniflare), killed and started again on its files.
        test: {
          name: "runtime",
          include: ["test/runtime/**/*.test.ts"],
          environment: "node",
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        // From Node: Debian's Chromium (playwright-core) on the stack of `npm run dev`, which test/browser/stack-setup.ts starts.
        test: {
          name: "browser",
          include: ["test/browser/**/*.test.ts"],
          environment: "node",
          globalSetup: ["test/browser/stack-setup.ts"],
          // One file at a time: they share the stack (a file may change a miner's faults), and each launches a Chromium.
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
