import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { type Address, createPublicClient, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { rewardTokenAbi } from "../../contracts/artifacts.ts";
import { DEV_CUSTOMER_KEY, DEV_ROUTER_TOKEN } from "../../domain/config/dev-credentials.ts";
import { WalletClaimsSchema } from "../../domain/schemas/wallet-claims.ts";
import { type DevStack, startDevStack } from "../../scripts/dev-stack.ts";
import { freePort } from "../../scripts/ports.ts";
import { devMinerKey } from "../../tools/dev-miner/sign.ts";

/**
 * Issue 26's "a miner claims its earnings and its token balance equals what
 * the ledger says it earned", on the stack of `npm run dev` (scripts/dev-stack.ts,
 * free ports): dev miners earn through real tasks, the router posts an epoch,
 * and the README's command, run as a user runs it (a child process, the key file
 * the stack wrote, the dev customer's key the banner prints), claims it once.
 */

const run = promisify(execFile);
const ROOT = new URL("../..", import.meta.url).pathname;

describe("npm run chain -- claim against npm run dev", () => {
  let stack: DevStack;
  const state = mkdtempSync(join(tmpdir(), "claim-stack-"));
  beforeAll(async () => {
    // Epochs of 10 s (the least REWARD_EPOCH_S takes) instead of the dev chain's 60, so the test need not wait a minute.
    stack = await startDevStack({
      port: await freePort(),
      sidePorts: "ephemeral",
      persistTo: join(state, "wrangler"),
      chainFile: false,
      minerKeyDir: join(state, "keys"),
      rewardEpochS: 10,
      cronEveryMs: 1_000,
    });
  }, 240_000);
  afterAll(async () => {
    await stack?.stop();
    rmSync(state, { recursive: true, force: true });
  });

  const claims = async () => {
    const res = await fetch(`${stack.origin}/neuroshard/api/v1/wallet/claims`, { headers: { authorization: `Bearer ${DEV_CUSTOMER_KEY}` } });
    expect(res.status, await res.clone().text()).toBe(200);
    return WalletClaimsSchema.parse(await res.json());
  };
  /** The README's command, as a user types it (the chain named by the documented CHAIN_* variables: this stack writes no .wrangler/dev-chain.json). */
  const claimCommand = async (keyFile: string) => {
    const { chain } = stack;
    const child = await run("npm", ["run", "chain", "--", "claim", "--key-file", keyFile, "--router", stack.origin, "--api-key", DEV_CUSTOMER_KEY], {
      cwd: ROOT,
      env: { ...process.env, CHAIN_RPC_URL: chain.rpcUrl, CHAIN_ID: String(chain.chainId), CHAIN_SESSION_ADDRESS: chain.sessionAddress, CHAIN_QUEUE_ADDRESS: chain.queueAddress },
    }).catch((err: { code?: number; stdout?: string; stderr?: string }) => {
      throw new Error(`npm run chain -- claim exited ${err.code}: ${err.stdout}\n${err.stderr}`);
    });
    // npm prints its "> script" lines first; the command's answer is the JSON after them.
    const json = child.stdout.slice(child.stdout.indexOf("\n{") + 1);
    return { out: JSON.parse(json) as { address: string; paid_micros: number; transaction: string | null; claimed_micros: number; balance_micros: number }, stderr: child.stderr };
  };

  it("a dev miner claims, with the README's command, exactly what the ledger says it earned and settled; a second run pays 0 and sends nothing", async () => {
    // Real tasks on session 1 (redundancy 3 of the dev miners), with the router key the banner prints.
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${stack.origin}/api/v1/completions/1`, {
        method: "POST",
        headers: { authorization: `Bearer ${DEV_ROUTER_TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ prompt: `earn ${i}`, timeout: 30 }),
      });
      expect(res.status, await res.clone().text()).toBe(200);
    }

    // The signing dev miners pay out to the dev customer: its key reads their claims. Wait until one
    // that earned is in a posted epoch with all it earned (rewards are credited as outcome reports flush).
    const claim = await vi.waitFor(
      async () => {
        const c = (await claims()).claims.find((m) => m.earned_micros > 0 && m.claim !== null && m.unposted_micros === 0 && m.posted_micros === m.earned_micros);
        expect(c).toBeDefined();
        return c!;
      },
      { timeout: 60_000, interval: 1_000 },
    );
    expect(claim).toMatchObject({ settled_micros: claim.earned_micros, claimed_micros: 0, unclaimed_micros: claim.earned_micros });

    const keyFile = join(stack.minerKeyDir, `${claim.miner_id}.key`);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const address = privateKeyToAccount(devMinerKey(claim.miner_id)).address;
    expect(address.toLowerCase()).toBe(claim.address);

    const first = await claimCommand(keyFile);
    expect(first.out).toMatchObject({ address, paid_micros: claim.settled_micros, claimed_micros: claim.settled_micros, balance_micros: claim.settled_micros });
    expect(first.out.transaction).toMatch(/^0x[0-9a-f]{64}$/);

    // The chain, read directly: the RewardToken balance is what the ledger settled.
    const client = createPublicClient({ transport: http(stack.chain.rpcUrl) });
    const balance = () => client.readContract({ address: stack.chain.tokenAddress as Address, abi: rewardTokenAbi, functionName: "balanceOf", args: [address] });
    expect(await balance()).toBe(BigInt(claim.settled_micros));
    const after = (await claims()).claims.find((m) => m.miner_id === claim.miner_id);
    expect(after).toMatchObject({ claimed_micros: claim.settled_micros, unclaimed_micros: 0 });

    // Again: nothing left, no transaction sent.
    const nonce = await client.getTransactionCount({ address });
    const second = await claimCommand(keyFile);
    expect(second.out).toMatchObject({ address, paid_micros: 0, transaction: null, claimed_micros: claim.settled_micros, balance_micros: claim.settled_micros });
    expect(second.stderr).toContain("nothing left to claim");
    expect(await client.getTransactionCount({ address })).toBe(nonce);
    expect(await balance()).toBe(BigInt(claim.settled_micros));
  }, 120_000);
});
