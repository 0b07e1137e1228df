import { ethers } from "ethers";
import { encodeEventTopics, sha256, stringToHex, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { sessionQueueV2Abi, sessionV2Abi } from "../../contracts/artifacts.ts";
import { startChainForDev } from "../../scripts/chain/dev-chain.ts";
import { deployContracts, devChainClients } from "../../tools/dev-chain/deploy.ts";
import { type DevChain, devAccountKeys, startDevChain } from "../../tools/dev-chain/server.ts";

/**
 * The dev chain over WebSocket: the seed's "Listening to Events" example
 * (seeds/002) run as written with ethers v6 against the chain `npm run dev`
 * starts, and eth_subscribe / eth_unsubscribe as a raw JSON-RPC client sees them.
 */

type DevStackChain = Awaited<ReturnType<typeof startChainForDev>>;
const MINERS = ["0x1000000000000000000000000000000000000001", "0x2000000000000000000000000000000000000002"] as const;

/** The router's clients on the chain of `npm run dev` (its signer is the router registered there). */
const routerOf = (chain: DevStackChain) => devChainClients(chain.info.rpcUrl, chain.info.chainId, privateKeyToAccount(chain.vars.CHAIN_SIGNER_KEY as Hex));

/** Runs a task of session 0 of `queue` from submission to TaskEnded, as the router does on chain: assign, precommit, commit, end. */
async function endOneTask(chain: DevStackChain, queue: Address, miners: readonly Address[]) {
  const router = routerOf(chain);
  const write = async (functionName: string, args: readonly unknown[]) =>
    router.confirm(await router.wallet.writeContract({ address: queue, abi: sessionQueueV2Abi, functionName, args } as never));
  const before = await router.publicClient.readContract({ address: queue, abi: sessionQueueV2Abi, functionName: "getTasksBySessionId", args: [0n] });
  const taskId = BigInt(before.length);
  await write("submitTask", [0n, "Hello"]);
  await write("assignTask", [0n, taskId, miners]);
  for (const [i, miner] of miners.entries()) await write("precommitTask", [0n, taskId, miner, sha256(stringToHex(`answer ${i}`))]);
  await write("endPrecommit", [0n, taskId]);
  for (const [i, miner] of miners.entries()) await write("commitTask", [0n, taskId, miner, `answer ${i}`]);
  await write("endCommit", [0n, taskId]);
  const ended = await write("endTask", [0n, taskId]);
  return { taskId, ended };
}

/** A second SessionV2/SessionQueueV2 pair on the same chain, with the same router and a hybrid session 0: its TaskEnded comes from another address. */
async function anotherQueue(chain: DevStackChain): Promise<Address> {
  const admin = privateKeyToAccount(devAccountKeys(1)[0] as Hex).address; // a dev account: the chain signs for it
  const deployment = await deployContracts(chain.info.rpcUrl, chain.info.chainId, admin);
  const asAdmin = devChainClients(chain.info.rpcUrl, chain.info.chainId, admin);
  const router = privateKeyToAccount(chain.vars.CHAIN_SIGNER_KEY as Hex).address;
  await asAdmin.confirm(await asAdmin.wallet.writeContract({ address: deployment.sessionAddress, abi: sessionV2Abi, functionName: "addRouter", args: [router, "r"] }));
  await asAdmin.confirm(
    await asAdmin.wallet.writeContract({
      address: deployment.sessionAddress,
      abi: sessionV2Abi,
      functionName: "create",
      args: ["other", "", admin, 1n, 1n, 1n, 0n, 1n, false],
    }),
  );
  return deployment.queueAddress;
}

describe("the seed's Listening to Events against the chain of npm run dev", () => {
  let chain: DevStackChain;
  beforeAll(async () => {
    chain = await startChainForDev(0, false);
  });
  afterAll(() => chain?.close());

  it("fires the TaskEnded listener with the session, the task and the miners, for this queue's TaskEnded only", async () => {
    const PUBLIC_RPC_URL = chain.info.wsUrl; // No TLS on loopback: already ws://, which the seed's https→wss replacement leaves as it is.
    const SESSION_QUEUE_V2_ADDRESS = chain.info.queueAddress;
    const SessionQueueV2ABI = ["event TaskEnded(uint256 sessionId, uint256 taskId, address[] miners)"]; // the seed's event table
    const seen: { sessionId: bigint; taskId: bigint; miners: string[]; transactionHash: string }[] = [];

    // The seed's example, as written:
    const provider = new ethers.WebSocketProvider(PUBLIC_RPC_URL.replace("https", "wss"));
    const queueContract = new ethers.Contract(SESSION_QUEUE_V2_ADDRESS, SessionQueueV2ABI, provider);

    queueContract.on("TaskEnded", (sessionId, taskId, miners, event) => {
      console.log(`Task ${taskId} in session ${sessionId} completed`);
      seen.push({ sessionId, taskId, miners: [...miners], transactionHash: event.log.transactionHash });
    });

    try {
      // ethers subscribes in the background: wait until the chain holds the listener's logs subscription.
      await vi.waitFor(() => expect(chain.openSubscriptions()).toBe(1));
      const other = await anotherQueue(chain);
      await endOneTask(chain, other, MINERS); // another address's TaskEnded: not heard
      const first = await endOneTask(chain, SESSION_QUEUE_V2_ADDRESS as Address, MINERS);
      const second = await endOneTask(chain, SESSION_QUEUE_V2_ADDRESS as Address, MINERS.slice(0, 1));
      await vi.waitFor(() => expect(seen).toHaveLength(2));
      expect(seen).toEqual([
        { sessionId: 0n, taskId: first.taskId, miners: MINERS.map((m) => ethers.getAddress(m)), transactionHash: first.ended.transactionHash },
        { sessionId: 0n, taskId: second.taskId, miners: [ethers.getAddress(MINERS[0])], transactionHash: second.ended.transactionHash },
      ]);
      expect(first.taskId).toBe(0n);
      expect(second.taskId).toBe(1n);
    } finally {
      await queueContract.removeAllListeners();
      provider.destroy();
    }
    // Removing the listener unsubscribes on the chain.
    await vi.waitFor(() => expect(chain.openSubscriptions()).toBe(0));
  });
});

/** A raw JSON-RPC client on a socket: answers by id, notifications by subscription id. */
async function connect(url: string) {
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
  const answers = new Map<number, { result?: unknown; error?: { message: string } }>();
  const notifications = new Map<string, Record<string, unknown>[]>();
  ws.on("message", (data) => {
    const message = JSON.parse(data.toString());
    for (const m of Array.isArray(message) ? message : [message]) {
      if (m.method === "eth_subscription") notifications.set(m.params.subscription, [...(notifications.get(m.params.subscription) ?? []), m.params.result]);
      else answers.set(m.id, m);
    }
  });
  let nextId = 1;
  const call = async (method: string, params: unknown[] = []) => {
    const id = nextId++;
    ws.send(JSON.stringify({ jsonrpc: "2.0", id, method, params }));
    await vi.waitFor(() => expect(answers.has(id)).toBe(true));
    const answer = answers.get(id) as { result?: unknown; error?: { message: string } };
    if (answer.error) throw new Error(`${method}: ${answer.error.message}`);
    return answer.result;
  };
  return { ws, call, notified: (subscription: unknown) => notifications.get(subscription as string) ?? [], answers };
}

describe("the dev chain's WebSocket JSON-RPC", () => {
  let chain: DevChain;
  const sockets: WebSocket[] = [];
  const open = async () => {
    const client = await connect(chain.wsUrl);
    sockets.push(client.ws);
    return client;
  };
  beforeAll(async () => {
    chain = await startDevChain();
  });
  afterEach(async () => {
    const open = sockets.splice(0).filter((ws) => ws.readyState !== ws.CLOSED);
    await Promise.all(open.map((ws) => new Promise((resolve) => ws.once("close", resolve).close())));
  });
  afterAll(() => chain?.close());

  const http = async (method: string, params: unknown[] = []) => {
    const res = await fetch(chain.url, { method: "POST", body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) });
    return ((await res.json()) as { result: unknown }).result;
  };

  it("answers any method as over HTTP, batches included, on the HTTP port", async () => {
    const { ws, call, answers } = await open();
    expect(await call("eth_chainId")).toBe(await http("eth_chainId"));
    expect(await call("eth_accounts")).toEqual(await http("eth_accounts"));
    ws.send(
      JSON.stringify([
        { jsonrpc: "2.0", id: 100, method: "eth_chainId" },
        { jsonrpc: "2.0", id: 101, method: "eth_blockNumber" },
      ]),
    );
    await vi.waitFor(() => expect(answers.has(101)).toBe(true));
    expect(answers.get(100)).toEqual({ jsonrpc: "2.0", id: 100, result: "0x7a69" });
    await expect(call("no_such_method")).rejects.toThrow(/no_such_method/);
  });

  it("pushes newHeads as blocks are mined, and stops after eth_unsubscribe", async () => {
    const { call, notified } = await open();
    const heads = await call("eth_subscribe", ["newHeads"]);
    const witness = await call("eth_subscribe", ["newHeads"]);
    await http("evm_mine");
    const mined = (await http("eth_getBlockByNumber", ["latest", false])) as { hash: string; number: string };
    await vi.waitFor(() => expect(notified(heads)).toHaveLength(1));
    expect(notified(heads)[0]).toMatchObject({ hash: mined.hash, number: mined.number });

    expect(await call("eth_unsubscribe", [heads])).toBe(true);
    await http("evm_mine");
    await http("evm_mine");
    // The witness heard both blocks, so the unsubscribed one would have heard the first by now.
    await vi.waitFor(() => expect(notified(witness)).toHaveLength(3));
    expect(notified(heads)).toHaveLength(1);
  });

  it("pushes only the logs matching the address and topics, and a socket cannot end another's subscription", async () => {
    const [from] = chain.accounts as [Address];
    const a = await deployContracts(chain.url, chain.chainId, from);
    const b = await deployContracts(chain.url, chain.chainId, from);
    const [sessionCreated] = encodeEventTopics({ abi: sessionV2Abi, eventName: "SessionCreated" });
    const [routerAdded] = encodeEventTopics({ abi: sessionV2Abi, eventName: "RouterAdded" });
    const { call, notified } = await open();
    const created = await call("eth_subscribe", ["logs", { address: a.sessionAddress, topics: [sessionCreated] }]);
    const anyOfA = await call("eth_subscribe", ["logs", { address: [a.sessionAddress] }]);

    const admin = devChainClients(chain.url, chain.chainId, from);
    const write = async (address: Address, functionName: string, args: readonly unknown[]) =>
      admin.confirm(await admin.wallet.writeContract({ address, abi: sessionV2Abi, functionName, args } as never));
    await write(b.sessionAddress, "create", ["b", "", from, 1n, 1n, 1n, 0n, 0n, false]);
    await write(a.sessionAddress, "addRouter", [from, "r"]);
    const createdInA = await write(a.sessionAddress, "create", ["a", "", from, 1n, 1n, 1n, 0n, 0n, false]);

    await vi.waitFor(() => expect(notified(anyOfA)).toHaveLength(2));
    expect(notified(anyOfA).map((log) => (log.topics as string[])[0])).toEqual([routerAdded, sessionCreated]);
    expect(notified(created)).toHaveLength(1);
    expect(notified(created)[0]).toMatchObject({ transactionHash: createdInA.transactionHash, topics: [sessionCreated] });
    expect(String(notified(created)[0]?.address).toLowerCase()).toBe(a.sessionAddress.toLowerCase());

    const intruder = await open();
    expect(await intruder.call("eth_unsubscribe", [created])).toBe(false);
    expect(await call("eth_unsubscribe", [created])).toBe(true);
  });

  it("ends a socket's subscriptions when it closes", async () => {
    // The earlier tests' sockets closed with subscriptions still open.
    await vi.waitFor(() => expect(chain.openSubscriptions()).toBe(0));
    const { ws, call } = await open();
    await call("eth_subscribe", ["newHeads"]);
    await call("eth_subscribe", ["logs", {}]);
    expect(chain.openSubscriptions()).toBe(2);
    ws.close();
    await vi.waitFor(() => expect(chain.openSubscriptions()).toBe(0));
    // The chain mines on with nobody to tell.
    await http("evm_mine");
    expect(await http("eth_chainId")).toBe("0x7a69");
  });
});
