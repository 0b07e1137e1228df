import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { toEventSelector, type Address } from "viem";
import { loadConfig, type ChainTarget } from "../../domain/config/config";
import { actors, chains, ether, indexOf, mine, nodeId, resultHash, rpc, tickUntilCaughtUp } from "./chain-helpers";

/**
 * The indexer against the local chain the router is configured with
 * (CHAIN_* in vitest.config.ts, confirmations 2). One scenario emits every
 * event of both contracts; the tests then read the index.
 */
const config = loadConfig(env).chain;
if (config.state !== "configured") throw new Error(`the test chain is not configured: ${JSON.stringify(config)}`);
const target: ChainTarget = config.target;
const chain = chains().main;
const a = actors(chain);

const ALL_EVENTS = {
  SessionV2: [
    "SessionCreated",
    "SessionUpdated",
    "SessionDeactivated",
    "TaskSubmitted",
    "TaskAssigned",
    "NodeReleased",
    "RouterAdded",
    "RouterUpdated",
    "RouterRemoved",
    "AllRoutersRemoved",
    "DedicatedNodeAdded",
    "DedicatedNodeRemoved",
    "DepositToSession",
    "WithdrawFromSession",
  ],
  SessionQueueV2: [
    "TaskQueued",
    "TaskAssigned",
    "TaskAcked",
    "TaskPrecommitted",
    "TaskAllPrecommitted",
    "TaskPrecommitEnded",
    "TaskCommitted",
    "TaskAllCommitted",
    "TaskCommitEnded",
    "TaskEnded",
  ],
};

/** Emits every event of both contracts; returns the ids of the sessions it made. */
async function emitEverything() {
  const [mA, mB, mC] = a.miners;
  await a.sessionWrite(a.admin, "addDedicatedNode", [mA]);
  await a.sessionWrite(a.admin, "addDedicatedNode", [mB]);
  await a.sessionWrite(a.admin, "addDedicatedNode", [mC]);
  await a.sessionWrite(a.admin, "removeDedicatedNode", [mC]);
  await a.sessionWrite(a.admin, "addRouter", [a.router, "router one"]);
  await a.sessionWrite(a.admin, "updateRouter", [a.router, "router one, updated"]);
  await a.sessionWrite(a.admin, "addRouter", [a.other, "short-lived"]);
  await a.sessionWrite(a.admin, "removeRouter", [a.other]);
  const first = await a.sessionCount();
  // The seed's own examples: create, then update.
  await a.sessionWrite(a.owner, "create", ["My Session", "Metadata", a.owner, 1n, 3n, 1n, 0n, 0n, false]);
  await a.sessionWrite(a.owner, "create", ["Dedicated", "{}", a.owner, 1n, 2n, 2n, 0n, 2n, true]);
  const [eph, ded] = [first, first + 1n];
  await a.sessionWrite(a.owner, "updateSession", [eph, "Updated Name", "Updated Metadata", 2n, 4n, 2n]);
  await a.sessionWrite(a.funder, "deposit", [eph], ether(1));
  await a.sessionWrite(a.owner, "withdraw", [eph, ether(0.25)]);
  await a.sessionWrite(a.owner, "releaseNode", [ded, nodeId(mB)]);
  // A task through every step of the queue; a second one left queued.
  await a.queueWrite(a.owner, "submitTask", [eph, JSON.stringify({ type: "chat", message: "Hello" })]);
  await a.queueWrite(a.router, "assignTask", [eph, 0n, [mA, mB]]);
  await a.queueWrite(mA, "ackTask", [eph, 0n, mA]);
  await a.queueWrite(a.router, "ackTask", [eph, 0n, mB]);
  await a.queueWrite(mA, "precommitTask", [eph, 0n, mA, resultHash("four")]);
  await a.queueWrite(a.router, "precommitTask", [eph, 0n, mB, resultHash("4")]);
  await a.queueWrite(a.router, "endPrecommit", [eph, 0n]);
  await a.queueWrite(mA, "commitTask", [eph, 0n, mA, "four"]);
  await a.queueWrite(a.router, "commitTask", [eph, 0n, mB, "4"]);
  await a.queueWrite(a.router, "endCommit", [eph, 0n]);
  await a.queueWrite(a.router, "endTask", [eph, 0n]);
  await a.queueWrite(a.owner, "submitTask", [eph, "not json"]);
  await a.sessionWrite(a.owner, "removeAllRouters", [ded]);
  await a.sessionWrite(a.owner, "deactivate", [ded]);
  return { eph, ded };
}

