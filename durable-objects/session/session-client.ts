import type { SessionObject } from "./session-object";
import type { AssignmentClaims } from "../../domain/auth/assignment-token";
import type { RouterConfig } from "../../domain/config/config";
import type { SessionsEnv } from "./sessions-env";
import { ApiError, type Failure } from "../../domain/errors";
import type { ReportedUsage } from "../../domain/miners/miner-output";
import type { SessionConfig } from "../../domain/schemas/session";
import { sessionShardStub, sessionStub } from "../../domain/objects/stubs";
import { type Caller, ownerOnlyKey, scopedRequestId } from "../../domain/sessions/caller";
import { requestFingerprint } from "../../domain/sessions/fingerprint";
import { forgetRouting, rememberRouting } from "./routing-cache";
import { routingOf, shardForTask, shardsOf, taskShard } from "./shard-routing";
import { STALE_ROUTING } from "../../domain/sessions/shard-layout";
import { taskTimeouts } from "../../domain/sessions/timeouts";
import type { CompletionJob, Streaming, SubmitInput, Submitted } from "../../domain/sessions/types";

export const sessionNotFound = (sessionId: number) => new ApiError(404, "session_not_found", `session ${sessionId} does not exist`);

/** How many times a call refused as routed by old settings is routed again (each time by settings read afresh). */
const MAX_REROUTES = 2;

async function prepare(config: RouterConfig, job: CompletionJob): Promise<Omit<SubmitInput, "route">> {
  const { flow, caller, minerPin, ...rest } = job;
  return {
    ...rest,
    // Only the chain flow names a task's miners: a route's job carrying a pin anyhow is served as any other.
    ...(minerPin && caller.kind === "chain" && flow === "chain" ? { minerPin } : {}),
    requestKey: job.request.request_id === undefined ? null : await scopedRequestId(caller, job.request.request_id),
    ...(job.request.request_id === undefined ? { ownerKey: await ownerOnlyKey(caller) } : {}),
    timeouts: taskTimeouts(job.request, config),
    threshold: config.similarityThreshold,
    rewardPolicy: config.rewards,
    requestHash: await requestFingerprint(job.sessionId, job.request, job.policy ? `${flow}:${JSON.stringify(job.policy)}` : flow),
  };
}

/** Sends a prepared task to the shard that takes it; routed again while the shard says the settings changed. */
async function dispatch<T extends { ok: true }>(
  env: SessionsEnv,
  prepared: Omit<SubmitInput, "route">,
  send: (stub: ShardStub, input: SubmitInput) => Promise<T | Failure>,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const routing = await routingOf(env, prepared.sessionId, { fresh: attempt > 0 });
    const shard = await shardForTask(env, prepared.sessionId, routing, prepared.requestKey);
    const input: SubmitInput = { ...prepared, route: routing && { shard, version: routing.version } };
    const result = await send(sessionShardStub(env, prepared.sessionId, shard), input);
    if (!result.ok && result.code === STALE_ROUTING && attempt < MAX_REROUTES) continue;
    if (!result.ok) throw ApiError.from(result);
    return result;
  }
}
type ShardStub = DurableObjectStub<SessionObject>;

/** Runs a completion on its session to the agreed result; every failure is thrown as an `ApiError`. */
export async function submitCompletion(env: SessionsEnv, config: RouterConfig, job: CompletionJob): Promise<Submitted> {
  return dispatch<Submitted>(env, await prepare(config, job), async (stub, input) => await stub.submit(input));
}

/**
 * The same for `stream: true`: a live stream where the session streams live,
 * otherwise the agreed completion whole (the caller streams it).
 */
export async function streamCompletion(env: SessionsEnv, config: RouterConfig, job: CompletionJob): Promise<Submitted | Streaming> {
  return dispatch<Submitted | Streaming>(env, await prepare(config, job), async (stub, input) => await stub.submitStream(input));
}

