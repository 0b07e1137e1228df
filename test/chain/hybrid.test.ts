import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Address, Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { deployContracts } from "../../tools/dev-chain/deploy";
import { admin, call, createSession, minersFor } from "../helpers";
import { actors, chains, indexOf, targetFor, tickUntilCaughtUp } from "./chain-helpers";

/**
 * Hybrid dispatch: a confirmed TaskQueued of a hybrid session (mode 1) this
 * router serves runs as an edge task on the mapped edge session, answered by
 * real dev miners; anything else on chain is only indexed.
 */
describe("hybrid sessions", () => {
  it("runs a hybrid session's chat task on its edge session once, however often the chain is read, and fails other task data with the reason", async () => {
    // The faulty chain, reached directly: a chain no other suite rewinds or counts blocks of.
    const faulty = chains().faulty;
    const base = { ...faulty, url: faulty.directUrl };
    const deployment = await deployContracts(base.url, base.chainId, base.accounts[0] as Address);
    const chain = { ...base, ...deployment };
    const a = actors(chain);
    const { model } = await minersFor(["fastA"]);
    const edgeSessionId = await createSession({ model, redundancy: 1 });

    await a.sessionWrite(a.owner, "create", ["hybrid", "", a.owner, 1n, 1n, 1n, 0n, 1n, false]);
    await a.sessionWrite(a.owner, "create", ["ephemeral", "", a.owner, 1n, 1n, 1n, 0n, 0n, false]);
    await a.queueWrite(a.owner, "submitTask", [0n, JSON.stringify({ type: "chat", message: "Hello" })]);
    await a.queueWrite(a.owner, "submitTask", [0n, JSON.stringify({ type: "image", prompt: "a cat" })]);
    await a.queueWrite(a.owner, "submitTask", [1n, JSON.stringify({ type: "chat", message: "not ours to serve" })]);

    const target = targetFor(chain, { confirmations: 0, hybridSessions: { "0": edgeSessionId, "1": edgeSessionId } });
    const index = indexOf(target);
    await tickUntilCaughtUp(target);

    const answered = await index.task(0, 0);
    expect(answered?.dispatch).toMatchObject({
      edge_session_id: edgeSessionId,
      request_id: `chain-${chain.chainId}-${chain.queueAddress.toLowerCase()}-0-0`,
      status: "answered",
      reason: null,
      consensus: "single",
    });
    expect(answered?.dispatch?.result).toMatch(/\S/);
    // The chain's task: its request id shows to the admin key (a router key sees that it exists).
    const edgeTask = await admin(`/api/v1/tasks/${edgeSessionId}/${answered?.dispatch?.edge_task_id}`, "GET");
    expect(edgeTask.status).toBe(200);
    expect(await edgeTask.json()).toMatchObject({ status: "ended", request_id: answered?.dispatch?.request_id });

    const refused = await index.task(0, 1);
    expect(refused?.dispatch).toMatchObject({ status: "failed", edge_task_id: null });
    expect(refused?.dispatch?.reason).toMatch(/chat/);
    // Mode 0 (ephemeral): indexed, never dispatched, though mapped.
    expect((await index.task(1, 0))?.dispatch).toBeNull();

    // Read the whole chain again: the same rows, and still one edge task.
    await index.resync(chain.startBlock);
    await tickUntilCaughtUp(target);
    expect((await index.task(0, 0))?.dispatch).toEqual(answered?.dispatch);
    const session = (await (await call(`/api/v1/sessions/${edgeSessionId}`)).json()) as { task_count: number };
    expect(session.task_count).toBe(1);
  });

  it("with write-back on, records the answer on the queue contract: getTaskResults returns it and TaskEnded is indexed", async () => {
    const faulty = chains().faulty;
    const base = { ...faulty, url: faulty.directUrl };
    const deployment = await deployContracts(base.url, base.chainId, base.accounts[0] as Address);
    const chain = { ...base, ...deployment };
    const a = actors(chain);
    // The router's account (secret CHAIN_SIGNER_KEY) is registered as a router by the contracts' admin.
    const router = privateKeyToAccount(env.CHAIN_SIGNER_KEY as Hex).address;
    await a.sessionWrite(a.admin, "addRouter", [router, "this edge router"]);
    const { model } = await minersFor(["fastB"]);
    const edgeSessionId = await createSession({ model, redundancy: 1 });
    await a.sessionWrite(a.owner, "create", ["hybrid, written back", "", a.owner, 1n, 1n, 1n, 0n, 1n, false]);
    await a.queueWrite(a.owner, "submitTask", [0n, JSON.stringify({ type: "chat", message: "Hello" })]);

    const target = targetFor(chain, { confirmations: 0, hybridSessions: { "0": edgeSessionId }, writeback: true });
    const index = indexOf(target);
    await tickUntilCaughtUp(target);
    const dispatched = await index.task(0, 0);
    expect(dispatched?.dispatch).toMatchObject({ status: "answered", writeback: { status: "done", error: null } });

    const [miners, results] = await a.getTaskResults(0n, 0n);
    expect(miners).toEqual([router]);
    expect(results).toEqual([dispatched?.dispatch?.result]);

    // The next tick reads what the write-back emitted.
    await tickUntilCaughtUp(target);
    const ended = await index.task(0, 0);
    expect(ended).toMatchObject({ status: "ended", results: { miners: [router.toLowerCase()], results: [dispatched?.dispatch?.result] } });
    expect(ended?.history.map((e) => e.event)).toContain("TaskEnded");
    // Nothing written twice: one TaskEnded, one commit.
    expect(ended?.history.filter((e) => e.event === "TaskEnded" || e.event === "TaskCommitted")).toHaveLength(2);
  });
});