let ids: { eph: bigint; ded: bigint };

beforeAll(async () => {
  ids = await emitEverything();
});

async function mirrorMatchesViews(sessionIds: bigint[]) {
  const index = indexOf(target);
  for (const id of sessionIds) {
    const view = await a.getSession(id);
    const mirrored = await index.session(Number(id));
    expect(mirrored, `session ${id}`).toMatchObject({
      source: "chain",
      session_id: Number(id),
      sid: view.sid,
      owner: view.owner.toLowerCase(),
      name: view.name,
      metadata: view.metadata,
      min_nodes: Number(view.minNumOfNodes),
      max_nodes: Number(view.maxNumOfNodes),
      redundant: Number(view.redundant),
      validator_nodes: Number(view.numOfValidatorNodes),
      mode: Number(view.mode),
      reserve_ephemeral_nodes: view.reserveEphemeralNodes,
      active: view.active,
      routers_removed: view.routersRemoved,
      balance: view.balance.toString(),
      miners: (await a.getSessionMiners(id)).map((m) => m.toLowerCase()),
    });
    const tasks = await a.getTasks(id);
    const mirroredTasks = await index.tasks({ sessionId: Number(id), limit: 500 });
    expect(mirroredTasks.map((t) => ({ id: t.task_id, globalId: t.global_id, data: t.task_data, miners: t.miners }))).toEqual(
      tasks.map((t) => ({ id: Number(t.id), globalId: Number(t.globalId), data: t.taskData, miners: t.miners.map((m) => m.toLowerCase()) })),
    );
    expect(mirroredTasks.map((t) => t.status)).toEqual(tasks.map((t) => ["queued", "assigned", "precommit_ended", "commit_ended", "ended"][t.status]));
    for (const t of tasks) {
      const [miners, results] = await a.getTaskResults(id, t.id);
      const mirroredTask = mirroredTasks.find((m) => m.task_id === Number(t.id));
      if (t.status === 4) expect(mirroredTask?.results).toEqual({ miners: miners.map((m) => m.toLowerCase()), results: [...results] });
      expect(mirroredTask?.committed).toEqual(miners.map((m) => m.toLowerCase()));
    }
  }
  const owned = await a.getSessions(a.owner);
  const listed = await index.sessions({ owner: a.owner, limit: 500 });
  expect(listed.map((s) => s.session_id)).toEqual(owned.map((s) => Number(s.id)));
}

