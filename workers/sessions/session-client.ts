import type { AssignmentClaims } from "../auth/assignment-token";
import type { RouterConfig } from "../config/config";
import type { Env } from "../env";
import { ApiError } from "../http/errors";
import type { SessionConfig } from "../schemas/session";
import { sessionStub } from "../stubs";
import { type Caller, scopedRequestId } from "./caller";
import { requestFingerprint } from "./fingerprint";
import { taskTimeouts } from "./timeouts";
import type { CompletionJob, Streaming, SubmitInput, Submitted } from "./types";

export const sessionNotFound = (sessionId: number) => new ApiError(404, "session_not_found", `session ${sessionId} does not exist`);

async function prepare(config: RouterConfig, job: CompletionJob): Promise<SubmitInput> {
  const { flow, caller, ...rest } = job;
  return {
    ...rest,
    requestKey: job.request.request_id === undefined ? null : await scopedRequestId(caller, job.request.request_id),
    timeouts: taskTimeouts(job.request, config),
    requestHash: await requestFingerprint(job.sessionId, job.request, job.policy ? `${flow}:${JSON.stringify(job.policy)}` : flow),
  };
}

/** Runs a completion on its session to the agreed result; every failure is thrown as an `ApiError`. */
export async function submitCompletion(env: Env, config: RouterConfig, job: CompletionJob): Promise<Submitted> {
  const result = await sessionStub(env, job.sessionId).submit(await prepare(config, job));
  if (!result.ok) throw ApiError.from(result);
  return result;
}

/**
 * The same for `stream: true`: a live stream where the session streams live,
 * otherwise the agreed completion whole (the caller streams it).
 */
export async function streamCompletion(env: Env, config: RouterConfig, job: CompletionJob): Promise<Submitted | Streaming> {
  const result = await sessionStub(env, job.sessionId).submitStream(await prepare(config, job));
  if (!result.ok) throw ApiError.from(result);
  return result;
}

/** Everything else routes ask of one session: reads, configuration, and the off-chain miner side. */
export function sessionClient(env: Env, sessionId: number) {
  const stub = sessionStub(env, sessionId);
  return {
    /** The session, or null where it does not exist. */
    find: () => stub.getSession(),

    async get() {
      const session = await stub.getSession();
      if (!session) throw sessionNotFound(sessionId);
      return session;
    },

    /** Whether this caller already submitted a task under this request id. */
    knowsRequest: async (caller: Caller, requestId: string) => stub.knowsRequest(await scopedRequestId(caller, requestId)),
    hasTask: (taskId: number) => stub.hasTask(taskId),

    async listTasks(options: { limit: number; before?: number | undefined }) {
      const tasks = await stub.listTasks({ limit: options.limit, ...(options.before === undefined ? {} : { before: options.before }) });
      if (!tasks) throw sessionNotFound(sessionId);
      return tasks;
    },

    async getTask(taskId: number) {
      const task = await stub.getTask(taskId);
      if (task) return task;
      if (!(await stub.getSession())) throw sessionNotFound(sessionId);
      throw new ApiError(404, "task_not_found", `task ${taskId} does not exist in session ${sessionId}`);
    },

    /** Creates the session; `session_exists` where the id is taken. */
    async create(config: SessionConfig) {
      const created = await stub.configure(sessionId, config, { create: true });
      if (!created) throw new ApiError(409, "session_exists", `session ${sessionId} already exists`);
      return created;
    },

    async update(config: SessionConfig) {
      const updated = await stub.configure(sessionId, config, { create: false });
      if (!updated) throw sessionNotFound(sessionId);
      return updated;
    },

    async readPayloadForMiner(claims: AssignmentClaims, urn: string) {
      const result = await stub.readPayloadForMiner(claims, urn);
      if (!result.ok) throw ApiError.from(result);
      return result.text;
    },

    async deliverResult(claims: AssignmentClaims, text: string) {
      const result = await stub.deliverResult(claims, text);
      if (!result.ok) throw ApiError.from(result);
      return { urn: result.urn, sha256: result.sha256 };
    },
  };
}
