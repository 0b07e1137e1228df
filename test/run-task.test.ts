import { describe, expect, it } from "vitest";
import { lexicalEmbeddingSource } from "../domain/consensus/embedding";
import { callMiner } from "../domain/miners/call-miner";
import type { MinerTarget } from "../domain/schemas/miner";
import { runTask, type TaskPlan } from "../domain/protocol/run-task";
import type { FleetName } from "./setup/global-setup";
import { fleet } from "./helpers";

/**
 * The protocol against real dev miners over loopback, with selection fixed to
 * a given order so that each path (replacement, timeout, late result) is
 * taken every time.
 */
function harness(order: FleetName[], plan: Partial<TaskPlan> & { redundancy: number }, selectionDelayMs = 0) {
  const miners: MinerTarget[] = order.map((name) => ({ id: name, url: fleet()[name].url, credential: fleet()[name].token }));
  const log: string[] = [];
  const now = Date.now();
  const run = runTask(
    {
      commitPolicy: "quorum",
      precommitDeadline: now + 2000,
      deadline: now + 4000,
      request: { kind: "completion", model: "dev-model", prompt: "The same question for everyone", max_tokens: 16 },
      threshold: 0.9,
      ...plan,
    },
    {
      now: Date.now,
      selectMiners: async (count, exclude) => {
        // A selection that waits (the pool asking the registry) while other results arrive.
        if (selectionDelayMs > 0) await new Promise((r) => setTimeout(r, selectionDelayMs));
        return miners.filter((m) => !exclude.includes(m.id)).slice(0, count);
      },
      callMiner: (target, request, options) => callMiner(target, request, options),
      embeddings: lexicalEmbeddingSource,
      events: {
        assigned: (s) => log.push(`assigned ${s.miner.id}`),
        acked: (s) => log.push(`acked ${s.miner.id}`),
        precommitted: (s) => log.push(`precommitted ${s.miner.id}`),
        failed: (s) => log.push(`failed ${s.miner.id}`),
        timedOut: (s) => log.push(`timed_out ${s.miner.id}`),
        commitOpened: () => log.push("commit"),
        late: (s) => log.push(`late ${s.miner.id} ${s.agreed ? "agreed" : "disagreed"}`),
      },
    },
  );
  return { run, log };
}

describe("runTask", () => {
  it("replaces a failing miner", async () => {
    const { run, log } = harness(["failing", "fastA"], { redundancy: 1 });
    const outcome = await run.outcome;
    expect(outcome.status).toBe("committed");
    if (outcome.status !== "committed") return;
    expect(outcome.winner.miner.id).toBe("fastA");
    expect(log).toEqual(["assigned failing", "failed failing", "assigned fastA", "acked fastA", "precommitted fastA", "commit"]);
  });

  it("replaces two miners failing together with two distinct miners, even when selection waits", async () => {
    const { run, log } = harness(["failing", "garbage", "fastA", "fastB"], { redundancy: 2, commitPolicy: "all" }, 100);
    expect((await run.outcome).status).toBe("committed");
    const assigned = (await run.settled).map((s) => s.miner.id);
    expect(assigned).toContain("fastA");
    expect(new Set(assigned).size).toBe(assigned.length);
    expect(log.filter((l) => l.startsWith("assigned")).length).toBe(assigned.length);
  });

  it("replaces a miner that misses the precommit deadline", async () => {
    const now = Date.now();
    const { run, log } = harness(["hanging", "fastB"], { redundancy: 1, precommitDeadline: now + 300, deadline: now + 3000 });
    const outcome = await run.outcome;
    expect(outcome.status).toBe("committed");
    expect(log).toEqual(expect.arrayContaining(["assigned hanging", "timed_out hanging", "assigned fastB", "precommitted fastB"]));
    expect(log.indexOf("timed_out hanging")).toBeLessThan(log.indexOf("assigned fastB"));
  });

  it("times out when nobody answers before the deadline", async () => {
    const now = Date.now();
    const { run } = harness(["hanging"], { redundancy: 1, precommitDeadline: now + 200, deadline: now + 500 });
    expect((await run.outcome).status).toBe("timed_out");
  });

  it("decides on a majority and records the slow miner's result as late", async () => {
    const now = Date.now();
    const { run, log } = harness(["fastA", "fastB", "slow"], { redundancy: 3, precommitDeadline: now + 5000, deadline: now + 8000 });
    const outcome = await run.outcome;
    expect(outcome.status).toBe("committed");
    if (outcome.status !== "committed") return;
    expect(outcome.quorumReached).toBe(true);
    expect(outcome.agreement.agreedIds).toHaveLength(2);
    expect(log).not.toContain("precommitted slow");
    await run.settled;
    expect(log.at(-1)).toBe("late slow agreed");
  });

  it("outvotes a wrong answer", async () => {
    // Commit policy "all": the wrong answer is judged whatever order the three arrive in.
    const { run } = harness(["wrong", "fastA", "fastB"], { redundancy: 3, commitPolicy: "all" });
    const outcome = await run.outcome;
    if (outcome.status !== "committed") throw new Error(outcome.status);
    expect(outcome.winner.miner.id).not.toBe("wrong");
    const wrong = outcome.slots.find((s) => s.miner.id === "wrong")!;
    expect(wrong.agreed).toBe(false);
  });

  it("fails when there is no miner", async () => {
    const { run } = harness([], { redundancy: 1 });
    expect(await run.outcome).toMatchObject({ status: "failed", reason: "no_miners" });
  });
});
