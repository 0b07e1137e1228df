import { findAgreement, judgeAgainst, majority, type Agreement } from "../consensus/agreement.ts";
import type { EmbeddingSource } from "../consensus/embedding.ts";
import { sha256Hex } from "../crypto/sha256.ts";
import type { MinerOutput } from "../miners/miner-output.ts";
import { faultOf, timeoutFault, type Fault } from "../miners/fault.ts";
import { MinerCallError } from "../miners/miner-error.ts";
import { leadHolds, probationRoom, type ProbationRoom } from "../miners/probation.ts";
import type { MinerRequest } from "../schemas/completion.ts";
import type { MinerTarget } from "../schemas/miner.ts";
import { TaskClock } from "./task-clock.ts";

export type TaskPlan = {
  redundancy: number;
  commitPolicy: "quorum" | "all";
  /** Absolute epoch milliseconds. */
  precommitDeadline: number;
  deadline: number;
  request: MinerRequest;
  threshold: number;
  /**
   * Identical results that decide the task before every miner answered (or
   * the precommit deadline passed): a majority of the redundancy by default,
   * all of it for a session that requires unanimity.
   */
  decisive?: number;
};

/** One miner's part in a task. Slots are numbered in dispatch order. */
export type Slot = {
  slot: number;
  miner: MinerTarget;
  state: "assigned" | "acked" | "precommitted" | "failed" | "timed_out" | "cancelled";
  /** Epoch ms the miner was called. */
  startedAt: number;
  /** Failed or timed out: whether that counts against the miner or was the request's doing (`miners/fault.ts`). */
  fault?: Fault;
  output?: MinerOutput;
  hash?: string;
  error?: string;
  agreed?: boolean;
  similarity?: number;
  /** Why the miner's reported usage is not believable (`metering/usage-audit.ts`): a fault of the miner; the answer is unchanged. */
  usageMisreport?: string;
};

/** A slot whose miner answered: its output and the output's SHA-256 (the precommit). */
export type AnsweredSlot = Slot & { output: MinerOutput; hash: string };
const isAnswered = (s: Slot): s is AnsweredSlot => s.state === "precommitted" && s.output !== undefined && s.hash !== undefined;

/** Where the run reports what happens, as it happens (the Session object records it). */
export interface TaskEvents {
  assigned(slot: Slot): void;
  acked(slot: Slot): void;
  precommitted(slot: Slot): void;
  failed(slot: Slot): void;
  timedOut(slot: Slot): void;
  commitOpened(): void;
  /** A result that arrived after the task was decided, compared against the winner. */
  late(slot: Slot): void;
  /** When present, miners are asked to stream and every piece of text is passed here as it arrives. */
  delta?(slot: Slot, piece: string): void;
}

export interface TaskRunDeps {
  now(): number;
  /** `room`: what the task leaves for miners on probation (`miners/probation.ts`); selection must keep to it. */
  selectMiners(count: number, exclude: readonly string[], room: ProbationRoom): Promise<MinerTarget[]>;
  callMiner(target: MinerTarget, request: MinerRequest, options: { signal: AbortSignal; onAck: () => void; onDelta?: (piece: string) => void }): Promise<MinerOutput>;
  embeddings: EmbeddingSource;
  events: TaskEvents;
  /** The timer the task's deadlines wait on: its object's, shared by its tasks (`task-clock.ts`); a timer of the run's own without it. */
  clock?: TaskClock;
}

/** Outputs that were not the answer, one entry per distinct output: its precommit hash, the slots that gave it, its similarity to the answer. */
export type Dissent = { hash: string; slots: number[]; similarity: number }[];

export type TaskOutcome =
  | { status: "committed"; winner: AnsweredSlot; agreement: Agreement; quorumReached: boolean; dissent: Dissent; slots: Slot[] }
  | { status: "timed_out"; slots: Slot[] }
  | { status: "failed"; reason: "no_miners" | "all_failed"; slots: Slot[] };

export type TaskRun = {
  /** Settles once the task is decided (consensus, failure or deadline). */
  outcome: Promise<TaskOutcome>;
  /** Settles once every miner call has ended, late ones included. */
  settled: Promise<Slot[]>;
  /** Ends the task now (the Session alarm calls this past the deadline). */
  abort(reason: "timeout"): void;
};

class AttemptTimeout extends Error {
  override readonly name = "TimeoutError";
}
class TaskOver extends Error {
  override readonly name = "AbortError";
}

/**
 * Runs the precommit/commit protocol for one task across redundant miners.
 *
 * Each result's SHA-256 is its precommit. The commit phase opens when every
 * assigned miner precommitted, when a majority did (commit policy "quorum"),
 * or at the precommit deadline. The task is decided early only when a
 * majority of the redundancy gave the very same output (`plan.decisive`):
 * two different texts are never picked between on arrival order while more
 * results may come. Otherwise it is decided once no call is left or the
 * precommit deadline has passed, by the best agreeing group
 * (`consensus/agreement.ts`). A failed miner, or one that missed the
 * precommit deadline, is replaced while time remains. Calls still running
 * when the task is decided go on until the deadline and are recorded as late.
 */
