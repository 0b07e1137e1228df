import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { TEST_ADMIN_KEY, TEST_CREDENTIAL_KEY, TEST_PAYLOAD_MASTER_KEY, TEST_ROUTER_KEY, TEST_ROUTER_SIGNER_KEY } from "./test/keys.ts";

export default defineConfig({
  plugins: [
    cloudflareTest({
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
        },
        r2Buckets: {
          PAYLOADS_ARCHIVE: "cortensor-archive",
        },
      },
    }),
  ],
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/setup/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
