import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Address, Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { loadConfig } from "../../domain/config/config";
import { CompletionRequestSchema } from "../../domain/schemas/completion";
import { submitCompletion } from "../../durable-objects/session/session-client";
import { deployContracts } from "../../tools/dev-chain/deploy";
import { admin, call, createSession, minersFor } from "../helpers";
import { actors, chains, indexOf, nodeId, settle, targetFor } from "./chain-helpers";

/** A fresh pair of contracts on the faulty chain, reached directly (no other suite rewinds it or counts its blocks). */
async function freshChain() {
  const faulty = chains().faulty;
  const base = { ...faulty, url: faulty.directUrl };
  const deployment = await deployContracts(base.url, base.chainId, base.accounts[0] as Address);
  return { ...base, ...deployment };
}

/** An address no registered miner holds. */
const STRANGER = "0x5555555555555555555555555555555555555555";

type EdgeTask = { assignments: { miner: string }[]; chain_miners?: unknown };
const edgeTask = async (sessionId: number, taskId: number | null | undefined) => (await (await admin(`/api/v1/tasks/${sessionId}/${taskId}`, "GET")).json()) as EdgeTask;

/**
 * Chain-named miners: a hybrid task the chain assigned to miners before this
 * router ran it (TaskAssigned) is served by the registered miners of those
 * addresses; the dispatch and the edge task say which could not be reached.
 */