export function runTask(plan: TaskPlan, deps: TaskRunDeps): TaskRun {
  const slots: Slot[] = [];
  const calls = new Map<number, { slot: Slot; controller: AbortController; attemptDeadline: number; done: Promise<void> }>();
  const tried = new Set<string>();
  const quorum = majority(plan.redundancy);
  const decisive = plan.decisive ?? quorum;
  let commitOpen = false;
  let decided: TaskOutcome | undefined;
  let evaluating: Promise<void> = Promise.resolve();

  let resolveOutcome!: (o: TaskOutcome) => void;
  const outcome = new Promise<TaskOutcome>((r) => (resolveOutcome = r));
  let resolveSettled!: (s: Slot[]) => void;
  const settled = new Promise<Slot[]>((r) => (resolveSettled = r));

  /**
   * The task's one deadline waiting at a time. Every deadline a task has is
   * its precommit deadline (also the first miners' attempt deadline) or its
   * deadline (also a replacement's): one call, set for the next of them,
   * stands for what was a timer per miner call beside the task's two. It
   * waits on the clock its object's tasks share (`deps.clock`): tasks that
   * overlap share its one timer.
   */
  const clock = deps.clock ?? new TaskClock(deps.now);
  let cancelStop: (() => void) | undefined;
  /** The last deadline the timer reached. */
  let passed = Number.NEGATIVE_INFINITY;

  const pendingSlots = () => slots.filter((s) => s.state === "assigned" || s.state === "acked");
  const results = () => slots.filter(isAnswered);

  function decide(o: TaskOutcome) {
    if (decided) return;
    decided = o;
    if (o.status !== "committed") cancelAll();
    resolveOutcome(o);
    maybeSettled();
  }

  function cancelAll() {
    for (const { slot, controller } of calls.values()) {
      if (slot.state === "assigned" || slot.state === "acked") controller.abort(new TaskOver());
    }
  }

  function maybeSettled() {
    if (decided && pendingSlots().length === 0) {
      cancelStop?.();
      cancelStop = undefined;
      resolveSettled(slots);
    }
  }

  /**
   * One selection at a time: two failures replaced together would otherwise
   * both pick before either marked its pick tried (selection may wait on the
   * registry), and one miner would run the task twice.
   */
  let selecting: Promise<unknown> = Promise.resolve();
  function dispatch(count: number, attemptDeadline: number): Promise<number> {
    const picked = selecting.then(async () => {
      // A replacement queued behind another selection is not needed once the task is decided.
      if (decided) return 0;
      const room = probationRoom(
        plan.redundancy,
        slots.map((s) => ({ probation: s.miner.probation === true, ended: s.state === "failed" || s.state === "timed_out" })),
      );
      const miners = await deps.selectMiners(count, [...tried], room);
      for (const miner of miners) {
        tried.add(miner.id);
        start(miner, attemptDeadline);
      }
      return miners.length;
    });
    selecting = picked.catch(() => 0);
    return picked;
  }

  const delta = deps.events.delta?.bind(deps.events);

  function start(miner: MinerTarget, attemptDeadline: number) {
    const slot: Slot = { slot: slots.length, miner, state: "assigned", startedAt: deps.now() };
    slots.push(slot);
    deps.events.assigned(slot);
    // Its attempt deadline is kept by the task's timer (`expireAttempts`); one already passed (a selection that took that long), at once.
    const controller = new AbortController();
    if (attemptDeadline <= passed) setTimeout(() => controller.abort(new AttemptTimeout()), 0);
    const done = deps
      .callMiner(miner, plan.request, {
        signal: controller.signal,
        onAck: () => {
          if (slot.state === "assigned") {
            slot.state = "acked";
            deps.events.acked(slot);
          }
        },
        ...(delta ? { onDelta: (piece: string) => delta(slot, piece) } : {}),
      })
      .then(async (output) => {
        const answered = Object.assign(slot, { output, hash: await sha256Hex(output.text), state: "precommitted" as const });
        if (decided) {
          await judgeLate(answered);
        } else {
          deps.events.precommitted(slot);
          await evaluate();
        }
      })
      .catch(async (err: unknown) => {
        const reason: unknown = controller.signal.reason;
        if (reason instanceof TaskOver) {
          slot.state = "cancelled";
          slot.error = "task ended before the miner answered";
          deps.events.timedOut(slot);
          return;
        }
        if (reason instanceof AttemptTimeout || (err instanceof MinerCallError && err.kind === "timeout")) {
          slot.state = "timed_out";
          slot.fault = timeoutFault(attemptDeadline - slot.startedAt, miner.latencyMs);
          slot.error = slot.fault === "miner" ? "no result before the deadline" : "no result before a deadline too short for this miner";
          deps.events.timedOut(slot);
        } else {
          slot.state = "failed";
          slot.fault = faultOf(err);
          slot.error = err instanceof Error ? err.message : String(err);
          deps.events.failed(slot);
        }
        if (!decided && deps.now() < plan.deadline) await dispatch(1, plan.deadline).catch(() => 0);
        await evaluate();
      })
      .finally(() => maybeSettled());
    calls.set(slot.slot, { slot, controller, attemptDeadline, done });
  }

  async function judgeLate(slot: AnsweredSlot) {
    if (decided?.status !== "committed") return;
    const judged = await judgeAgainst(decided.winner.output.text, slot.output.text, { threshold: plan.threshold, embeddings: deps.embeddings });
    slot.similarity = judged.similarity;
    slot.agreed = judged.agreed;
    deps.events.late(slot);
  }

  /** Serialised so that two results arriving together are judged one after the other. */
  function evaluate(): Promise<void> {
    evaluating = evaluating.then(evaluateNow, evaluateNow);
    return evaluating;
  }

  async function evaluateNow() {
    if (decided) return;
    const done = results();
    // A task is decided on established miners' answers: probationary ones count only beside them.
    const established = done.filter((s) => !s.miner.probation);
    const pending = pendingSlots().length;
    if (!commitOpen) {
      const allIn = pending === 0 || done.length >= plan.redundancy;
      const quorumIn = plan.commitPolicy === "quorum" && done.length >= quorum;
      if (allIn || quorumIn || deps.now() >= plan.precommitDeadline) {
        commitOpen = true;
        deps.events.commitOpened();
      }
    }
    if (!commitOpen) return;
    if (established.length === 0) {
      // Nobody left to answer (no probationary answer decides alone): a timeout if anyone ran out of time, else a failure.
      if (pending === 0) {
        decide(slots.some((s) => s.state === "timed_out") ? { status: "timed_out", slots } : { status: "failed", reason: "all_failed", slots });
      }
      return;
    }
    const agreement = await findAgreement(
      done.map((s) => ({ id: String(s.slot), text: s.output.text, ...(s.miner.probation ? { probation: true } : {}) })),
      { threshold: plan.threshold, embeddings: deps.embeddings },
    );
    if (decided) return;
    // Only an exact majority is final while results may still come: any other
    // leader (one text of two that differ, a near match) could be overturned.
    // With probationary answers in, the leader must also be one the established results still to come cannot overturn.
    const winnerText = done.find((s) => String(s.slot) === agreement.winnerId)?.output.text;
    const decisiveNow =
      agreement.exactIds.length >= decisive &&
      winnerText !== undefined &&
      leadHolds(
        done.map((s) => ({ text: s.output.text, probation: s.miner.probation === true })),
        winnerText,
        pending,
      );
    const final = decisiveNow || pending === 0 || deps.now() >= plan.precommitDeadline;
    if (!final) return;
    const bySlot = new Map(done.map((s) => [String(s.slot), s]));
    for (const s of done) {
      s.similarity = agreement.similarityToWinner[String(s.slot)] ?? 0;
      s.agreed = agreement.agreedIds.includes(String(s.slot));
    }
    const winner = bySlot.get(agreement.winnerId);
    if (!winner) return;
    const dissent = agreement.dissent.flatMap(({ ids, similarity }) => {
      const members = ids.flatMap((id) => bySlot.get(id) ?? []);
      const hash = members[0]?.hash;
      return hash === undefined ? [] : [{ hash, slots: members.map((m) => m.slot), similarity }];
    });
    decide({ status: "committed", winner, agreement, quorumReached: agreement.agreedIds.length >= quorum, dissent, slots });
  }

  /** Ends the calls still running past their attempt deadline (`by`): each times out, and is replaced while time remains. */
  function expireAttempts(by: number) {
    for (const { slot, controller, attemptDeadline } of calls.values()) {
      if (attemptDeadline <= by && (slot.state === "assigned" || slot.state === "acked")) controller.abort(new AttemptTimeout());
    }
  }

  // The task's deadlines in the order they come (the precommit deadline first on a tie). At each, the task's own step
  // runs first and the attempts due then expire once it is done, as when each call had a timer of its own set after the task's.
  const stops = [
    { at: plan.precommitDeadline, step: () => evaluate() },
    { at: plan.deadline, step: () => finishAtDeadline() },
  ].sort((a, b) => a.at - b.at);
  function arm(next: number) {
    const stop = stops[next];
    if (stop === undefined) return;
    cancelStop = clock.at(stop.at, () => {
      cancelStop = undefined;
      passed = stop.at;
      arm(next + 1);
      const expire = () => expireAttempts(stop.at);
      void stop.step().then(expire, expire);
    });
  }
  arm(0);

  function finishAtDeadline(): Promise<void> {
    if (decided) {
      cancelAll();
      return Promise.resolve();
    }
    // Whatever precommitted by now is all there will be.
    return evaluate().then(() => {
      if (!decided) decide({ status: "timed_out", slots });
      cancelAll();
    });
  }

  void dispatch(plan.redundancy, plan.precommitDeadline)
    .then((n) => {
      if (n === 0) decide({ status: "failed", reason: "no_miners", slots });
    })
    .catch(() => decide({ status: "failed", reason: "no_miners", slots }));

  return {
    outcome,
    settled,
    abort: () => void finishAtDeadline(),
  };
}
