/**
 * `npm run chain -- <command>`: the Web3 SDK reference's examples with viem,
 * against the chain of `npm run dev` (found in .wrangler/dev-chain.json) or
 * the one CHAIN_RPC_URL, CHAIN_SESSION_ADDRESS and CHAIN_QUEUE_ADDRESS name.
 * Transactions are signed by CHAIN_PRIVATE_KEY if set, else by the dev
 * chain's node for dev account `--account` (default 1, the dev sessions' owner).
 *
 *   create <name> [metadata] [--min 1] [--max 3] [--redundant 1] [--validators 0] [--mode 0] [--reserve]
 *   sessions [address]                 getSessions (default: the signer's)
 *   session <id>                       getSession and getSessionMiners
 *   update <id> <name> <metadata> <min> <max> <redundant>
 *   submit <sessionId> <message>       submitTask with {"type": "chat", "message"}
 *   tasks <sessionId>                  getTasksBySessionId
 *   results <sessionId> <taskId> [--wait]   getTaskResults (--wait: until it has one)
 *   events [--follow]                  both contracts' events (--follow: and new ones, as they come)
 *   claim --key-file F [--router URL] [--api-key K]
 *                                      claims the miner's earnings from the RewardDistributor with the
 *                                      key in F (its registered address's); the proof is read from the
 *                                      router (default http://localhost:5010, `npm run dev`) with a wallet:read key of
 *                                      its payout account (--api-key or ROUTER_WALLET_KEY); prints the
 *                                      token balance
 */
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { decodeEventLog, parseEventLogs, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { sessionQueueV2Abi, sessionV2Abi } from "../../contracts/artifacts.ts";
import { devChainClients } from "../../tools/dev-chain/deploy.ts";
import { DEV_CHAIN_FILE, type DevChainInfo } from "./dev-chain.ts";
import { claimRewards } from "./claim.ts";
import { readKeyFile } from "../../miner-node/secrets.ts";

const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    account: { type: "string", default: "1" },
    min: { type: "string", default: "1" },
    max: { type: "string", default: "3" },
    redundant: { type: "string", default: "1" },
    validators: { type: "string", default: "0" },
    mode: { type: "string", default: "0" },
    reserve: { type: "boolean", default: false },
    wait: { type: "boolean", default: false },
    follow: { type: "boolean", default: false },
    "key-file": { type: "string" },
    router: { type: "string", default: process.env["ROUTER_URL"] ?? "http://localhost:5010" },
    "api-key": { type: "string" },
  },
});
const [command, ...args] = positionals;

const show = (value: unknown) => console.log(JSON.stringify(value, (_, v) => (typeof v === "bigint" ? v.toString() : v), 2));
const fail = (message: string): never => {
  console.error(message);
  process.exit(1);
};
const arg = (i: number, name: string) => args[i] ?? fail(`missing <${name}>; see the usage at the top of scripts/chain/cli.ts`);
const big = (text: string, name: string) => (/^\d+$/.test(text) ? BigInt(text) : fail(`<${name}> must be a non-negative integer, not ${text}`));

async function target() {
  const env = process.env;
  if (env["CHAIN_RPC_URL"] && env["CHAIN_SESSION_ADDRESS"] && env["CHAIN_QUEUE_ADDRESS"]) {
    return { rpcUrl: env["CHAIN_RPC_URL"], chainId: Number(env["CHAIN_ID"] ?? 31337), sessionAddress: env["CHAIN_SESSION_ADDRESS"], queueAddress: env["CHAIN_QUEUE_ADDRESS"] };
  }
  const text = await readFile(DEV_CHAIN_FILE, "utf8").catch(() =>
    fail(`no chain: start \`npm run dev\` (it writes ${DEV_CHAIN_FILE}) or set CHAIN_RPC_URL, CHAIN_SESSION_ADDRESS, CHAIN_QUEUE_ADDRESS`),
  );
  return JSON.parse(text) as DevChainInfo;
}

const t = await target();
const session = t.sessionAddress as Address;
const queue = t.queueAddress as Address;
const key = process.env["CHAIN_PRIVATE_KEY"] as Hex | undefined;
let signer: Address | ReturnType<typeof privateKeyToAccount>;
if (key) signer = privateKeyToAccount(key);
else {
  const { wallet: nodeWallet } = devChainClients(t.rpcUrl, t.chainId, "0x0000000000000000000000000000000000000000");
  const accounts = await nodeWallet.getAddresses();
  signer = accounts[Number(flags.account)] ?? fail(`the node has no dev account ${flags.account}`);
}
const { publicClient: reader, wallet, confirm } = devChainClients(t.rpcUrl, t.chainId, signer);
const signerAddress = typeof signer === "string" ? signer : signer.address;