describe("chain indexer", () => {
  it("indexes nothing inside the confirmation window, then all of it once confirmed", async () => {
    const index = indexOf(target);
    await a.sessionWrite(a.owner, "create", ["inside the window", "", a.owner, 1n, 1n, 1n, 0n, 0n, false]);
    const { last } = await tickUntilCaughtUp(target);
    const safeHead = last.safeHead ?? 0;
    expect(safeHead).toBe((last.head ?? 0) - target.confirmations);
    // Other suites may add blocks to this chain meanwhile: what is asserted is relative to the tick's own safe head.
    const watched = [chain.sessionAddress, chain.queueAddress] as Address[];
    const unconfirmed = await a.reader.getLogs({ address: watched, fromBlock: BigInt(safeHead + 1), toBlock: BigInt(last.head ?? 0) });
    expect(unconfirmed.length).toBeGreaterThan(0);
    const events = await index.events({ limit: 1000 });
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => e.block_number <= safeHead)).toBe(true);
    expect(events.filter((e) => unconfirmed.some((l) => l.transactionHash === e.tx_hash))).toEqual([]);

    await mine(chain.url, target.confirmations);
    await tickUntilCaughtUp(target);
    const confirmed = new Set((await index.events({ limit: 1000 })).map((e) => `${e.block_number}:${e.log_index}`));
    for (const l of unconfirmed) expect(confirmed.has(`${Number(l.blockNumber)}:${l.logIndex}`)).toBe(true);
    expect((await index.events({ event: "SessionDeactivated", limit: 10 })).map((e) => e.session_id)).toEqual([Number(ids.ded)]);
  });

  it("has indexed every event of both contracts, each decoded with its own contract's ABI, and mirrors what the view functions say", async () => {
    const index = indexOf(target);
    const events = await index.events({ limit: 1000 });
    for (const [contract, names] of Object.entries(ALL_EVENTS)) {
      expect(new Set(events.filter((e) => e.contract === contract).map((e) => e.event)), contract).toEqual(new Set(names));
    }
    const assigned = events.filter((e) => e.event === "TaskAssigned" && e.session_id === Number(ids.eph));
    expect(assigned.find((e) => e.contract === "SessionV2")?.args).toEqual({ sessionId: String(ids.eph), taskId: "0", nodeIds: [nodeId(a.miners[0]), nodeId(a.miners[1])] });
    expect(assigned.find((e) => e.contract === "SessionQueueV2")?.args).toEqual({
      sessionId: String(ids.eph),
      taskId: "0",
      miners: [a.miners[0].toLowerCase(), a.miners[1].toLowerCase()],
    });
    await mirrorMatchesViews([ids.eph, ids.ded]);
    const task = await index.task(Number(ids.eph), 0);
    expect(task?.history.map((e) => `${e.contract}.${e.event}`)).toEqual([
      "SessionQueueV2.TaskQueued",
      "SessionQueueV2.TaskAssigned",
      "SessionV2.TaskAssigned",
      "SessionQueueV2.TaskAcked",
      "SessionQueueV2.TaskAcked",
      "SessionQueueV2.TaskPrecommitted",
      "SessionQueueV2.TaskPrecommitted",
      "SessionQueueV2.TaskAllPrecommitted",
      "SessionQueueV2.TaskPrecommitEnded",
      "SessionQueueV2.TaskCommitted",
      "SessionQueueV2.TaskCommitted",
      "SessionQueueV2.TaskAllCommitted",
      "SessionQueueV2.TaskCommitEnded",
      "SessionQueueV2.TaskEnded",
    ]);
    expect(task?.results).toEqual({ miners: [a.miners[0].toLowerCase(), a.miners[1].toLowerCase()], results: ["four", "4"] });
  });

  it("re-reading changes nothing, and a resync from the start block gives identical rows", async () => {
    const index = indexOf(target);
    const before = { events: await index.events({ limit: 1000 }), sessions: await index.sessions({ limit: 500 }), tasks: await index.tasks({ limit: 500 }) };
    await index.resync(target.startBlock);
    expect((await index.state())?.cursor).toBe(target.startBlock - 1);
    await tickUntilCaughtUp(target);
    const after = { events: await index.events({ limit: 1000 }), sessions: await index.sessions({ limit: 500 }), tasks: await index.tasks({ limit: 500 }) };
    expect(after).toEqual(before);
    expect((await index.state())?.status).toBe("running");
  });

  it("never runs two ticks at once", async () => {
    await a.sessionWrite(a.owner, "create", ["concurrent", "", a.owner, 1n, 1n, 1n, 0n, 0n, false]);
    await mine(chain.url, target.confirmations);
    const index = indexOf(target);
    const reports = await Promise.all([index.tick(target), index.tick(target)]);
    expect(reports.filter((r) => r.skipped).length).toBe(1);
    expect(reports.filter((r) => !r.skipped).length).toBe(1);
  });

  it("records a log that does not decode with its error, skips it and indexes what follows", async () => {
    const index = indexOf(target);
    await tickUntilCaughtUp(target);
    const session = chain.sessionAddress as Address;
    const original = (await a.reader.getCode({ address: session })) as `0x${string}`;
    const emitter = await a.rawEmitterCode();
    // For one transaction SessionV2 emits a SessionCreated whose data is cut short.
    await rpc(chain.url, "hardhat_setCode", [session, emitter]);
    const bad = await a.emitRaw(session, toEventSelector("SessionCreated(uint256,bytes32,address,address[])"), "0x1234");
    await rpc(chain.url, "hardhat_setCode", [session, original]);
    await a.sessionWrite(a.owner, "create", ["after the bad log", "", a.owner, 1n, 1n, 1n, 0n, 0n, false]);
    const created = Number(await a.sessionCount()) - 1;
    await mine(chain.url, target.confirmations);
    const { last } = await tickUntilCaughtUp(target);
    expect(last.outcome).toBe("caught_up");
    const undecodable = await index.undecodable(10);
    expect(undecodable).toHaveLength(1);
    expect(undecodable[0]).toMatchObject({ block_number: Number(bad.blockNumber), tx_hash: bad.transactionHash, address: session.toLowerCase(), data: "0x1234" });
    expect(undecodable[0]?.error).toMatch(/data|size|bytes/i);
    expect((await index.session(created))?.name).toBe("after the bad log");
    expect((await index.state())?.undecodable_logs).toBe(1);
  });
});