describe("chain-named miners", () => {
  it("serves a task the chain assigned with the registered miners of the named addresses, says which it could not reach, and falls back to the session's own miners when none is reachable", async () => {
    const chain = await freshChain();
    const a = actors(chain);
    const names = ["signedA", "signedB", "signedC"] as const;
    const { model, ids, keys } = await minersFor([...names], { registered: [...names] });
    const addressOf = (name: (typeof names)[number]) => privateKeyToAccount(keys[name] as Hex).address;
    // Redundancy 1 from three miners: the named one serves every task only if the pin holds.
    const edgeSessionId = await createSession({ model, redundancy: 1 });
    await a.sessionWrite(a.admin, "addRouter", [a.router, "another router, which assigns before this one runs the task"]);
    await a.sessionWrite(a.owner, "create", ["hybrid", "", a.owner, 1n, 1n, 1n, 0n, 1n, false]);
    const named = 5;
    for (let t = 0; t < named; t++) {
      await a.queueWrite(a.owner, "submitTask", [0n, JSON.stringify({ type: "chat", message: `named ${t}` })]);
      await a.queueWrite(a.router, "assignTask", [0n, BigInt(t), [addressOf("signedB"), STRANGER]]);
    }
    // Named, but nobody this router has: the session's own miners serve it.
    await a.queueWrite(a.owner, "submitTask", [0n, JSON.stringify({ type: "chat", message: "nobody named is here" })]);
    await a.queueWrite(a.router, "assignTask", [0n, BigInt(named), [STRANGER]]);

    const target = targetFor(chain, { confirmations: 0, hybridSessions: { "0": edgeSessionId } });
    const index = indexOf(target);
    // Reads the chain, then runs the due dispatches on the object's alarm.
    await settle(target);

    const pinned = { source: "task", named: [addressOf("signedB").toLowerCase(), STRANGER], unreachable: [STRANGER], on_probation: [], fallback: false };
    for (let t = 0; t < named; t++) {
      const dispatch = (await index.task(0, t))?.dispatch;
      expect(dispatch, `task ${t}`).toMatchObject({ status: "answered", named_miners: pinned });
      const task = await edgeTask(edgeSessionId, dispatch?.edge_task_id);
      expect(task.assignments.map((s) => s.miner)).toEqual([ids.signedB]);
      expect(task.chain_miners).toEqual(pinned);
    }

    const fallback = (await index.task(0, named))?.dispatch;
    expect(fallback).toMatchObject({ status: "answered", named_miners: { source: "task", named: [STRANGER], unreachable: [STRANGER], on_probation: [], fallback: true } });
    const served = await edgeTask(edgeSessionId, fallback?.edge_task_id);
    expect(served.assignments).toHaveLength(1);
    expect(Object.values(ids)).toContain(served.assignments[0]?.miner);

    // A task the chain names nobody for runs as before: no pin, nothing said.
    await a.queueWrite(a.owner, "submitTask", [0n, JSON.stringify({ type: "chat", message: "nobody named" })]);
    await settle(target);
    const plain = (await index.task(0, named + 1))?.dispatch;
    expect(plain).toMatchObject({ status: "answered", named_miners: null });
    expect((await edgeTask(edgeSessionId, plain?.edge_task_id)).chain_miners).toBeUndefined();
  });

  it("serves a hybrid session's tasks with the miners its SessionCreated names (the dedicated nodes when it was created), less a released one", async () => {
    const chain = await freshChain();
    const a = actors(chain);
    const names = ["signedA", "signedB", "signedC"] as const;
    const { model, ids, keys } = await minersFor([...names], { registered: [...names] });
    const addressOf = (name: (typeof names)[number]) => privateKeyToAccount(keys[name] as Hex).address;
    const edgeSessionId = await createSession({ model, redundancy: 1 });
    for (const node of [addressOf("signedA"), addressOf("signedC"), STRANGER]) await a.sessionWrite(a.admin, "addDedicatedNode", [node]);
    await a.sessionWrite(a.owner, "create", ["hybrid, named", "", a.owner, 1n, 3n, 1n, 0n, 1n, false]);
    const target = targetFor(chain, { confirmations: 0, hybridSessions: { "0": edgeSessionId } });
    const index = indexOf(target);
    await settle(target);
    const session = await index.session(0);
    expect(session?.miners).toEqual([addressOf("signedA"), addressOf("signedC"), STRANGER].map((m) => m.toLowerCase()));

    const tasks = 4;
    for (let t = 0; t < tasks; t++) await a.queueWrite(a.owner, "submitTask", [0n, JSON.stringify({ type: "chat", message: `session-named ${t}` })]);
    await settle(target);
    const named = { source: "session", named: session?.miners, unreachable: [STRANGER], on_probation: [], fallback: false };
    const served = new Set<string>();
    for (let t = 0; t < tasks; t++) {
      const dispatch = (await index.task(0, t))?.dispatch;
      expect(dispatch, `task ${t}`).toMatchObject({ status: "answered", named_miners: named });
      const task = await edgeTask(edgeSessionId, dispatch?.edge_task_id);
      expect(task.chain_miners).toEqual(named);
      for (const s of task.assignments) served.add(s.miner);
    }
    // Only the named miners served: never signedB, which the session does not name.
    expect([...served].every((m) => m === ids.signedA || m === ids.signedC)).toBe(true);

    // The owner releases signedA and signedC: the session names only the stranger, so its own miners serve, and the record says so.
    await a.sessionWrite(a.owner, "releaseNode", [0n, nodeId(addressOf("signedA"))]);
    await a.sessionWrite(a.owner, "releaseNode", [0n, nodeId(addressOf("signedC"))]);
    await a.queueWrite(a.owner, "submitTask", [0n, JSON.stringify({ type: "chat", message: "named ones released" })]);
    await settle(target);
    expect((await index.task(0, tasks))?.dispatch).toMatchObject({
      status: "answered",
      named_miners: { source: "session", named: [STRANGER], unreachable: [STRANGER], on_probation: [], fallback: true },
    });
  });

  it("keeps probation for named miners: one on probation takes no seat of a task of one, and the session's own miners serve instead", async () => {
    const chain = await freshChain();
    const a = actors(chain);
    const names = ["signedA", "signedB"] as const;
    const { model, ids, keys } = await minersFor([...names], { registered: [...names] });
    const onProbation = privateKeyToAccount(keys.signedA as Hex).address;
    expect((await admin(`/api/v1/admin/miners/${ids.signedA}`, "PATCH", { probation: true })).status).toBe(200);
    const edgeSessionId = await createSession({ model, redundancy: 1 });
    await a.sessionWrite(a.admin, "addRouter", [a.router, "another router"]);
    await a.sessionWrite(a.owner, "create", ["hybrid", "", a.owner, 1n, 1n, 1n, 0n, 1n, false]);
    await a.queueWrite(a.owner, "submitTask", [0n, JSON.stringify({ type: "chat", message: "named, on probation" })]);
    await a.queueWrite(a.router, "assignTask", [0n, 0n, [onProbation]]);
    const target = targetFor(chain, { confirmations: 0, hybridSessions: { "0": edgeSessionId } });
    await settle(target);
    const note = { source: "task", named: [onProbation.toLowerCase()], unreachable: [], on_probation: [onProbation.toLowerCase()], fallback: true };
    const dispatch = (await indexOf(target).task(0, 0))?.dispatch;
    expect(dispatch).toMatchObject({ status: "answered", named_miners: note });
    expect((await edgeTask(edgeSessionId, dispatch?.edge_task_id)).assignments.map((s) => s.miner)).toEqual([ids.signedB]);
  });

  it("never lets a client choose a task's miners: pin fields in a request are ignored, and only the chain flow's pin is honoured", async () => {
    const names = ["signedA", "signedB"] as const;
    const { model, keys } = await minersFor([...names], { registered: [...names] });
    const onlyB = [privateKeyToAccount(keys.signedB as Hex).address];
    const sessionId = await createSession({ model, redundancy: 1 });

    // Whatever a client calls the field, its request is served as any other (or refused): never pinned.
    for (const field of ["minerPin", "miner_pin", "miners", "named_miners", "chain_miners"]) {
      const res = await call(`/api/v1/completions/${sessionId}`, { method: "POST", json: { prompt: `pin via ${field}`, [field]: { addresses: [STRANGER], source: "task" } } });
      if (res.status !== 200) {
        expect(res.status, field).toBe(400);
        continue;
      }
      const taskId = Number(res.headers.get("x-task-id"));
      expect((await edgeTask(sessionId, taskId)).chain_miners, field).toBeUndefined();
    }

    // A job carrying a pin from any caller but the chain's is served unpinned.
    const job = (caller: { kind: "key" | "chain"; id: string }, flow: string, prompt: string) =>
      submitCompletion(env, loadConfig(env), {
        sessionId,
        caller,
        request: CompletionRequestSchema.parse({ prompt }),
        flow,
        minerPin: { addresses: onlyB, source: "task" },
      });
    const asClient = await job({ kind: "key", id: "a client" }, "v1", "pinned by a client");
    expect((await edgeTask(sessionId, asClient.completion.task_id)).chain_miners).toBeUndefined();
    const onChainFlowName = await job({ kind: "key", id: "a client" }, "chain", "pinned by a client naming the chain flow");
    expect((await edgeTask(sessionId, onChainFlowName.completion.task_id)).chain_miners).toBeUndefined();
    const asChain = await job({ kind: "chain", id: "31337:0xqueue" }, "chain", "pinned by the chain");
    expect((await edgeTask(sessionId, asChain.completion.task_id)).chain_miners).toEqual({
      source: "task",
      named: onlyB.map((x) => x.toLowerCase()),
      unreachable: [],
      on_probation: [],
      fallback: false,
    });
  });
});