/** Everything else routes ask of one session: reads, configuration, and the off-chain miner side, each on the shard concerned. */
export function sessionClient(env: SessionsEnv, sessionId: number) {
  const stub = sessionStub(env, sessionId);
  const onTask = <T>(taskId: number, read: (shard: ShardStub) => Promise<T>, found: (value: T) => boolean) => taskShard(env, sessionId, taskId, read, found);

  /** Hands the session's new settings to each of its shards; one that misses it pulls them when a call shows it is behind. */
  async function pushSettings() {
    const snapshot = await stub.snapshot();
    if (!snapshot) return;
    forgetRouting(sessionId);
    const shards = Array.from({ length: snapshot.config.shards - 1 }, (_, i) => i + 1);
    await Promise.all(
      shards.map((k) =>
        sessionShardStub(env, sessionId, k)
          .adopt(k, snapshot)
          .catch((err: unknown) => console.error(`pushing settings to shard ${k} of session ${sessionId} failed`, err)),
      ),
    );
    rememberRouting(sessionId, { version: snapshot.version, shards: snapshot.config.shards, layout: snapshot.layout });
  }

  async function find() {
    const session = await stub.getSession();
    if (!session || session.shards === 1) return session;
    // task_count: every shard's.
    const counts = await Promise.all(shardsOf(session.shards, 1).map((k) => sessionShardStub(env, sessionId, k).taskCount()));
    return { ...session, task_count: counts.reduce((sum, n) => sum + n, session.task_count) };
  }

  return {
    /** The session, or null where it does not exist. */
    find,

    async get() {
      const session = await find();
      if (!session) throw sessionNotFound(sessionId);
      return session;
    },

    /** Whether this caller already submitted a task under this request id (on any shard it may have gone to). */
    async knowsRequest(caller: Caller, requestId: string) {
      const key = await scopedRequestId(caller, requestId);
      const shard = await shardForTask(env, sessionId, await routingOf(env, sessionId), key);
      return sessionShardStub(env, sessionId, shard).knowsRequest(key);
    },
    hasTask: (taskId: number) => onTask(taskId, (shard) => shard.hasTask(taskId), Boolean),

    /** Newest first over every shard: each gives its newest below `before`, the merge keeps the `limit` newest. */
    async listTasks(options: { limit: number; before?: number | undefined }) {
      const routing = await routingOf(env, sessionId, { fresh: true });
      if (!routing) throw sessionNotFound(sessionId);
      const query = { limit: options.limit, ...(options.before === undefined ? {} : { before: options.before }) };
      const lists = await Promise.all(shardsOf(routing.shards).map((k) => sessionShardStub(env, sessionId, k).listTasks(query)));
      if (!lists[0]) throw sessionNotFound(sessionId);
      if (lists.length === 1) return lists[0];
      return lists
        .flatMap((list) => list ?? [])
        .sort((a, b) => b.task_id - a.task_id)
        .slice(0, options.limit);
    },

    async getTask(taskId: number) {
      const task = await onTask(
        taskId,
        (shard) => shard.getTask(taskId),
        (found) => found !== null,
      );
      if (task) return task;
      if (!(await stub.getSession())) throw sessionNotFound(sessionId);
      throw new ApiError(404, "task_not_found", `task ${taskId} does not exist in session ${sessionId}`);
    },

    /** A task's signed receipt (`domain/receipts/`). */
    async getReceipt(taskId: number) {
      const receipt = await onTask(
        taskId,
        (shard) => shard.getReceipt(taskId),
        (found) => found !== null,
      );
      if (receipt) return receipt;
      if (!(await stub.getSession())) throw sessionNotFound(sessionId);
      throw new ApiError(404, "receipt_not_found", `task ${taskId} of session ${sessionId} has no receipt: it does not exist or has not ended`);
    },

    /** Creates the session; `session_exists` where the id is taken. */
    async create(config: SessionConfig) {
      const created = await stub.configure(sessionId, config, { create: true });
      if (!created) throw new ApiError(409, "session_exists", `session ${sessionId} already exists`);
      await pushSettings();
      return created;
    },

    async update(config: SessionConfig) {
      const updated = await stub.configure(sessionId, config, { create: false });
      if (!updated) throw sessionNotFound(sessionId);
      await pushSettings();
      return (await find()) ?? updated;
    },

    async readPayloadForMiner(claims: AssignmentClaims, urn: string) {
      const result = await onTask<{ ok: true; text: string } | Failure>(
        claims.t,
        async (shard) => await shard.readPayloadForMiner(claims, urn),
        (r) => r.ok,
      );
      if (!result.ok) throw ApiError.from(result);
      return result.text;
    },

    async deliverResult(claims: AssignmentClaims, text: string, signature?: string, usage?: ReportedUsage) {
      const result = await onTask<{ ok: true; urn: string; sha256: string } | Failure>(
        claims.t,
        async (shard) => await shard.deliverResult(claims, text, signature, usage),
        (r) => r.ok,
      );
      if (!result.ok) throw ApiError.from(result);
      return { urn: result.urn, sha256: result.sha256 };
    },
  };
}
