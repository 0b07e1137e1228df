import type { CompletionRequest, CompletionResponse } from "../schemas/completion.ts";
import type { RewardPolicy } from "../rewards/miner-rewards.ts";
import type { TaskBilling } from "../rewards/task-billing.ts";
import type { Caller } from "./caller.ts";

/** Per-task policy (delegate, validate, factcheck): overrides the session's. */
export type TaskOverrides = {
  redundancy?: number;
  commitPolicy?: "quorum" | "all";
  selection?: "latency" | "reputation";
  /** Ask miners for a JSON object (OpenAI `response_format`). */
  json?: boolean;
  /** Return every run's output (`runs`), for callers that aggregate themselves. */
  collect?: boolean;
};

/** What a route asks of a session. */
export type CompletionJob = {
  sessionId: number;
  /** Whose request this is: its `request_id` is looked up in that caller's namespace only. */
  caller: Caller;
  request: CompletionRequest;
  /** Names the route family in the idempotency fingerprint: the same request on two families is two tasks. */
  flow: string;
  /** v2/v3: the prompt goes to R2 and miners get its URN; `origin` is where miners reach this router. */
  payload?: { version: "v2" | "v3"; origin: string } | undefined;
  policy?: TaskOverrides | undefined;
  /** What the caller bills for this task, where known (the gateway's local pool, x402): its miners share a part of it. */
  billing?: TaskBilling | undefined;
  /**
   * The chain flow only (`caller.kind === "chain"`; session-client drops it for any other caller): the miners
   * the on-chain session or task names, by address. The task is served by the registered miners of those
   * addresses first (`domain/miners/miner-pin.ts`); no route reads it from a request.
   */
  minerPin?: MinerPin | undefined;
};

/** Miners an on-chain session (`SessionCreated`'s miners) or task (`TaskAssigned`) names, by address. */
export type MinerPin = { addresses: readonly string[]; source: "session" | "task" };

/** What the Session object is given: the job, checked against configuration, with its fingerprint and timeouts. */
export type SubmitInput = Omit<CompletionJob, "flow" | "caller"> & {
  /** The request id as the session stores it, in the caller's namespace; `request.request_id` stays the client's own. */
  requestKey: string | null;
  /** Without a request id, what the task is stored under instead (`ownerOnlyKey`): whose it is, for its views; no idempotency. */
  ownerKey?: string;
  requestHash: string;
  timeouts: { timeoutS: number; precommitS: number };
  /** The similarity threshold of the caller's configuration (run-time settings included), which the task is judged by. */
  threshold?: number;
  /** The caller's reward and slashing settings (MINER_REWARD_*, MINER_SLASH_*), which the task's miners are paid and slashed by. */
  rewardPolicy?: RewardPolicy;
  /**
   * The shard the Worker sent this to and the settings version it routed by;
   * null when it found no session to route by (the object then answers for
   * itself). An object whose settings differ refuses it as `stale_routing`.
   */
  route: { shard: number; version: string } | null;
};

export type Submitted = { ok: true; completion: CompletionResponse; replayed: boolean };
export type Streaming = { ok: true; stream: ReadableStream<Uint8Array>; taskId: number };