switch (command) {
  case "create": {
    const receipt = await confirm(
      await wallet.writeContract({
        address: session,
        abi: sessionV2Abi,
        functionName: "create",
        args: [
          arg(0, "name"),
          args[1] ?? "",
          signerAddress,
          big(flags.min, "min"),
          big(flags.max, "max"),
          big(flags.redundant, "redundant"),
          big(flags.validators, "validators"),
          big(flags.mode, "mode"),
          flags.reserve,
        ],
      }),
    );
    const [created] = parseEventLogs({ abi: sessionV2Abi, logs: receipt.logs, eventName: "SessionCreated" });
    show({ sessionId: created?.args.sessionId, tx: receipt.transactionHash });
    break;
  }
  case "sessions":
    show(await reader.readContract({ address: session, abi: sessionV2Abi, functionName: "getSessions", args: [(args[0] as Address | undefined) ?? signerAddress] }));
    break;
  case "session": {
    const id = big(arg(0, "id"), "id");
    show({
      session: await reader.readContract({ address: session, abi: sessionV2Abi, functionName: "getSession", args: [id] }),
      miners: await reader.readContract({ address: session, abi: sessionV2Abi, functionName: "getSessionMiners", args: [id] }),
    });
    break;
  }
  case "update": {
    const receipt = await confirm(
      await wallet.writeContract({
        address: session,
        abi: sessionV2Abi,
        functionName: "updateSession",
        args: [big(arg(0, "id"), "id"), arg(1, "name"), arg(2, "metadata"), big(arg(3, "min"), "min"), big(arg(4, "max"), "max"), big(arg(5, "redundant"), "redundant")],
      }),
    );
    show({ tx: receipt.transactionHash });
    break;
  }
  case "submit": {
    const receipt = await confirm(
      await wallet.writeContract({
        address: queue,
        abi: sessionQueueV2Abi,
        functionName: "submitTask",
        args: [big(arg(0, "sessionId"), "sessionId"), JSON.stringify({ type: "chat", message: arg(1, "message") })],
      }),
    );
    const [queued] = parseEventLogs({ abi: sessionQueueV2Abi, logs: receipt.logs, eventName: "TaskQueued" });
    show({ sessionId: queued?.args.sessionId, taskId: queued?.args.taskId, globalId: queued?.args.globalId, tx: receipt.transactionHash });
    break;
  }
  case "tasks":
    show(await reader.readContract({ address: queue, abi: sessionQueueV2Abi, functionName: "getTasksBySessionId", args: [big(arg(0, "sessionId"), "sessionId")] }));
    break;
  case "results": {
    const sessionId = big(arg(0, "sessionId"), "sessionId");
    const taskId = big(arg(1, "taskId"), "taskId");
    for (let waited = 0; ; waited++) {
      const [miners, results] = await reader.readContract({ address: queue, abi: sessionQueueV2Abi, functionName: "getTaskResults", args: [sessionId, taskId] });
      if (results.length > 0 || !flags.wait) {
        show({ miners, results });
        break;
      }
      if (waited === 120) fail("no result after two minutes (is `npm run dev` running, and the session hybrid?)");
      await new Promise((r) => setTimeout(r, 1000));
    }
    break;
  }
  case "events": {
    const print = (logs: readonly { address: Address; topics: readonly Hex[]; data: Hex; blockNumber: bigint | null }[]) => {
      for (const log of logs) {
        const abi = log.address.toLowerCase() === session.toLowerCase() ? sessionV2Abi : sessionQueueV2Abi;
        try {
          const decoded = decodeEventLog({ abi, topics: log.topics as [Hex, ...Hex[]], data: log.data });
          show({ block: log.blockNumber, contract: abi === sessionV2Abi ? "SessionV2" : "SessionQueueV2", event: decoded.eventName, args: decoded.args });
        } catch (err) {
          show({ block: log.blockNumber, undecodable: err instanceof Error ? err.message : String(err) });
        }
      }
    };
    let from = 0n;
    for (;;) {
      const head = await reader.getBlockNumber({ cacheTime: 0 });
      if (head >= from) print(await reader.getLogs({ address: [session, queue], fromBlock: from, toBlock: head }));
      from = head + 1n;
      if (!flags.follow) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    break;
  }
  case "claim": {
    const keyFile = flags["key-file"] ?? fail("claim needs --key-file <file> (the miner's private key)");
    const apiKey = flags["api-key"] ?? process.env["ROUTER_WALLET_KEY"] ?? fail("claim needs --api-key (or ROUTER_WALLET_KEY): a wallet:read key of the miner's payout account");
    const outcome = await claimRewards({ rpcUrl: t.rpcUrl, chainId: t.chainId, routerUrl: flags.router, apiKey, key: readKeyFile(keyFile) });
    show(outcome);
    if (outcome.paid_micros === 0) console.error("nothing left to claim: every posted micro is claimed already");
    break;
  }
  default:
    fail(`unknown command ${command ?? "(none)"}: create, sessions, session, update, submit, tasks, results, events, claim`);
}
